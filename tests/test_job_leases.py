"""Which process holds a job: worker ids, heartbeats, the lease, and start-up recovery that
never touches the jobs of live processes."""

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
