"""The asset browser (web/): a single-page app built by `make install`, served at `/`.

Vite writes the build to web/dist: `index.html` plus files the page loads from `/app/...`
(hashed names under `/app/assets/`, so browsers may keep them). Any other GET that wants
HTML is one of the app's own routes (`/asset/ID`, `/jobs`...) and gets the index, which
routes in the browser. Without Node.js there is no build: `/` then says how to make one.
"""

import html
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from server.settings import Settings

logger = logging.getLogger("trove")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEB_DIST = ROOT / "web" / "dist"
APP_PATH = "/app"
# Paths the server answers itself: an unknown one there is a 404, never the app's index.
RESERVED_PREFIXES = ("/app/", "/api/", "/assets/", "/graphql", "/graphiql-assets/", "/healthz")

NOT_BUILT = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Trove</title>
    <link rel="icon" href="data:,">
  </head>
  <body>
    <h1>Trove is running</h1>
    <p>The asset browser is not built. Install Node.js 20.19 or newer with npm, then run
    <code>make install</code> in the Trove checkout and reload this page.</p>
    <p>Expected the build in <code>{dist}</code>.</p>
    <p>The GraphQL API works without it: open <a href="{graphql}">{graphql}</a>.</p>
  </body>
</html>
"""

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff"}


def _bucket_origin(settings: Settings) -> tuple[str, ...]:
    # Trove addresses buckets path-style (storage/s3.py), so presigned URLs live on the
    # endpoint's origin; AWS's default endpoint depends on the region: any https origin.
    endpoint = settings.s3_endpoint_url or os.environ.get("AWS_ENDPOINT_URL", "")
    return (endpoint,) if endpoint else ("https:",)


def web_content_sources(settings: Settings) -> tuple[str, ...]:
    """Origins the page may load content from besides its own (see WebApp.content_sources)."""
    return _bucket_origin(settings) if settings.s3_presigned_downloads else ()


def web_upload_sources(settings: Settings) -> tuple[str, ...]:
    """Origins the page PUTs direct-upload parts to besides its own (WebApp.upload_sources)."""
    return _bucket_origin(settings) if settings.uses_s3 else ()


def _origins(urls: tuple[str, ...]) -> list[str]:
    origins = []
    for url in urls:
        if not url:
            continue
        parts = urlsplit(url)
        origins.append(f"{parts.scheme}://{parts.netloc}" if parts.netloc else url)
    return origins


@dataclass(frozen=True)
class WebApp:
    dist: Path = DEFAULT_WEB_DIST
    # TROVE_PUBLIC_URL: content links point there, so the page may load media from it.
    public_url: str = ""
    # TROVE_AUTH=token: the page asks for a token before its first request, not after a 401.
    auth_required: bool = False
    # Where else content may come from: with presigned downloads, content links redirect
    # to the object store (its origin, or any https origin when it is not configured).
    content_sources: tuple[str, ...] = ()
    # Where direct-upload parts go: on S3 the page PUTs them to presigned bucket URLs; on
    # local storage to Trove's own part URLs (same origin).
    upload_sources: tuple[str, ...] = ()

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    def log_mode(self) -> None:
        if self.built:
            logger.info("asset browser served at / from %s", self.dist)
        else:
            logger.warning(
                "the asset browser is not built in %s (run `make install` with Node.js 20.19+): "
                "GET / explains how to build it",
                self.dist,
            )

    def policy(self, request: Request) -> str:
        """The app runs no inline script or style, so the page may be locked down."""
        socket = f"{'wss' if request.url.scheme == 'https' else 'ws'}://{request.url.netloc}"
        media = " ".join(["'self'", *self._content_origins()])
        connect = " ".join(dict.fromkeys([*media.split(" "), *self._upload_origins(), socket]))
        return (
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src {media} data: blob:; media-src {media} blob:; frame-src {media}; "
            f"connect-src {connect}; font-src 'self'; manifest-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
        )

    def _content_origins(self) -> list[str]:
        return _origins((self.public_url, *self.content_sources))

    def _upload_origins(self) -> list[str]:
        return _origins(self.upload_sources)

    async def index(self, request: Request) -> Response:
        if not self.built:
            prefix = request.scope.get("root_path", "")
            page = NOT_BUILT.format(
                dist=html.escape(str(self.dist)), graphql=html.escape(prefix + "/graphql")
            )
            return HTMLResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
        page = (self.dist / "index.html").read_text()
        # A <meta> is data, not code: the strict policy allows it, unlike an inline script.
        mode = "token" if self.auth_required else "none"
        page = page.replace("</head>", f'  <meta name="trove-auth" content="{mode}">\n  </head>', 1)
        return HTMLResponse(
            page,
            headers={
                **SECURITY_HEADERS,
                "Content-Security-Policy": self.policy(request),
                "Cache-Control": "no-cache",
                "Referrer-Policy": "same-origin",
            },
        )

    async def file(self, request: Request) -> Response:
        name = request.path_params["path"]
        root = self.dist.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.name == "index.html":
            return JSONResponse({"error": f"No file '{name}'", "code": "NOT_FOUND"}, 404)
        # Vite names what it emits under assets/ by content hash: they never change.
        cache = "public, max-age=31536000, immutable" if name.startswith("assets/") else "no-cache"
        return FileResponse(path, headers={**SECURITY_HEADERS, "Cache-Control": cache})

    async def fallback(self, request: Request) -> Response:
        path = request.url.path
        wants_html = "text/html" in request.headers.get("accept", "")
        if path.startswith(RESERVED_PREFIXES) or not wants_html:
            return JSONResponse({"error": f"Not found: {path}", "code": "NOT_FOUND"}, 404)
        return await self.index(request)

    def routes(self) -> list[Route]:
        """Last in the route table: the fallback takes whatever nothing else did."""
        return [
            Route("/", self.index, methods=["GET", "HEAD"]),
            Route(APP_PATH + "/{path:path}", self.file, methods=["GET", "HEAD"]),
            Route("/{path:path}", self.fallback, methods=["GET", "HEAD"]),
        ]
