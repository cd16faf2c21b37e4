"""Links to asset bytes (services/urls.py): made at read time, only for the caller's own
assets, always http(s) — also in job outputs and in events delivered over a WebSocket."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

import models
from services import users
from tests.conftest import TroveClient
from tests.test_execution_support import edge, graph, node, start_job, wait_for_job

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
async def two_users(
    app_factory: Any, database_url: str
) -> AsyncIterator[tuple[TroveClient, dict[str, str], dict[str, str]]]:
    async with app_factory(database_url, auth="token") as trove:
        alice = await users.get_or_create_user(name="alice")
        bob = await users.get_or_create_user(name="bob")
        yield (
            trove,
            {"authorization": f"Bearer {await users.create_token(user=alice)}"},
            {"authorization": f"Bearer {await users.create_token(user=bob)}"},
        )


async def test_job_outputs_never_link_to_another_users_asset(
    two_users: tuple[TroveClient, dict[str, str], dict[str, str]],
) -> None:
    trove, alice, bob = two_users
    secret = await trove.upload(b"bob's private bytes", filename="secret.txt", headers=bob)
    secret_id = secret["data"]["createAsset"]["id"]
    own = await trove.upload(b"alice's bytes", filename="mine.txt", headers=alice)
    own_id = own["data"]["createAsset"]["id"]

    trove.http.headers.update(alice)
    forged = {"id": secret_id, "url": "x"}
    forged_ref = {"type": "image", "id": secret_id, "contentType": "image/png"}
    own_ref = {"type": "text", "id": own_id, "contentType": "text/plain"}
    job = await start_job(
        trove,
        graph=graph(
            [
                node("a", "control.Output", name="forged", value=forged),
                node("b", "control.Output", name="forgedRef", value=[forged_ref]),
                node("c", "control.Output", name="own", value={"nested": own_ref}),
            ]
        ),
    )
    done = await wait_for_job(trove, job["id"])
    assert done["status"] == "COMPLETED", done
    outputs = done["outputs"]
    # A plain dict of the workflow's is data: returned as given, never re-signed.
    assert outputs["forged"] == forged
    # A dict shaped like an asset reference gets no link unless the reader owns the asset.
    assert outputs["forgedRef"] == [{**forged_ref, "url": None}]
    assert f"/assets/{secret_id}/" not in json.dumps(outputs)
    own_out = outputs["own"]["nested"]
    assert own_out["url"].startswith(f"http://testserver/assets/{own_id}/content?expires=")
    fetched = await trove.http.get(own_out["url"], headers={"authorization": ""})
    assert fetched.content == b"alice's bytes"

    # Nothing stored holds a link: links are made when read, for the reader.
    row = await models.Job.get(id=job["id"])
    assert "expires=" not in json.dumps(row.outputs)
    # Bob cannot read Alice's job at all.
    trove.http.headers.update(bob)
    other = await trove.graphql("query($id: ID!) { job(id: $id) { outputs } }", {"id": job["id"]})
    assert other["data"]["job"] is None


async def test_auto_saved_outputs_link_to_the_readers_assets(client: TroveClient) -> None:
    job = await start_job(
        client,
        graph=graph(
            [
                node("create", "image.Create", width=8, height=8, color="#00ff00"),
                node("out", "control.Output", name="image"),
            ],
            [edge("create", "out", "value")],
        ),
    )
    done = await wait_for_job(client, job["id"])
    image = done["outputs"]["image"]
    assert image["contentType"] == "image/png"
    assert image["url"].startswith("http://testserver/assets/")
    assert (await client.http.get(image["url"])).headers["content-type"] == "image/png"


async def test_asset_created_over_a_websocket_carries_http_links(
    live_server_factory: Any, database_url: str
) -> None:
    server = await asyncio.to_thread(live_server_factory, database_url)
    ws_url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = "subscription { assetCreated { id url thumbnailUrl } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=server.url) as http:
            operations = {
                "query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }",
                "variables": {"f": None},
            }
            response = await http.post(
                "/graphql",
                data={"operations": json.dumps(operations), "map": '{"0": ["variables.f"]}'},
                files={"0": ("dot.png", PNG, "image/png")},
                headers={"apollo-require-preflight": "1"},
            )
            assert response.status_code == 200, response.text
            message = json.loads(await asyncio.wait_for(ws.recv(), 15))
            event: dict[str, Any] = message["payload"]["data"]["assetCreated"]
            for link in (event["url"], event["thumbnailUrl"]):
                assert link.startswith(f"{server.url}/assets/{event['id']}/"), link
                assert (await http.get(link)).status_code in (200, 415)
