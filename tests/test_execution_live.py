"""Subscriptions against `trove serve` in a child process, over graphql-transport-ws."""

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.conftest import LiveServer
from tests.test_execution_support import JOB_FIELDS, edge, graph, node, png

ASSET_CREATED = """subscription($jobId: String) {
  assetCreated(jobId: $jobId) { id name nodeId jobId contentType }
}"""
JOB_UPDATED = "subscription($id: ID!) { jobUpdated(id: $id) { id status error } }"


class GraphQLSocket:
    """A minimal graphql-transport-ws client: several subscriptions on one connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.pending: dict[str, deque[dict[str, Any]]] = defaultdict(deque)

    async def subscribe(self, sub_id: str, query: str, variables: dict[str, Any]) -> None:
        payload = {"query": query, "variables": variables}
        await self.connection.send(
            json.dumps({"id": sub_id, "type": "subscribe", "payload": payload})
        )

    async def receive(self, sub_id: str, seconds: float = 30) -> dict[str, Any]:
        """The next `next`, `error` or `complete` message of one subscription."""
        deadline = time.monotonic() + seconds
        while not self.pending[sub_id]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no message for subscription {sub_id}"
            message = json.loads(await asyncio.wait_for(self.connection.recv(), remaining))
            if message["type"] == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
                continue
            self.pending[message.get("id", "")].append(message)
        return self.pending[sub_id].popleft()

    async def next_data(self, sub_id: str, field: str) -> dict[str, Any]:
        message = await self.receive(sub_id)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"][field]
        return data


@contextlib.asynccontextmanager
async def open_socket(server: LiveServer) -> AsyncIterator[GraphQLSocket]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        yield GraphQLSocket(connection)


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def upload(
    http: httpx.AsyncClient, content: bytes, filename: str, **fields: str
) -> dict[str, Any]:
    operations = {
        "query": "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id name } }",
        "variables": {"input": {"file": None, **fields}},
    }
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, "application/octet-stream")},
        headers={"Apollo-Require-Preflight": "true"},
    )
    created: dict[str, Any] = response.json()["data"]["createAsset"]
    return created


RUN = "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { " + JOB_FIELDS + " } }"
FINAL = ("COMPLETED", "FAILED", "CANCELLED")


@pytest.fixture
async def live(live_server_factory: Any, database_url: str) -> AsyncIterator[LiveServer]:
    yield await asyncio.to_thread(live_server_factory, database_url)


async def test_asset_created_fires_for_uploads_and_auto_saves(live: LiveServer) -> None:
    workflow = graph(
        [
            node("create", "image.Create", width=16, height=16, color="#123456"),
            node("blur", "image.Blur", radius=1),
            node("tone", "audio.Tone", duration=0.05),
        ],
        [edge("create", "blur", "image")],
    )
    async with (
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
        open_socket(live) as socket,
    ):
        await socket.subscribe("all", ASSET_CREATED, {"jobId": None})
        await socket.subscribe("job", ASSET_CREATED, {"jobId": "live-job"})
        # An upload's event proves both subscriptions are listening before the job starts;
        # tracking strings are free-form, so it may name the job before the job exists.
        sentinel = await upload(http, b"sentinel", "sentinel.txt", jobId="live-job", nodeId="up")
        assert (await socket.next_data("all", "assetCreated"))["id"] == sentinel["id"]
        assert (await socket.next_data("job", "assetCreated"))["id"] == sentinel["id"]
        await upload(http, b"other", "other.txt")
        other = await socket.next_data("all", "assetCreated")

        job = (await gql(http, RUN, {"input": {"graph": workflow, "jobId": "live-job"}}))[
            "runWorkflow"
        ]
        assert job["id"] == "live-job"
        events = [await socket.next_data("job", "assetCreated") for _ in range(3)]
        unfiltered = [await socket.next_data("all", "assetCreated") for _ in range(3)]

        stored = await gql(
            http,
            '{ assets(jobId: "live-job") { nodes { id nodeId contentType } } }',
        )
        by_id = {a["id"]: a for a in stored["assets"]["nodes"]}
        assert {e["id"] for e in events} | {sentinel["id"]} == set(by_id)
        assert {e["id"] for e in unfiltered} == {e["id"] for e in events}
        assert {e["nodeId"] for e in events} == {"create", "blur", "tone"}
        for event in events:
            assert event["jobId"] == "live-job"
            assert event["contentType"] == by_id[event["id"]]["contentType"]
        assert other["jobId"] is None


async def test_job_updated_streams_until_the_final_status(live: LiveServer) -> None:
    slow = graph([node("wait", "control.Delay", seconds=3600)])
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        job = (await gql(http, RUN, {"input": {"graph": slow}}))["runWorkflow"]
        async with open_socket(live) as socket:
            await socket.subscribe("u", JOB_UPDATED, {"id": job["id"]})
            seen = [(await socket.next_data("u", "jobUpdated"))["status"]]
            while seen[-1] != "RUNNING":
                seen.append((await socket.next_data("u", "jobUpdated"))["status"])
            assert seen[0] in ("QUEUED", "RUNNING")
            cancelled = await gql(
                http, "mutation($id: ID!) { cancelJob(id: $id) { status } }", {"id": job["id"]}
            )
            assert cancelled["cancelJob"]["status"] == "CANCELLED"
            # A change published while the subscription reads the current state can arrive
            # twice; what matters is the order and that the stream ends after the final one.
            while seen[-1] != "CANCELLED":
                seen.append((await socket.next_data("u", "jobUpdated"))["status"])
            assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s][-2:] == [
                "RUNNING",
                "CANCELLED",
            ]
            assert (await socket.receive("u")) == {"id": "u", "type": "complete"}

        quick = graph([node("text", "input.Text", value="x")])
        done = (await gql(http, RUN, {"input": {"graph": quick}}))["runWorkflow"]
        deadline = time.monotonic() + 30
        while True:
            state = await gql(
                http, "query($id: ID!) { job(id: $id) { status } }", {"id": done["id"]}
            )
            if state["job"]["status"] in FINAL:
                break
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        # Subscribing after the end still gives the final state, then completes.
        async with open_socket(live) as socket:
            await socket.subscribe("late", JOB_UPDATED, {"id": done["id"]})
            assert (await socket.next_data("late", "jobUpdated"))["status"] == "COMPLETED"
            assert (await socket.receive("late")) == {"id": "late", "type": "complete"}


async def test_a_job_downloads_what_it_made(live: LiveServer) -> None:
    """The output url works outside the GraphQL client, as a browser would fetch it."""
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        source = await upload(http, png(10, 10, (200, 10, 10)), "red.png")
        workflow = graph(
            [
                node("photo", "input.Image", name="photo"),
                node("small", "image.Resize", width=5, height=5),
                node("out", "control.Output", name="small"),
            ],
            [edge("photo", "small", "image"), edge("small", "out", "value")],
        )
        job = (
            await gql(http, RUN, {"input": {"graph": workflow, "params": {"photo": source["id"]}}})
        )["runWorkflow"]
        deadline = time.monotonic() + 30
        while job["status"] not in FINAL:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
            job = (
                await gql(
                    http,
                    "query($id: ID!) { job(id: $id) { " + JOB_FIELDS + " } }",
                    {"id": job["id"]},
                )
            )["job"]
        assert job["status"] == "COMPLETED", job
        response = await http.get(job["outputs"]["small"]["url"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
