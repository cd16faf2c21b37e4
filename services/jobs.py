"""Jobs: one run of a workflow graph. Running them is the executor's business (execution/),
which the server plugs in; this module owns the rows and their state changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from models import Asset, AutoSaveMode, Job, JobStatus, User
from models.ids import new_id
from models.job import FINAL_JOB_STATUSES, scoped_job_id
from services.errors import Conflict, InvalidInput, NotFound
from services.events import EventBroker, job_topic
from services.pagination import Ordering, Page, paginate
from services.validation import check_json, check_text, text_problem
from services.workflows import WorkflowService

logger = logging.getLogger(__name__)
# Ten years: beyond that, keep the assets (no expiry) instead.
MAX_KEEP_SECONDS = 10 * 365 * 24 * 3600
# Runs again after a lost holder that one run may ask for (`retries`).
MAX_RETRIES = 10

ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
# Where cancel requests travel to the process that holds the job.
JOB_CONTROL_TOPIC = "jobs-control"
# How long cancelJob waits for the holder to confirm before settling the row itself.
CANCEL_WAIT_SECONDS = 10.0
DEFAULT_LEASE_SECONDS = 30.0
_HOST = socket.gethostname()


def new_worker_id() -> str:
    """host:pid:nonce: unique per process start, and tells a same-host reader the pid."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(worker_id: str) -> bool:
    """Only decidable for processes on this host: is the pid in the worker id gone?"""
    host, pid, _nonce = [*worker_id.rsplit(":", 2), "", ""][:3]
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


_NEWEST_FIRST = Ordering(
    "CREATED_AT_DESC", "created_at", descending=True, key_is_datetime=True, pk_is_uuid=False
)
MAX_JOB_ID_LENGTH = 255
# A chosen id is stored after "<owner uuid>/" in a 255-character column.
MAX_CHOSEN_JOB_ID_LENGTH = MAX_JOB_ID_LENGTH - len(scoped_job_id(UUID(int=0), ""))


def _stored_ids(owner: User, job_id: str) -> list[str]:
    """The rows a public job id may name: a generated id as it is, a chosen one scoped."""
    return [job_id, scoped_job_id(owner.id, job_id)]


def _possible_job_id(job_id: str) -> bool:
    """Whether a job could have this id: run() refuses any other, and the database would
    refuse to compare one (NUL on PostgreSQL, over-long values in the ORM)."""
    return 0 < len(job_id) <= MAX_JOB_ID_LENGTH and text_problem(job_id) is None


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

    def running_ids(self) -> list[str]:
        """The jobs this process runs (and sends heartbeats for)."""
        ...

    async def cancel(self, job_id: str) -> bool:
        """Stop a running job; False when this process is not running it."""
        ...

    def node_types(self) -> list[NodeTypeInfo]: ...

    async def shutdown(self) -> None:
        """Stop the jobs this process runs (they are recorded as failed)."""
        ...


