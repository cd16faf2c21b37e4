"""Which process holds a job: worker ids, heartbeats, the lease, and start-up recovery that
never touches the jobs of live processes."""

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from models import Job, JobStatus, User
from services.jobs import new_worker_id
from tests.conftest import TroveClient
from tests.test_storage_contract import dead_pid


async def make_job(owner: User, *, worker_id: str | None, beat_seconds_ago: float | None) -> Job:
    beat = None
    if beat_seconds_ago is not None:
        beat = datetime.now(UTC) - timedelta(seconds=beat_seconds_ago)
    return await Job.create(
        id=new_worker_id(),
        owner_id=owner.id,
        graph={"nodes": [], "edges": []},
        status=JobStatus.RUNNING,
        worker_id=worker_id,
        heartbeat_at=beat,
    )


async def test_only_jobs_whose_holder_is_gone_are_failed(client: TroveClient) -> None:
    jobs = client.services.jobs
    owner = await User.get(name="local")
    lease = jobs.lease_seconds
    live_elsewhere = await make_job(owner, worker_id="other-host:1:abc", beat_seconds_ago=1)
    silent_elsewhere = await make_job(
        owner, worker_id="other-host:2:def", beat_seconds_ago=lease + 5
    )
    dead_here = await make_job(
        owner, worker_id=f"{socket.gethostname()}:{dead_pid()}:x", beat_seconds_ago=0
    )
    mine = await make_job(owner, worker_id=jobs.worker_id, beat_seconds_ago=lease + 5)

    assert await jobs.fail_abandoned() == 2

    async def status(job: Job) -> tuple[str, str | None]:
        row = await Job.get(id=job.id)
        return row.status, row.error

    assert await status(live_elsewhere) == (JobStatus.RUNNING, None)
    assert await status(mine) == (JobStatus.RUNNING, None)
    assert await status(silent_elsewhere) == (
        JobStatus.FAILED,
        f"The worker running this job stopped responding (no heartbeat for {lease:g} s)",
    )
    assert await status(dead_here) == (
        JobStatus.FAILED,
        f"The process running this job ({dead_here.worker_id}) stopped while it ran",
    )


async def test_heartbeats_renew_only_this_process_jobs(client: TroveClient) -> None:
    jobs = client.services.jobs
    owner = await User.get(name="local")
    mine = await make_job(owner, worker_id=jobs.worker_id, beat_seconds_ago=100)
    other = await make_job(owner, worker_id="other-host:1:abc", beat_seconds_ago=100)
    await jobs.heartbeat([mine.id, other.id])
    fresh = datetime.now(UTC) - timedelta(seconds=5)
    assert (await Job.get(id=mine.id)).heartbeat_at > fresh  # type: ignore[operator]
    assert (await Job.get(id=other.id)).heartbeat_at < fresh  # type: ignore[operator]


async def test_a_started_job_records_its_holder(client: TroveClient) -> None:
    data: Any = await client.data(
        "mutation($g: JSON) { runWorkflow(input: {graph: $g}) { id } }",
        {
            "g": {
                "nodes": [{"id": "w", "type": "control.Delay", "data": {"seconds": 60}}],
                "edges": [],
            }
        },
    )
    row = await Job.get(id=data["runWorkflow"]["id"])
    assert row.worker_id == client.services.jobs.worker_id
    assert row.heartbeat_at is not None
    await client.data("mutation($id: ID!) { cancelJob(id: $id) { status } }", {"id": row.id})


async def stale_copy(job: Job) -> Job:
    """The row as the old holder last saw it (before anyone else changed it)."""
    return await Job.get(id=job.id)


async def test_a_late_finish_never_overwrites_a_failed_lease(client: TroveClient) -> None:
    """The holder stopped heartbeating, a sweep failed the job; then the old holder, still
    alive after all, reports COMPLETED: the FAILED stays."""
    jobs = client.services.jobs
    owner = await User.get(name="local")
    job = await make_job(
        owner, worker_id="other-host:1:abc", beat_seconds_ago=jobs.lease_seconds + 5
    )
    seen_by_old_holder = await stale_copy(job)
    assert await jobs.fail_abandoned() == 1

    assert not await jobs.finish(seen_by_old_holder, JobStatus.COMPLETED, outputs={"n": {"x": 1}})
    row = await Job.get(id=job.id)
    assert row.status == JobStatus.FAILED
    assert row.outputs is None
    assert row.error is not None and "stopped responding" in row.error
    # The caller's copy now says what is true.
    assert seen_by_old_holder.status == JobStatus.FAILED


async def test_a_late_finish_never_overwrites_a_cancel(client: TroveClient) -> None:
    jobs = client.services.jobs
    owner = await User.get(name="local")
    job = await make_job(
        owner, worker_id="other-host:1:abc", beat_seconds_ago=jobs.lease_seconds + 5
    )
    seen_by_old_holder = await stale_copy(job)
    cancelled = await client.data(
        "mutation($id: ID!) { cancelJob(id: $id) { status } }", {"id": job.id}
    )
    assert cancelled == {"cancelJob": {"status": "CANCELLED"}}
    for late in (JobStatus.COMPLETED, JobStatus.FAILED):
        assert not await jobs.finish(seen_by_old_holder, late, error="late")
    row = await Job.get(id=job.id)
    assert (row.status, row.error) == (JobStatus.CANCELLED, None)
    # Nor is a settled job taken up again.
    assert not await jobs.mark_running(await stale_copy(job))
    assert (await Job.get(id=job.id)).status == JobStatus.CANCELLED


