"""Code written against nodetool's asset routes works unchanged: search, the full update
request, Home, folders, paging to "", content type families, the CSRF rule's wording.

Through the real app, on SQLite and PostgreSQL.
"""

import hashlib
import json
from typing import Any

import httpx
import pytest

from tests.conftest import TroveClient
from tests.test_rest import PREFLIGHT, bearer, create, png


async def upload(client: TroveClient, name: str, content: bytes = b"x", **fields: Any) -> Any:
    kind = "image/png" if name.endswith(".png") else "text/plain"
    response = await create(
        client, content, {"name": name, **fields}, filename=name, content_type=kind
    )
    assert response.status_code == 200, response.text
    return response.json()


async def folder(client: TroveClient, name: str, parent_id: str | None = None) -> Any:
    """As nodetool's client makes one: multipart with only the `json` field."""
    fields = {"name": name, "content_type": "folder", "parent_id": parent_id}
    response = await client.http.post(
        "/api/assets/",
        files={"json": (None, json.dumps(fields))},
        headers=PREFLIGHT,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def user_id(client: TroveClient) -> str:
    return str((await upload(client, "whoami.txt"))["user_id"])


async def test_search_finds_names_anywhere_with_folder_paths(client: TroveClient) -> None:
    top = await folder(client, "My Folder")
    sub = await folder(client, "Sub Folder", top["id"])
    await upload(client, "nested_photo.png", png(), parent_id=sub["id"])
    await upload(client, "SUNSET_Photo.png", png())
    await upload(client, "photo_notes.txt")
    await upload(client, "beach.txt")
    me = (await client.http.get("/api/assets/search", params={"query": "beach"})).json()
    home = me["assets"][0]["user_id"]

    found = (await client.http.get("/api/assets/search", params={"query": "photo"})).json()
    assert found["is_global_search"] is True
    assert found["total_count"] == 3 and found["next_cursor"] == ""
    by_name = {asset["name"]: asset for asset in found["assets"]}
    assert set(by_name) == {"nested_photo.png", "SUNSET_Photo.png", "photo_notes.txt"}
    nested = by_name["nested_photo.png"]
    assert nested["folder_path"] == "Home / My Folder / Sub Folder"
    assert (nested["folder_name"], nested["folder_id"]) == ("Sub Folder", sub["id"])
    top_level = by_name["SUNSET_Photo.png"]
    assert (top_level["folder_path"], top_level["folder_name"]) == ("Home", "Home")
    assert top_level["folder_id"] == home == top_level["parent_id"]

    images = await client.http.get(
        "/api/assets/search", params={"query": "photo", "content_type": "image"}
    )
    assert {a["name"] for a in images.json()["assets"]} == {"nested_photo.png", "SUNSET_Photo.png"}

    # LIKE wildcards and quotes are plain characters ("u_s" would match "SUNSET").
    for query in ["'; DROP TABLE assets; --", "photo%", "u_s", "test\\"]:
        odd = await client.http.get("/api/assets/search", params={"query": query})
        assert odd.status_code == 200, odd.text
        assert odd.json()["assets"] == []
    underscore = await client.http.get("/api/assets/search", params={"query": "o_no"})
    assert [a["name"] for a in underscore.json()["assets"]] == ["photo_notes.txt"]

    short = await client.http.get("/api/assets/search", params={"query": " a "})
    assert short.status_code == 400
    assert "at least 2 characters" in short.json()["error"]
    assert short.json()["code"] == "BAD_USER_INPUT"


async def test_search_pages_with_the_list_cursor(client: TroveClient) -> None:
    for n in range(5):
        await upload(client, f"photo_{n}.txt")
    seen: list[str] = []
    cursor = ""
    while True:
        params = {"query": "photo", "page_size": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.http.get("/api/assets/search", params=params)).json()
        assert page["total_count"] == len(page["assets"]) <= 2
        seen.extend(asset["name"] for asset in page["assets"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"photo_{n}.txt" for n in reversed(range(5))]


async def test_next_is_empty_on_the_last_page(client: TroveClient) -> None:
    for n in range(5):
        await upload(client, f"{n}.txt")
    first = (await client.http.get("/api/assets", params={"page_size": 3})).json()
    assert len(first["assets"]) == 3 and first["next"]
    second = (
        await client.http.get("/api/assets", params={"cursor": first["next"], "page_size": 3})
    ).json()
    assert len(second["assets"]) == 2
    assert second["next"] == ""


async def test_content_type_without_a_slash_is_the_family(client: TroveClient) -> None:
    await upload(client, "a.png", png())
    await upload(client, "b.txt")
    await folder(client, "images")

    async def names(content_type: str) -> set[str]:
        params = {"content_type": content_type}
        listing = (await client.http.get("/api/assets", params=params)).json()
        return {asset["name"] for asset in listing["assets"]}

    assert await names("image") == {"a.png"}
    assert await names("image/") == {"a.png"}
    assert await names("image/png") == {"a.png"}
    assert await names("text") == {"b.txt"}
    assert await names("folder") == {"images"}
    # The same rule in GraphQL, over the same service.
    data = await client.data('{ assets(contentType: "image") { nodes { name } } }')
    assert data["assets"]["nodes"] == [{"name": "a.png"}]


async def test_home_is_the_top_level_whose_id_is_the_user_id(client: TroveClient) -> None:
    outer = await folder(client, "outer")
    inside = await upload(client, "inside.txt", parent_id=outer["id"])
    loose = await upload(client, "loose.txt")
    home = loose["user_id"]
    assert loose["parent_id"] == home
    assert inside["parent_id"] == outer["id"]
    assert outer["parent_id"] == home

    async def names(**params: str) -> list[str]:
        listing = (await client.http.get("/api/assets", params=params)).json()
        return [asset["name"] for asset in listing["assets"]]

    # No filter and parent_id=<user id> both mean Home: what is in no folder.
    assert await names() == ["loose.txt", "outer"]
    assert await names(parent_id=home) == ["loose.txt", "outer"]
    assert await names(parent_id=outer["id"]) == ["inside.txt"]
    # Any other filter covers every folder.
    assert await names(content_type="text") == ["loose.txt", "inside.txt"]

    virtual = (await client.http.get(f"/api/assets/{home}")).json()
    assert virtual["id"] == virtual["user_id"] == home
    assert (virtual["name"], virtual["content_type"], virtual["parent_id"]) == (
        "Home",
        "folder",
        "",
    )

    # parent_id=<user id> on upload and update means the top level, too.
    back_home = await client.http.put(f"/api/assets/{inside['id']}", json={"parent_id": home})
    assert back_home.status_code == 200, back_home.text
    assert back_home.json()["parent_id"] == home
    also_home = await upload(client, "also.txt", parent_id=home)
    assert also_home["parent_id"] == home
    assert await names(parent_id=outer["id"]) == []


async def test_folders_over_rest(client: TroveClient) -> None:
    parent = await folder(client, "renders")
    assert (parent["content_type"], parent["get_url"], parent["size"]) == ("folder", None, 0)
    # nodetool's Python client posts a plain form when there is no file.
    form = await client.http.post(
        "/api/assets",
        data={
            "json": json.dumps(
                {"name": "2026", "content_type": "folder", "parent_id": parent["id"]}
            )
        },
        headers=PREFLIGHT,
    )
    assert form.status_code == 200, form.text
    child = form.json()
    assert (child["name"], child["parent_id"]) == ("2026", parent["id"])
    stored = await upload(client, "frame.txt", parent_id=child["id"])
    tree = await client.data(
        "query($id: ID!) { asset(id: $id) { children { nodes { name children { nodes { name } } } } } }",
        {"id": parent["id"]},
    )
    assert tree["asset"]["children"]["nodes"] == [
        {"name": "2026", "children": {"nodes": [{"name": "frame.txt"}]}}
    ]
    assert stored["parent_id"] == child["id"]

    refusals = [
        await client.http.post(
            "/api/assets", files={"json": (None, json.dumps({"name": "x"}))}, headers=PREFLIGHT
        ),
        await client.http.post(
            "/api/assets",
            files={"json": (None, json.dumps({"content_type": "folder"}))},
            headers=PREFLIGHT,
        ),
        await create(client, b"bytes", {"name": "f", "content_type": "folder"}),
    ]
    for refused in refusals:
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "BAD_USER_INPUT"


async def test_put_accepts_what_nodetool_sends(client: TroveClient) -> None:
    original = await upload(client, "bild.txt", b"first version", metadata={"a": 1})
    home = original["user_id"]
    # AssetUpdateRequest(...).model_dump(): every field, most of them null.
    request = {
        "name": "bild.jpeg",
        "parent_id": home,
        "content_type": "text/plain",
        "data": None,
        "metadata": None,
        "duration": None,
        "size": None,
    }
    response = await client.http.put(f"/api/assets/{original['id']}", json=request)
    assert response.status_code == 200, response.text
    renamed = response.json()
    assert (renamed["name"], renamed["parent_id"]) == ("bild.jpeg", home)
    assert (renamed["metadata"], renamed["sha256"]) == ({"a": 1}, original["sha256"])

    # `data` replaces the content, through the same write path as an upload.
    replaced = await client.http.put(
        f"/api/assets/{original['id']}",
        json={**request, "data": "second version, longer", "duration": 2.5},
    )
    assert replaced.status_code == 200, replaced.text
    asset = replaced.json()
    assert asset["size"] == len(b"second version, longer")
    assert asset["sha256"] == hashlib.sha256(b"second version, longer").hexdigest()
    assert asset["content_type"] == "text/plain"
    assert asset["duration"] == 2.5 and asset["metadata"] == {"a": 1, "duration": 2.5}
    content = await client.http.get(asset["get_url"])
    assert content.content == b"second version, longer"
    old_blob = client.services.assets.storage
    assert not await old_blob.exists(original["sha256"])
    matching_size = await client.http.put(
        f"/api/assets/{original['id']}", json={"size": asset["size"], "content_type": None}
    )
    assert matching_size.status_code == 200

    cases: list[tuple[dict[str, Any], str]] = [
        ({"content_type": "image/png"}, "`content_type` cannot be changed"),
        ({"size": 3}, "`size` is measured"),
        ({"data": 5}, "`data` must be a string"),
        ({"duration": "long"}, "`duration` must be a number"),
        ({"colour": "red"}, "Unsupported field(s) colour"),
    ]
    for body, message in cases:
        refused = await client.http.put(f"/api/assets/{original['id']}", json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert message in refused.json()["error"]
    unchanged = (await client.http.get(f"/api/assets/{original['id']}")).json()
    assert unchanged["sha256"] == asset["sha256"]

    folder_asset = await folder(client, "box")
    no_content = await client.http.put(f"/api/assets/{folder_asset['id']}", json={"data": "x"})
    assert no_content.status_code == 400


async def test_replacing_shared_bytes_keeps_them_for_the_other_asset(client: TroveClient) -> None:
    one = await upload(client, "one.txt", b"shared")
    two = await upload(client, "two.txt", b"shared")
    await client.http.put(f"/api/assets/{one['id']}", json={"data": "changed"})
    still = await client.http.get(
        (await client.http.get(f"/api/assets/{two['id']}")).json()["get_url"]
    )
    assert still.content == b"shared"


async def test_csrf_in_auth_none_names_the_header_to_add(client: TroveClient) -> None:
    refused = await create(client, b"x", {"name": "x.txt"}, headers={})
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        "Refused as a possible cross-site request forgery: add the header "
        "`Apollo-Require-Preflight: true` (any `Authorization: Bearer ...` header also does)"
    )
    # nodetool clients always send a Bearer header, whatever its value.
    for value in ("Bearer local_token", "bearer x", "Bearer null"):
        accepted = await create(client, b"x", {"name": "x.txt"}, headers={"Authorization": value})
        assert accepted.status_code == 200, (value, accepted.text)
    form = await client.http.post(
        "/api/assets", data={"json": json.dumps({"name": "f", "content_type": "folder"})}
    )
    assert form.status_code == 400
    assert "Apollo-Require-Preflight: true" in form.json()["error"]


@pytest.fixture
async def token_client(app_factory: Any, database_url: str) -> Any:
    async with app_factory(database_url, auth="token") as trove:
        yield trove


async def test_csrf_in_token_mode_asks_for_the_token(token_client: TroveClient) -> None:
    refused = await create(token_client, b"x", {"name": "x"}, headers={})
    assert refused.status_code == 400
    assert "add the header `Authorization: Bearer <token>`" in refused.json()["error"]
    alice = await bearer("alice-search")
    mine = (await create(token_client, b"x", {"name": "alice_photo"}, headers=alice)).json()
    assert mine["user_id"] != ""
    bob = await bearer("bob-search")
    await create(token_client, b"x", {"name": "bob_photo"}, headers=bob)
    found = await token_client.http.get(
        "/api/assets/search", params={"query": "photo"}, headers=alice
    )
    assert [a["name"] for a in found.json()["assets"]] == ["alice_photo"]
    # Another user's id is not a Home one can read.
    other_home = await token_client.http.get(f"/api/assets/{mine['user_id']}", headers=bob)
    assert other_home.status_code == 404
    assert isinstance(other_home, httpx.Response)