class JobService:
    def __init__(
        self,
        *,
        broker: EventBroker,
        workflows: WorkflowService,
        executor: JobExecutor,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        queued: bool = False,
    ) -> None:
        self.broker = broker
        self.workflows = workflows
        self.executor = executor
        self.lease_seconds = lease_seconds
        # TROVE_JOB_RUNNER=queue: new jobs wait in the queue, held by no process yet.
        self.queued = queued
        # This process, as recorded on the jobs it holds.
        self.worker_id = new_worker_id()
        # Where a job that lost its holder runs again when not through `executor`: a
        # `trove worker` runs jobs in-process but sends retries back to the queue.
        self.retry_executor: JobExecutor | None = None

    def _require_executor(self) -> JobExecutor:
        return self.executor

    async def get(self, *, owner: User, job_id: str) -> Job:
        if not _possible_job_id(job_id):
            raise NotFound(f"No job with id {job_id[:300]!r}")
        row = await Job.filter(id__in=_stored_ids(owner, job_id), owner_id=owner.id).first()
        if row is None:
            raise NotFound(f"No job with id '{job_id}'")
        return row

    async def get_many(self, *, owner: User, ids: Sequence[str]) -> dict[str, Job]:
        """By the ids the API shows (`public_id`)."""
        stored = [
            s for job_id in ids if _possible_job_id(job_id) for s in _stored_ids(owner, job_id)
        ]
        rows = await Job.filter(id__in=stored, owner_id=owner.id)
        return {row.public_id: row for row in rows}

    async def list_jobs(
        self,
        *,
        owner: User,
        workflow_id: str | None = None,
        status: JobStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Page[Job]:
        if workflow_id is not None and len(workflow_id) > MAX_JOB_ID_LENGTH:
            raise InvalidInput(f"`workflowId` is at most {MAX_JOB_ID_LENGTH} characters")
        check_text(workflow_id, "`workflowId`")
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
        auto_save: AutoSaveMode = AutoSaveMode.ALL,
        keep_for_seconds: int | None = None,
        retries: int = 0,
    ) -> Job:
        """Start a run. `auto_save` says what it stores; `keep_for_seconds` gives what it
        stores an expiry (the job's finish time plus that many seconds); `retries` is how
        many times it runs again when the process running it is lost (not when it fails)."""
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
        self.workflows.limits.check(graph)
        check_json(params, "`params`")
        if job_id is not None and (not job_id.strip() or len(job_id) > MAX_CHOSEN_JOB_ID_LENGTH):
            raise InvalidInput(f"`jobId` must be 1 to {MAX_CHOSEN_JOB_ID_LENGTH} characters")
        check_text(job_id, "`jobId`")
        if keep_for_seconds is not None and not 0 < keep_for_seconds <= MAX_KEEP_SECONDS:
            raise InvalidInput(f"`keepForSeconds` must be between 1 and {MAX_KEEP_SECONDS}")
        if not 0 <= retries <= MAX_RETRIES:
            raise InvalidInput(f"`retries` must be between 0 and {MAX_RETRIES}")
        executor.validate(graph)
        # Only the caller's own jobs can conflict: other users' ids live in their namespaces.
        if job_id is not None and await Job.exists(
            id__in=_stored_ids(owner, job_id), owner_id=owner.id
        ):
            raise Conflict(f"You already have a job with id '{job_id}'")
        job = await Job.create(
            id=scoped_job_id(owner.id, job_id) if job_id is not None else str(new_id()),
            owner_id=owner.id,
            workflow_id=workflow_id,
            graph=graph,
            params=params,
            auto_save=auto_save,
            keep_for_seconds=keep_for_seconds,
            retries=retries,
            worker_id=None if self.queued else self.worker_id,
            heartbeat_at=datetime.now(UTC),
        )
        await self._publish(job)
        executor.start(job, owner)
        return job

    async def cancel(self, *, owner: User, job_id: str) -> Job:
        job = await self.get(owner=owner, job_id=job_id)
        if job.status in FINAL_JOB_STATUSES:
            return job
        if await self._require_executor().cancel(job.id):
            return await self.get(owner=owner, job_id=job_id)
        if job.worker_id and job.worker_id != self.worker_id and not self._expired(job):
            # Another live process holds it: ask that one, and wait for its answer.
            async with self.broker.subscribe(job_topic(job.id)) as updates:
                await self.broker.publish(JOB_CONTROL_TOPIC, {"cancel": job.id})
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CANCEL_WAIT_SECONDS):
                        async for event in updates:
                            if event.payload.get("status") in FINAL_JOB_STATUSES:
                                return await self.get(owner=owner, job_id=job_id)
            job = await self.get(owner=owner, job_id=job_id)
            if job.status in FINAL_JOB_STATUSES:
                return job
            logger.warning("job %s: its holder did not confirm the cancel", job.id)
            await self.finish(
                job,
                JobStatus.CANCELLED,
                error=f"Cancelled, but the process running it ({job.worker_id}) did not "
                "confirm that it stopped",
            )
            return await self.get(owner=owner, job_id=job_id)
        # Nobody runs it (queued by a process that died): settle it directly.
        await self.finish(job, JobStatus.CANCELLED)
        return await self.get(owner=owner, job_id=job_id)

    async def on_control(self, payload: dict[str, Any]) -> None:
        """A request from another process (cancel) for a job this one may hold."""
        job_id = payload.get("cancel")
        if isinstance(job_id, str) and self.executor is not None:
            await self.executor.cancel(job_id)

    def _expired(self, job: Job) -> bool:
        if job.heartbeat_at is None:
            return True
        return datetime.now(UTC) - job.heartbeat_at > timedelta(seconds=self.lease_seconds)

    def node_types(self) -> list[NodeTypeInfo]:
        return self._require_executor().node_types()

    # State changes, called by the executor ------------------------------------------------

    async def mark_running(self, job: Job) -> bool:
        """Take the job as this process's; False (and `job` refreshed) when it was settled
        meanwhile (cancelled while queued, failed by a lease sweep): then do not run it."""
        now = datetime.now(UTC)
        taken = await Job.filter(id=job.id, status__in=ACTIVE_JOB_STATUSES).update(
            status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, worker_id=self.worker_id
        )
        if not taken:
            await job.refresh_from_db()
            logger.info("job %s is already %s: not running it", job.id, job.status)
            return False
        job.status = JobStatus.RUNNING
        job.started_at = job.heartbeat_at = now
        job.worker_id = self.worker_id
        await self._publish(job)
        return True

    async def finish(
        self,
        job: Job,
        status: JobStatus,
        *,
        outputs: Any = None,
        error: str | None = None,
        failed_node_id: str | None = None,
    ) -> bool:
        """Settle the job, if it is still what the caller saw: active, under the same holder.

        A compare-and-set, so a late finish never overwrites another outcome: a worker whose
        lease expired (the job already FAILED, or handed to another worker) or a job
        cancelled meanwhile keeps its state. Returns False (and refreshes `job`) then.
        """
        finished_at = datetime.now(UTC)
        settled = await Job.filter(
            id=job.id, status__in=ACTIVE_JOB_STATUSES, worker_id=job.worker_id
        ).update(
            status=status,
            finished_at=finished_at,
            outputs=outputs,
            error=error,
            failed_node_id=failed_node_id,
        )
        if not settled:
            await job.refresh_from_db()
            logger.warning(
                "job %s: not recording %s; it is already %s (holder %s)",
                job.id, status, job.status, job.worker_id,
            )  # fmt: skip
            return False
        job.status = status
        job.finished_at = finished_at
        job.outputs = outputs
        job.error = error  # type: ignore[assignment]
        job.failed_node_id = failed_node_id
        if job.keep_for_seconds is not None:
            # What the run auto-saved carries a provisional expiry; count from the finish.
            await Asset.filter(
                owner_id=job.owner_id,
                # Assets carry the id the API shows, not the owner-scoped stored one.
                job_id=job.public_id,
                node_id__not_isnull=True,
                expires_at__not_isnull=True,
            ).update(expires_at=finished_at + timedelta(seconds=job.keep_for_seconds))
        await self._publish(job)
        return True

    async def _publish(self, job: Job) -> None:
        await self.broker.publish(job_topic(job.id), {"id": job.id, "status": str(job.status)})

    async def heartbeat(self, job_ids: Sequence[str]) -> None:
        """Tell other processes this one still holds these jobs."""
        if job_ids:
            await Job.filter(
                id__in=list(job_ids), worker_id=self.worker_id, status__in=ACTIVE_JOB_STATUSES
            ).update(heartbeat_at=datetime.now(UTC))

    async def fail_abandoned(self) -> int:
        """Fail the jobs whose holder is gone; never those a live process holds.

        A holder is gone when it is a process of this host that no longer exists (a restart
        after a crash settles its jobs at once), or when it sent no heartbeat for the lease.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=self.lease_seconds)
        rows = await Job.filter(status__in=ACTIVE_JOB_STATUSES).values(
            "id", "status", "worker_id", "heartbeat_at", "attempts", "retries"
        )
        failed = 0
        for row in rows:
            holder = row["worker_id"]
            if holder == self.worker_id or (holder is None and row["status"] == "QUEUED"):
                continue  # Ours, or waiting in the queue (which keeps it safe).
            if holder and _holder_is_dead(holder):
                error = f"The process running this job ({holder}) stopped while it ran"
            elif row["heartbeat_at"] is None or row["heartbeat_at"] < cutoff:
                error = (
                    "The worker running this job stopped responding "
                    f"(no heartbeat for {self.lease_seconds:g} s)"
                )
            else:
                continue
            if row["attempts"] <= row["retries"] and self.executor is not None:
                await self._run_again(row, reason=error)
                continue
            # Conditional on the row not having moved on meanwhile.
            changed = await Job.filter(
                id=row["id"], status__in=ACTIVE_JOB_STATUSES, heartbeat_at=row["heartbeat_at"]
            ).update(status=JobStatus.FAILED, error=error, finished_at=datetime.now(UTC))
            if changed:
                failed += 1
                await self.broker.publish(
                    job_topic(row["id"]), {"id": row["id"], "status": str(JobStatus.FAILED)}
                )
        return failed

    async def _run_again(self, row: dict[str, Any], *, reason: str) -> bool:
        """Queue a job whose holder was lost once more (the run opted in with `retries`);
        False when another process settled or took it first."""
        now = datetime.now(UTC)
        on_queue = self.queued or self.retry_executor is not None
        taken = await Job.filter(
            id=row["id"], status__in=ACTIVE_JOB_STATUSES, heartbeat_at=row["heartbeat_at"]
        ).update(
            status=JobStatus.QUEUED,
            attempts=row["attempts"] + 1,
            # On the queue nobody holds it until a worker takes it; in-process, this one does.
            worker_id=None if on_queue else self.worker_id,
            heartbeat_at=now,
            started_at=None,
        )
        if not taken:
            return False
        job = await Job.get(id=row["id"])
        logger.warning(
            "job %s: %s; running it again (attempt %d of %d)",
            job.id, reason, job.attempts, job.retries + 1,
        )  # fmt: skip
        await self._publish(job)
        executor = self.retry_executor or self._require_executor()
        executor.start(job, await User.get(id=job.owner_id))
        return True

    async def updates(self, *, owner: User, job_id: str) -> AsyncIterator[Job]:
        """Every state of a job from now on, ending with its final one."""
        stored_id = (await self.get(owner=owner, job_id=job_id)).id
        async with self.broker.subscribe(job_topic(stored_id)) as messages:
            current = await self.get(owner=owner, job_id=job_id)
            yield current
            if current.status in FINAL_JOB_STATUSES:
                return
            last = current.status
            async for _event in messages:
                # Read the row: the event may come from another process. A change between
                # subscribing and reading the row arrives twice.
                job = await self.get(owner=owner, job_id=job_id)
                if job.status == last:
                    continue
                last = job.status
                yield job
                if job.status in FINAL_JOB_STATUSES:
                    return
