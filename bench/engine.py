"""Each change of the list path against what it replaced, in-process, CPU time.

- `executor_ms`: `schema.execute` of the bench's list query over a page of 50 assets held
  in memory (no database, no HTTP), with the fast executor and with graphql-core's own.
- `records_ms`: fetching the page's 51 rows as light records with the statement compiled
  once per shape, as records with Tortoise compiling it each time, and as Tortoise models.

Alternating rounds, best round each; `time.process_time()` per call over many calls.
"""

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from services.records import AssetRecord


async def _best(
    rounds: int, requests: int, sides: Mapping[str, Callable[[], Awaitable[Any]]]
) -> dict[str, float]:
    """ms per call of each side: warmed, then alternating rounds, best round each."""
    best = dict.fromkeys(sides, float("inf"))
    for call in sides.values():
        for _ in range(20):
            await call()
    for _ in range(rounds):
        for name, call in sides.items():
            started = time.process_time()
            for _ in range(requests):
                await call()
            best[name] = min(best[name], (time.process_time() - started) / requests * 1000)
    return best


def memory_page(count: int = 50) -> list[AssetRecord]:
    """A page as the list path gets it: records of rows as SQLite hands them over."""
    now = dt.datetime.now(dt.UTC).isoformat()
    return [
        AssetRecord(
            {
                "id": str(uuid.uuid4()),
                "owner_id": str(uuid.uuid4()),
                "name": f"render-{i}.png",
                "content_type": "image/png",
                "size": 1000 + i,
                "sha256": "0" * 64,
                "node_id": "node-1",
                "job_id": "job-3",
                "workflow_id": "workflow-1",
                "parent_id": None,
                "metadata": None,
                "created_at": now,
                "updated_at": now,
                "tags": None,
                "media": None,
                "expires_at": None,
            }
        )
        for i in range(count)
    ]


def executor_ms(*, requests: int, rounds: int) -> tuple[float, float]:
    """(fast path, graphql-core) ms per `schema.execute` of the list query."""
    import models
    from bench.__main__ import LIST_QUERY, SECRET
    from schema import build_schema
    from schema.context import Context
    from server.app import build_services
    from server.settings import Settings
    from services.pagination import Page

    settings = Settings(data_dir=Path("/nonexistent-bench"), secret_key=SECRET)
    services = build_services(settings)
    rows = memory_page()

    async def yes() -> bool:
        return True

    async def fifty() -> int:
        return 50

    page = Page(
        items=rows,
        cursors=[f"c{i}" for i in range(50)],
        has_next_page=yes,
        has_previous_page=yes,
        total_count=fifty,
    )

    async def from_memory(**_: Any) -> Page[AssetRecord]:
        return page

    services.assets.list_records = from_memory  # type: ignore[method-assign]
    user = models.User(id=uuid.uuid4(), name="bench")

    def runner(fast: bool) -> Callable[[], Awaitable[None]]:
        schema = build_schema(fast_execution=fast)

        async def run() -> None:
            context = Context(
                request=None,  # type: ignore[arg-type]
                response=None,
                authenticated_user=user,
                services=services,
                request_id="bench",
                base_url="http://bench",
            )
            result = await schema.execute(
                LIST_QUERY, variable_values={"jobId": "job-3"}, context_value=context
            )
            assert not result.errors, result.errors

        return run

    best = asyncio.run(_best(rounds, requests, {"fast": runner(True), "normal": runner(False)}))
    return best["fast"], best["normal"]


def records_ms(data_dir: Path, *, requests: int, rounds: int) -> dict[str, float]:
    """ms per fetch of one page's 51 rows from SQLite: `compiled` (records, the statement
    compiled once for the shape: services/statements.py), `records` (records, Tortoise
    compiling the SQL each time) and `orm` (Tortoise models)."""
    from bench.__main__ import prepare_database
    from bench.seed import seed_sqlite
    from models import Asset, db
    from services.records import AssetRecord, fetch_asset_records
    from services.statements import StatementCache

    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite://{data_dir / 'trove.db'}"
    owner = asyncio.run(prepare_database(url))
    seed_sqlite(data_dir / "trove.db", owner, 5_000)

    def build(values: Any) -> Any:
        return Asset.filter(owner_id=values[0], job_id=values[1]).order_by("-id").limit(values[2])

    def query() -> Any:
        return build([owner, "job-3", 51])

    statements = StatementCache(Asset)

    async def compiled() -> None:
        rows = await statements.rows("page", build, [owner, "job-3", 51])
        assert len([AssetRecord(row) for row in rows]) == 50

    async def records() -> None:
        assert len(await fetch_asset_records(query())) == 50

    async def orm() -> None:
        assert len(await query()) == 50

    sides = {"compiled": compiled, "records": records, "orm": orm}

    # The ORM's connection belongs to the loop that opened it: measure on that loop.
    async def measure_here() -> dict[str, float]:
        await db.connect(url)
        try:
            return await _best(rounds, requests, sides)
        finally:
            await db.disconnect()

    return asyncio.run(measure_here())
