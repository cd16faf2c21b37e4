"""The edge: where requests are admitted and where failures become responses.

One place decides, for every surface:
- which request id a request carries (on its responses, its errors and its log lines);
- who may come in: authentication, the CSRF rule, accepted content types (body size is
  BodySizeLimit in server/limits.py, which answers through `error_response` below);
- how a domain error (services/errors.py) or an unexpected exception is answered.

Two JSON shapes, one per surface (docs/api.md "HTTP rules", docs/rest.md "Errors"):
- GraphQL (/graphql):  {"errors": [{"message": ..., "extensions": {"code": ..., "requestId": ...}}]}
- HTTP routes (/api/..., /assets/...): {"error": ..., "detail": ..., "code": ..., "requestId": ...}
  (`detail` repeats the message: FastAPI-style clients such as nodetool's read it there)
Unexpected exceptions are answered INTERNAL_SERVER_ERROR with the request id only; the
traceback goes to the log under the same id.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from graphql.error import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import MaskErrors

import models
from server.auth import Authenticator
from services.errors import InvalidInput, TroveError, Unauthenticated, UnsupportedMediaType

logger = logging.getLogger("trove.edge")

REQUEST_ID_HEADER = "X-Request-Id"
# A caller's (or proxy's) own id is kept when it is short and plain, so logs can be joined.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "trove_request_id", default="-"
)

GRAPHQL_PATH = "/graphql"
APPLICATION_JSON = "application/json"
# Headers a cross-site page cannot send without a CORS preflight (Apollo's CSRF rule).
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
# Content types a browser form may POST cross-site without preflight.
SIMPLE_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")


# Request ids ------------------------------------------------------------------------------


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def current_request_id() -> str:
    return _current_request_id.get()


def request_id(connection: HTTPConnection) -> str:
    """The id RequestIds gave this request (a fresh one if it did not run, e.g. in tests)."""
    state = connection.scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = new_request_id()
    return str(state["request_id"])


class RequestIds:
    """Outermost middleware: every HTTP request and WebSocket gets an id, answered in
    `X-Request-Id` and attached to every log line written while it is handled."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _ACCEPTABLE_REQUEST_ID.match(given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        token = _current_request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current_request_id.reset(token)


_base_record_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_record_factory(*args, **kwargs)
    record.request_id = _current_request_id.get()
    return record


def install_log_request_ids() -> None:
    """Give every log record a `request_id` attribute (`-` outside a request)."""
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)


install_log_request_ids()


# Failures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    status: int
    code: str
    message: str
    headers: Mapping[str, str]


def failure_for(error: BaseException, rid: str) -> Failure:
    """How a surface answers `error`: domain errors say what went wrong, anything else is
    logged with its traceback and answered with the request id only."""
    if isinstance(error, TroveError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else {}
        if error.retry_after is not None:
            headers["Retry-After"] = str(error.retry_after)
        return Failure(error.http_status, error.code, error.message, headers)
    logger.error("unexpected error in request %s", rid, exc_info=error)
    return Failure(500, "INTERNAL_SERVER_ERROR", f"Internal server error (request id {rid})", {})


def graphql_error_body(message: str, code: str, rid: str) -> dict[str, Any]:
    # No `data` entry: the GraphQL spec leaves it out when execution never started.
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": rid}}]}


def http_error_body(message: str, code: str, rid: str) -> dict[str, Any]:
    return {"error": message, "detail": message, "code": code, "requestId": rid}


def error_response(
    connection: HTTPConnection,
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    media_type: str | None = None,
) -> Response:
    """The error in the JSON shape of the surface the request came to."""
    rid = request_id(connection)
    if connection.url.path == GRAPHQL_PATH:
        body = graphql_error_body(message, code, rid)
        media_type = media_type or getattr(connection.state, "media_type", APPLICATION_JSON)
    else:
        body = http_error_body(message, code, rid)
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=media_type
    )


def respond_to(
    connection: HTTPConnection, error: BaseException, *, media_type: str | None = None
) -> Response:
    failure = failure_for(error, request_id(connection))
    return error_response(
        connection,
        failure.status,
        failure.code,
        failure.message,
        headers=failure.headers,
        media_type=media_type,
    )


async def refuse(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    """An error answered from ASGI middleware (before any route ran), closing the connection."""
    response = error_response(HTTPConnection(scope), status, code, message)
    response.headers["connection"] = "close"
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


# GraphQL errors ---------------------------------------------------------------------------


def graphql_error_code(error: GraphQLError) -> str | None:
    """The code of an expected error; None for a bug (masked and logged)."""
    original = error.original_error
    if isinstance(original, TroveError):
        return original.code
    if original is None:
        # Syntax, validation and variable-coercion errors: the request itself is wrong.
        return (error.extensions or {}).get("code") or "BAD_USER_INPUT"
    if isinstance(original, GraphQLError):
        return graphql_error_code(original)
    return None


class GraphQLErrors(MaskErrors):
    """Adds `extensions.code` and `extensions.requestId` to every GraphQL error and masks
    unexpected ones: they reach the client as INTERNAL_SERVER_ERROR with the request id;
    the traceback goes to the log under the same id, never into the response."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        rid = getattr(self.execution_context.context, "request_id", None) or current_request_id()
        processed = []
        for error in errors:
            code = graphql_error_code(error)
            if code is None:
                failure = failure_for(error.original_error or error, rid)
                code, message = failure.code, failure.message
                extensions: dict[str, Any] = {"code": code, "requestId": rid}
            else:
                original = error.original_error
                message = original.message if isinstance(original, TroveError) else error.message
                extensions = {**(error.extensions or {}), "code": code, "requestId": rid}
            processed.append(
                GraphQLError(
                    message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions=extensions,
                )
            )
        return processed


# Admission --------------------------------------------------------------------------------


def essence(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def has_preflight_header(connection: HTTPConnection) -> bool:
    return any(connection.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)


def has_bearer(connection: HTTPConnection) -> bool:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


class Admission:
    """The checks every route makes before doing any work, in one place."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    def require_content_type(self, request: Request, accepted: Collection[str], hint: str) -> None:
        if essence(request.headers.get("content-type", "")) not in accepted:
            raise UnsupportedMediaType(hint)

    def require_no_forgery(self, request: Request) -> None:
        """A body a cross-site form could send must prove the page passed CORS preflight:
        a custom header (Apollo's rule) or an Authorization header (never sent by forms)."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        content_type = essence(request.headers.get("content-type", ""))
        if content_type not in SIMPLE_CONTENT_TYPES:
            return
        if has_preflight_header(request) or has_bearer(request):
            return
        # Name the one header that fixes it in this mode: without authentication a token
        # means nothing, so the preflight header is the one to add.
        if self.authenticator.mode == "none":
            raise InvalidInput(
                "Refused as a possible cross-site request forgery: add the header "
                "`Apollo-Require-Preflight: true` (any `Authorization: Bearer ...` header "
                "also does)"
            )
        raise InvalidInput(
            "Refused as a possible cross-site request forgery: add the header "
            "`Authorization: Bearer <token>` (or `Apollo-Require-Preflight: true`)"
        )

    async def user(self, connection: HTTPConnection) -> models.User:
        """The caller (raises Unauthenticated, answered 401 with `WWW-Authenticate`)."""
        return await self.authenticator.from_headers(connection.headers)
