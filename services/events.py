"""Publish/subscribe for live updates (asset created, job changed).

The broker is an interface so a cross-process implementation (e.g. Redis or PostgreSQL
LISTEN/NOTIFY) can replace the in-process one when several workers serve one database.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class EventBroker(Protocol):
    async def publish(self, topic: str, message: Any) -> None: ...

    def subscribe(
        self, topic: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Any]]: ...


class InProcessBroker:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = defaultdict(set)

    async def publish(self, topic: str, message: Any) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A subscriber that stopped reading must not stall the publishers.
                logger.warning("dropping an event for a slow subscriber of %s", topic)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Any]]:
        queue: asyncio.Queue[Any] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)

        async def messages() -> AsyncIterator[Any]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]


def asset_topic(owner_id: object) -> str:
    return f"assets:{owner_id}"


def job_topic(job_id: str) -> str:
    return f"job:{job_id}"
