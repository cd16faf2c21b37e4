"""Resource limits: slow clients (headers and bodies), connections, concurrent uploads and
workflow graph sizes. Timing behaviour runs against `trove serve` over real sockets."""

import asyncio
import json
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TroveClient

CREATE_WORKFLOW = 'mutation($g: JSON!) { createWorkflow(input: {name: "w", graph: $g}) { id } }'
RUN_INLINE = "mutation($g: JSON!) { runWorkflow(input: {graph: $g}) { id } }"


def output_nodes(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"n{i}", "type": "control.Output", "data": {"name": f"o{i}"}} for i in range(count)
    ]


def codes(body: dict[str, Any]) -> set[str]:
    return {error["extensions"]["code"] for error in body.get("errors", [])}


# Graph sizes ------------------------------------------------------------------------------


async def test_graph_node_edge_and_byte_limits(app_factory: Any, database_url: str) -> None:
    async with app_factory(
        database_url, max_graph_nodes=5, max_graph_edges=3, max_graph_bytes=2000
    ) as client:
        fits = {"nodes": output_nodes(5), "edges": []}
        assert "errors" not in await client.graphql(CREATE_WORKFLOW, {"g": fits})
        too_many_nodes = {"nodes": output_nodes(6), "edges": []}
        edges = [{"source": "n0", "target": "n1", "targetHandle": "value"}] * 4
        too_many_edges = {"nodes": output_nodes(2), "edges": edges}
        too_big = {"nodes": output_nodes(1), "edges": [], "notes": "x" * 2000}
        for graph, words in (
            (too_many_nodes, "6 nodes; the limit is 5"),
            (too_many_edges, "4 edges; the limit is 3"),
            (too_big, "the limit is 2000"),
        ):
            for query in (CREATE_WORKFLOW, RUN_INLINE):
                body = await client.graphql(query, {"g": graph})
                assert codes(body) == {"BAD_USER_INPUT"}, body
                assert words in body["errors"][0]["message"]


async def test_default_graph_limit_refuses_a_huge_graph(sqlite_client: TroveClient) -> None:
    graph = {"nodes": output_nodes(1), "edges": [], "blob": "x" * (2 << 20)}
    body = await sqlite_client.graphql(CREATE_WORKFLOW, {"g": graph})
    assert codes(body) == {"BAD_USER_INPUT"}, body
    assert "bytes" in body["errors"][0]["message"]


# Concurrent uploads -----------------------------------------------------------------------


