"""Helpers shared by the execution and node tests (this module holds no tests)."""

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PIL import Image

from tests.conftest import TroveClient

FINAL_STATUSES = ("COMPLETED", "FAILED", "CANCELLED")
JOB_FIELDS = "id status error failedNodeId workflowId outputs createdAt startedAt finishedAt"
ASSET_FIELDS = "id name contentType size nodeId jobId workflowId url"

RUN_WORKFLOW = (
    "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { " + JOB_FIELDS + " } }"
)
JOB = "query($id: ID!) { job(id: $id) { " + JOB_FIELDS + " } }"


def node(node_id: str, node_type: str, **data: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "data": data}


def edge(
    source: str, target: str, target_handle: str, source_handle: str | None = "output"
) -> dict[str, Any]:
    found: dict[str, Any] = {"source": source, "target": target, "targetHandle": target_handle}
    if source_handle is not None:
        found["sourceHandle"] = source_handle
    return found


def graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"nodes": nodes, "edges": edges or []}


async def start_job(client: TroveClient, **run_input: Any) -> dict[str, Any]:
    data = await client.data(RUN_WORKFLOW, {"input": run_input})
    job: dict[str, Any] = data["runWorkflow"]
    return job


async def wait_for_job(
    client: TroveClient,
    job_id: str,
    *,
    statuses: tuple[str, ...] = FINAL_STATUSES,
    seconds: float = 60,
) -> dict[str, Any]:
    """Poll until the job reaches one of `statuses` (fails after `seconds`)."""
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = (await client.data(JOB, {"id": job_id}))["job"]
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job {job_id} stayed {job['status']}: {job}"
        await asyncio.sleep(0.02)


async def wait_until(check: Callable[[], Awaitable[bool]], *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        await asyncio.sleep(0.02)


async def run_job(client: TroveClient, **run_input: Any) -> dict[str, Any]:
    started = await start_job(client, **run_input)
    return await wait_for_job(client, started["id"])


async def job_assets(client: TroveClient, **filters: Any) -> list[dict[str, Any]]:
    query = (
        "query($nodeId: String, $jobId: String, $workflowId: String) { assets(nodeId: $nodeId, "
        "jobId: $jobId, workflowId: $workflowId, first: 100, orderBy: CREATED_AT_ASC) { "
        "totalCount nodes { " + ASSET_FIELDS + " } } }"
    )
    # totalCount and the page are two reads: while a job is still saving, an asset may
    # commit between them, so ask again until both saw the same rows.
    for _ in range(50):
        data = await client.data(query, filters)
        if data["assets"]["totalCount"] == len(data["assets"]["nodes"]):
            break
        await asyncio.sleep(0.02)
    assert data["assets"]["totalCount"] == len(data["assets"]["nodes"])
    nodes: list[dict[str, Any]] = data["assets"]["nodes"]
    return nodes


async def download(client: TroveClient, url: str) -> tuple[str, bytes]:
    response = await client.http.get(url)
    assert response.status_code == 200, response.text
    return response.headers["content-type"], response.content


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=95)
    return out.getvalue()


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close_to(actual: Any, expected: tuple[int, ...], tolerance: int = 6) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
