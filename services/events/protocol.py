"""What every broker offers, and the local fan-out and catch-up they share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

logger = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 1000


@dataclass(frozen=True)
class BrokerEvent:
    topic: str
    payload: dict[str, Any]
    # The `events` row of a durable event; None for transient ones (node progress).
    id: int | None = None


class EventHistoryGone(Exception):
    """The event a subscriber wants to resume after is no longer kept."""


class EventBroker(Protocol):
    async def start(self) -> None:
        """Connect (called once per process, after the database is up)."""
        ...

    async def close(self) -> None: ...

    async def publish(
        self, topic: str, payload: dict[str, Any], *, subject: str | None = None
    ) -> None:
        """Deliver to every subscriber of the topic, in every process.

        With a `subject` the event is durable: kept in the events table for catch-up.
        """
        ...

    def subscribe(
        self, topic: str, *, after_subject: str | None = None
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[BrokerEvent]]:
        """Events of the topic from now on; with `after_subject`, first every durable event
        of the topic published after the one about that subject (EventHistoryGone when that
        event was pruned or never existed)."""
        ...


async def record_event(topic: str, payload: dict[str, Any], subject: str) -> int:
    from models import Event

    row = await Event.create(topic=topic, subject=subject, payload=payload)
    return int(row.id)


async def prune_events(max_age_seconds: float) -> int:
    """Forget durable events older than the retention period; returns how many."""
    from models import Event

    cutoff = datetime.now(UTC) - timedelta(seconds=max_age_seconds)
    return await Event.filter(created_at__lt=cutoff).delete()


class LocalFanout:
    """Subscriber queues of this process, and catch-up from the events table.

    Each broker feeds `dispatch` from its transport (directly, or from its listener).
    """

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[BrokerEvent]]] = defaultdict(set)

    @property
    def topics(self) -> set[str]:
        return set(self._subscribers)

    def dispatch(self, event: BrokerEvent) -> None:
        for queue in list(self._subscribers.get(event.topic, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A subscriber that stopped reading must not stall the publishers.
                logger.warning("dropping an event for a slow subscriber of %s", event.topic)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, topic: str, *, after_subject: str | None = None
    ) -> AsyncIterator[AsyncIterator[BrokerEvent]]:
        queue: asyncio.Queue[BrokerEvent] = asyncio.Queue(self._queue_size)
        # Listen before reading the history, so nothing falls between the two.
        self._subscribers[topic].add(queue)
        try:
            history = await _history(topic, after_subject) if after_subject else []

            async def events() -> AsyncIterator[BrokerEvent]:
                seen = history[-1].id if history else None
                for event in history:
                    yield event
                while True:
                    event = await queue.get()
                    # Live events the history already gave are not repeated.
                    if seen is not None and event.id is not None and event.id <= seen:
                        continue
                    yield event

            yield events()
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]


async def _history(topic: str, after_subject: str) -> list[BrokerEvent]:
    from models import Event

    mark = await Event.filter(topic=topic, subject=after_subject).order_by("id").first()
    if mark is None:
        raise EventHistoryGone(
            f"No event about '{after_subject}' is kept any more: list what you missed instead"
        )
    rows = await Event.filter(topic=topic, id__gt=mark.id).order_by("id")
    return [BrokerEvent(topic=row.topic, payload=row.payload, id=int(row.id)) for row in rows]


def asset_topic(owner_id: object) -> str:
    return f"assets:{owner_id}"


def job_topic(job_id: str) -> str:
    return f"job:{job_id}"
