"""The nodetool-compatible REST asset API, over the real app and both databases."""

import hashlib
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from services import users
from tests.conftest import TroveClient

ASSET_KEYS = {
    "id",
    "user_id",
    "duration",
    "name",
    "content_type",
    "size",
    "sha256",
    "node_id",
    "job_id",
    "workflow_id",
    "parent_id",
    "metadata",
    "created_at",
    "updated_at",
    "get_url",
    "thumb_url",
    # Trove's curation fields (tests/test_rest_curation.py).
    "tags",
    "expires_at",
    "media",
}
PREFLIGHT = {"Apollo-Require-Preflight": "true"}


def form(fields: dict[str, Any] | None) -> dict[str, str]:
    return {} if fields is None else {"json": json.dumps(fields)}


async def create(
    client: TroveClient,
    content: bytes,
    fields: dict[str, Any] | None = None,
    *,
    filename: str = "file.bin",
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.http.post(
        "/api/assets/",
        data=form(fields),
        files={"file": (filename, content, content_type)},
        headers=PREFLIGHT if headers is None else headers,
    )


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
async def token_client(app_factory: Any, database_url: str) -> AsyncIterator[TroveClient]:
    async with app_factory(database_url, auth="token") as trove:
        yield trove


async def bearer(name: str) -> dict[str, str]:
    user = await users.get_or_create_user(name=name)
    return {"Authorization": f"Bearer {await users.create_token(user=user)}"}


async def test_create_returns_the_asset_in_snake_case(client: TroveClient) -> None:
    fields = {
        "name": "render.txt",
        "content_type": "text/plain",
        "node_id": "n1",
        "job_id": "j1",
        "workflow_id": "w1",
        "metadata": {"seed": 7, "prompt": "a fox"},
    }
    response = await create(client, b"hello rest", fields)
    assert response.status_code == 200, response.text
    asset = response.json()
    assert set(asset) == ASSET_KEYS
    assert asset["name"] == "render.txt"
    assert asset["content_type"] == "text/plain"
    assert asset["size"] == 10
    assert asset["sha256"] == hashlib.sha256(b"hello rest").hexdigest()
    assert (asset["node_id"], asset["job_id"], asset["workflow_id"]) == ("n1", "j1", "w1")
    assert asset["metadata"] == {"seed": 7, "prompt": "a fox"}
    # nodetool's form: the top level is the "Home" folder, whose id is the user's.
    assert asset["parent_id"] == asset["user_id"]
    assert asset["created_at"].endswith("Z")
    assert asset["thumb_url"] is None

    # The signed URL works without credentials, like GraphQL's `url`.
    content = await client.http.get(asset["get_url"])
    assert content.status_code == 200
    assert content.content == b"hello rest"

    # GraphQL sees the very same asset: one service behind both APIs.
    data = await client.data(
        "query($id: ID!) { asset(id: $id) { name nodeId metadata } }", {"id": asset["id"]}
    )
    assert data["asset"] == {"name": "render.txt", "nodeId": "n1", "metadata": fields["metadata"]}


async def test_defaults_come_from_the_file_part(client: TroveClient) -> None:
    without_json = await create(client, png(), None, filename="photo.png", content_type="image/png")
    asset = without_json.json()
    assert asset["name"] == "photo.png"
    assert asset["content_type"] == "image/png"
    thumbnail = await client.http.get(asset["thumb_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/webp"

    nulls = await create(client, b"x", {"name": None, "node_id": None}, filename="kept.txt")
    assert nulls.json()["name"] == "kept.txt"
    assert nulls.json()["node_id"] is None


async def test_the_json_part_may_follow_the_file(client: TroveClient) -> None:
    # Hand-made body with the file first: the file must be kept aside until `json` arrives.
    boundary = "trove-boundary"
    content = os.urandom(3 * 1024 * 1024)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="late.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + content
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="json"\r\n\r\n'
            '{"name": "renamed.bin", "node_id": "late"}'
            f"\r\n--{boundary}--\r\n"
        ).encode()
    )
    response = await client.http.post(
        "/api/assets",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}", **PREFLIGHT},
    )
    assert response.status_code == 200, response.text
    asset = response.json()
    assert (asset["name"], asset["node_id"], asset["size"]) == ("renamed.bin", "late", len(content))
    assert asset["sha256"] == hashlib.sha256(content).hexdigest()


