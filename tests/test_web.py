"""Serving the asset browser: the built app at /, its files under /app/, history fallback,
and a page that explains how to build it when there is no build."""

import asyncio
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from server.settings import Settings
from server.web import DEFAULT_WEB_DIST, WebApp, web_content_sources
from tests.conftest import TroveClient
from tests.js.runner import require, require_node
from tests.web_seed import Api, png

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def require_web_build() -> None:
    require(
        (DEFAULT_WEB_DIST / "index.html").is_file(),
        "the asset browser is not built: run `make install`",
    )


async def test_the_index_is_the_built_app_under_a_strict_policy(sqlite_client: TroveClient) -> None:
    require_web_build()
    page = await sqlite_client.http.get("/", headers=BROWSER)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy
    # Nothing inline: the policy above allows none of it.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), page.text
    assert "<style" not in page.text and " style=" not in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/app/") for s in sources), sources
    for source in sources:
        asset = await sqlite_client.http.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["x-content-type-options"] == "nosniff"
        if source.startswith("/app/assets/"):
            assert "immutable" in asset.headers["cache-control"]


async def test_the_page_knows_whether_to_ask_for_a_token(app_factory: Any, sqlite_url: str) -> None:
    require_web_build()
    async with app_factory(sqlite_url) as client:
        open_page = await client.http.get("/", headers=BROWSER)
    async with app_factory(sqlite_url, auth="token") as client:
        token_page = await client.http.get("/asset/x", headers=BROWSER)  # no token needed
    assert '<meta name="trove-auth" content="none">' in open_page.text
    assert token_page.status_code == 200
    assert '<meta name="trove-auth" content="token">' in token_page.text


@pytest.mark.parametrize("path", ["/jobs", "/asset/0190-abc", "/workflows/w1", "/upload?x=1"])
async def test_app_routes_fall_back_to_the_index(sqlite_client: TroveClient, path: str) -> None:
    require_web_build()
    index = await sqlite_client.http.get("/", headers=BROWSER)
    page = await sqlite_client.http.get(path, headers=BROWSER)
    assert page.status_code == 200
    assert page.text == index.text


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/app/missing.js", BROWSER),  # a file of the app that is not there
        ("/app/%2e%2e/pyproject.toml", BROWSER),
        ("/app/index.html", {}),  # the index only at / (with its policy)
        ("/no-such-file.js", {"accept": "*/*"}),  # not a page: no HTML for a script tag
        ("/graphiql-assets/none.js", BROWSER),
    ],
)
async def test_what_is_not_a_page_is_a_404(
    sqlite_client: TroveClient, path: str, headers: dict[str, str]
) -> None:
    require_web_build()
    response = await sqlite_client.http.get(path, headers=headers)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "NOT_FOUND"


async def test_the_api_keeps_its_routes(sqlite_client: TroveClient) -> None:
    assert (await sqlite_client.http.get("/healthz")).json() == {"status": "ok"}
    rest = await sqlite_client.http.get("/api/nothing", headers=BROWSER)
    assert rest.status_code == 404 and rest.headers["content-type"] == "application/json"
    graphiql = await sqlite_client.http.get("/graphql", headers=BROWSER)
    assert graphiql.status_code == 200 and "GraphiQL" in graphiql.text


async def test_without_a_build_the_page_says_how_to_make_one(
    app_factory: Any, sqlite_url: str, tmp_path: Path
) -> None:
    async with app_factory(sqlite_url, web_dist=tmp_path / "absent") as client:
        page = await client.http.get("/", headers=BROWSER)
        fallback = await client.http.get("/jobs", headers=BROWSER)
        api = await client.data("{ assets { totalCount } }")
    assert page.status_code == 200
    assert "make install" in page.text and "Node.js" in page.text
    assert str(tmp_path / "absent") in page.text
    assert fallback.text == page.text
    assert api == {"assets": {"totalCount": 0}}


