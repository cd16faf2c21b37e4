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
from server.persisted_queries import PersistedQueryCache
from server.rest import RestRoutes
from server.settings import Settings
from server.web import DEFAULT_WEB_DIST, WebApp
from services.assets import AssetService
from services.events import InProcessBroker
from services.jobs import JobService
from services.runtime import Services
from services.signing import UrlSigner
from services.thumbnails import ThumbnailService
from services.workflows import WorkflowService
from storage import LocalBlobStorage

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


def build_services(settings: Settings) -> Services:
    storage = LocalBlobStorage(settings.storage_dir)
    broker = InProcessBroker()
    workflows = WorkflowService()
    # Injected into JobService now; it reads `services` only when a job starts.
    executor = Executor(services=lambda: services)
    services = Services(
        assets=AssetService(
            storage=storage, broker=broker, max_upload_bytes=settings.max_upload_bytes
        ),
        workflows=workflows,
        jobs=JobService(broker=broker, workflows=workflows, executor=executor),
        broker=broker,
        signer=UrlSigner(settings.secret_key, settings.url_ttl_seconds),
        thumbnails=ThumbnailService(
            storage=storage,
            cache_dir=settings.data_dir / "cache" / "thumbnails",
            max_pixels=settings.thumbnail_max_pixels,
            max_concurrent=settings.thumbnail_concurrency,
        ),
    )
    return services


async def _collect_garbage(services: Services) -> None:
    try:
        removed = await services.assets.collect_garbage()
    except Exception:
        logger.exception("sweeping unreferenced blobs failed")
        return
    if removed:
        logger.info("removed %d unreferenced blobs", removed)


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
            await services.assets.recover_storage()
            interrupted = await services.jobs.fail_interrupted()
            if interrupted:
                logger.warning("marked %d interrupted jobs as failed", interrupted)
            # Off the start-up path: a large store takes a while to walk.
            sweeper = asyncio.create_task(_collect_garbage(services), name="blob garbage")
            try:
                yield
            finally:
                sweeper.cancel()
                await asyncio.gather(sweeper, return_exceptions=True)
                await services.jobs.executor.shutdown()
        finally:
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
    content = ContentRoutes(services=services, admission=admission)
    rest = RestRoutes(services=services, admission=admission, settings=settings)
    middleware = [Middleware(BodySizeLimit, max_body_bytes=settings.max_upload_bytes)]
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
