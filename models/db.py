"""Database connection set-up and the aerich migration chains (one per SQL dialect)."""

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aerich import Command
from tortoise import Tortoise

MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "migrations"
APP = "models"
SQLITE_PRAGMAS = {
    # Concurrent uploads wait for the write lock instead of failing with "database is locked".
    "busy_timeout": "30000",
    "synchronous": "NORMAL",
}


def dialect_of(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in {"postgres", "postgresql", "asyncpg"}:
        return "postgres"
    raise ValueError(f"Unsupported database URL scheme '{scheme}' (use sqlite:// or postgres://)")


def _with_sqlite_pragmas(url: str) -> str:
    parts = urlsplit(url)
    query = dict(SQLITE_PRAGMAS) | dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode(query)))


def tortoise_config(url: str) -> dict[str, Any]:
    dialect = dialect_of(url)
    if dialect == "sqlite":
        url = _with_sqlite_pragmas(url)
    # Tortoise caches INSERT statements by connection name, so a process that opens both
    # dialects (the test suite) must not reuse one name for both.
    return {
        "connections": {dialect: url},
        "apps": {APP: {"models": ["models", "aerich.models"], "default_connection": dialect}},
        "use_tz": True,
        "timezone": "UTC",
    }


def migrations_location(url: str) -> str:
    return str(MIGRATIONS_ROOT / dialect_of(url))


async def connect(url: str, *, create_db: bool = False) -> None:
    """Open the ORM for the whole process (requests run in other tasks than start-up)."""
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://").split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(
        config=tortoise_config(url), _create_db=create_db, _enable_global_fallback=True
    )


async def apply_migrations(url: str) -> list[str]:
    """Bring the connected database up to the newest migration of its dialect."""
    command = Command(
        tortoise_config=tortoise_config(url), app=APP, location=migrations_location(url)
    )
    await command.init()
    return await command.upgrade(run_in_transaction=True)


async def disconnect() -> None:
    await Tortoise.close_connections()
