"""The whole production topology: two API processes and two `trove worker` processes on one
PostgreSQL database, blobs in SeaweedFS, jobs through the procrastinate queue."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.conftest import (
    ROOT,
    TEST_SECRET,
    LiveServer,
    create_postgres_database,
    drop_postgres_database,
)
from tests.test_execution_live import gql, open_socket, upload
from tests.test_execution_support import edge, graph, node
from tests.test_topology import CANCEL, RESUMABLE, RUN, wait_for_status

pytestmark = pytest.mark.slow
LEASE_SECONDS = 3


class Worker:
    """`trove worker` in a child process."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "worker", "--concurrency", "2"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while b"trove worker" not in log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trove worker did not start:\n{log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[Any]:
    workers: list[Worker] = []

    def start(env: dict[str, str]) -> Worker:
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
async def cluster(
    live_server_factory: Any, worker_factory: Any, seaweedfs: Any, s3_bucket: str, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, LiveServer, list[Worker], str]]:
    database_url = await create_postgres_database()
    env = {
        **seaweedfs.env,
        "TROVE_STORAGE_URL": f"s3://{s3_bucket}/trove",
        "TROVE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "TROVE_JOB_RUNNER": "queue",
    }
    servers: list[LiveServer] = []
    workers: list[Worker] = []
    try:
        for _ in range(2):
            servers.append(await asyncio.to_thread(live_server_factory, database_url, **env))
        worker_env = {
            **os.environ,
            **env,
            "TROVE_DATABASE_URL": database_url,
            "TROVE_DATA_DIR": str(tmp_path / "worker-data"),
            "TROVE_SECRET_KEY": TEST_SECRET,
        }
        for _ in range(2):
            workers.append(await asyncio.to_thread(worker_factory, worker_env))
        yield servers[0], servers[1], workers, database_url
    finally:
        # Everything that uses the database stops before it is dropped.
        for worker in workers:
            await asyncio.to_thread(worker.stop)
        for server in servers:
            await asyncio.to_thread(server.stop)
        await drop_postgres_database(database_url)


async def holder_pid(database_url: str, job_id: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        # A chosen id is stored under its owner ("<owner uuid>/<id>").
        holder = await connection.fetchval(
            "SELECT worker_id FROM jobs WHERE id = $1 OR id LIKE '%/' || $1", job_id
        )
    finally:
        await connection.close()
    return int(holder.rsplit(":", 2)[1])


async def test_two_api_processes_and_two_workers(
    cluster: tuple[LiveServer, LiveServer, list[Worker], str],
) -> None:
    a, b, workers, database_url = cluster
    worker_pids = {w.process.pid for w in workers}
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as on_b,
        open_socket(b) as socket,
    ):
        # A workflow started through A runs on a worker; its auto-saved assets reach a
        # subscriber on B and are listed by both.
        marker = await upload(on_a, b"marker", "marker.txt")
        await socket.subscribe("s", RESUMABLE, {"after": marker["id"], "jobId": "q-job"})
        workflow = graph(
            [
                node("create", "image.Create", width=16, height=16, color="#123456"),
                node("blur", "image.Blur", radius=1),
            ],
            [edge("create", "blur", "image")],
        )
        await gql(on_a, RUN, {"input": {"graph": workflow, "jobId": "q-job"}})
        streamed = {(await socket.next_data("s", "assetCreated"))["nodeId"] for _ in range(2)}
        assert streamed == {"create", "blur"}
        await wait_for_status(on_b, "q-job", {"COMPLETED"})
        assert await holder_pid(database_url, "q-job") in worker_pids
        query = '{ assets(jobId: "q-job") { nodes { nodeId url } } }'
        for http in (on_a, on_b):
            nodes = (await gql(http, query))["assets"]["nodes"]
            assert sorted(n["nodeId"] for n in nodes) == ["blur", "create"]
            image = await http.get(nodes[0]["url"])
            assert image.status_code == 200 and image.headers["content-type"] == "image/png"

        # cancelJob through B stops the job a worker runs (procrastinate's abort).
        slow = graph([node("wait", "control.Delay", seconds=3600)])
        started = (await gql(on_a, RUN, {"input": {"graph": slow}}))["runWorkflow"]
        await wait_for_status(on_b, started["id"], {"RUNNING"})
        assert await holder_pid(database_url, started["id"]) in worker_pids
        cancelled = (await gql(on_b, CANCEL, {"id": started["id"]}))["cancelJob"]
        assert (cancelled["status"], cancelled["error"]) == ("CANCELLED", None)

        # SIGKILL of the worker running a job fails that job within the lease; the assets
        # saved earlier are all still there.
        doomed = (await gql(on_a, RUN, {"input": {"graph": slow}}))["runWorkflow"]
        await wait_for_status(on_b, doomed["id"], {"RUNNING"})
        os.kill(await holder_pid(database_url, doomed["id"]), signal.SIGKILL)
        failed = await wait_for_status(on_b, doomed["id"], {"FAILED"}, seconds=LEASE_SECONDS * 4)
        assert "stopped" in failed["error"]

        # The other worker still takes new jobs; SIGKILL of API process A leaves B serving.
        await asyncio.to_thread(a.kill)
        quick = graph([node("wait", "control.Delay", seconds=0.1)])
        after = (await gql(on_b, RUN, {"input": {"graph": quick}}))["runWorkflow"]
        await wait_for_status(on_b, after["id"], {"COMPLETED"})
        nodes = (await gql(on_b, query))["assets"]["nodes"]
        assert len(nodes) == 2


