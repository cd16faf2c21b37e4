import asyncio
import logging
import sys

import click

from server.settings import Settings


@click.group()
def main() -> None:
    """Trove: an asset server for node-based AI and data workflows."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default=None, help="Interface to bind (TROVE_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (TROVE_PORT, default 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the GraphQL API (migrations run first)."""
    import uvicorn

    from server.app import create_app

    settings = Settings()
    host = host or settings.host
    port = port or settings.port
    settings.check_bind(host)
    click.echo(f"Trove on http://{host}:{port}/graphql (data in {settings.data_dir.resolve()})")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from models import db

    settings = Settings()

    async def run() -> list[str]:
        url = settings.resolved_database_url
        await db.connect(url)
        try:
            return await db.apply_migrations(url)
        finally:
            await db.disconnect()

    applied = asyncio.run(run())
    click.echo("applied: " + ", ".join(applied) if applied else "the database is up to date")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--user", "user_name", required=True, help="The user the token acts as.")
def token_create(user_name: str) -> None:
    """Create a user (if needed) and an API token for it; the token is the last line."""
    from models import db
    from services import users

    settings = Settings()

    async def run() -> str:
        url = settings.resolved_database_url
        await db.connect(url)
        try:
            await db.apply_migrations(url)
            user = await users.get_or_create_user(name=user_name)
            return await users.create_token(user=user)
        finally:
            await db.disconnect()

    created = asyncio.run(run())
    click.echo(f"Token for '{user_name}' (shown once; send as `Authorization: Bearer ...`):")
    click.echo(created)


@main.command()
def schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from schema import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")


@main.command()
@click.argument("name", default="update")
def makemigrations(name: str) -> None:
    """(Development) write the migration for model changes, for every SQL dialect."""
    from models.migrations import make_migrations

    for line in asyncio.run(make_migrations(name)):
        click.echo(line)


if __name__ == "__main__":
    main()
