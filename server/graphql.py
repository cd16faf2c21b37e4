"""The /graphql endpoint: strawberry's ASGI view plus authentication, CSRF defence, the
GraphQL-over-HTTP media types and status codes, and automatic persisted queries."""

import contextlib
import json
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from schema.context import Context
from schema.uploads import StagedUpload
from server.edge import Admission, error_response, essence, request_id, respond_to
from server.graphiql import GraphiQLPage
from server.limits import BodyTooLarge
from server.multipart import MultipartStream, file_chunks, read_field
from server.persisted_queries import PersistedQueryCache, PersistedQueryError
from server.settings import Settings
from services.errors import TroveError
from services.runtime import Services

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
ACCEPTED_CONTENT_TYPES = ("application/json", "multipart/form-data")


def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the client prefers it, else application/json.

    Clients that know the new type list it first or with a higher q (Apollo sends
    `application/graphql-response+json,application/json;q=0.9`); `*/*` or no Accept at all
    keeps the legacy type, which every client understands.
    """
    candidates: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept or "").split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media in (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON) and q > 0:
            # Among equal q values the client's own order decides.
            candidates.append((q, -position, media))
    return max(candidates)[2] if candidates else APPLICATION_JSON


def _code_for_status(status: int) -> str:
    return {404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(
        status, "BAD_USER_INPUT" if status < 500 else "INTERNAL_SERVER_ERROR"
    )


def _is_request_error(result: ExecutionResult) -> bool:
    """True when no execution happened (parse, validation or variable coercion failed).

    Field errors always carry a path, even when they null out the whole `data`.
    """
    return (
        result.data is None
        and bool(result.errors)
        and not any(error.path for error in result.errors or [])
    )


class RequestAdapter(StarletteRequestAdapter):
    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.request = request


class TroveGraphQL(GraphQL[Context, None]):
    request_adapter_class = RequestAdapter

    def __init__(
        self,
        *args: Any,
        services: Services,
        admission: Admission,
        settings: Settings,
        graphiql: GraphiQLPage | None = None,
        persisted_queries: PersistedQueryCache | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.services = services
        self.admission = admission
        self.authenticator = admission.authenticator
        self.settings = settings
        self.graphiql = graphiql
        self.persisted_queries = persisted_queries or PersistedQueryCache(max_entries=1000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        request.state.media_type = response_media_type(request.headers.get("accept"))
        request.state.request_error = None
        try:
            await self._admit(request)
            response = await self.run(request)
            self._finish(request, response)
        except HTTPException as error:
            response = self._http_error(request, error)
        except PersistedQueryError as error:
            status = 400
            if not error.invalid_parameters and request.state.media_type == APPLICATION_JSON:
                status = 200
            response = error_response(request, status, error.code, error.message)
        except (BodyTooLarge, ClientDisconnect):
            raise  # BodySizeLimit answers 413; a gone client needs no answer
        except Exception as error:
            response = respond_to(request, error)
        finally:
            # Uploads no resolver took (a failed operation, an unused file) go now.
            for staged in getattr(request.state, "staged_uploads", ()):
                await self.services.assets.discard_upload(staged.blob)
            await request.close()
        await response(scope, receive, send)

    def _http_error(self, request: Request, error: HTTPException) -> Response:
        if isinstance(error.__cause__, InvalidOperationTypeError) and request.method == "GET":
            # GET must stay safe: a link or prefetch must never change anything.
            return error_response(
                request,
                405,
                "BAD_USER_INPUT",
                f"{error.reason}: send mutations with POST",
                headers={"Allow": "POST"},
            )
        return error_response(
            request, error.status_code, _code_for_status(error.status_code), error.reason
        )

    def _finish(self, request: Request, response: Response) -> None:
        """Label a GraphQL result with the negotiated media type and the spec's status."""
        if essence(response.headers.get("content-type", "")) != APPLICATION_JSON:
            return  # GraphiQL's page or a stream
        media_type = request.state.media_type
        response.headers["content-type"] = media_type
        kind = request.state.request_error
        if kind == "internal":
            response.status_code = 500
        elif kind == "request" and media_type == GRAPHQL_RESPONSE_JSON:
            response.status_code = 400

    async def _admit(self, request: Request) -> None:
        """The shared admission checks (server/edge.py); raises what refuses the request."""
        if request.method == "POST":
            self.admission.require_content_type(
                request,
                ACCEPTED_CONTENT_TYPES,
                "Send the operation as application/json (or multipart/form-data for uploads)",
            )
            self.admission.require_no_forgery(request)
        if self.should_render_graphql_ide(StarletteRequestAdapter(request)):
            request.state.user = None
            return
        request.state.user = await self.admission.user(request)

    def encode_json(self, data: object) -> str:
        # orjson: several times faster than json.dumps on a page of assets. Text, not
        # bytes: WebSocket messages of graphql-transport-ws must be text frames.
        return orjson.dumps(data).decode()

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # Only browsers navigating here, which ask for HTML. Strawberry also answers `*/*`
        # with the page, but that is what Apollo Client sends with a persisted query's
        # hash-only GET, which must get JSON.
        if request.method != "GET":
            return False  # before parsing the query string: every POST asks this twice
        params = request.query_params
        return (
            params.get("query") is None
            and params.get("extensions") is None
            and "text/html" in request.headers.get("accept", "")
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        if self.graphiql is None:
            return await super().render_graphql_ide(request)
        return self.graphiql.render(request)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        """The GraphQL multipart request spec, streamed: `operations` and `map` come first,
        then each file goes straight into storage (hashed and counted) as it arrives."""
        assert isinstance(request, RequestAdapter)
        state = request.request.state
        staged: list[StagedUpload] = []
        state.staged_uploads = staged
        fields: dict[str, Any] = {}
        files: dict[str, StagedUpload] = {}
        async with contextlib.aclosing(MultipartStream(request.request).events()) as events:
            async for kind, part in events:
                if kind != "part":
                    continue
                if part.filename is None:
                    if part.name not in ("operations", "map"):
                        raise HTTPException(400, f"Unexpected form field `{part.name}`")
                    try:
                        fields[part.name] = json.loads(await read_field(events))
                    except ValueError as error:
                        raise HTTPException(400, f"`{part.name}` is not valid JSON") from error
                    continue
                if "operations" not in fields or "map" not in fields:
                    raise HTTPException(400, "`operations` and `map` must come before the files")
                if part.name in files:
                    raise HTTPException(400, f"File `{part.name}` was sent twice")
                blob = await self.services.assets.stage_upload(file_chunks(events))
                upload = StagedUpload(
                    blob=blob, filename=part.filename, content_type=part.content_type
                )
                staged.append(upload)
                files[part.name] = upload
        operations, files_map = fields.get("operations"), fields.get("map")
        if not isinstance(operations, dict | list) or not isinstance(files_map, dict):
            raise HTTPException(400, "A multipart request needs `operations` and `map` fields")
        try:
            # Batches (a list of operations) are part of the spec and handled alike.
            return replace_placeholders_with_files(
                cast(dict[str, Any], operations), files_map, files
            )
        except (KeyError, TypeError, IndexError, ValueError) as error:
            raise HTTPException(400, "File(s) missing in form data") from error

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for one in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(one.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
            one.query = self.persisted_queries.resolve(one.query, one.extensions)
        return parsed

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        if _is_request_error(result):
            body.pop("data", None)
            codes = {(error.extensions or {}).get("code") for error in result.errors or []}
            request.state.request_error = (
                "internal" if codes == {"INTERNAL_SERVER_ERROR"} else "request"
            )
        return body

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        rid = request_id(request)
        if isinstance(request, WebSocket):
            user = None
            if request.headers.get("authorization") or self.authenticator.mode == "none":
                try:
                    user = await self.authenticator.from_headers(request.headers)
                except TroveError:
                    user = None
        else:
            user = request.state.user
        base_url = self.settings.external_base_url(request.base_url)
        return Context(
            request=request,
            response=response,
            authenticated_user=user,
            services=self.services,
            request_id=rid,
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
            raise ConnectionRejectionError(
                {"message": error.message, "code": error.code}
            ) from error
        return UNSET
