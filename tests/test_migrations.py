"""The aerich chains: each builds the models' schema from empty, and none lags the models."""

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise

from models import db
from models.migrations import DIALECT_URLS, pending_migration
from tests.conftest import create_postgres_database, drop_postgres_database

Schema = dict[str, Any]
IGNORED_TABLES = {"aerich", "sqlite_sequence"}


def sqlite_schema(path: Path) -> Schema:
    connection = sqlite3.connect(path)
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        result: Schema = {}
        for table in sorted(set(tables) - IGNORED_TABLES):
            columns = {
                name: {"nullable": not notnull, "pk": bool(pk)}
                for _, name, _type, notnull, _default, pk in connection.execute(
                    f'PRAGMA table_info("{table}")'
                )
            }
            indexes = set()
            for _, name, unique, origin, _partial in connection.execute(
                f'PRAGMA index_list("{table}")'
            ):
                if origin == "pk":
                    continue
                cols = tuple(r[2] for r in connection.execute(f'PRAGMA index_info("{name}")'))
                indexes.add((cols, bool(unique)))
            result[table] = {"columns": columns, "indexes": indexes}
        return result
    finally:
        connection.close()


async def postgres_schema(url: str) -> Schema:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        pks = await connection.fetch(
            "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name "
            "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public'"
        )
        pk_set = {(r["table_name"], r["column_name"]) for r in pks}
        indexes = await connection.fetch(
            "SELECT t.relname AS table_name, i.indisunique AS is_unique, i.indisprimary AS is_pk, "
            "array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) AS cols "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_namespace ns ON ns.oid = t.relnamespace "
            "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam "
            # GIN indexes exist only in the PostgreSQL chain (the models cannot declare them).
            "WHERE ns.nspname = 'public' AND am.amname = 'btree'"
        )
    finally:
        await connection.close()
    result: Schema = {}
    for row in rows:
        if row["table_name"] in IGNORED_TABLES:
            continue
        table = result.setdefault(row["table_name"], {"columns": {}, "indexes": set()})
        table["columns"][row["column_name"]] = {
            "nullable": row["is_nullable"] == "YES",
            "pk": (row["table_name"], row["column_name"]) in pk_set,
        }
    for row in indexes:
        if row["table_name"] in IGNORED_TABLES or row["is_pk"]:
            continue
        result[row["table_name"]]["indexes"].add((tuple(row["cols"]), bool(row["is_unique"])))
    return result


async def gin_indexes(url: str) -> set[tuple[str, str]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT tablename, indexname FROM pg_indexes "
            "WHERE schemaname = 'public' AND indexdef LIKE '%USING gin%'"
        )
    finally:
        await connection.close()
    return {(r["tablename"], r["indexname"]) for r in rows}


async def migrate(url: str) -> list[str]:
    await db.connect(url)
    try:
        return await db.apply_migrations(url)
    finally:
        await db.disconnect()


async def generate_from_models(url: str) -> None:
    await Tortoise.init(config=db.tortoise_config(url))
    try:
        await Tortoise.generate_schemas(safe=False)
    finally:
        await Tortoise.close_connections()


async def test_both_chains_build_the_models_schema_from_empty(tmp_path: Path) -> None:
    sqlite_url = f"sqlite://{tmp_path / 'chain.db'}"
    applied = await migrate(sqlite_url)
    assert applied, "the SQLite chain applied nothing"
    assert await migrate(sqlite_url) == [], "a second run must be a no-op"
    from_chain_sqlite = sqlite_schema(tmp_path / "chain.db")

    await generate_from_models(f"sqlite://{tmp_path / 'models.db'}")
    assert from_chain_sqlite == sqlite_schema(tmp_path / "models.db")

    chain_pg, models_pg = await create_postgres_database(), await create_postgres_database()
    try:
        assert await migrate(chain_pg)
        await generate_from_models(models_pg)
        from_chain_pg = await postgres_schema(chain_pg)
        assert await gin_indexes(chain_pg) == {("assets", "ix_assets_metadata_gin")}
        assert from_chain_pg == await postgres_schema(models_pg)
    finally:
        await drop_postgres_database(chain_pg)
        await drop_postgres_database(models_pg)

    # The two dialects describe one schema: same tables, columns, nullability and indexes.
    assert from_chain_pg == from_chain_sqlite


async def test_no_model_change_lacks_a_migration(tmp_path: Path) -> None:
    for dialect, url in DIALECT_URLS.items():
        chain = tmp_path / dialect
        shutil.copytree(db.MIGRATIONS_ROOT / dialect, chain)
        written = await pending_migration(url, str(chain), "missing")
        assert written == "", (
            f"the models differ from the {dialect} chain: run `trove makemigrations <name>`"
        )
