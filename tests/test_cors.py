"""CORS: off unless TROVE_CORS_ORIGINS names the pages that may call the API."""

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.typing import Origin, Subprotocol

from server.settings import Settings
from tests.conftest import TEST_SECRET

APP = "https://app.example"
REQUESTED_HEADERS = "authorization, content-type, apollo-require-preflight, x-apollo-operation-name"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": REQUESTED_HEADERS,
    }


async def test_preflight_allows_the_headers_apollo_clients_send(
    app_factory: Any, sqlite_url: str
) -> None:
    async with app_factory(sqlite_url, cors_origins=[APP]) as client:
        for path, method in [
            ("/graphql", "POST"),
            ("/api/assets/", "POST"),
            ("/api/assets/x", "PUT"),
        ]:
            response = await client.http.options(path, headers=preflight(APP, method))
            assert response.status_code == 200, (path, response.text)
            assert response.headers["access-control-allow-origin"] == APP
            assert method in response.headers["access-control-allow-methods"]
            allowed = {
                h.strip().lower()
                for h in response.headers["access-control-allow-headers"].split(",")
            }
            assert {h.strip() for h in REQUESTED_HEADERS.split(",")} <= allowed

        refused = await client.http.options("/graphql", headers=preflight("https://evil.example"))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers

        answer = await client.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
        )
        assert answer.headers["access-control-allow-origin"] == APP
        other = await client.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers


async def test_refusals_are_readable_by_allowed_pages(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(sqlite_url, cors_origins=[APP], auth="token") as client:
        response = await client.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
        )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == APP
    assert "WWW-Authenticate" in response.headers["access-control-expose-headers"]
    # The request id of a refusal, to quote when reporting it.
    assert "X-Request-Id" in response.headers["access-control-expose-headers"]
    assert (
        response.headers["x-request-id"] == response.json()["errors"][0]["extensions"]["requestId"]
    )


async def test_no_cors_by_default(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(sqlite_url) as client:
        response = await client.http.options("/graphql", headers=preflight(APP))
        assert response.status_code == 405
        assert "access-control-allow-origin" not in response.headers
        answer = await client.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
        )
        assert "access-control-allow-origin" not in answer.headers


def test_origins_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROVE_CORS_ORIGINS", "https://a.example, http://localhost:5173/")
    assert Settings(secret_key=TEST_SECRET).cors_origins == [
        "https://a.example",
        "http://localhost:5173",
    ]
    monkeypatch.setenv("TROVE_CORS_ORIGINS", '["*"]')
    assert Settings(secret_key=TEST_SECRET).cors_origins == ["*"]
    monkeypatch.delenv("TROVE_CORS_ORIGINS")
    assert Settings(secret_key=TEST_SECRET).cors_origins == []


def test_subscriptions_accept_the_same_origins(live_server_factory: Any) -> None:
    server = live_server_factory(TROVE_CORS_ORIGINS=APP)
    socket_url = server.url.replace("http://", "ws://") + "/graphql"

    async def handshake(origin: str) -> str:
        try:
            async with websockets.connect(
                socket_url,
                subprotocols=[Subprotocol("graphql-transport-ws")],
                origin=Origin(origin),
            ) as socket:
                await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
                reply = json.loads(await asyncio.wait_for(socket.recv(), 30))
                return str(reply["type"])
        except websockets.InvalidStatus as error:
            return f"refused {error.response.status_code}"

    assert asyncio.run(handshake(APP)) == "connection_ack"
    assert asyncio.run(handshake("https://evil.example")) == "refused 403"
