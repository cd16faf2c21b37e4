"""GraphiQL served from the server itself, checked by HTTP and in headless Chromium."""

import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.graphiql import NPM_ASSETS
from tests.conftest import ROOT, TroveClient
from tests.js.runner import NODE_MODULES, require, require_chromium, require_node, run_script

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def require_graphiql_build() -> None:
    missing = [path for path in NPM_ASSETS.values() if not (NODE_MODULES / path).is_file()]
    require(not missing, f"GraphiQL is not installed ({', '.join(missing)}): run `make install`")


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="trove-config" type="application/json">(.*?)</script>', html)
    assert match, html
    return dict(json.loads(match.group(1)))


async def test_the_page_needs_nothing_but_this_server(client: TroveClient) -> None:
    require_graphiql_build()
    page = await client.http.get("/graphql", headers=BROWSER)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith(("/graphiql-assets/", "data:")) for s in sources), sources
    config = page_config(page.text)
    assert config["authRequired"] is False
    assert config["defaultHeaders"] == ""

    for source in sources:
        if source.startswith("data:"):
            continue
        asset = await client.http.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["content-type"].split(";")[0] in (
            "text/css",
            "text/javascript",
            "application/javascript",
        )
        assert asset.headers["x-content-type-options"] == "nosniff"
    missing = await client.http.get("/graphiql-assets/package.json")
    assert missing.status_code == 404


async def test_the_default_query_runs_as_shipped(client: TroveClient) -> None:
    require_graphiql_build()
    page = await client.http.get("/graphql", headers=BROWSER)
    await client.upload(b"example", filename="example.txt")
    result = await client.graphql(page_config(page.text)["defaultQuery"])
    assert "errors" not in result
    assert result["data"]["assets"]["nodes"][0]["name"] == "example.txt"


async def test_token_mode_opens_the_headers_editor(app_factory: Any, sqlite_url: str) -> None:
    require_graphiql_build()
    async with app_factory(sqlite_url, auth="token") as client:
        page = await client.http.get("/graphql", headers=BROWSER)
    assert page.status_code == 200  # the page itself needs no token
    config = page_config(page.text)
    assert config["authRequired"] is True
    assert json.loads(config["defaultHeaders"]) == {"Authorization": "Bearer PASTE_YOUR_TOKEN_HERE"}


async def test_without_node_the_cdn_page_is_the_fallback_and_logged(
    app_factory: Any, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="trove"):
        async with app_factory(sqlite_url, node_modules=tmp_path / "absent") as client:
            page = await client.http.get("/graphql", headers=BROWSER)
    assert "unpkg.com/graphiql" in page.text
    assert any("GraphiQL is not installed" in r.getMessage() for r in caplog.records)


def test_graphiql_in_headless_chromium_runs_a_typed_query(
    live_server_factory: Any, tmp_path: Path
) -> None:
    require_node("playwright-core")
    require_graphiql_build()
    chromium = require_chromium()
    server = live_server_factory(TROVE_AUTH="token")
    token = subprocess.run(
        [sys.executable, "-m", "server.cli", "token", "create", "--user", "browser"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    uploaded = httpx.post(
        server.url + "/api/assets/",
        files={"file": ("typed-in-a-browser.txt", b"hello", "text/plain")},
        headers=auth,
    )
    assert uploaded.status_code == 200, uploaded.text

    [report] = run_script(
        "graphiql.mjs",
        server.url + "/graphql",
        token,
        "query Typed { assets(first: 5) { nodes { name size } } }",
        "Typed",
        str(tmp_path / "chromium-profile"),
        str(tmp_path / "graphiql.png"),
        env={"CHROMIUM": chromium},
    )
    assert report["externalRequests"] == []
    assert report["pageErrors"] == []
    # Before the token is typed, the page's schema request is refused; nothing else fails.
    assert all("status of 401" in error for error in report["consoleErrors"]), report
    assert "PASTE_YOUR_TOKEN_HERE" in report["headersTemplate"]
    # In a 1280 px window the welcome comment and query fit the editor: no sideways scroll.
    widths = (report["widestDefaultLine"], report["editorWidth"])
    assert 0 < widths[0] <= widths[1], widths
    assert '"totalCount": 1' in report["defaultResponse"]
    assert "query Typed" in report["typedQuery"]
    # CodeMirror renders indentation with no-break spaces.
    typed = json.loads(report["typedResponse"].replace("\xa0", " "))
    assert typed == {"data": {"assets": {"nodes": [{"name": "typed-in-a-browser.txt", "size": 5}]}}}
    assert (tmp_path / "graphiql.png").stat().st_size > 0