async def test_uploads_past_the_limit_answer_503(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(sqlite_url, max_concurrent_uploads=1) as client:
        release = asyncio.Event()
        boundary = uuid.uuid4().hex

        async def slow_body() -> Any:
            operations = json.dumps(
                {
                    "query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }",
                    "variables": {"f": None},
                }
            )
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.f"]}}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.bin"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode() + b"first half "
            await release.wait()
            yield f"second half\r\n--{boundary}--\r\n".encode()

        first = asyncio.create_task(
            client.http.post(
                "/graphql",
                content=slow_body(),
                headers={
                    "content-type": f"multipart/form-data; boundary={boundary}",
                    "Apollo-Require-Preflight": "1",
                },
            )
        )
        staging = client.app.state.settings.storage_dir / ".staging"
        for _ in range(200):
            if any(staging.iterdir()):
                break
            await asyncio.sleep(0.01)
        second = await client.upload(b"meanwhile", filename="b.txt")
        assert codes(second) == {"SERVICE_UNAVAILABLE"}, second
        assert "in progress" in second["errors"][0]["message"]
        release.set()
        done = (await first).json()
        assert "errors" not in done, done
        # The slot is free again.
        third = await client.upload(b"afterwards", filename="c.txt")
        assert "errors" not in third, third


# Slow clients, over real sockets ----------------------------------------------------------


def open_socket(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def read_all(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


@pytest.mark.slow
def test_headers_that_trickle_are_cut_off(live_server_factory: Any) -> None:
    server = live_server_factory(TROVE_HEADER_TIMEOUT="1")
    sock = open_socket(server.url)
    started = time.monotonic()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    for _ in range(3):
        time.sleep(0.3)
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            break
    answer = read_all(sock, timeout=5)
    elapsed = time.monotonic() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert elapsed < 4
    # An idle connection that never sends anything is cut off too.
    idle = open_socket(server.url)
    assert read_all(idle, timeout=5).startswith(b"HTTP/1.1 408")
    idle.close()
    # Keep-alive: the second request's headers have the same deadline.
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/healthz").status_code == 200


@pytest.mark.slow
def test_stalled_upload_bodies_release_their_staging_files(live_server_factory: Any) -> None:
    """The slowloris of the report: many uploads trickle in and stop. Each gets 408 after
    the body timeout and its staging file goes; the server answers others meanwhile."""
    server = live_server_factory(TROVE_BODY_TIMEOUT="1", TROVE_HEADER_TIMEOUT="5")
    staging = server.data_dir / "blobs" / ".staging"
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        '{"query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }", "variables": {"f": null}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.f"]}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="slow.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"x" * 1000
    request = (
        f"POST /graphql HTTP/1.1\r\nHost: x\r\nApollo-Require-Preflight: 1\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 100_000}\r\n\r\n"
    ).encode() + head
    sockets = []
    for _ in range(40):
        sock = open_socket(server.url)
        sock.sendall(request)
        sockets.append(sock)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(staging.iterdir()):
        time.sleep(0.05)
    assert any(staging.iterdir()), "the uploads never reached the staging area"
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    answers = [read_all(sock, timeout=6) for sock in sockets]
    for sock in sockets:
        sock.close()
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers[:3]
    assert b"REQUEST_TIMEOUT" in answers[0]
    assert list(staging.iterdir()) == []


@pytest.mark.slow
def test_connections_past_the_limit_answer_503(live_server_factory: Any) -> None:
    server = live_server_factory(TROVE_MAX_CONNECTIONS="4", TROVE_HEADER_TIMEOUT="2")
    held = [open_socket(server.url) for _ in range(4)]
    time.sleep(0.3)
    refused = httpx.get(server.url + "/healthz", timeout=5)
    assert refused.status_code == 503
    for sock in held:
        sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if httpx.get(server.url + "/healthz", timeout=5).status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the server did not take requests again after the connections closed")


@pytest.mark.slow
def test_slow_download_is_not_cut_off_by_the_body_timeout(
    live_server_factory: Any, tmp_path: Path
) -> None:
    """The body timeout covers the request body only; a long response is not a stall."""
    server = live_server_factory(TROVE_BODY_TIMEOUT="1")
    content = b"y" * (8 << 20)
    operations = {
        "query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { url } }",
        "variables": {"f": None},
    }
    created = httpx.post(
        server.url + "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("big.bin", content, "application/octet-stream")},
        headers={"Apollo-Require-Preflight": "1"},
    ).json()
    url = created["data"]["createAsset"]["url"]
    received = 0
    with httpx.stream("GET", url, timeout=10) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes(1 << 20):
            received += len(chunk)
            time.sleep(0.3)
    assert received == len(content)


# Job ids are scoped per user ---------------------------------------------------------------

RUN_WITH_ID = (
    "mutation($g: JSON, $j: String) { runWorkflow(input: {graph: $g, jobId: $j}) { id status } }"
)
WAIT_JOB = "query($id: ID!) { job(id: $id) { id status outputs } node(id: $id) { id } }"
OUTPUT_GRAPH = {
    "nodes": [{"id": "out", "type": "control.Output", "data": {"name": "answer", "value": 42}}]
}


async def finished_job(client: TroveClient, job_id: str, headers: dict[str, str]) -> Any:
    for _ in range(300):
        data = await client.data(WAIT_JOB, {"id": job_id}, headers=headers)
        if data["job"] and data["job"]["status"] not in ("QUEUED", "RUNNING"):
            return data
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish")


async def test_job_ids_are_scoped_per_user(app_factory: Any, database_url: str) -> None:
    """A chosen jobId neither reveals nor blocks another user's job with the same id."""
    from tests.test_auth import bearer, token_for

    async with app_factory(database_url, auth="token") as client:
        alice, bob = bearer(await token_for("alice")), bearer(await token_for("bob"))
        variables = {"g": OUTPUT_GRAPH, "j": "nightly-render"}
        first = await client.data(RUN_WITH_ID, variables, headers=alice)
        assert first["runWorkflow"]["id"] == "nightly-render"
        # Bob's job with the same id: no CONFLICT (which would reveal Alice's), his own job.
        second = await client.data(RUN_WITH_ID, variables, headers=bob)
        assert second["runWorkflow"]["id"] == "nightly-render"
        alices = await finished_job(client, "nightly-render", alice)
        bobs = await finished_job(client, "nightly-render", bob)
        assert alices["job"]["status"] == bobs["job"]["status"] == "COMPLETED"
        assert alices["node"] == {"id": "nightly-render"}
        # Each sees one job, their own.
        for headers in (alice, bob):
            listed = await client.data("{ jobs { totalCount nodes { id } } }", headers=headers)
            assert listed["jobs"] == {"totalCount": 1, "nodes": [{"id": "nightly-render"}]}
        # A second run with the same id by the same user is still refused.
        again = await client.graphql(RUN_WITH_ID, variables, headers=alice)
        assert codes(again) == {"CONFLICT"}, again
        # Cancelling Bob's job id as Alice touches only Alice's job.
        cancel = "mutation($id: ID!) { cancelJob(id: $id) { id status } }"
        cancelled = await client.data(cancel, {"id": "nightly-render"}, headers=alice)
        assert cancelled["cancelJob"] == {"id": "nightly-render", "status": "COMPLETED"}


async def test_chosen_job_ids_tag_auto_saved_assets(sqlite_client: TroveClient) -> None:
    graph = {
        "nodes": [
            {"id": "text", "type": "text.ToDocument", "data": {"text": "hello"}},
        ]
    }
    started = await sqlite_client.data(RUN_WITH_ID, {"g": graph, "j": "doc-job"})
    assert started["runWorkflow"]["id"] == "doc-job"
    done = await finished_job(sqlite_client, "doc-job", {})
    assert done["job"]["status"] == "COMPLETED", done
    assets = await sqlite_client.data('{ assets(jobId: "doc-job") { nodes { jobId job { id } } } }')
    assert assets["assets"]["nodes"] == [{"jobId": "doc-job", "job": {"id": "doc-job"}}]


async def test_chosen_job_id_length(sqlite_client: TroveClient) -> None:
    fits = await sqlite_client.graphql(RUN_WITH_ID, {"g": OUTPUT_GRAPH, "j": "j" * 218})
    assert "errors" not in fits, fits
    assert fits["data"]["runWorkflow"]["id"] == "j" * 218
    too_long = await sqlite_client.graphql(RUN_WITH_ID, {"g": OUTPUT_GRAPH, "j": "j" * 219})
    assert codes(too_long) == {"BAD_USER_INPUT"}
    assert "218" in too_long["errors"][0]["message"]