def test_links_sent_over_a_subscription_are_http(live_server_factory: Any) -> None:
    """The app shows thumbnails of assets that arrive by subscription: their links must be
    the HTTP ones, not ws:// from the socket's own address."""
    server = live_server_factory()

    async def scenario() -> dict[str, Any]:
        url = server.url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            query = "subscription { assetCreated { url thumbnailUrl } }"
            await socket.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
            )
            await asyncio.sleep(0.5)  # the subscription is registered before the upload
            with Api(server.url) as api:
                files: list[tuple[str, bytes, str, dict[str, Any]]] = [
                    ("live.png", png(8, 8, (1, 2, 3)), "image/png", {})
                ]
                await asyncio.to_thread(api.upload_many, files)
            message = json.loads(await asyncio.wait_for(socket.recv(), 30))
            return dict(message["payload"]["data"]["assetCreated"])

    asset = asyncio.run(scenario())
    assert asset["url"].startswith(server.url + "/assets/")
    assert asset["thumbnailUrl"].startswith(server.url + "/assets/")


def test_the_build_checks_the_first_load_budget() -> None:
    require_web_build()
    node = require_node()
    script = DEFAULT_WEB_DIST.parent / "scripts" / "budget.mjs"

    def check(budget_kb: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "WEB_BUDGET_KB": budget_kb}
        return subprocess.run([node, str(script)], env=env, capture_output=True, text=True)

    within = check("200")
    assert within.returncode == 0, within.stderr
    size = float(re.search(r"([\d.]+) KB gzipped", within.stdout)[1])  # type: ignore[index]
    assert 10 < size < 200
    over = check("5")
    assert over.returncode == 1
    assert "bundle budget exceeded" in over.stderr


async def test_presigned_downloads_let_the_page_load_content_from_the_store(
    app_factory: Any, sqlite_url: str
) -> None:
    require_web_build()
    store = "http://127.0.0.1:8333/"
    async with app_factory(sqlite_url) as client:
        plain = (await client.http.get("/", headers=BROWSER)).headers["content-security-policy"]
    assert "8333" not in plain and "https:" not in plain
    web = WebApp(
        content_sources=web_content_sources(
            Settings(s3_presigned_downloads=True, s3_endpoint_url=store)
        )
    )
    assert web._content_origins() == ["http://127.0.0.1:8333"]
    unknown = WebApp(content_sources=("https:",))
    assert unknown._content_origins() == ["https:"]


def _directive(policy: str, name: str) -> list[str]:
    [directive] = [d.strip() for d in policy.split(";") if d.strip().startswith(name + " ")]
    return directive.split()[1:]


CREATE_UPLOAD = (
    "mutation($input: CreateUploadInput!) { createUpload(input: $input) { id parts { url } } }"
)


async def test_the_page_may_put_upload_parts_where_storage_wants_them(
    app_factory: Any, sqlite_url: str, seaweedfs: Any, s3_bucket: str
) -> None:
    """The page PUTs direct-upload parts to the URLs createUpload returns: Trove's own on
    local storage (same origin), the bucket's presigned ones on S3 (allowed by connect-src)."""
    require_web_build()
    upload = {"input": {"name": "big.bin", "size": 20 << 20}}
    async with app_factory(sqlite_url) as client:
        local_policy = (await client.http.get("/", headers=BROWSER)).headers[
            "content-security-policy"
        ]
        local = (await client.data(CREATE_UPLOAD, upload))["createUpload"]
    assert all(p["url"].startswith("http://testserver/uploads/") for p in local["parts"])
    assert _directive(local_policy, "connect-src") == ["'self'", "ws://testserver"]

    async with app_factory(
        sqlite_url, storage_url=f"s3://{s3_bucket}", **seaweedfs.connection
    ) as client:
        s3_policy = (await client.http.get("/", headers=BROWSER)).headers["content-security-policy"]
        on_s3 = (await client.data(CREATE_UPLOAD, upload))["createUpload"]
    origins = {"{0.scheme}://{0.netloc}".format(urlsplit(p["url"])) for p in on_s3["parts"]}
    assert len(on_s3["parts"]) == 3 and origins == {seaweedfs.endpoint.rstrip("/")}
    connect = _directive(s3_policy, "connect-src")
    assert origins <= set(connect), connect
    # Uploads need the bucket for connect only: content still comes through Trove.
    assert not origins & set(_directive(s3_policy, "img-src"))