async def test_list_filters_and_pages_with_next(client: TroveClient) -> None:
    for n in range(5):
        await create(
            client, f"a{n}".encode(), {"name": f"a{n}.txt", "node_id": "na", "job_id": "j"}
        )
    await create(client, png(), {"name": "b.png", "node_id": "nb"}, content_type="image/png")
    await create(client, b"other", {"name": "c.txt", "workflow_id": "w9"})

    names: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"node_id": "na", "page_size": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.http.get("/api/assets", params=params)).json()
        pages += 1
        names.extend(asset["name"] for asset in page["assets"])
        cursor = page["next"]
        if not cursor:
            break
    assert pages == 3
    assert names == ["a4.txt", "a3.txt", "a2.txt", "a1.txt", "a0.txt"]  # newest first

    async def names_for(**params: str) -> list[str]:
        listing = (await client.http.get("/api/assets", params=params)).json()
        return [asset["name"] for asset in listing["assets"]]

    assert await names_for(content_type="image/") == ["b.png"]
    assert await names_for(workflow_id="w9") == ["c.txt"]
    assert len(await names_for(job_id="j")) == 5
    # nodetool clients ask for huge pages: they get the maximum and a cursor.
    everything = (await client.http.get("/api/assets", params={"page_size": "10000"})).json()
    assert len(everything["assets"]) == 7
    assert everything["next"] == ""


