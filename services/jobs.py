"""Jobs: one run of a workflow graph. Running them is the executor's business (execution/),
which the server plugs in; this module owns the rows and their state changes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from models import Job, JobStatus, User
from models.ids import new_id
from models.job import FINAL_JOB_STATUSES
from services.errors import Conflict, InvalidInput, NotFound
from services.events import EventBroker, job_topic
from services.pagination import Ordering, Page, paginate
from services.workflows import WorkflowService

logger = logging.getLogger(__name__)
_NEWEST_FIRST = Ordering("CREATED_AT_DESC", "created_at", descending=True, key_is_datetime=True)


@dataclass(frozen=True)
class NodeProperty:
    name: str
    type: str
    required: bool
    default: Any = None
    description: str | None = None


@dataclass(frozen=True)
class NodeTypeInfo:
    type: str
    title: str
    description: str | None
    auto_save_asset: bool
    inputs: list[NodeProperty] = field(default_factory=list)
    outputs: list[NodeProperty] = field(default_factory=list)


class JobExecutor(Protocol):
    """What runs graphs; implemented in execution/ and plugged in by the server."""

    def validate(self, graph: dict[str, Any]) -> None:
        """Raise InvalidInput when the graph cannot run (unknown types, cycles, ...)."""
        ...

    def start(self, job: Job, owner: User) -> None: ...

    async def cancel(self, job_id: str) -> bool:
        """Stop a running job; False when this process is not running it."""
        ...

    def node_types(self) -> list[NodeTypeInfo]: ...

    async def shutdown(self) -> None:
        """Stop the jobs this process runs (they are recorded as failed)."""
        ...


class JobService:
    def __init__(
        self, *, broker: EventBroker, workflows: WorkflowService, executor: JobExecutor
    ) -> None:
        self.broker = broker
        self.workflows = workflows
        self.executor = executor

    def _require_executor(self) -> JobExecutor:
        return self.executor

    async def get(self, *, owner: User, job_id: str) -> Job:
        row = await Job.filter(id=job_id, owner_id=owner.id).first()
        if row is None:
            raise NotFound(f"No job with id '{job_id}'")
        return row

    async def get_many(self, *, owner: User, ids: Sequence[str]) -> dict[str, Job]:
        return {row.id: row for row in await Job.filter(id__in=list(ids), owner_id=owner.id)}

    async def list_jobs(
        self,
        *,
        owner: User,
        workflow_id: str | None = None,
        status: JobStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Page[Job]:
        query = Job.filter(owner_id=owner.id)
        if workflow_id is not None:
            query = query.filter(workflow_id=workflow_id)
        if status is not None:
            query = query.filter(status=status)
        return await paginate(
            query, _NEWEST_FIRST, first=first, after=after, last=None, before=None
        )

    async def run(
        self,
        *,
        owner: User,
        workflow_id: str | None = None,
        graph: Any = None,
        params: Any = None,
        job_id: str | None = None,
    ) -> Job:
        executor = self._require_executor()
        if (workflow_id is None) == (graph is None):
            raise InvalidInput("Give either `workflowId` or `graph`")
        if workflow_id is not None and graph is None:
            workflow = await self.workflows.get(owner=owner, workflow_id=workflow_id)
            graph, workflow_id = workflow.graph, str(workflow.id)
        if not isinstance(graph, dict):
            raise InvalidInput("`graph` must be an object with `nodes` and `edges`")
        if params is not None and not isinstance(params, dict):
            raise InvalidInput("`params` must be an object")
        if job_id is not None and (not job_id.strip() or len(job_id) > 255):
            raise InvalidInput("`jobId` must be 1 to 255 characters")
        executor.validate(graph)
        if job_id is not None and await Job.exists(id=job_id):
            raise Conflict(f"A job with id '{job_id}' already exists")
        job = await Job.create(
            id=job_id or str(new_id()),
            owner_id=owner.id,
            workflow_id=workflow_id,
            graph=graph,
            params=params,
        )
        await self.broker.publish(job_topic(job.id), job)
        executor.start(job, owner)
        return job

    async def cancel(self, *, owner: User, job_id: str) -> Job:
        job = await self.get(owner=owner, job_id=job_id)
        if job.status in FINAL_JOB_STATUSES:
            return job
        if not await self._require_executor().cancel(job.id):
            # Not running here (e.g. queued by a process that died): settle it directly.
            await self.finish(job, JobStatus.CANCELLED)
        return await self.get(owner=owner, job_id=job_id)

    def node_types(self) -> list[NodeTypeInfo]:
        return self._require_executor().node_types()

    # State changes, called by the executor ------------------------------------------------

    async def mark_running(self, job: Job) -> None:
        job.status = JobStatus.RUNNING
        job.started_at = datetime.now(UTC)
        await job.save(update_fields=["status", "started_at"])
        await self.broker.publish(job_topic(job.id), job)

    async def finish(
        self,
        job: Job,
        status: JobStatus,
        *,
        outputs: Any = None,
        error: str | None = None,
        failed_node_id: str | None = None,
    ) -> None:
        job.status = status
        job.finished_at = datetime.now(UTC)
        job.outputs = outputs
        job.error = error  # type: ignore[assignment]
        job.failed_node_id = failed_node_id
        await job.save(
            update_fields=["status", "finished_at", "outputs", "error", "failed_node_id"]
        )
        await self.broker.publish(job_topic(job.id), job)

    async def fail_interrupted(self) -> int:
        """Jobs a crashed process left running can never finish: mark them failed."""
        return await Job.filter(status__in=[JobStatus.RUNNING, JobStatus.QUEUED]).update(
            status=JobStatus.FAILED,
            error="The server stopped while this job was running",
            finished_at=datetime.now(UTC),
        )

    async def updates(self, *, owner: User, job_id: str) -> AsyncIterator[Job]:
        """Every state of a job from now on, ending with its final one."""
        async with self.broker.subscribe(job_topic(job_id)) as messages:
            current = await self.get(owner=owner, job_id=job_id)
            yield current
            if current.status in FINAL_JOB_STATUSES:
                return
            last = current.status
            async for job in messages:
                # A change between subscribing and reading the row arrives twice.
                if job.status == last:
                    continue
                last = job.status
                yield job
                if job.status in FINAL_JOB_STATUSES:
                    return
