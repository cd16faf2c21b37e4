"""Writing migrations: one aerich chain per dialect, generated offline from the models."""

from pathlib import Path

from aerich import Command
from aerich.migrate import Migrate
from tortoise import Tortoise

from models.db import APP, migrations_location, tortoise_config

# Offline generation never connects; these URLs only choose the SQL dialect.
DIALECT_URLS = {
    "sqlite": "sqlite://:memory:",
    "postgres": "postgres://postgres@127.0.0.1:5432/unused",
}


# aerich collects a migration's statements in class attributes and never clears them, so a
# second dialect generated in the same process would also get the first one's SQL.
_MIGRATE_STATE = (
    "upgrade_operators",
    "downgrade_operators",
    "_upgrade_fk_m2m_index_operators",
    "_downgrade_fk_m2m_index_operators",
    "_upgrade_m2m",
    "_downgrade_m2m",
)


async def pending_migration(url: str, location: str, name: str = "update") -> str:
    """Write the migration the models need beyond the chain at `location`; '' when none."""
    for attribute in _MIGRATE_STATE:
        setattr(Migrate, attribute, [])
    command = Command(tortoise_config=tortoise_config(url), app=APP, location=location)
    try:
        chain = Path(location) / APP
        if not chain.exists() or not any(chain.glob("*.py")):
            await command.init_migrations(safe=True)
            return "initial"
        await Tortoise.init(config=tortoise_config(url))
        await command.init(offline=True)
        return await command.migrate(name, no_input=True, offline=True)
    finally:
        await Tortoise.close_connections()


async def make_migrations(name: str) -> list[str]:
    results = []
    for dialect, url in DIALECT_URLS.items():
        written = await pending_migration(url, migrations_location(url), name)
        results.append(f"{dialect}: {written or 'no changes'}")
    return results
