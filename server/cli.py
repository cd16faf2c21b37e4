import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
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
    from services.errors import TroveError
    from storage.base import StorageError

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
    except StorageError as error:
        # The blob store's messages name no secret (storage/s3.py logs the details).
        raise click.ClickException(f"cannot use the blob store: {error}") from None
    except TroveError as error:
        raise click.ClickException(error.message) from None
    except (OSError, BaseORMException) as error:
        raise click.ClickException(
            f"cannot use the database at {_redacted(settings.resolved_database_url)}: {error}"
        ) from None


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


class _RequestIdDefault(logging.Filter):
    """Lines logged outside a request show `-` (server/edge.py sets the id inside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging, with the request id on its lines (the access line included)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["fmt"] = "%(levelprefix)s [%(request_id)s] %(message)s"
    config["formatters"]["access"]["fmt"] = (
        '%(levelprefix)s [%(request_id)s] %(client_addr)s - "%(request_line)s" %(status_code)s'
    )
    config["filters"] = {"request_id": {"()": _RequestIdDefault}}
    for handler in config["handlers"].values():
        handler["filters"] = ["request_id"]
    return config


@click.group()
def main() -> None:
    """Trove: an asset server for node-based AI and data workflows."""
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s [%(request_id)s]: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RequestIdDefault())


@main.command()
@click.option("--host", default=None, help="Interface to bind (TROVE_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (TROVE_PORT, default 8000).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="API processes sharing the port (TROVE_WORKERS, default 1).",
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the GraphQL API (migrations run first)."""
    import uvicorn

    from server.app import create_app
    from server.timeouts import PROTOCOL

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    settings.check_bind(host)
    if workers > 1 and settings.broker_kind == "inprocess":
        raise click.ClickException(
            "several API processes need a broker between them for live events: use "
            "PostgreSQL (TROVE_DATABASE_URL=postgres://...) or TROVE_BROKER_URL=redis://..."
        )
    # Migrating here first turns an unreachable database into one clear line, not a traceback.
    with_database(settings, _applied)
    click.echo(f"Trove on http://{host}:{port}/graphql (data in {settings.data_dir.resolve()})")
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level="info",
            http=PROTOCOL,
            limit_concurrency=settings.max_connections,
            log_config=uvicorn_log_config(),
        )
        return
    # Each worker process builds its app from the same environment.
    click.echo(f"{workers} API processes")
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        http=PROTOCOL,
        limit_concurrency=settings.max_connections,
        log_config=uvicorn_log_config(),
    )


@main.command()
@click.option(
    "--concurrency",
    default=None,
    type=click.IntRange(min=1),
    help="Jobs run at once (TROVE_WORKER_CONCURRENCY, default 4).",
)
def worker(concurrency: int | None) -> None:
    """Run queued jobs (TROVE_JOB_RUNNER=queue on PostgreSQL) until stopped."""
    import os
    import socket

    from execution.executor import Executor
    from execution.queue import QueueExecutor, ensure_queue_schema, make_queue, run_worker
    from server.app import build_services, hosting_jobs, sweep_expired

    settings = load_settings()
    if settings.dialect != "postgres":
        raise click.ClickException(
            "trove worker takes jobs from a queue in PostgreSQL: set TROVE_DATABASE_URL to "
            "postgres://... (and TROVE_JOB_RUNNER=queue for the API processes)"
        )
    concurrency = concurrency or settings.worker_concurrency

    async def work(_: list[str]) -> None:
        url = settings.resolved_database_url
        await ensure_queue_schema(url)
        services = build_services(settings, job_runner="inprocess")
        await services.broker.start()
        try:
            executor = services.jobs.executor
            assert isinstance(executor, Executor)
            # A job whose worker was lost and that has retries left goes back to the queue,
            # for whichever worker takes it next.
            requeue = QueueExecutor(services=lambda: services, database_url=url)
            await requeue.open()
            services.jobs.retry_executor = requeue
            # Workers sweep expired assets too: a deployment may scale its API processes down
            # to zero between bursts while its workers keep running.
            retention = asyncio.create_task(
                sweep_expired(services, settings.retention_interval_seconds), name="retention"
            )
            click.echo(f"trove worker {services.jobs.worker_id}: up to {concurrency} jobs at once")
            try:
                async with hosting_jobs(services, executor):
                    await run_worker(
                        executor=executor,
                        queue=make_queue(url),
                        concurrency=concurrency,
                        name=f"{socket.gethostname()}:{os.getpid()}",
                    )
            finally:
                retention.cancel()
                await asyncio.gather(retention, return_exceptions=True)
                await requeue.shutdown()
        finally:
            await services.broker.close()
            await services.assets.storage.close()

    with_database(settings, work)


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


