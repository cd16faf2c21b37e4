"""Events across processes through PostgreSQL LISTEN/NOTIFY on the application database.

Every process listens on one channel with its own connection and fans events out to its
local subscribers; publishing is a NOTIFY through the ORM's pool, so an event reaches every
process (the publisher's included) exactly once. After a lost listener connection, durable
events committed meanwhile are replayed from the events table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.events.protocol import DEFAULT_QUEUE_SIZE, BrokerEvent, LocalFanout, record_event

logger = logging.getLogger(__name__)

# NOTIFY payloads must stay under 8000 bytes; larger events travel by reference.
MAX_NOTIFY_BYTES = 7000
RECONNECT_DELAY_SECONDS = 1.0


def listen_url(database_url: str) -> str:
    """The asyncpg DSN for a Tortoise database URL (its pool options dropped)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql", query=""))


def encode(event: BrokerEvent) -> str:
    return json.dumps({"t": event.topic, "p": event.payload, "i": event.id})


def decode(text: str) -> BrokerEvent:
    data = json.loads(text)
    return BrokerEvent(topic=data["t"], payload=data.get("p") or {}, id=data.get("i"))


class ReplayingListener:
    """What the Postgres and Redis brokers share: remember the newest durable event seen,
    and after a reconnect hand subscribers whatever they missed."""

    def __init__(self, queue_size: int) -> None:
        self._fanout = LocalFanout(queue_size)
        self._last_id: int | None = None

    async def _receive(self, event: BrokerEvent) -> None:
        if event.id is not None and not event.payload:
            # Sent by reference (too large for the transport): read it from the table.
            from models import Event

            row = await Event.filter(id=event.id).first()
            if row is None:
                return
            event = BrokerEvent(topic=row.topic, payload=row.payload, id=event.id)
        if event.id is not None:
            self._last_id = max(self._last_id or 0, event.id)
        self._fanout.dispatch(event)

    async def _replay_missed(self) -> None:
        from models import Event

        if self._last_id is None or not self._fanout.topics:
            return
        rows = await Event.filter(id__gt=self._last_id, topic__in=list(self._fanout.topics))
        for row in sorted(rows, key=lambda r: r.id):
            await self._receive(BrokerEvent(topic=row.topic, payload=row.payload, id=row.id))

    def subscribe(
        self, topic: str, *, after_subject: str | None = None
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[BrokerEvent]]:
        return self._fanout.subscribe(topic, after_subject=after_subject)

    async def _message(
        self, topic: str, payload: dict[str, Any], subject: str | None
    ) -> tuple[BrokerEvent, str]:
        event_id = await record_event(topic, payload, subject) if subject is not None else None
        event = BrokerEvent(topic=topic, payload=payload, id=event_id)
        text = encode(event)
        if len(text.encode()) > MAX_NOTIFY_BYTES:
            if event_id is None:
                event_id = await record_event(topic, payload, "")
            text = encode(BrokerEvent(topic=topic, payload={}, id=event_id))
        return event, text


class PostgresBroker(ReplayingListener):
    def __init__(
        self,
        database_url: str,
        *,
        channel: str = "trove_events",
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        super().__init__(queue_size)
        self._dsn = listen_url(database_url)
        self._channel = channel
        self._connection_name = "postgres"
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="postgres events")
        # The first connection must work: a bad DSN is a start-up error, not a log line.
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait([ready, self._task], return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._task.done():
            self._task.result()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _listen_forever(self) -> None:
        first = True
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError):
                if first:
                    raise
                logger.warning("events: cannot reach PostgreSQL, retrying", exc_info=True)
                await asyncio.sleep(RECONNECT_DELAY_SECONDS)
                continue
            lost = asyncio.Event()
            try:
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(self._channel, self._on_notify)
                if not first:
                    await self._replay_missed()
                first = False
                self._ready.set()
                await lost.wait()
                logger.warning("events: the PostgreSQL listener connection was lost")
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 5)

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = decode(payload)
        except (ValueError, KeyError):
            logger.warning("events: ignoring a malformed notification")
            return
        # asyncpg calls listeners synchronously, in order: keep that order.
        if event.id is not None and not event.payload:
            asyncio.get_running_loop().create_task(self._receive(event))
        else:
            self._fanout.dispatch(event)
            if event.id is not None:
                self._last_id = max(self._last_id or 0, event.id)

    async def publish(
        self, topic: str, payload: dict[str, Any], *, subject: str | None = None
    ) -> None:
        from tortoise import connections

        _, text = await self._message(topic, payload, subject)
        connection = connections.get(self._connection_name)
        await connection.execute_query("SELECT pg_notify($1, $2)", [self._channel, text])
