"""Script clients against a live `trove serve`: curl and the Python gql client, as in docs/api.md."""

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from gql import Client, FileVar, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import ROOT
from tests.js.runner import require


def create_token(server: Any, user: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "server.cli", "token", "create", "--user", user],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.splitlines()[-1]


def test_curl_multipart_upload(live_server_factory: Any, tmp_path: Path) -> None:
    curl = shutil.which("curl")
    require(curl is not None, "curl is not installed")
    assert curl is not None
    server = live_server_factory(TROVE_AUTH="token")
    token = create_token(server, "curl-user")
    photo = tmp_path / "notes.txt"
    photo.write_text("uploaded with curl\n")
    operations = {
        "query": "mutation ($input: CreateAssetInput!) "
        "{ createAsset(input: $input) { id name contentType size url } }",
        "variables": {"input": {"file": None, "nodeId": "curl-node"}},
    }
    graphql = subprocess.run(
        [
            curl, "--silent", "--show-error", f"{server.url}/graphql",
            "-H", f"Authorization: Bearer {token}",
            "-H", "Apollo-Require-Preflight: true",
            "-F", f"operations={json.dumps(operations)}",
            "-F", 'map={"0": ["variables.input.file"]}',
            "-F", f"0=@{photo}",
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    asset = json.loads(graphql.stdout)["data"]["createAsset"]
    assert (asset["name"], asset["contentType"], asset["size"]) == ("notes.txt", "text/plain", 19)
    download = subprocess.run(
        [curl, "--silent", "--show-error", asset["url"]], capture_output=True, check=True
    )
    assert download.stdout == b"uploaded with curl\n"

    rest = subprocess.run(
        [
            curl, "--silent", "--show-error", f"{server.url}/api/assets/",
            "-H", f"Authorization: Bearer {token}",
            "-F", 'json={"name": "via-rest.txt", "node_id": "curl-node"}',
            "-F", f"file=@{photo}",
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(rest.stdout)["name"] == "via-rest.txt"
    listing = subprocess.run(
        [
            curl, "--silent", "--show-error", "--get", f"{server.url}/api/assets",
            "-H", f"Authorization: Bearer {token}",
            "--data-urlencode", "node_id=curl-node",
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    names = sorted(a["name"] for a in json.loads(listing.stdout)["assets"])
    assert names == ["notes.txt", "via-rest.txt"]


def test_gql_upload_and_subscription(live_server_factory: Any, tmp_path: Path) -> None:
    server = live_server_factory(TROVE_AUTH="token")
    token = create_token(server, "gql-user")
    upload_path = tmp_path / "upload.txt"
    upload_path.write_text("uploaded with gql\n")
    received: list[dict[str, Any]] = []
    uploaded: list[str] = []

    async def run() -> None:
        http = HTTPXAsyncTransport(
            url=f"{server.url}/graphql",
            headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
        )
        socket = WebsocketsTransport(
            url=server.url.replace("http://", "ws://") + "/graphql",
            init_payload={"Authorization": f"Bearer {token}"},
        )
        upload = gql(
            "mutation ($input: CreateAssetInput!) { createAsset(input: $input) { id name } }"
        )
        watch = gql('subscription { assetCreated(nodeId: "gql-node") { id name size } }')
        async with (
            Client(transport=http) as session,
            Client(transport=socket) as live,
        ):
            events = live.subscribe(watch)
            first_event = asyncio.ensure_future(anext(events))
            # The subscription starts on the server some time after it is sent, and the
            # protocol has no acknowledgement for it: upload until it reports one.
            for attempt in range(60):
                with upload_path.open("rb") as file:
                    upload.variable_values = {
                        "input": {
                            "file": FileVar(file, filename=f"gql-{attempt}.txt"),
                            "nodeId": "gql-node",
                        }
                    }
                    result = await session.execute(upload, upload_files=True)
                uploaded.append(result["createAsset"]["name"])
                done, _ = await asyncio.wait({first_event}, timeout=0.5)
                if done:
                    received.append(first_event.result()["assetCreated"])
                    break
            else:
                first_event.cancel()
            await events.aclose()

    asyncio.run(run())
    assert received, f"no assetCreated event after {len(uploaded)} uploads"
    assert received[0]["name"] in uploaded
    assert received[0]["size"] == len("uploaded with gql\n")