async def test_folders_update_and_delete(client: TroveClient) -> None:
    folder = await client.data('mutation { createFolder(input: {name: "outputs"}) { id } }')
    folder_id = folder["createFolder"]["id"]
    asset = (await create(client, b"v1", {"name": "draft.txt"})).json()

    updated = await client.http.put(
        f"/api/assets/{asset['id']}",
        json={"name": "final.txt", "parent_id": folder_id, "metadata": {"ok": True}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "final.txt"
    assert updated.json()["parent_id"] == folder_id
    assert updated.json()["metadata"] == {"ok": True}

    # null means "leave as is", as in nodetool.
    untouched = await client.http.put(
        f"/api/assets/{asset['id']}", json={"name": None, "parent_id": None, "content_type": None}
    )
    assert untouched.json()["name"] == "final.txt"
    assert untouched.json()["parent_id"] == folder_id

    children = (await client.http.get("/api/assets", params={"parent_id": folder_id})).json()
    assert [child["name"] for child in children["assets"]] == ["final.txt"]
    fetched = (await client.http.get(f"/api/assets/{folder_id}")).json()
    assert fetched["content_type"] == "folder"
    assert fetched["get_url"] is None

    deleted = await client.http.delete(f"/api/assets/{folder_id}")
    assert deleted.json() == {
        "deleted_asset_ids": [folder_id, asset["id"]],
        "deleted_count": 2,
    }
    gone = await client.http.get(f"/api/assets/{asset['id']}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "NOT_FOUND"


async def test_errors_are_json_with_a_status_and_a_code(client: TroveClient) -> None:
    asset = (await create(client, b"x", {"name": "x.txt"})).json()
    cases: list[tuple[httpx.Response, int, str]] = [
        (await client.http.get("/api/assets/not-an-id"), 404, "NOT_FOUND"),
        (await client.http.get("/api/nothing-here"), 404, "NOT_FOUND"),
        (await client.http.patch(f"/api/assets/{asset['id']}", json={}), 405, "BAD_USER_INPUT"),
        (await client.http.get("/api/assets", params={"page_size": "lots"}), 400, "BAD_USER_INPUT"),
        (
            await client.http.get("/api/assets", params={"cursor": "garbage!"}),
            400,
            "BAD_USER_INPUT",
        ),
        (
            await client.http.post("/api/assets", json={"name": "x"}, headers=PREFLIGHT),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            await client.http.post(
                "/api/assets",
                data={"json": "{not json"},
                files={"file": ("a", b"a")},
                headers=PREFLIGHT,
            ),
            400,
            "BAD_USER_INPUT",
        ),
        (await create(client, b"a", {"colour": 5}), 400, "BAD_USER_INPUT"),
        (await create(client, b"a", {"node_id": 5}), 400, "BAD_USER_INPUT"),
        (await create(client, b"a", {"parent_id": asset["id"]}), 400, "BAD_USER_INPUT"),
        (
            await client.http.post(
                "/api/assets",
                data=form({"name": "x"}),
                files={"other": ("a", b"a")},
                headers=PREFLIGHT,
            ),
            400,
            "BAD_USER_INPUT",
        ),
        (
            await client.http.put(f"/api/assets/{asset['id']}", json={"content_type": "image/png"}),
            400,
            "BAD_USER_INPUT",
        ),
        (
            await client.http.put(f"/api/assets/{asset['id']}", content=b"name=y"),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        body = response.json()
        assert body["code"] == code
        assert isinstance(body["error"], str) and "Traceback" not in body["error"]
    listing = (await client.http.get("/api/assets")).json()
    assert [a["name"] for a in listing["assets"]] == ["x.txt"]


async def test_uploads_need_a_token_or_the_preflight_header(token_client: TroveClient) -> None:
    alice = await bearer("alice")
    anonymous = await create(token_client, b"x", {"name": "x"}, headers=PREFLIGHT)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "UNAUTHENTICATED"
    assert anonymous.headers["www-authenticate"] == "Bearer"

    # A form can carry neither header cross-site; a Bearer token alone satisfies the rule.
    forged = await create(token_client, b"x", {"name": "x"}, headers={})
    assert forged.status_code == 400
    assert "cross-site request forgery" in forged.json()["error"]
    with_token = await create(token_client, b"x", {"name": "x"}, headers=alice)
    assert with_token.status_code == 200
    with_both = await create(token_client, b"y", {"name": "y"}, headers={**alice, **PREFLIGHT})
    assert with_both.status_code == 200


async def test_users_only_see_their_own_assets(token_client: TroveClient) -> None:
    alice, bob = await bearer("alice"), await bearer("bob")
    mine = (await create(token_client, b"alice's", {"name": "a.txt"}, headers=alice)).json()
    http = token_client.http
    assert (await http.get(f"/api/assets/{mine['id']}", headers=bob)).status_code == 404
    assert (
        await http.put(f"/api/assets/{mine['id']}", json={"name": "b"}, headers=bob)
    ).status_code == 404
    assert (await http.delete(f"/api/assets/{mine['id']}", headers=bob)).status_code == 404
    assert (await http.get("/api/assets", headers=bob)).json() == {"assets": [], "next": ""}
    theirs = (await http.get("/api/assets", headers=alice)).json()
    assert [a["name"] for a in theirs["assets"]] == ["a.txt"]


async def test_the_size_limit_applies(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(sqlite_url, max_upload_bytes=1024) as client:
        too_big = await create(client, b"x" * 2048, {"name": "big.bin"})
        assert too_big.status_code == 413
        assert too_big.json()["code"] == "PAYLOAD_TOO_LARGE"
        listing = (await client.http.get("/api/assets")).json()
        assert listing["assets"] == []


def test_a_large_upload_streams_through_a_live_server(
    live_server_factory: Any, tmp_path: Path
) -> None:
    """The server's peak memory stays far below the file's size: bytes go straight to disk."""
    server = live_server_factory()
    process = server.process
    assert process is not None
    size = 128 * 1024 * 1024
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as out:
        for _ in range(size // (1 << 20)):
            block = os.urandom(1 << 20)
            digest.update(block)
            out.write(block)

    def peak_rss_kib() -> int:
        status = Path(f"/proc/{process.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
        )

    before = peak_rss_kib()
    with source.open("rb") as file:
        response = httpx.post(
            server.url + "/api/assets/",
            data={"json": json.dumps({"name": "big.bin", "job_id": "stream"})},
            files={"file": ("big.bin", file, "application/octet-stream")},
            headers={"Authorization": "Bearer any"},
            timeout=120,
        )
    assert response.status_code == 200, response.text
    assert response.json()["size"] == size
    assert response.json()["sha256"] == digest.hexdigest()
    growth_mib = (peak_rss_kib() - before) / 1024
    print(f"peak RSS growth for a {size >> 20} MiB REST upload: {growth_mib:.1f} MiB")
    assert growth_mib < 48