async def test_only_the_current_holder_finishes_a_job(client: TroveClient) -> None:
    """A job that changed hands (e.g. run again by another worker) is finished by its new
    holder only; the old one's report is dropped."""
    jobs = client.services.jobs
    owner = await User.get(name="local")
    job = await make_job(owner, worker_id="old-host:1:abc", beat_seconds_ago=0)
    seen_by_old_holder = await stale_copy(job)
    await Job.filter(id=job.id).update(worker_id="new-host:2:def")
    seen_by_new_holder = await stale_copy(job)

    assert not await jobs.finish(seen_by_old_holder, JobStatus.FAILED, error="old")
    assert (await Job.get(id=job.id)).status == JobStatus.RUNNING
    assert await jobs.finish(seen_by_new_holder, JobStatus.COMPLETED, outputs={"n": {"x": 2}})
    row = await Job.get(id=job.id)
    assert (row.status, row.outputs, row.error) == (JobStatus.COMPLETED, {"n": {"x": 2}}, None)


async def test_a_running_job_failed_by_a_sweep_stays_failed(client: TroveClient) -> None:
    """The real executor: while its job runs, another process fails it (as a lease sweep
    does); when the run ends, its COMPLETED is not recorded."""
    data: Any = await client.data(
        "mutation($g: JSON) { runWorkflow(input: {graph: $g}) { id } }",
        {
            "g": {
                "nodes": [{"id": "w", "type": "control.Delay", "data": {"seconds": 1}}],
                "edges": [],
            }
        },
    )
    job_id = data["runWorkflow"]["id"]
    executor = client.services.jobs.executor
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while (await Job.get(id=job_id)).status != JobStatus.RUNNING:
        assert datetime.now(UTC) < deadline
        await asyncio.sleep(0.02)
    swept = await Job.filter(id=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error="swept", finished_at=datetime.now(UTC)
    )
    assert swept == 1
    await executor.wait(job_id)
    row = await Job.get(id=job_id)
    assert (row.status, row.error, row.outputs) == (JobStatus.FAILED, "swept", None)


QUICK = {"nodes": [{"id": "w", "type": "control.Delay", "data": {"seconds": 0}}], "edges": []}


async def wait_until_settled(job_id: str, seconds: float = 15) -> Job:
    deadline = datetime.now(UTC) + timedelta(seconds=seconds)
    while (row := await Job.get(id=job_id)).status not in (
        JobStatus.COMPLETED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    ):
        assert datetime.now(UTC) < deadline, row.status
        await asyncio.sleep(0.05)
    return row


async def test_a_lost_job_runs_again_while_it_has_retries(client: TroveClient) -> None:
    """The holder went silent; the run asked for one retry: this process runs it again
    (in-process runner), and the Job shows the second attempt. Once the retries are spent,
    losing the holder fails the job as before."""
    jobs = client.services.jobs
    owner = await User.get(name="local")
    lease = jobs.lease_seconds
    job = await make_job(owner, worker_id="other-host:1:abc", beat_seconds_ago=lease + 5)
    await Job.filter(id=job.id).update(retries=1, graph=QUICK)
    spent = await make_job(owner, worker_id="other-host:2:def", beat_seconds_ago=lease + 5)
    await Job.filter(id=spent.id).update(retries=1, attempts=2)

    assert await jobs.fail_abandoned() == 1  # `spent`; `job` is running again
    again = await wait_until_settled(job.id)
    assert (again.status, again.attempts, again.error) == (JobStatus.COMPLETED, 2, None)
    assert again.worker_id == jobs.worker_id
    row = await Job.get(id=spent.id)
    assert (row.status, row.attempts) == (JobStatus.FAILED, 2)
    assert row.error is not None and "stopped responding" in row.error
    # The lost holder's late report changes nothing.
    stale = await Job.get(id=job.id)
    stale.worker_id = "other-host:1:abc"
    assert not await jobs.finish(stale, JobStatus.FAILED, error="late")

    data: Any = await client.data(
        "query($id: ID!) { job(id: $id) { status attempts retries } }", {"id": job.id}
    )
    assert data == {"job": {"status": "COMPLETED", "attempts": 2, "retries": 1}}


async def test_retries_are_asked_for_per_run_and_bounded(client: TroveClient) -> None:
    run = (
        "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id attempts retries } }"
    )
    quick = QUICK
    default = (await client.data(run, {"input": {"graph": quick}}))["runWorkflow"]
    assert (default["attempts"], default["retries"]) == (1, 0)
    chosen = (await client.data(run, {"input": {"graph": quick, "retries": 3}}))["runWorkflow"]
    assert (chosen["attempts"], chosen["retries"]) == (1, 3)
    for wrong in (-1, 11):
        body = await client.graphql(run, {"input": {"graph": quick, "retries": wrong}})
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "`retries` must be between 0 and 10" in error["message"]
