"""The edge (server/edge.py): one JSON error shape per surface, a request id on every error
response and log line, and the same admission checks on GraphQL, REST and content routes."""

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services import users
from tests.conftest import TroveClient


@pytest.fixture
async def token_client(app_factory: Any, database_url: str) -> AsyncIterator[TroveClient]:
    async with app_factory(database_url, auth="token") as trove:
        user = await users.get_or_create_user(name="alice")
        trove.http.headers["authorization"] = f"Bearer {await users.create_token(user=user)}"
        yield trove


def assert_http_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "code", "requestId"}, body
    assert body["detail"] == body["error"]
    assert body["code"] == code
    assert body["requestId"] == response.headers["x-request-id"]
    return body


def assert_graphql_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    return body


async def test_every_surface_answers_errors_in_its_shape_with_the_request_id(
    client: TroveClient,
) -> None:
    http = client.http
    missing = "00000000-0000-0000-0000-000000000000"
    assert_http_error(await http.get(f"/api/assets/{missing}"), 404, "NOT_FOUND")
    assert_http_error(await http.get("/api/nothing-here"), 404, "NOT_FOUND")
    assert_http_error(await http.get(f"/assets/{missing}/content"), 404, "NOT_FOUND")
    assert_http_error(
        await http.get(f"/assets/{missing}/content?expires=1&signature=x"), 403, "FORBIDDEN"
    )
    assert_http_error(
        await http.put(f"/api/assets/{missing}", content=b"x", headers={"content-type": "text/x"}),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    assert_graphql_error(
        await http.post("/graphql", content=b"{}", headers={"content-type": "text/xml"}),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    # A field error keeps data and carries the id too.
    response = await http.post(
        "/graphql", json={"query": f'{{ job(id: "x") {{ id }} asset(id: "{missing}") {{ id }} }}'}
    )
    assert response.status_code == 200
    ok = await http.post("/graphql", json={"query": "{ __typename }"})
    assert ok.headers["x-request-id"]


async def test_a_callers_request_id_is_kept_and_a_bad_one_replaced(client: TroveClient) -> None:
    kept = await client.http.get("/healthz", headers={"x-request-id": "proxy-42.abc"})
    assert kept.headers["x-request-id"] == "proxy-42.abc"
    replaced = await client.http.get(
        "/api/assets/nope", headers={"x-request-id": "evil\nline" + "x" * 100}
    )
    assert replaced.headers["x-request-id"] != "evil\nline" + "x" * 100
    assert replaced.json()["requestId"] == replaced.headers["x-request-id"]


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    client: TroveClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploaded = await client.upload(b"\x89PNG\r\n\x1a\n" + b"0" * 64, filename="a.png")
    asset_id = uploaded["data"]["createAsset"]["id"]

    async def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("secret internals")

    # A bug anywhere behind the content routes: before the edge it escaped as a plain-text
    # 500 (or a dropped connection) with no id to find it by.
    monkeypatch.setattr(client.services.thumbnails, "thumbnail", broken)
    with caplog.at_level(logging.ERROR):
        response = await client.http.get(f"/assets/{asset_id}/thumbnail")
    body = assert_http_error(response, 500, "INTERNAL_SERVER_ERROR")
    assert "secret internals" not in response.text
    assert body["requestId"] in body["error"]
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == body["requestId"]]
    assert logged and any(r.exc_info for r in logged)

    monkeypatch.setattr(client.services.assets, "get", broken)
    graphql = await client.http.post(
        "/graphql", json={"query": f'{{ asset(id: "{asset_id}") {{ id }} }}'}
    )
    (error,) = graphql.json()["errors"]
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": graphql.headers["x-request-id"],
    }
    assert "secret internals" not in graphql.text
    assert_http_error(
        await client.http.get(f"/api/assets/{asset_id}"), 500, "INTERNAL_SERVER_ERROR"
    )


async def test_the_csrf_rule_is_the_same_on_graphql_and_rest(token_client: TroveClient) -> None:
    files = {"file": ("a.txt", b"hello", "text/plain")}
    operations = (
        '{"query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }", '
        '"variables": {"f": null}}'
    )
    graphql_form = {"operations": operations, "map": '{"file": ["variables.f"]}'}
    token = token_client.http.headers["authorization"]
    for path, data in (("/graphql", graphql_form), ("/api/assets", None)):
        # No proof that the page passed a CORS preflight: refused the same way on both.
        refused = await token_client.http.post(
            path, data=data, files=files, headers={"authorization": ""}
        )
        assert refused.status_code == 400, path
        assert "cross-site request forgery" in refused.text
        # A bearer token is such a proof (forms cannot send one), and so is the header.
        accepted = await token_client.http.post(path, data=data, files=files)
        assert accepted.status_code == 200, (path, accepted.text)
        accepted = await token_client.http.post(
            path,
            data=data,
            files=files,
            headers={"authorization": token, "apollo-require-preflight": "1"},
        )
        assert accepted.status_code == 200, (path, accepted.text)


def test_a_live_servers_log_lines_carry_the_request_id(live_server_factory: Any) -> None:
    import json
    import time

    import httpx

    server = live_server_factory()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        operations = {
            "query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { sha256 url } }",
            "variables": {"f": None},
        }
        created = http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": '{"0": ["variables.f"]}'},
            files={"0": ("lost.txt", b"soon gone", "text/plain")},
            headers={"apollo-require-preflight": "1"},
        ).json()["data"]["createAsset"]
        digest = created["sha256"]
        (server.data_dir / "blobs" / digest[:2] / digest[2:4] / digest).unlink()
        # Over a real connection: an error status and a body, not a dropped stream.
        response = http.get(created["url"])
        body = assert_http_error(response, 500, "CONTENT_MISSING")
    rid = body["requestId"]
    deadline = time.monotonic() + 10
    while f"[{rid}]: integrity:" not in server.log_path.read_text():
        assert time.monotonic() < deadline, server.log_path.read_text()[-2000:]
        time.sleep(0.1)
    # uvicorn's access line for that request carries the same id.
    assert f"[{rid}] 127.0.0.1" in server.log_path.read_text()
