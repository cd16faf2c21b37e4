"""Live events within and across processes: in-process, PostgreSQL LISTEN/NOTIFY and Redis
pub/sub, with catch-up from the events table after a reconnect.

Two broker objects stand for two processes: each has its own listener connection and its
own subscribers, and shares only the database (and Redis) with the other.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from models import Event, User
from server.settings import Settings
from services.assets import AssetFilter
from services.events import BrokerEvent, EventBroker, EventHistoryGone, InProcessBroker
from services.events import prune_events as prune
from services.events.postgres import PostgresBroker
from services.events.redis import RedisBroker
from tests.conftest import (
    TroveClient,
    _in_ci,
    create_postgres_database,
    drop_postgres_database,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


async def next_event(events: AsyncIterator[BrokerEvent], seconds: float = 5) -> BrokerEvent:
    return await asyncio.wait_for(anext(events), seconds)


async def nothing_more(events: AsyncIterator[BrokerEvent]) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(events), 0.3)


@pytest.fixture
def redis_url() -> str:
    import redis as sync_redis

    client = sync_redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (OSError, sync_redis.RedisError) as error:
        if _in_ci():
            pytest.fail(f"Redis is required in CI but unreachable: {error}")
        pytest.skip(f"Redis unreachable: {error}")
    finally:
        client.close()
    return REDIS_URL


@contextlib.asynccontextmanager
async def two_processes(kind: str, database_url: str, channel: str) -> AsyncIterator[Any]:
    brokers: list[EventBroker]
    if kind == "postgres":
        brokers = [PostgresBroker(database_url, channel=channel) for _ in range(2)]
    else:
        brokers = [RedisBroker(REDIS_URL, channel=channel) for _ in range(2)]
    for broker in brokers:
        await broker.start()
    try:
        yield brokers
    finally:
        for broker in brokers:
            await broker.close()


@pytest.fixture(params=["postgres", "redis-on-sqlite", "redis-on-postgres"])
async def cross_process(
    request: pytest.FixtureRequest, app_factory: Any, tmp_path: Path
) -> AsyncIterator[Any]:
    """Two brokers of one kind over the test's own database."""
    kind, _, database = request.param.partition("-on-")
    if kind == "redis":
        request.getfixturevalue("redis_url")
    if (database or kind) == "postgres":
        database_url = await create_postgres_database()
    else:
        database_url = f"sqlite://{tmp_path / 'trove.db'}"
    try:
        async with (
            app_factory(database_url),
            two_processes(kind, database_url, f"trove_test_{uuid.uuid4().hex[:8]}") as brokers,
        ):
            yield brokers
    finally:
        if database_url.startswith("postgres"):
            await drop_postgres_database(database_url)


async def test_an_event_reaches_every_process_exactly_once(cross_process: Any) -> None:
    a, b = cross_process
    async with a.subscribe("t") as on_a, b.subscribe("t") as on_b, b.subscribe("other") as other:
        await a.publish("t", {"id": "1"}, subject="1")
        await b.publish("t", {"id": "2"})
        for events in (on_a, on_b):
            first, second = await next_event(events), await next_event(events)
            assert (first.payload, second.payload) == ({"id": "1"}, {"id": "2"})
            assert first.id is not None and second.id is None  # durable, then transient
            await nothing_more(events)
        await nothing_more(other)


async def test_large_payloads_travel_by_reference(cross_process: Any) -> None:
    a, b = cross_process
    big = {"error": "x" * 20_000}
    async with b.subscribe("t") as on_b:
        await a.publish("t", big)
        assert (await next_event(on_b)).payload == big


async def test_a_reconnecting_subscriber_catches_up(cross_process: Any) -> None:
    a, b = cross_process
    await a.publish("t", {"id": "1"}, subject="1")
    # The subscriber saw event 1, then lost its connection while 2 and 3 were published.
    await a.publish("t", {"id": "2"}, subject="2")
    await a.publish("t", {"id": "3"}, subject="3")
    async with b.subscribe("t", after_subject="1") as events:
        assert (await next_event(events)).payload == {"id": "2"}
        assert (await next_event(events)).payload == {"id": "3"}
        await a.publish("t", {"id": "4"}, subject="4")
        assert (await next_event(events)).payload == {"id": "4"}
        await nothing_more(events)


async def test_a_listener_that_lost_its_connection_replays_what_it_missed(
    cross_process: Any,
) -> None:
    a, b = cross_process
    async with b.subscribe("t") as events:
        await a.publish("t", {"id": "1"}, subject="1")
        assert (await next_event(events)).payload == {"id": "1"}
        # Cut b's listener connection from the server side, then publish while it is away.
        await _cut_listener(b)
        await a.publish("t", {"id": "2"}, subject="2")
        assert (await next_event(events, seconds=10)).payload == {"id": "2"}
        await nothing_more(events)


async def _cut_listener(broker: Any) -> None:
    if isinstance(broker, PostgresBroker):
        from tortoise import connections

        backend = connections.get("postgres")
        await backend.execute_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
    else:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        try:
            for entry in await client.client_list(_type="pubsub"):
                await client.client_kill_filter(_id=entry["id"])
        finally:
            await client.aclose()
    await asyncio.sleep(0.2)


async def test_catch_up_from_a_forgotten_event_is_refused(client: TroveClient) -> None:
    broker = InProcessBroker()
    with pytest.raises(EventHistoryGone):
        async with broker.subscribe("t", after_subject="never-published"):
            pass


async def test_old_events_are_pruned(client: TroveClient) -> None:
    broker = InProcessBroker()
    await broker.publish("t", {"id": "old"}, subject="old")
    await broker.publish("t", {"id": "new"}, subject="new")
    await Event.filter(subject="old").update(created_at=datetime.now(UTC) - timedelta(days=2))
    assert await prune(24 * 3600) == 1
    assert await Event.filter(topic="t").values_list("subject", flat=True) == ["new"]


async def test_asset_created_resumes_after_the_last_asset_seen(client: TroveClient) -> None:
    services = client.services
    owner = await User.get(name="local")

    async def content(text: bytes) -> AsyncIterator[bytes]:
        yield text

    seen = await services.assets.create_asset(owner=owner, content=content(b"1"), name="1")
    missed = await services.assets.create_asset(owner=owner, content=content(b"2"), name="2")
    stream = services.assets.created(owner=owner, where=AssetFilter(), after=str(seen.id))
    assert (await asyncio.wait_for(anext(stream), 5)).id == missed.id
    live = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.1)
    created = await services.assets.create_asset(owner=owner, content=content(b"3"), name="3")
    assert (await asyncio.wait_for(live, 5)).id == created.id
    await stream.aclose()


def test_broker_selection() -> None:
    assert Settings(database_url="sqlite:///x.db").broker_kind == "inprocess"
    assert Settings(database_url="postgres://u@h/db").broker_kind == "postgres"
    assert Settings(database_url="postgres://u@h/db", broker_url="inprocess").broker_kind == (
        "inprocess"
    )
    assert Settings(broker_url="redis://127.0.0.1:6379/0").broker_kind == "redis"
    with pytest.raises(ValueError, match="needs a PostgreSQL"):
        Settings(database_url="sqlite:///x.db", broker_url="postgres")
    with pytest.raises(ValueError, match="redis://"):
        Settings(broker_url="kafka://somewhere")
