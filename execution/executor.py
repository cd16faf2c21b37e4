"""Runs jobs as background tasks of the server process.

It talks to the services only (jobs for state changes, assets for content, the broker for
progress), so a separate worker process could host it unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from execution.context import ProcessingContext
from execution.graph import Graph, parse_graph
from execution.registry import NodeRegistry
from execution.runner import DEFAULT_MAX_PARALLEL_NODES, JobFailed, WorkflowRunner
from models import Job, JobStatus, User
from services.jobs import NodeTypeInfo
from services.runtime import Services

logger = logging.getLogger(__name__)

SERVER_STOPPED = "The server stopped while this job was running"
SHUTDOWN_GRACE_SECONDS = 10.0


@dataclass
class _Running:
    job: Job
    task: asyncio.Task[None] | None = None
    # Set once the final state is being written: cancelling then would only lose it.
    finishing: bool = False


class Executor:
    def __init__(
        self,
        *,
        services: Callable[[], Services],
        registry: NodeRegistry | None = None,
        max_parallel_nodes: int = DEFAULT_MAX_PARALLEL_NODES,
    ) -> None:
        # A provider, not the object: the executor is injected into JobService while the
        # services it will run jobs with are being built (server/app.py build_services).
        self._services = services
        self.registry = registry if registry is not None else NodeRegistry.discover()
        self.max_parallel_nodes = max_parallel_nodes
        self._running: dict[str, _Running] = {}
        self._stopping = False

    @property
    def services(self) -> Services:
        return self._services()

    def validate(self, graph: dict[str, Any]) -> None:
        parse_graph(graph, self.registry)

    def start(self, job: Job, owner: User) -> None:
        running = _Running(job=job)
        self._running[job.id] = running
        running.task = asyncio.get_running_loop().create_task(
            self._run(running, owner), name=f"job {job.id}"
        )
        running.task.add_done_callback(lambda task: self._forget(job.id, task))

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        self._running.pop(job_id, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("job %s could not record its result", job_id, exc_info=task.exception())

    @property
    def stopping(self) -> bool:
        """Set when the process is going away: interrupted jobs then fail instead of
        counting as cancelled."""
        return self._stopping

    @stopping.setter
    def stopping(self, value: bool) -> None:
        self._stopping = value

    def running_ids(self) -> list[str]:
        return list(self._running)

    def is_running(self, job_id: str) -> bool:
        return job_id in self._running

    async def wait(self, job_id: str) -> None:
        """Until the job's task has ended (returns at once for a job not running here)."""
        running = self._running.get(job_id)
        if running is not None and running.task is not None:
            await asyncio.wait([running.task])

    async def cancel(self, job_id: str) -> bool:
        running = self._running.get(job_id)
        if running is None or running.task is None:
            return False
        if not running.finishing:
            running.task.cancel()
        await asyncio.wait([running.task])
        await self._settle(running, JobStatus.CANCELLED, None)
        return True

    def node_types(self) -> list[NodeTypeInfo]:
        return self.registry.infos()

    async def shutdown(self) -> None:
        self._stopping = True
        running = list(self._running.values())
        tasks = [r.task for r in running if r.task is not None]
        for r in running:
            if r.task is not None and not r.finishing:
                r.task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
        for r in running:
            await self._settle(r, JobStatus.FAILED, SERVER_STOPPED)

    async def _settle(self, running: _Running, status: JobStatus, error: str | None) -> None:
        """Record a final state for a job whose task was cancelled before it could start."""
        if running.job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            await self.services.jobs.finish(running.job, status, error=error)

    async def _run(self, running: _Running, owner: User) -> None:
        job, jobs = running.job, self.services.jobs
        try:
            graph: Graph = parse_graph(job.graph, self.registry)
            if not await jobs.mark_running(job):
                running.finishing = True
                return
            runner = WorkflowRunner(
                graph=graph,
                context=ProcessingContext(
                    services=self.services,
                    user=owner,
                    job_id=job.public_id,
                    workflow_id=job.workflow_id,
                    keep_for_seconds=job.keep_for_seconds,
                ),
                auto_save=job.auto_save,
                params=job.params if isinstance(job.params, dict) else None,
                max_parallel_nodes=self.max_parallel_nodes,
            )
            outputs = await runner.run()
        except asyncio.CancelledError:
            running.finishing = True
            if self._stopping:
                await jobs.finish(job, JobStatus.FAILED, error=SERVER_STOPPED)
            else:
                await jobs.finish(job, JobStatus.CANCELLED)
            raise
        except JobFailed as failure:
            running.finishing = True
            await jobs.finish(
                job, JobStatus.FAILED, error=failure.message, failed_node_id=failure.node_id
            )
        except Exception as error:
            running.finishing = True
            message = getattr(error, "message", None)
            if message is None:
                logger.exception("job %s failed unexpectedly", job.id)
                message = (
                    f"The job failed unexpectedly ({type(error).__name__}); see the server log"
                )
            await jobs.finish(job, JobStatus.FAILED, error=message)
        else:
            running.finishing = True
            await jobs.finish(job, JobStatus.COMPLETED, outputs=outputs)
