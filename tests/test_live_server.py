"""Against `trove serve` running as its own process: real sockets, real clients, real crashes."""

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, FileVar, GraphQLRequest, gql
from gql.transport.httpx import HTTPXAsyncTransport

from tests.conftest import create_postgres_database, drop_postgres_database

UPLOAD = gql(
    """
    mutation($input: CreateAssetInput!) {
      createAsset(input: $input) { id name contentType size nodeId jobId workflowId }
    }
    """
)


async def test_gql_client_uploads_and_queries(live_server_factory: Any, tmp_path: Path) -> None:
    server = live_server_factory()
    source = tmp_path / "render.txt"
    source.write_bytes(b"made by node 7\n" * 1000)
    transport = HTTPXAsyncTransport(
        url=server.url + "/graphql", headers={"Apollo-Require-Preflight": "true"}
    )
    async with Client(transport=transport) as session:
        with source.open("rb") as handle:
            request = GraphQLRequest(
                UPLOAD,
                variable_values={
                    "input": {
                        "file": FileVar(handle, filename="render.txt", content_type="text/plain"),
                        "nodeId": "node-7",
                        "jobId": "job-1",
                        "workflowId": "wf-1",
                    }
                },
            )
            result = await session.execute(request, upload_files=True)
        asset = result["createAsset"]
        assert asset["size"] == source.stat().st_size
        assert (asset["name"], asset["contentType"], asset["nodeId"]) == (
            "render.txt",
            "text/plain",
            "node-7",
        )
        found = await session.execute(gql('{ assets(jobId: "job-1") { nodes { id } } }'))
        assert found["assets"]["nodes"] == [{"id": asset["id"]}]


def multipart_body(size: int, boundary: str, chunk: int = 1 << 20) -> Iterator[bytes]:
    operations = (
        '{"query": "mutation($f: Upload!) { createAsset(input: {file: $f, jobId: \\"crash\\"}) { id } }",'
        ' "variables": {"f": null}}'
    )
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.f"]}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = os.urandom(chunk)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


def blobs_and_leftovers(data_dir: Path) -> tuple[list[Path], list[Path]]:
    root = data_dir / "blobs"
    files = [p for p in root.rglob("*") if p.is_file()]
    leftovers = [p for p in files if ".staging" in p.parts or ".trash" in p.parts]
    return [p for p in files if p not in leftovers], leftovers


@pytest.mark.slow
def test_sigkill_mid_upload_leaves_no_row_and_no_blob(live_server_factory: Any) -> None:
    server = live_server_factory()
    staging = server.data_dir / "blobs" / ".staging"
    boundary = uuid.uuid4().hex
    seen_partial = threading.Event()

    def kill_when_staging_starts() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(staging.glob("*.part")):
                seen_partial.set()
                server.kill()
                return
            time.sleep(0.001)

    watcher = threading.Thread(target=kill_when_staging_starts)
    watcher.start()
    with pytest.raises(httpx.HTTPError):
        httpx.post(
            server.url + "/graphql",
            content=multipart_body(512 << 20, boundary),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Apollo-Require-Preflight": "1",
            },
            timeout=120,
        )
    watcher.join()
    assert seen_partial.is_set(), "the upload never reached the staging area"
    _, leftovers = blobs_and_leftovers(server.data_dir)
    assert leftovers, "the kill should have left a partial file to recover"

    server.start()
    body = httpx.post(server.url + "/graphql", json={"query": "{ assets { totalCount } }"}).json()
    assert body["data"]["assets"]["totalCount"] == 0
    blobs, leftovers = blobs_and_leftovers(server.data_dir)
    assert blobs == [] and leftovers == []


def test_sigkill_while_receiving_the_body(live_server_factory: Any) -> None:
    server = live_server_factory()
    boundary = uuid.uuid4().hex

    def slow_body() -> Iterator[bytes]:
        for index, piece in enumerate(multipart_body(64 << 20, boundary, chunk=1 << 16)):
            if index == 50:
                server.kill()
            yield piece

    with pytest.raises(httpx.HTTPError):
        httpx.post(
            server.url + "/graphql",
            content=slow_body(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Apollo-Require-Preflight": "1",
            },
            timeout=60,
        )
    server.start()
    body = httpx.post(server.url + "/graphql", json={"query": "{ assets { totalCount } }"}).json()
    assert body["data"]["assets"]["totalCount"] == 0
    assert blobs_and_leftovers(server.data_dir) == ([], [])


async def _upload_many(urls: list[str], count: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=120) as http:

        async def one(index: int) -> dict[str, Any]:
            url = urls[index % len(urls)]
            response = await http.post(
                url + "/graphql",
                data={
                    "operations": '{"query": "mutation($f: Upload!) { createAsset(input: {file: $f, jobId: \\"burst\\"}) { id size } }", "variables": {"f": null}}',
                    "map": '{"0": ["variables.f"]}',
                },
                files={"0": (f"file-{index}.bin", os.urandom(50_000 + index))},
                headers={"Apollo-Require-Preflight": "1"},
            )
            return dict(response.json())

        return await asyncio.gather(*(one(i) for i in range(count)))


async def test_concurrent_uploads_from_two_processes_on_sqlite(live_server_factory: Any) -> None:
    first = live_server_factory()
    second = live_server_factory()  # same data dir and SQLite file, another process
    results = await _upload_many([first.url, second.url], 60)
    errors = [r["errors"] for r in results if "errors" in r]
    assert errors == []
    async with httpx.AsyncClient() as http:
        body = (
            await http.post(
                first.url + "/graphql", json={"query": '{ assets(jobId: "burst") { totalCount } }'}
            )
        ).json()
    assert body["data"]["assets"]["totalCount"] == 60


async def test_concurrent_uploads_on_postgres(live_server_factory: Any) -> None:
    url = await create_postgres_database()
    try:
        first = live_server_factory(url)
        second = live_server_factory(url)
        results = await _upload_many([first.url, second.url], 60)
        assert [r["errors"] for r in results if "errors" in r] == []
        first.stop()
        second.stop()
    finally:
        await drop_postgres_database(url)


def test_jobs_running_when_the_server_is_killed_are_failed_on_restart(
    live_server_factory: Any,
) -> None:
    server = live_server_factory()
    graph = {
        "nodes": [{"id": "wait", "type": "control.Delay", "data": {"seconds": 3600}}],
        "edges": [],
    }
    started = httpx.post(
        server.url + "/graphql",
        json={
            "query": "mutation($g: JSON) { runWorkflow(input: {graph: $g}) { id } }",
            "variables": {"g": graph},
        },
    ).json()["data"]["runWorkflow"]
    query = {
        "query": "query($id: ID!) { job(id: $id) { status error } }",
        "variables": {"id": started["id"]},
    }
    deadline = time.monotonic() + 30
    while (
        httpx.post(server.url + "/graphql", json=query).json()["data"]["job"]["status"] != "RUNNING"
    ):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    server.kill()
    server.start()
    job = httpx.post(server.url + "/graphql", json=query).json()["data"]["job"]
    assert job["status"] == "FAILED"
    assert "stopped" in job["error"]
