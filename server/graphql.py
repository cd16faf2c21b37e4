"""The /graphql endpoint: strawberry's ASGI view plus authentication and CSRF defence."""

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from cross_web import HTTPException
from strawberry.types.unset import UNSET, UnsetType

from schema.context import Context
from schema.errors import graphql_error_body
from server.auth import Authenticator
from services.errors import TroveError
from services.runtime import Services

PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def is_simple_cross_site_capable(request: Request) -> bool:
    """Multipart is a content type a browser form may POST cross-site without preflight."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return content_type in ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")


def has_preflight_header(request: Request) -> bool:
    return any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)


class TroveGraphQL(GraphQL[Context, None]):
    def __init__(self, *args: Any, services: Services, authenticator: Authenticator, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.services = services
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self._admit(request)
        if response is None:
            try:
                response = await self.run(request)
            except HTTPException as error:
                response = PlainTextResponse(error.reason, status_code=error.status_code)
            finally:
                # Closes the uploaded files' temporary spools as soon as the operation ends.
                await request.close()
        await response(scope, receive, send)

    async def _admit(self, request: Request) -> Response | None:
        request.state.request_id = new_request_id()
        if request.method == "POST" and is_simple_cross_site_capable(request):
            if not has_preflight_header(request):
                return JSONResponse(
                    graphql_error_body(
                        "This request could be a cross-site request forgery: multipart "
                        "requests need a non-empty `Apollo-Require-Preflight` or "
                        "`X-Apollo-Operation-Name` header.",
                        "BAD_USER_INPUT",
                    ),
                    status_code=400,
                )
        wants_ide = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if wants_ide:
            request.state.user = None
            return None
        try:
            request.state.user = await self.authenticator.from_headers(request.headers)
        except TroveError as error:
            return JSONResponse(
                graphql_error_body(error.message, error.code),
                status_code=error.http_status,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, WebSocket):
            user = None
            request_id = new_request_id()
            if request.headers.get("authorization") or self.authenticator.mode == "none":
                try:
                    user = await self.authenticator.from_headers(request.headers)
                except TroveError:
                    user = None
        else:
            user = request.state.user
            request_id = request.state.request_id
        base_url = str(request.base_url).rstrip("/")
        return Context(
            request=request,
            response=response,
            authenticated_user=user,
            services=self.services,
            request_id=request_id,
            base_url=base_url,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if context.authenticated_user is not None:
            return UNSET
        params = context.connection_params or {}
        value = params.get("Authorization") or params.get("authorization")
        if not value and params.get("token"):
            value = f"Bearer {params['token']}"
        try:
            context.authenticated_user = await self.authenticator.from_authorization(
                value if isinstance(value, str) else None
            )
        except TroveError as error:
            raise ConnectionRejectionError({"message": error.message, "code": error.code}) from error
        return UNSET
