import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from execution.executor import Executor
from models import db
from schema import build_schema
from server.auth import Authenticator
from server.content import ContentRoutes
from server.graphql import TroveGraphQL
from server.limits import BodySizeLimit
from server.settings import Settings
from services.assets import AssetService
from services.events import InProcessBroker
from services.jobs import JobService
from services.runtime import Services
from services.signing import UrlSigner
from services.thumbnails import ThumbnailService
from services.workflows import WorkflowService
from storage import LocalBlobStorage

logger = logging.getLogger("trove")


def build_services(settings: Settings) -> Services:
    storage = LocalBlobStorage(settings.storage_dir)
    broker = InProcessBroker()
    workflows = WorkflowService()
    return Services(
        assets=AssetService(
            storage=storage, broker=broker, max_upload_bytes=settings.max_upload_bytes
        ),
        workflows=workflows,
        jobs=JobService(broker=broker, workflows=workflows),
        broker=broker,
        signer=UrlSigner(settings.secret_key, settings.url_ttl_seconds),
        thumbnails=ThumbnailService(
            storage=storage, cache_dir=settings.data_dir / "cache" / "thumbnails"
        ),
    )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = build_services(settings)
    authenticator = Authenticator(mode=settings.auth)

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
            executor = Executor(services=services)
            services.jobs.executor = executor
            try:
                yield
            finally:
                await executor.shutdown()
        finally:
            await db.disconnect()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = TroveGraphQL(
        build_schema(max_depth=settings.query_depth_limit),
        services=services,
        authenticator=authenticator,
        multipart_uploads_enabled=True,
    )
    content = ContentRoutes(services=services, authenticator=authenticator)
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *content.routes(),
        ],
        middleware=[Middleware(BodySizeLimit, max_body_bytes=settings.max_upload_bytes)],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.settings = settings
    return app
