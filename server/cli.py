import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import click
from pydantic import ValidationError

from server.settings import Settings


def load_settings() -> Settings:
    """Settings from the environment, or a clear message naming each bad variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            field = "_".join(str(part) for part in detail["loc"])
            name = f"TROVE_{field.upper()}" if field else "settings"
            problems.append(f"  {name}: {detail['msg'].removeprefix('Value error, ')}")
        raise click.ClickException("invalid configuration:\n" + "\n".join(problems)) from None


T = TypeVar("T")


async def _applied(applied: list[str]) -> list[str]:
    return applied


def with_database(settings: Settings, work: Callable[[list[str]], Awaitable[T]]) -> T:
    """Connect, apply pending migrations, then run `work` (given the migrations applied)."""
    from tortoise.exceptions import BaseORMException

    from models import db

    async def run() -> T:
        url = settings.resolved_database_url
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await db.connect(url)
        try:
            return await work(await db.apply_migrations(url))
        finally:
            await db.disconnect()

    try:
        return asyncio.run(run())
    except (OSError, BaseORMException) as error:
        raise click.ClickException(
            f"cannot use the database at {_redacted(settings.resolved_database_url)}: {error}"
        ) from None


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


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

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    settings.check_bind(host)
    # Migrating here first turns an unreachable database into one clear line, not a traceback.
    with_database(settings, _applied)
    click.echo(f"Trove on http://{host}:{port}/graphql (data in {settings.data_dir.resolve()})")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""

    applied = with_database(load_settings(), _applied)
    click.echo("applied: " + ", ".join(applied) if applied else "the database is up to date")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--user", "user_name", required=True, help="The user the token acts as.")
def token_create(user_name: str) -> None:
    """Create a user (if needed) and an API token for it; the token is the last line."""
    from services import users

    async def create(_: list[str]) -> str:
        user = await users.get_or_create_user(name=user_name)
        return await users.create_token(user=user)

    created = with_database(load_settings(), create)
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


def _parse_params(raw: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--param")
        params[name] = value
    return params


@main.command("run")
@click.argument("workflow_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--param",
    "raw_params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value for an input node, by its name or node id (repeatable).",
)
@click.option("--user", "user_name", default="local", show_default=True, help="Who owns the job.")
@click.option("--job-id", default=None, help="Choose the job id (it must be unused).")
def run_workflow(
    workflow_file: str, raw_params: tuple[str, ...], user_name: str, job_id: str | None
) -> None:
    """Run a workflow graph from a JSON file in this process, saving into the configured store.

    The file holds {nodes, edges}, or a stored workflow's {name, graph}.
    """
    import json
    from pathlib import Path

    from execution.local import run_to_completion
    from execution.runner import NodeEvent
    from models import Asset, Job
    from server.app import build_services
    from services import users
    from services.errors import TroveError

    try:
        document = json.loads(Path(workflow_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise click.ClickException(f"{workflow_file} is not a JSON file: {error}") from error
    graph = document.get("graph", document) if isinstance(document, dict) else document
    total = len(graph.get("nodes") or []) if isinstance(graph, dict) else 0
    params = _parse_params(raw_params)
    settings = load_settings()
    finished: list[str] = []

    def show(event: NodeEvent) -> None:
        label = f"{event.node_id} ({event.node_type})"
        saved = f", saved {len(event.asset_ids)} asset(s)" if event.asset_ids else ""
        if event.status == "completed":
            finished.append(event.node_id)
            click.echo(f"[{len(finished)}/{total}] done    {label}{saved}")
        elif event.status == "emitted":
            click.echo(f"        emitted {label}{saved}")
        elif event.status == "failed":
            click.echo(f"[{len(finished)}/{total}] FAILED  {label}: {event.error}", err=True)

    async def go(_: list[str]) -> tuple[Job, list[Asset]]:
        services = build_services(settings)
        owner = await users.get_or_create_user(name=user_name)
        job = await run_to_completion(
            services=services,
            owner=owner,
            graph=graph,
            params=params or None,
            job_id=job_id,
            on_event=show,
        )
        assets: list[Asset] = []
        cursor = None
        while True:
            page, cursor = await services.assets.paginate(
                user_id=owner.id, job_id=job.id, cursor=cursor
            )
            assets.extend(page)
            if cursor is None:
                break
        return job, assets

    try:
        job, assets = with_database(settings, go)
    except TroveError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Job {job.id}: {job.status}")
    if job.error:
        click.echo(f"Error: {job.error}", err=True)
    if job.outputs is not None:
        click.echo("Outputs: " + json.dumps(job.outputs, indent=2))
    click.echo(f"Saved assets: {len(assets)}")
    for asset in reversed(assets):
        click.echo(
            f"  {asset.id}  {asset.name}  {asset.content_type}  {asset.size} bytes  "
            f"node {asset.node_id}"
        )
    if job.status != "COMPLETED":
        sys.exit(1)


@main.command("nodes")
@click.option("--json", "as_json", is_flag=True, help="Print the node types as JSON.")
@click.option(
    "--markdown", "as_markdown", is_flag=True, help="Print the node reference (docs/nodes.md)."
)
def list_nodes(as_json: bool, as_markdown: bool) -> None:
    """List the node types workflows can use (built-in and from installed packages)."""
    import dataclasses
    import json

    from execution.registry import NodeRegistry

    registry = NodeRegistry.discover()
    infos = registry.infos()
    if as_markdown:
        from execution.reference import markdown

        click.echo(markdown(infos), nl=False)
    elif as_json:
        click.echo(json.dumps([dataclasses.asdict(info) for info in infos], indent=2))
    else:
        for info in infos:
            flag = " [auto-save]" if info.auto_save_asset else ""
            click.echo(f"{info.type}{flag}: {info.title}")
            for prop in info.inputs:
                required = " (required)" if prop.required else f" = {json.dumps(prop.default)}"
                click.echo(f"    in  {prop.name}: {prop.type}{required}")
            for prop in info.outputs:
                click.echo(f"    out {prop.name}: {prop.type}")
    for error in registry.errors:
        click.echo(f"could not load: {error}", err=True)


if __name__ == "__main__":
    main()
