"""Filling a database with many assets quickly, straight through the driver.

Rows are what the service would write (UUIDv7 ids, owner, tracking ids); the bytes behind
them are not needed to list them."""

import datetime as dt
import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from uuid_utils.compat import uuid7

COLUMNS = (
    "id",
    "owner_id",
    "name",
    "content_type",
    "size",
    "sha256",
    "node_id",
    "job_id",
    "workflow_id",
    "parent_id",
    "metadata",
    "created_at",
    "updated_at",
)


def asset_rows(
    owner_id: uuid.UUID, count: int, *, jobs: int = 100, nodes: int = 20, workflows: int = 10
) -> Iterator[tuple[object, ...]]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(count):
        created = start + dt.timedelta(milliseconds=i)
        yield (
            uuid7(),
            owner_id,
            f"render-{i:07d}.png",
            "image/png" if i % 4 else "text/plain",
            1000 + (i * 7919) % 100_000,
            hashlib.sha256(str(i).encode()).hexdigest(),
            f"node-{i % nodes}",
            f"job-{i % jobs}",
            f"workflow-{i % workflows}",
            None,
            None,
            created,
            created,
        )


def seed_sqlite(path: Path, owner_id: uuid.UUID, count: int, **shape: int) -> None:
    connection = sqlite3.connect(path)
    try:
        placeholders = ",".join("?" * len(COLUMNS))
        rows = (
            (
                *(str(v) if isinstance(v, uuid.UUID) else v for v in row[:11]),
                str(row[11]),
                str(row[12]),
            )
            for row in asset_rows(owner_id, count, **shape)
        )
        connection.executemany(
            f"INSERT INTO assets ({','.join(COLUMNS)}) VALUES ({placeholders})", rows
        )
        connection.commit()
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def seed_postgres(url: str, owner_id: uuid.UUID, count: int, **shape: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table(
            "assets", records=asset_rows(owner_id, count, **shape), columns=COLUMNS
        )
        await connection.execute("ANALYZE assets")
    finally:
        await connection.close()
