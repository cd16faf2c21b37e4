import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from execution.executor import Executor
from models import db
from schema import build_schema
from schema.validation import QueryLimits
from server.auth import Authenticator
from server.content import ContentRoutes
from server.edge import Admission, GraphQLErrors, RequestIds, respond_to
from server.graphiql import DEFAULT_NODE_MODULES, GraphiQLPage
from server.graphql import TroveGraphQL
from server.limits import BodySizeLimit
from server.part_uploads import PartUploadRoutes
from server.persisted_queries import PersistedQueryCache
from server.rest import RestRoutes
from server.settings import Settings
from server.timeouts import BodyTimeout
from server.web import DEFAULT_WEB_DIST, WebApp, web_content_sources, web_upload_sources
from services.archives import ArchiveService
from services.assets import AssetService
from services.events import EventBroker, InProcessBroker, prune_events
from services.jobs import JOB_CONTROL_TOPIC, JobExecutor, JobService
from services.runtime import Services
from services.signing import UrlSigner
from services.thumbnails import ThumbnailService
from services.uploads import UploadService
from services.workflows import GraphLimits, WorkflowService
from storage import open_storage
from storage.base import StorageError

logger = logging.getLogger("trove")

# What browser pages on TROVE_CORS_ORIGINS may send: the Apollo headers satisfy the CSRF rule.
CORS_HEADERS = (
    "Authorization",
    "Content-Type",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
)
# Let pages read what the content routes and the GraphQL errors tell them.
CORS_EXPOSED_HEADERS = (
    "Content-Range",
    "Content-Length",
    "ETag",
    "WWW-Authenticate",
    "X-Request-Id",
)


def open_broker(settings: Settings) -> EventBroker:
    kind = settings.broker_kind
    if kind == "postgres":
        from services.events.postgres import PostgresBroker

        return PostgresBroker(settings.resolved_database_url, channel=settings.broker_channel)
    if kind == "redis":
        from services.events.redis import RedisBroker

        return RedisBroker(settings.broker_url, channel=settings.broker_channel)
    return InProcessBroker()


def build_services(settings: Settings, *, job_runner: str | None = None) -> Services:
    """The services of one process; `job_runner` overrides TROVE_JOB_RUNNER (a worker
    process runs jobs in-process whatever the API processes do)."""
    # The reserve sits in the data directory, beside the SQLite database and the blobs.
    storage = open_storage(
        settings.storage_url,
        local_root=settings.storage_dir,
        s3=settings.s3_connection(),
        s3_timeout_seconds=settings.s3_timeout_seconds,
        reserve=settings.data_dir / ".reserve",
    )
    broker = open_broker(settings)
    workflows = WorkflowService(
        limits=GraphLimits(
            max_nodes=settings.max_graph_nodes,
            max_edges=settings.max_graph_edges,
            max_bytes=settings.max_graph_bytes,
        )
    )
    runner = job_runner or settings.job_runner
    # Injected into JobService now; it reads `services` only when a job starts.
    executor: JobExecutor
    if runner == "queue":
        from execution.queue import QueueExecutor

        executor = QueueExecutor(
            services=lambda: services, database_url=settings.resolved_database_url
        )
    else:
        executor = Executor(services=lambda: services)
    assets = AssetService(
        storage=storage,
        broker=broker,
        max_upload_bytes=settings.max_upload_bytes,
        max_concurrent_uploads=settings.max_concurrent_uploads,
    )
    signer = UrlSigner(settings.secret_key, settings.url_ttl_seconds)
    services = Services(
        assets=assets,
        workflows=workflows,
        jobs=JobService(
            broker=broker,
            workflows=workflows,
            executor=executor,
            lease_seconds=settings.job_lease_seconds,
            queued=runner == "queue",
        ),
        broker=broker,
        signer=signer,
        thumbnails=ThumbnailService(
            storage=storage,
            cache_dir=settings.data_dir / "cache" / "thumbnails",
            max_pixels=settings.thumbnail_max_pixels,
            max_concurrent=settings.thumbnail_concurrency,
        ),
        uploads=UploadService(
            assets=assets,
            # Part URLs are signed per upload: they must outlive the upload itself.
            signer=UrlSigner(settings.secret_key, settings.upload_ttl_seconds),
            ttl_seconds=settings.upload_ttl_seconds,
        ),
        archives=ArchiveService(assets=assets),
    )
    return services


async def _recover_storage(services: Services) -> None:
    """Clean up after processes that died; a store that cannot be used does not stop the
    server (metadata stays available, content answers 503 saying why until it works)."""
    try:
        await services.assets.recover_storage()
    except StorageError as error:
        logger.error(
            "the blob store cannot be used at start-up (%s); starting anyway: requests "
            "that need content answer 503 until it works",
            error,
        )


async def _collect_garbage(services: Services) -> None:
    try:
        removed = await services.assets.collect_garbage()
    except Exception:
        logger.exception("sweeping unreferenced blobs failed")
        return
    if removed:
        logger.info("removed %d unreferenced blobs", removed)


async def sweep_expired(services: Services, interval: float) -> None:
    """Retention, for as long as the process runs (API servers and `trove worker` alike):
    expired assets go the normal delete way."""
    while True:
        try:
            summary = await services.assets.delete_expired()
        except Exception:
            logger.exception("deleting expired assets failed")
        else:
            if summary.assets:
                logger.info(
                    "retention deleted %d expired assets (%d bytes)", summary.assets, summary.bytes
                )
        await asyncio.sleep(interval)


# How often each process forgets durable events older than TROVE_EVENT_RETENTION_SECONDS.
EVENT_PRUNE_INTERVAL_SECONDS = 600