@token.command("list")
@click.option("--user", "user_name", default=None, help="Only this user's tokens.")
def token_list(user_name: str | None) -> None:
    """List API tokens: id, user, creation time and a fingerprint (never the token)."""
    from services import users

    async def tokens(_: list[str]) -> list[users.TokenInfo]:
        return await users.list_tokens(user_name=user_name)

    found = with_database(load_settings(), tokens)
    if not found:
        click.echo("no tokens")
    for info in found:
        created = info.created_at.isoformat(timespec="seconds")
        click.echo(f"{info.id}  {info.user_name}  {created}  sha256:{info.fingerprint}")


@token.command("revoke")
@click.argument("token_or_id")
def token_revoke(token_or_id: str) -> None:
    """Revoke a token, named by its id (or a unique start of it) or by the token itself."""
    from services import users
    from services.errors import TroveError

    async def revoke(_: list[str]) -> users.TokenInfo:
        return await users.revoke_token(token_or_id=token_or_id)

    try:
        info = with_database(load_settings(), revoke)
    except TroveError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"revoked {info.id} ({info.user_name}); requests with it now get 401")


@main.command()
def secret() -> None:
    """Print a fresh random TROVE_SECRET_KEY (256 bits)."""
    import secrets

    click.echo(secrets.token_urlsafe(32))


@main.command()
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
def gc(dry_run: bool) -> None:
    """Delete expired assets (retention) and blobs no asset uses, then print a summary."""
    from server.app import build_services

    settings = load_settings()
    services = build_services(settings)

    async def collect(_: list[str]) -> tuple[int, int, int]:
        try:
            expired = await services.assets.delete_expired(dry_run=dry_run)
            blobs = 0 if dry_run else await services.assets.collect_garbage()
        finally:
            await services.assets.storage.close()
        return expired.assets, expired.bytes, blobs

    assets, size, blobs = with_database(settings, collect)
    if dry_run:
        click.echo(f"would delete {assets} expired assets ({size} bytes); nothing was deleted")
    else:
        click.echo(f"deleted {assets} expired assets ({size} bytes) and {blobs} unreferenced blobs")


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
    from services.assets import AssetFilter, AssetOrder
    from services.errors import TroveError
    from services.urls import asset_url

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

    # Links a user can open: on TROVE_PUBLIC_URL, or where `trove serve` listens.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = settings.public_url or f"http://{host}:{settings.port}"

    async def go(_: list[str]) -> tuple[Job, Any, list[tuple[Asset, str]]]:
        services = build_services(settings)
        owner = await users.get_or_create_user(name=user_name)
        await services.broker.start()
        try:
            job = await run_to_completion(
                services=services,
                owner=owner,
                graph=graph,
                params=params or None,
                job_id=job_id,
                on_event=show,
            )
            saved = services.assets.iter_assets(
                owner=owner,
                where=AssetFilter(job_id=job.public_id),
                order=AssetOrder.CREATED_AT_ASC,
            )
            assets = [(asset, asset_url(services.signer, base, asset.id)) async for asset in saved]
            outputs = await _outputs_with_links(job.outputs, services, owner, base)
        finally:
            await services.broker.close()
            await services.assets.storage.close()
        return job, outputs, assets

    try:
        job, outputs, assets = with_database(settings, go)
    except TroveError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Job {job.public_id}: {job.status}")
    if job.error:
        click.echo(f"Error: {job.error}", err=True)
    if outputs is not None:
        click.echo("Outputs: " + json.dumps(outputs, indent=2))
    click.echo(f"Saved assets: {len(assets)}")
    for asset, url in assets:
        click.echo(
            f"  {asset.id}  {asset.name}  {asset.content_type}  {asset.size} bytes  "
            f"node {asset.node_id}"
        )
        click.echo(f"    {url}")
    if job.status != "COMPLETED":
        sys.exit(1)


async def _outputs_with_links(outputs: Any, services: Any, owner: Any, base: str) -> Any:
    """Job outputs with an absolute, signed `url` for each asset the job's user owns."""
    from uuid import UUID

    from services.urls import asset_url

    ids: list[UUID] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("id"), str) and "contentType" in value:
                with contextlib.suppress(ValueError):
                    ids.append(UUID(value["id"]))
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(outputs)
    owned = await services.assets.get_many(owner_id=owner.id, ids=ids) if ids else {}
    owned_ids = {str(key) for key in owned}

    def link(value: Any) -> Any:
        if isinstance(value, dict):
            linked = {key: link(item) for key, item in value.items()}
            if value.get("id") in owned_ids and "contentType" in value:
                linked["url"] = asset_url(services.signer, base, value["id"])
            return linked
        if isinstance(value, list):
            return [link(item) for item in value]
        return value

    return link(outputs)


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
