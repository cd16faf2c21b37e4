"""Events within one process: the embedded default."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from services.events.protocol import DEFAULT_QUEUE_SIZE, BrokerEvent, LocalFanout, record_event


class InProcessBroker:
    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._fanout = LocalFanout(queue_size)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def publish(
        self, topic: str, payload: dict[str, Any], *, subject: str | None = None
    ) -> None:
        event_id = await record_event(topic, payload, subject) if subject is not None else None
        self._fanout.dispatch(BrokerEvent(topic=topic, payload=payload, id=event_id))

    def subscribe(
        self, topic: str, *, after_subject: str | None = None
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[BrokerEvent]]:
        return self._fanout.subscribe(topic, after_subject=after_subject)
