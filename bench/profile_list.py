"""Where the list request's time goes: `python -m bench.profile_list [--rows N]`.

Prints the per-request time in-process (no network), the GraphQL engine's share alone (the
same rows from memory, no database), and the functions that cost the most."""

import argparse
import asyncio
import cProfile
import datetime as dt
import pstats
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

import models
from bench.__main__ import LIST_QUERY, SECRET, prepare_database
from bench.seed import seed_sqlite
from schema import build_schema
from schema.context import Context
from server.app import build_services, create_app
from server.settings import Settings
from services.pagination import Page


async def per_request_ms(client: httpx.AsyncClient, count: int) -> float:
    body = {"query": LIST_QUERY, "variables": {"jobId": "job-3"}}
    for _ in range(20):
        await client.post("/graphql", json=body)
    started = time.perf_counter()
    for _ in range(count):
        response = await client.post("/graphql", json=body)
        assert response.status_code == 200
    return (time.perf_counter() - started) / count * 1000


async def engine_only_ms(settings: Settings, count: int) -> float:
    schema = build_schema()
    services = build_services(settings)
    now = dt.datetime.now(dt.UTC)
    rows = [
        models.Asset(
            id=uuid.uuid4(),
            owner_id=uuid.uuid4(),
            name=f"render-{i}.png",
            content_type="image/png",
            size=1000,
            sha256="0" * 64,
            node_id="node-1",
            job_id="job-3",
            workflow_id="workflow-1",
            parent_id=None,
            metadata=None,
            created_at=now,
            updated_at=now,
        )
        for i in range(50)
    ]

    async def yes() -> bool:
        return True

    async def fifty() -> int:
        return 50

    page = Page(
        items=rows, cursors=["c"] * 50, has_next_page=yes, has_previous_page=yes, total_count=fifty
    )

    async def from_memory(**_: Any) -> Page[models.Asset]:
        return page

    services.assets.list_assets = from_memory  # type: ignore[method-assign]
    user = models.User(id=uuid.uuid4(), name="profile")

    async def run() -> None:
        context = Context(
            request=None,  # type: ignore[arg-type]
            response=None,
            authenticated_user=user,
            services=services,
            request_id="profile",
            base_url="http://x",
        )
        result = await schema.execute(
            LIST_QUERY, variable_values={"jobId": "job-3"}, context_value=context
        )
        assert not result.errors, result.errors

    for _ in range(20):
        await run()
    started = time.perf_counter()
    for _ in range(count):
        await run()
    return (time.perf_counter() - started) / count * 1000


async def main(rows: int, count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="trove-profile-") as tmp:
        data = Path(tmp)
        url = f"sqlite://{data / 'trove.db'}"
        owner = await prepare_database(url)
        seed_sqlite(data / "trove.db", owner, rows)
        settings = Settings(data_dir=data, database_url=url, secret_key=SECRET)
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                print(f"whole request, in-process: {await per_request_ms(client, count):.2f} ms")
                print(f"GraphQL engine alone:      {await engine_only_ms(settings, count):.2f} ms")
                profiler = cProfile.Profile()
                profiler.enable()
                await per_request_ms(client, count // 2)
                profiler.disable()
        print("\nmost expensive functions (own time, under the profiler):")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.requests))