def test_the_queue_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="TROVE_JOB_RUNNER=queue needs a PostgreSQL"):
        Settings(database_url="sqlite:///x.db", job_runner="queue")


def test_trove_worker_refuses_sqlite(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "worker"],
        cwd=ROOT,
        env={**os.environ, "TROVE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "postgres://" in result.stderr


async def test_a_worker_deletes_expired_assets_with_no_api_process_running(
    app_factory: Any, worker_factory: Any, tmp_path: Path
) -> None:
    database_url = await create_postgres_database()
    worker: Worker | None = None
    try:
        # The API process records the assets and stops before any of them expires.
        data_dir = tmp_path / "data"
        soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        async with app_factory(database_url) as trove:
            doomed = (await trove.upload(b"short-lived", filename="a.txt", expiresAt=soon))["data"][
                "createAsset"
            ]
            kept = (await trove.upload(b"kept", filename="b.txt"))["data"]["createAsset"]
        worker = await asyncio.to_thread(
            worker_factory,
            {
                **os.environ,
                "TROVE_DATABASE_URL": database_url,
                "TROVE_DATA_DIR": str(data_dir),
                "TROVE_SECRET_KEY": TEST_SECRET,
                "TROVE_RETENTION_INTERVAL_SECONDS": "0.2",
            },
        )
        connection = await asyncpg.connect(database_url)
        try:
            deadline = time.monotonic() + 30
            while await connection.fetchval(
                "SELECT count(*) FROM assets WHERE id = $1", uuid.UUID(doomed["id"])
            ):
                assert time.monotonic() < deadline, "the worker did not delete the expired asset"
                await asyncio.sleep(0.1)
            assert await connection.fetchval(
                "SELECT count(*) FROM assets WHERE id = $1", uuid.UUID(kept["id"])
            )
        finally:
            await connection.close()
        # Through the normal delete path: the bytes went with their last asset.
        digest = doomed["sha256"]
        assert not list(data_dir.rglob(digest))
    finally:
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        await drop_postgres_database(database_url)


async def job_row(database_url: str, job_id: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT status, attempts, retries, worker_id, error FROM jobs WHERE id = $1", job_id
        )
    finally:
        await connection.close()
    assert row is not None
    return dict(row)


async def test_a_run_with_retries_goes_back_to_the_queue_when_its_worker_dies(
    cluster: tuple[LiveServer, LiveServer, list[Worker], str],
) -> None:
    """`retries: 1`: SIGKILL of the worker running the job puts it back on the procrastinate
    queue and the other worker runs it to the end. The API processes are stopped first, so
    the surviving worker is the one that notices the loss and requeues it (the stale task
    of the dead worker must not keep the job's queue lock)."""
    a, b, workers, database_url = cluster
    worker_pids = {w.process.pid for w in workers}
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as on_a:
        slow = graph([node("wait", "control.Delay", seconds=3)])
        started = (await gql(on_a, RUN, {"input": {"graph": slow, "retries": 1}}))["runWorkflow"]
        await wait_for_status(on_a, started["id"], {"RUNNING"})
    job_id = started["id"]
    first = await holder_pid(database_url, job_id)
    assert first in worker_pids
    for server in (a, b):
        await asyncio.to_thread(server.stop)

    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + LEASE_SECONDS * 4 + 20
    while (row := await job_row(database_url, job_id))["status"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline, row
        await asyncio.sleep(0.2)
    assert (row["status"], row["attempts"], row["retries"], row["error"]) == (
        "COMPLETED",
        2,
        1,
        None,
    ), row
    second = await holder_pid(database_url, job_id)
    assert second in worker_pids - {first}
