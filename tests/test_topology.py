"""The production topology, for real: two `trove serve` processes on one PostgreSQL database
and one S3 bucket (SeaweedFS). What one process does, the other lists, serves and streams
to its subscribers; jobs belong to the process that holds them until it dies."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.settings import Settings
from tests.conftest import (
    ROOT,
    LiveServer,
    create_postgres_database,
    drop_postgres_database,
)
from tests.test_direct_uploads import COMPLETE as COMPLETE_UPLOAD
from tests.test_direct_uploads import CREATE as CREATE_UPLOAD
from tests.test_execution_live import gql, open_socket, upload
from tests.test_execution_support import edge, graph, node

pytestmark = pytest.mark.slow

RUN = "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id status } }"
JOB = "query($id: ID!) { job(id: $id) { id status error } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status error } }"
RESUMABLE = """subscription($after: ID, $jobId: String) {
  assetCreated(after: $after, jobId: $jobId) { id name nodeId jobId }
}"""
LEASE_SECONDS = 3


@pytest.fixture
async def topology(
    live_server_factory: Any, seaweedfs: Any, s3_bucket: str
) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    database_url = await create_postgres_database()
    env = {
        **seaweedfs.env,
        "TROVE_STORAGE_URL": f"s3://{s3_bucket}/trove",
        "TROVE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    servers: list[LiveServer] = []
    try:
        for _ in range(2):
            servers.append(await asyncio.to_thread(live_server_factory, database_url, **env))
        yield servers[0], servers[1]
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)
        await drop_postgres_database(database_url)


async def wait_for_status(
    http: httpx.AsyncClient, job_id: str, wanted: set[str], seconds: float = 30
) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        while True:
            job: dict[str, Any] = (await gql(http, JOB, {"id": job_id}))["job"]
            if job["status"] in wanted:
                return job
            await asyncio.sleep(0.1)


async def test_an_upload_through_a_is_listed_served_and_streamed_once_by_b(
    topology: tuple[LiveServer, LiveServer],
) -> None:
    a, b = topology
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as on_b,
        open_socket(b) as socket,
    ):
        # Resuming after a marker makes the subscription race-free: whatever is created
        # after the marker arrives, whether before or after the subscription is live.
        marker = await upload(on_a, b"marker", "marker.txt")
        await socket.subscribe("s", RESUMABLE, {"after": marker["id"]})
        created = await upload(on_a, b"made on A" * 1000, "a.bin", nodeId="n1")
        first = await socket.next_data("s", "assetCreated")
        assert first["id"] == created["id"]
        # Exactly once: nothing else arrives for this one asset.
        with pytest.raises((TimeoutError, AssertionError)):
            await socket.receive("s", seconds=1.5)

        listed = await gql(on_b, '{ assets(nodeId: "n1") { nodes { id url } } }')
        assert [n["id"] for n in listed["assets"]["nodes"]] == [created["id"]]
        content = await on_b.get(listed["assets"]["nodes"][0]["url"])
        assert content.status_code == 200 and content.content == b"made on A" * 1000

        # A direct upload created through A, its part sent to the bucket, completed via B.
        body = b"sent straight to the bucket"
        started = (
            await gql(on_a, CREATE_UPLOAD, {"input": {"name": "direct.txt", "size": len(body)}})
        )["createUpload"]
        async with httpx.AsyncClient(timeout=30) as bucket:
            put = await bucket.put(started["parts"][0]["url"], content=body)
        assert put.status_code == 200
        parts = [{"partNumber": 1, "etag": put.headers["etag"]}]
        done = (await gql(on_b, COMPLETE_UPLOAD, {"id": started["id"], "parts": parts}))[
            "completeUpload"
        ]
        assert (await socket.next_data("s", "assetCreated"))["id"] == done["id"]
        assert (await on_a.get(done["url"])).content == body


async def test_jobs_belong_to_the_process_that_runs_them(
    topology: tuple[LiveServer, LiveServer],
) -> None:
    a, b = topology
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as on_b,
        open_socket(b) as socket,
    ):
        # A workflow started on A auto-saves; B's subscriber hears of it, both list it.
        marker = await upload(on_a, b"marker", "marker.txt")
        await socket.subscribe("s", RESUMABLE, {"after": marker["id"], "jobId": "topo-job"})
        workflow = graph(
            [
                node("create", "image.Create", width=16, height=16, color="#123456"),
                node("blur", "image.Blur", radius=1),
            ],
            [edge("create", "blur", "image")],
        )
        await gql(on_a, RUN, {"input": {"graph": workflow, "jobId": "topo-job"}})
        streamed = {(await socket.next_data("s", "assetCreated"))["nodeId"] for _ in range(2)}
        assert streamed == {"create", "blur"}
        await wait_for_status(on_a, "topo-job", {"COMPLETED"})
        query = '{ assets(jobId: "topo-job") { nodes { nodeId } } }'
        for http in (on_a, on_b):
            nodes = (await gql(http, query))["assets"]["nodes"]
            assert sorted(n["nodeId"] for n in nodes) == ["blur", "create"]

        # cancelJob through B stops the job A is running.
        slow = graph([node("wait", "control.Delay", seconds=3600)])
        started = (await gql(on_a, RUN, {"input": {"graph": slow}}))["runWorkflow"]
        await wait_for_status(on_a, started["id"], {"RUNNING"})
        cancelled = (await gql(on_b, CANCEL, {"id": started["id"]}))["cancelJob"]
        # No error: A itself confirmed it stopped the job (B did not just mark the row).
        assert (cancelled["status"], cancelled["error"]) == ("CANCELLED", None)

        # B restarting leaves alone the job A still runs, beyond the lease.
        held = (await gql(on_a, RUN, {"input": {"graph": slow}}))["runWorkflow"]
        await wait_for_status(on_a, held["id"], {"RUNNING"})
        await asyncio.to_thread(b.stop)
        await asyncio.to_thread(b.start)
        await asyncio.sleep(LEASE_SECONDS * 1.5)
        assert (await gql(on_b, JOB, {"id": held["id"]}))["job"]["status"] == "RUNNING"

        # SIGKILL of A: B keeps serving, and fails A's job within the lease.
        await asyncio.to_thread(a.kill)
        failed = await wait_for_status(on_b, held["id"], {"FAILED"}, seconds=LEASE_SECONDS * 3)
        assert "stopped" in failed["error"]
        nodes = (await gql(on_b, query))["assets"]["nodes"]
        assert len(nodes) == 2
        assert (await on_b.get("/healthz")).json() == {"status": "ok"}


def _workers(pid: int) -> list[int]:
    """The uvicorn worker processes under a `trove serve --workers N` process."""
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        children = [int(p) for p in handle.read().split()]
    workers = []
    for child in children:
        with open(f"/proc/{child}/cmdline", "rb") as handle:
            if b"resource_tracker" not in handle.read():
                workers.append(child)
    return workers


async def test_serve_with_several_workers_shares_one_port_and_survives_a_killed_worker(
    live_server_factory: Any,
) -> None:
    database_url = await create_postgres_database()
    server: LiveServer | None = None
    try:
        live: LiveServer = await asyncio.to_thread(
            live_server_factory, database_url, TROVE_WORKERS="2", TROVE_DB_POOL_SIZE="3"
        )
        server = live
        assert live.process is not None
        workers: list[int] = []
        for _ in range(300):
            workers = _workers(live.process.pid)
            if len(workers) >= 2:
                break
            await asyncio.sleep(0.1)
        assert len(workers) == 2, workers
        async with (
            httpx.AsyncClient(base_url=live.url, timeout=30) as http,
            open_socket(live) as socket,
        ):
            marker = await upload(http, b"marker", "marker.txt")
            await socket.subscribe("s", RESUMABLE, {"after": marker["id"]})
            # Several uploads: whichever worker takes each, the subscriber hears of all.
            made = [(await upload(http, bytes([i]) * 10, f"{i}.bin"))["id"] for i in range(6)]
            heard = [(await socket.next_data("s", "assetCreated"))["id"] for _ in made]
            assert heard == made
        os.kill(workers[0], signal.SIGKILL)
        # Connections the killed worker held are gone; new ones reach the other worker.
        for _ in range(20):
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as fresh:
                assert (await fresh.get("/healthz")).status_code == 200
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
        await drop_postgres_database(database_url)


def test_the_pool_size_bounds_each_process() -> None:
    settings = Settings(database_url="postgres://u@h/db", db_pool_size=3)
    assert settings.resolved_database_url == "postgres://u@h/db?maxsize=3"
    explicit = Settings(database_url="postgres://u@h/db?maxsize=7", db_pool_size=3)
    assert explicit.resolved_database_url == "postgres://u@h/db?maxsize=7"


def test_several_workers_without_a_shared_broker_are_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--workers", "2"],
        cwd=ROOT,
        env={**os.environ, "TROVE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TROVE_BROKER_URL=redis://" in result.stderr
