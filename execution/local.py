"""Running one workflow in the current process and waiting for it (`trove run`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from execution.executor import Executor
from execution.runner import NodeEvent, node_topic
from models import Job, User
from models.ids import new_id
from services.runtime import Services

_END = {"end": True}


async def run_to_completion(
    *,
    services: Services,
    owner: User,
    graph: Any,
    params: dict[str, Any] | None = None,
    job_id: str | None = None,
    on_event: Callable[[NodeEvent], None] | None = None,
) -> Job:
    """Start the job, report each node event, and return the job in its final state."""
    executor = services.jobs.executor
    assert isinstance(executor, Executor), "run_to_completion runs jobs in this process"
    job_id = job_id or str(new_id())
    topic = node_topic(job_id)
    try:
        async with services.broker.subscribe(topic) as messages:

            async def report() -> None:
                async for message in messages:
                    if message.payload == _END:
                        return
                    if on_event is not None:
                        fields = dict(message.payload)
                        fields["asset_ids"] = tuple(fields.get("asset_ids") or ())
                        on_event(NodeEvent(**fields))

            reader = asyncio.create_task(report())
            try:
                job = await services.jobs.run(
                    owner=owner, graph=graph, params=params, job_id=job_id
                )
                await executor.wait(job.id)
            except asyncio.CancelledError:
                await executor.cancel(job_id)
                raise
            finally:
                # The broker keeps a topic's messages in order, so this arrives after every
                # event the job published.
                await services.broker.publish(topic, _END)
                await asyncio.wait([reader], timeout=5)
                reader.cancel()
    finally:
        await executor.shutdown()
    return await services.jobs.get(owner=owner, job_id=job_id)