async def _prune_events(settings: Settings, services: Services) -> None:
    while True:
        try:
            await prune_events(settings.event_retention_seconds)
            await services.uploads.sweep_expired()
        except Exception:
            logger.exception("pruning old events or expired uploads failed")
        await asyncio.sleep(EVENT_PRUNE_INTERVAL_SECONDS)


async def _hold_jobs(services: Services, executor: JobExecutor) -> None:
    """Heartbeats for the jobs this process runs; failing those whose holder is gone."""
    interval = services.jobs.lease_seconds / 3
    while True:
        await asyncio.sleep(interval)
        try:
            await services.jobs.heartbeat(executor.running_ids())
            failed = await services.jobs.fail_abandoned()
            if failed:
                logger.warning("failed %d jobs whose worker stopped", failed)
        except Exception:
            logger.exception("job heartbeat failed")


async def _job_control(services: Services) -> None:
    """Cancel requests from other processes for jobs this one runs."""
    async with services.broker.subscribe(JOB_CONTROL_TOPIC) as requests:
        async for request in requests:
            try:
                await services.jobs.on_control(request.payload)
            except Exception:
                logger.exception("handling a job control request failed")


@contextlib.asynccontextmanager
async def hosting_jobs(services: Services, executor: JobExecutor) -> AsyncIterator[None]:
    """While a process runs jobs: heartbeats, failing abandoned jobs, cancel requests."""
    leases = asyncio.create_task(_hold_jobs(services, executor), name="job leases")
    control = asyncio.create_task(_job_control(services), name="job control")
    try:
        yield
    finally:
        control.cancel()
        await asyncio.gather(control, return_exceptions=True)
        # Heartbeats go on while running jobs wind down.
        await executor.shutdown()
        leases.cancel()
        await asyncio.gather(leases, return_exceptions=True)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = build_services(settings)
    authenticator = Authenticator(mode=settings.auth)
    admission = Admission(authenticator)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = settings.resolved_database_url
        await db.connect(url)
        try:
            applied = await db.apply_migrations(url)
            if applied:
                logger.info("applied migrations: %s", ", ".join(applied))
            await authenticator.start()
            await services.broker.start()
            await _recover_storage(services)
            interrupted = await services.jobs.fail_abandoned()
            if interrupted:
                logger.warning("marked %d interrupted jobs as failed", interrupted)
            executor = services.jobs.executor
            opening = getattr(executor, "open", None)
            if opening is not None:
                await opening()  # The queue: its tables and connection pool.
            # Off the start-up path: a large store takes a while to walk.
            sweeper = asyncio.create_task(_collect_garbage(services), name="blob garbage")
            retention = asyncio.create_task(
                sweep_expired(services, settings.retention_interval_seconds), name="retention"
            )
            pruner = asyncio.create_task(_prune_events(settings, services), name="event pruning")
            try:
                async with hosting_jobs(services, executor):
                    yield
            finally:
                for task in (sweeper, pruner, retention):
                    task.cancel()
                await asyncio.gather(sweeper, pruner, retention, return_exceptions=True)
        finally:
            await services.broker.close()
            await services.assets.storage.close()
            await db.disconnect()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphiql = GraphiQLPage(
        auth_required=settings.auth != "none",
        node_modules=settings.node_modules or DEFAULT_NODE_MODULES,
    )
    graphiql.log_mode()
    web = WebApp(
        dist=settings.web_dist or DEFAULT_WEB_DIST,
        public_url=settings.public_url,
        auth_required=settings.auth != "none",
        content_sources=web_content_sources(settings),
        upload_sources=web_upload_sources(settings),
    )
    web.log_mode()
    graphql = TroveGraphQL(
        build_schema(
            limits=QueryLimits(
                max_depth=settings.query_depth_limit,
                max_aliases=settings.query_max_aliases,
                max_root_fields=settings.query_max_root_fields,
                max_tokens=settings.query_max_tokens,
                max_cost=settings.query_max_cost,
            ),
            extensions=[GraphQLErrors],
        ),
        services=services,
        admission=admission,
        settings=settings,
        graphiql=graphiql,
        persisted_queries=PersistedQueryCache(max_entries=settings.persisted_query_cache_size),
        multipart_uploads_enabled=True,
        # Browsers skip CORS for WebSockets; the same origins may open subscriptions.
        allowed_origins=settings.cors_origins,
    )
    content = ContentRoutes(
        services=services,
        admission=admission,
        presigned_downloads=settings.s3_presigned_downloads,
        presigned_ttl_seconds=settings.url_ttl_seconds,
    )
    rest = RestRoutes(services=services, admission=admission, settings=settings)
    middleware = [
        Middleware(BodyTimeout, seconds=settings.body_timeout),
        Middleware(BodySizeLimit, max_body_bytes=settings.max_upload_bytes),
    ]
    if settings.cors_origins:
        # Outermost, so refusals (401, 413) also carry the headers a page needs to read them.
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "PUT", "DELETE"],
                allow_headers=CORS_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
            ),
        )
    # Outermost of all: every response, refusals included, carries its request id.
    middleware.insert(0, Middleware(RequestIds))

    async def unexpected(request: Request, error: Exception) -> Response:
        return respond_to(request, error)

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *graphiql.routes(),
            *content.routes(),
            *PartUploadRoutes(services=services).routes(),
            *rest.routes(),
            *web.routes(),  # last: its history fallback takes any other GET for a page
        ],
        middleware=middleware,
        exception_handlers={Exception: unexpected},
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.settings = settings
    return app
