"""Jobs on a queue (TROVE_JOB_RUNNER=queue): procrastinate on the PostgreSQL database.

API processes defer a `trove.run_job` task for each job; `trove worker` processes take them
and run them with the same `Executor` the embedded default uses in-process. cancelJob asks
procrastinate to abort the task, which reaches the worker as asyncio cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import procrastinate
import psycopg
from procrastinate.job_context import AbortReason, JobContext
from procrastinate.schema import SchemaManager

from execution.executor import Executor
from execution.graph import parse_graph
from execution.registry import NodeRegistry
from models import Job, JobStatus, User
from models.job import FINAL_JOB_STATUSES
from services.events import job_topic
from services.jobs import NodeTypeInfo
from services.runtime import Services

logger = logging.getLogger(__name__)

TASK_NAME = "trove.run_job"
QUEUE_NAME = "trove-jobs"
# How long cancelJob waits for the worker to confirm an abort.
ABORT_WAIT_SECONDS = 10.0
_SCHEMA_LOCK = 0x7472_6F76  # "trov": one process at a time installs the queue's tables


def queue_dsn(database_url: str) -> str:
    """A libpq connection string for a Tortoise database URL (its pool options dropped)."""
    return urlunsplit(urlsplit(database_url)._replace(scheme="postgresql", query=""))


# The executor of this worker process, set by `run_worker` before any task runs.
_worker_executor: Executor | None = None


async def _run_job(context: JobContext, job_id: str) -> None:
    executor = _worker_executor
    assert executor is not None, "trove.run_job runs only in `trove worker`"
    job = await Job.filter(id=job_id).first()
    if job is None or job.status in FINAL_JOB_STATUSES:
        return  # Cancelled (or deleted) while it waited in the queue.
    owner = await User.get(id=job.owner_id)
    executor.start(job, owner)
    try:
        await executor.wait(job_id)
    except asyncio.CancelledError:
        if context.abort_reason() == AbortReason.SHUTDOWN:
            executor.stopping = True
        await asyncio.shield(executor.cancel(job_id))
        raise


def make_queue(database_url: str) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=queue_dsn(database_url))
    )
    app.task(name=TASK_NAME, queue=QUEUE_NAME, pass_context=True)(_run_job)
    return app


async def ensure_queue_schema(database_url: str) -> bool:
    """Install procrastinate's tables once; True when this call installed them."""
    async with await psycopg.AsyncConnection.connect(
        queue_dsn(database_url), autocommit=True
    ) as connection:
        await connection.execute("SELECT pg_advisory_lock(%s)", [_SCHEMA_LOCK])
        try:
            cursor = await connection.execute("SELECT to_regclass('procrastinate_jobs')")
            row = await cursor.fetchone()
            if row is not None and row[0] is not None:
                return False
            await connection.execute(SchemaManager.get_schema())
            return True
        finally:
            await connection.execute("SELECT pg_advisory_unlock(%s)", [_SCHEMA_LOCK])


class QueueExecutor:
    """The API side: validate, queue, and cancel jobs that workers run."""

    def __init__(
        self,
        *,
        services: Callable[[], Services],
        database_url: str,
        registry: NodeRegistry | None = None,
    ) -> None:
        # A provider, as for Executor: the services are built around this object.
        self._services = services
        self.database_url = database_url
        self.queue = make_queue(database_url)
        self.registry = registry if registry is not None else NodeRegistry.discover()
        self._deferring: set[asyncio.Task[None]] = set()
        self._open = False

    @property
    def services(self) -> Services:
        return self._services()

    async def open(self) -> None:
        """Install the queue's tables if needed and connect (once, at start-up)."""
        await ensure_queue_schema(self.database_url)
        await self.queue.open_async()
        self._open = True

    def validate(self, graph: dict[str, Any]) -> None:
        parse_graph(graph, self.registry)

    def start(self, job: Job, owner: User) -> None:
        task = asyncio.get_running_loop().create_task(self._defer(job), name=f"queue {job.id}")
        self._deferring.add(task)
        task.add_done_callback(self._deferring.discard)

    async def _defer(self, job: Job) -> None:
        try:
            if job.attempts > 1:
                await self._release_lost_runs(job.id)
            await self.queue.configure_task(TASK_NAME, lock=job.id, queue=QUEUE_NAME).defer_async(
                job_id=job.id
            )
        except Exception as error:
            logger.exception("job %s could not be queued", job.id)
            await self.services.jobs.finish(
                job, JobStatus.FAILED, error=f"The job could not be queued: {error}"
            )

    async def _release_lost_runs(self, job_id: str) -> None:
        """A run whose worker was lost stays `doing` in procrastinate, holding the job's
        lock: without this the next run of the same job would never be fetched."""
        manager = self.queue.job_manager
        for entry in await manager.list_jobs_async(lock=job_id, status="doing"):
            assert entry.id is not None
            await manager.finish_job_by_id_async(
                entry.id, status=procrastinate.jobs.Status.FAILED, delete_job=False
            )

    def running_ids(self) -> list[str]:
        return []  # Workers run the jobs; they send the heartbeats.

    async def cancel(self, job_id: str) -> bool:
        """Take a waiting job off the queue, or have its worker abort it."""
        await asyncio.gather(*self._deferring, return_exceptions=True)
        manager = self.queue.job_manager
        queued = list(await manager.list_jobs_async(lock=job_id))
        for entry in queued:
            assert entry.id is not None
            if entry.status == "todo" and await manager.cancel_job_by_id_async(entry.id):
                job = await Job.get(id=job_id)
                if job.status not in FINAL_JOB_STATUSES:
                    await self.services.jobs.finish(job, JobStatus.CANCELLED)
                return True
        running = [e for e in queued if e.status == "doing"]
        if not running:
            return False
        async with self.services.broker.subscribe(job_topic(job_id)) as updates:
            for entry in running:
                assert entry.id is not None
                await manager.cancel_job_by_id_async(entry.id, abort=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ABORT_WAIT_SECONDS):
                    if (await Job.get(id=job_id)).status in FINAL_JOB_STATUSES:
                        return True
                    async for event in updates:
                        if event.payload.get("status") in FINAL_JOB_STATUSES:
                            return True
        return False

    def node_types(self) -> list[NodeTypeInfo]:
        return self.registry.infos()

    async def shutdown(self) -> None:
        await asyncio.gather(*self._deferring, return_exceptions=True)
        if self._open:
            await self.queue.close_async()
            self._open = False


async def run_worker(
    *, executor: Executor, queue: procrastinate.App, concurrency: int, name: str
) -> None:
    """Run queued jobs until SIGINT/SIGTERM (running jobs then fail as interrupted)."""
    global _worker_executor
    _worker_executor = executor
    try:
        async with queue.open_async():
            await queue.run_worker_async(
                queues=[QUEUE_NAME],
                concurrency=concurrency,
                name=name,
                # On SIGTERM running jobs are aborted (after this grace) and recorded failed.
                shutdown_graceful_timeout=5,
            )
    finally:
        _worker_executor = None
