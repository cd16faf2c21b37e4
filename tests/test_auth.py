"""Token authentication, per-user scoping, CSRF and upload limits."""

from pathlib import Path
from typing import Any

import pytest

from server.settings import Settings
from services import users
from tests.conftest import TEST_SECRET, TroveClient


async def token_for(name: str) -> str:
    user = await users.get_or_create_user(name=name)
    return await users.create_token(user=user)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_token_mode_requires_a_valid_bearer_token(
    app_factory: Any, database_url: str
) -> None:
    async with app_factory(database_url, auth="token") as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
            response = await client.http.post(
                "/graphql", json={"query": "{ assets { totalCount } }"}, headers=headers
            )
            assert response.status_code == 401, headers
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        token = await token_for("alice")
        ok = await client.graphql("{ assets { totalCount } }", headers=bearer(token))
        assert ok["data"]["assets"]["totalCount"] == 0
        content = await client.http.get("/assets/00000000-0000-7000-8000-000000000000/content")
        assert content.status_code == 401


async def test_users_never_see_each_others_assets(app_factory: Any, database_url: str) -> None:
    async with app_factory(database_url, auth="token") as client:
        alice, bob = bearer(await token_for("alice")), bearer(await token_for("bob"))
        mine = (await client.upload(b"alice's", name="a.txt", jobId="shared-job", headers=alice))[
            "data"
        ]["createAsset"]
        folder = (
            await client.data('mutation { createFolder(input: {name: "a"}) { id } }', headers=alice)
        )["createFolder"]
        await client.upload(b"bob's", name="b.txt", jobId="shared-job", headers=bob)

        listed = await client.data(
            '{ assets(jobId: "shared-job") { totalCount nodes { name } } }', headers=bob
        )
        assert (
            listed["assets"]["totalCount"] == 1 and listed["assets"]["nodes"][0]["name"] == "b.txt"
        )
        by_id = await client.data(
            "query($id: ID!) { asset(id: $id) { id } node(id: $id) { id } }",
            {"id": mine["id"]},
            headers=bob,
        )
        assert by_id == {"asset": None, "node": None}
        stats = await client.data("{ assetStats(groupBy: JOB) { key count } }", headers=bob)
        assert stats["assetStats"] == [{"key": "shared-job", "count": 1}]
        for mutation in (
            "mutation($id: ID!) { deleteAsset(id: $id) { deletedCount } }",
            'mutation($id: ID!) { updateAsset(id: $id, input: {name: "stolen"}) { id } }',
        ):
            body = await client.graphql(mutation, {"id": mine["id"]}, headers=bob)
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        into_foreign = await client.upload(b"x", name="x", parentId=folder["id"], headers=bob)
        assert into_foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        wiped = await client.data(
            'mutation { deleteAssets(filter: {jobId: "shared-job"}) { deletedCount } }', headers=bob
        )
        assert wiped["deleteAssets"]["deletedCount"] == 1
        content = await client.http.get(f"/assets/{mine['id']}/content", headers=bob)
        assert content.status_code == 404
        own = await client.http.get(f"/assets/{mine['id']}/content", headers=alice)
        assert own.content == b"alice's"
        still = await client.data('{ assets(jobId: "shared-job") { totalCount } }', headers=alice)
        assert still["assets"]["totalCount"] == 1


async def test_multipart_without_preflight_header_is_refused(client: TroveClient) -> None:
    for headers in ({}, {"Apollo-Require-Preflight": ""}, {"X-Apollo-Operation-Name": "  "}):
        response = await client.http.post(
            "/graphql",
            data={
                "operations": '{"query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }", "variables": {"f": null}}',
                "map": '{"0": ["variables.f"]}',
            },
            files={"0": ("a.txt", b"forged")},
            headers=headers,
        )
        assert response.status_code == 400, headers
        assert "preflight" in response.json()["errors"][0]["message"].lower()
    assert (await client.data("{ assets { totalCount } }"))["assets"]["totalCount"] == 0
    allowed = await client.upload(
        b"legit", name="ok.txt", headers={"X-Apollo-Operation-Name": "Upload"}
    )
    assert allowed["data"]["createAsset"]["name"] == "ok.txt"


