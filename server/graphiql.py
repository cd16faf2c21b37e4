"""GraphiQL for browsers that open /graphql, served from this server so it works offline.

`make install` installs the pinned GraphiQL build from npm (package-lock.json) into
node_modules; without Node.js the page falls back to strawberry's, which loads GraphiQL
from a CDN and so needs internet.
"""

import hashlib
import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html

logger = logging.getLogger("trove")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NODE_MODULES = ROOT / "node_modules"
STATIC = Path(__file__).resolve().parent / "static"
ASSETS_PATH = "/graphiql-assets"

# URL name -> file inside node_modules. Only these are served: node_modules holds far more.
NPM_ASSETS = {
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
}
OWN_ASSETS = {"trove-graphiql.js": STATIC / "graphiql.js"}

DEFAULT_QUERY = """\
# Welcome to Trove.
# Run this query with Ctrl-Enter or the run button.
#
# With TROVE_AUTH=token, put your token in the
# Headers tab below:
#   {"Authorization": "Bearer trove_..."}
# (create one with `trove token create --user NAME`)

query RecentAssets {
  assets(first: 10) {
    totalCount
    nodes {
      id
      name
      contentType
      size
      createdAt
      url
    }
  }
}
"""
TOKEN_HEADERS = '{\n  "Authorization": "Bearer PASTE_YOUR_TOKEN_HERE"\n}'

PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Trove GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{assets}/graphiql.min.css?v={key}">
    <style>
      body {{ margin: 0; height: 100vh; overflow: hidden; }}
      #graphiql {{ height: 100vh; }}
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL...</div>
    <script id="trove-config" type="application/json">{config}</script>
    <script src="{assets}/react.production.min.js?v={key}"></script>
    <script src="{assets}/react-dom.production.min.js?v={key}"></script>
    <script src="{assets}/graphiql.min.js?v={key}"></script>
    <script src="{assets}/trove-graphiql.js?v={key}"></script>
  </body>
</html>
"""


def _script_json(value: object) -> str:
    # Inside <script>, "</" would end the element early whatever the JSON says.
    return json.dumps(value).replace("</", "<\\/")


@dataclass(frozen=True)
class GraphiQLPage:
    auth_required: bool
    node_modules: Path = DEFAULT_NODE_MODULES

    @property
    def offline(self) -> bool:
        return all((self.node_modules / path).is_file() for path in NPM_ASSETS.values())

    @property
    def version(self) -> str:
        package = json.loads((self.node_modules / "graphiql" / "package.json").read_text())
        return str(package["version"])

    @property
    def cache_key(self) -> str:
        """Changes whenever npm installs other files or our script changes, so browsers
        fetch them again; until then they may keep them."""
        digest = hashlib.sha256()
        for path in (self.node_modules / ".package-lock.json", *OWN_ASSETS.values()):
            digest.update(path.read_bytes() if path.is_file() else self.version.encode())
        return digest.hexdigest()[:12]

    def log_mode(self) -> None:
        if self.offline:
            logger.info("GraphiQL %s served from %s", self.version, self.node_modules)
        else:
            logger.warning(
                "GraphiQL is not installed in %s (run `make install` with Node.js and npm): "
                "GET /graphql serves a page that loads GraphiQL from a CDN and stays blank "
                "without internet",
                self.node_modules,
            )

    def render(self, request: Request) -> Response:
        if not self.offline:
            return HTMLResponse(get_graphql_ide_html("graphiql"))
        prefix = request.scope.get("root_path", "")
        config = {
            "endpoint": prefix + request.url.path,
            "defaultQuery": DEFAULT_QUERY,
            "defaultHeaders": TOKEN_HEADERS if self.auth_required else "",
            "authRequired": self.auth_required,
        }
        page = PAGE.format(
            assets=html.escape(prefix + ASSETS_PATH),
            key=html.escape(self.cache_key),
            config=_script_json(config),
        )
        socket_scheme = "wss" if request.url.scheme == "https" else "ws"
        socket_origin = f"{socket_scheme}://{request.url.netloc}"
        policy = (
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"font-src 'self' data:; img-src 'self' data:; connect-src 'self' {socket_origin}; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(
            page,
            headers={
                "Content-Security-Policy": policy,
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-cache",
            },
        )

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = OWN_ASSETS.get(name) or (
            self.node_modules / NPM_ASSETS[name] if name in NPM_ASSETS else None
        )
        if path is None or not path.is_file():
            return JSONResponse({"error": f"No asset '{name}'", "code": "NOT_FOUND"}, 404)
        # Page URLs carry `cache_key`, so a browser may keep these until it changes.
        return FileResponse(
            path,
            headers={
                "Cache-Control": "public, max-age=86400",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def routes(self) -> list[Route]:
        return [Route(ASSETS_PATH + "/{name}", self.asset, methods=["GET", "HEAD"])]
