"""Events across processes through Redis pub/sub (TROVE_BROKER_URL=redis://host:6379/0).

Pub/sub delivers only to connected listeners; durable events are also in the events table,
and a listener that lost its connection replays what was committed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.events.postgres import RECONNECT_DELAY_SECONDS, ReplayingListener, decode
from services.events.protocol import DEFAULT_QUEUE_SIZE

logger = logging.getLogger(__name__)


class RedisBroker(ReplayingListener):
    def __init__(
        self, url: str, *, channel: str = "trove_events", queue_size: int = DEFAULT_QUEUE_SIZE
    ) -> None:
        super().__init__(queue_size)
        self._url = url
        self._channel = channel
        self._redis: Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._redis = Redis.from_url(self._url)
        await self._redis.ping()  # A wrong URL is a start-up error.
        self._task = asyncio.create_task(self._listen_forever(), name="redis events")
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
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _listen_forever(self) -> None:
        assert self._redis is not None
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if not first:
                    await self._replay_missed()
                first = False
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        event = decode(message["data"])
                    except (ValueError, KeyError):
                        logger.warning("events: ignoring a malformed message")
                        continue
                    await self._receive(event)
            except (RedisError, OSError):
                if first:
                    raise
                logger.warning("events: the Redis connection was lost, retrying", exc_info=True)
                await asyncio.sleep(RECONNECT_DELAY_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def publish(
        self, topic: str, payload: dict[str, Any], *, subject: str | None = None
    ) -> None:
        assert self._redis is not None, "the broker was not started"
        _, text = await self._message(topic, payload, subject)
        await self._redis.publish(self._channel, text)