def stored_files(data_dir: Path) -> list[Path]:
    blobs = data_dir / "blobs"
    return [p for p in blobs.rglob("*") if p.is_file()] if blobs.exists() else []


async def test_oversized_uploads_leave_no_row_and_no_blob(
    app_factory: Any, database_url: str, tmp_path: Path
) -> None:
    async with app_factory(database_url, max_upload_bytes=4096) as client:
        fits = await client.upload(b"x" * 4096, name="fits.bin")
        assert fits["data"]["createAsset"]["size"] == 4096
        too_big = await client.upload(b"y" * 4097, name="big.bin")
        assert too_big["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        huge = await client.upload(b"z" * (3 << 20), name="huge.bin")
        assert huge["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        total = await client.data("{ assets { totalCount nodes { name } } }")
        assert [n["name"] for n in total["assets"]["nodes"]] == ["fits.bin"]
        assert len(stored_files(tmp_path / "data")) == 1


async def test_oversized_declared_body_is_refused_before_reading(
    app_factory: Any, sqlite_url: str
) -> None:
    async with app_factory(sqlite_url, max_upload_bytes=1024) as client:
        response = await client.http.post(
            "/graphql",
            content=b"0" * 10,
            headers={
                "Content-Length": str(50 << 20),
                "Content-Type": "multipart/form-data; boundary=x",
                "Apollo-Require-Preflight": "1",
            },
        )
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_no_auth_refuses_public_interfaces_unless_forced() -> None:
    with pytest.raises(SystemExit):
        Settings(auth="none").check_bind("0.0.0.0")
    Settings(auth="none").check_bind("127.0.0.1")
    Settings(auth="none", allow_insecure_host=True).check_bind("0.0.0.0")
    Settings(auth="token", secret_key=TEST_SECRET).check_bind("0.0.0.0")


def test_token_mode_refuses_the_development_secret() -> None:
    with pytest.raises(ValueError, match="TROVE_SECRET_KEY"):
        Settings(auth="token")


async def test_tokens_are_stored_hashed(client: TroveClient) -> None:
    from models import ApiToken

    token = await token_for("carol")
    row = await ApiToken.get(user__name="carol")
    assert token not in row.token_hash and len(row.token_hash) == 64


async def test_a_revoked_token_is_refused_at_once(app_factory: Any, database_url: str) -> None:
    async with app_factory(database_url, auth="token") as trove:
        token = await token_for("gina")
        headers = {"authorization": f"Bearer {token}"}
        assert "errors" not in await trove.graphql("{ __typename }", headers=headers)
        (info,) = await users.list_tokens(user_name="gina")
        await users.revoke_token(token_or_id=str(info.id))
        response = await trove.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers=headers
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer_is_the_tokens_owner(app_factory: Any, database_url: str) -> None:
    async with app_factory(database_url, auth="token") as client:
        alice, bob = await token_for("alice"), await token_for("bob")
        query = "{ viewer { id name } }"
        seen_by_alice = (await client.data(query, headers=bearer(alice)))["viewer"]
        seen_by_bob = (await client.data(query, headers=bearer(bob)))["viewer"]
        assert seen_by_alice["name"] == "alice" and seen_by_bob["name"] == "bob"
        assert seen_by_alice["id"] == str((await users.get_or_create_user(name="alice")).id)
        assert seen_by_alice["id"] != seen_by_bob["id"]
        anonymous = await client.http.post("/graphql", json={"query": query})
        assert anonymous.status_code == 401
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer_without_auth_is_the_local_user(client: TroveClient) -> None:
    viewer = (await client.data("{ viewer { id name } }"))["viewer"]
    assert viewer["name"] == users.LOCAL_USER_NAME
    local = await users.get_or_create_user(name=users.LOCAL_USER_NAME)
    assert viewer["id"] == str(local.id)
