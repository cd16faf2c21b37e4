"""The seed system's (nodetool's) REST asset API, as a thin adapter over AssetService.

Everything here translates HTTP to service calls and back: the rules (validation, scoping,
size limits, storage) live in the services, exactly as for GraphQL.
"""

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from tempfile import SpooledTemporaryFile
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import models
from server.edge import Admission, error_response, respond_to
from server.limits import BodyTooLarge
from server.multipart import MultipartStream, Part, file_chunks, read_field
from server.settings import Settings
from services.assets import AssetFilter, Tracking
from services.errors import InvalidInput
from services.pagination import MAX_PAGE_SIZE
from services.runtime import Services
from services.urls import asset_url

CHUNK = 1 << 20
# The `json` part holds a handful of short strings and metadata (itself capped at 64 KiB).
MAX_FIELDS = 16
CREATE_FIELDS = ("name", "content_type", "node_id", "job_id", "workflow_id", "parent_id")
UPDATE_FIELDS = ("name", "parent_id")
# Routes take every method so that a wrong one still gets a JSON answer.
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

Handler = Callable[[Request], Awaitable[Response]]


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def _spool(events: AsyncIterator[tuple[str, Any]]) -> UploadFile:
    """Keep the file aside (on disk past 1 MiB) when the `json` part has not come yet."""
    # Closed by the caller (or below on failure): it outlives this function.
    upload = UploadFile(SpooledTemporaryFile(max_size=CHUNK))  # type: ignore[arg-type]  # noqa: SIM115
    try:
        async for chunk in file_chunks(events):
            await upload.write(chunk)
        await upload.seek(0)
    except BaseException:
        await upload.close()
        raise
    return upload


async def _spooled_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


def _parse_object(raw: str | bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError as error:
        raise InvalidInput(f"{what} is not valid JSON") from error
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return value


def _fields(body: dict[str, Any], strings: tuple[str, ...]) -> dict[str, Any]:
    """The accepted keys that carry a value; null means 'not given', as in nodetool."""
    accepted = (*strings, "metadata")
    unknown = sorted(k for k, value in body.items() if k not in accepted and value is not None)
    if unknown:
        raise InvalidInput(
            f"Unsupported field(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
        )
    given = {key: value for key, value in body.items() if key in accepted and value is not None}
    for key in strings:
        if key in given and not isinstance(given[key], str):
            raise InvalidInput(f"`{key}` must be a string")
    return given


class RestRoutes:
    def __init__(self, *, services: Services, admission: Admission, settings: Settings) -> None:
        self.services = services
        self.admission = admission
        self.settings = settings

    def routes(self) -> list[Route]:
        collection = self._dispatch(
            {"GET": self.list_assets, "HEAD": self.list_assets, "POST": self.create_asset}
        )
        item = self._dispatch(
            {
                "GET": self.get_asset,
                "HEAD": self.get_asset,
                "PUT": self.update_asset,
                "DELETE": self.delete_asset,
            }
        )
        return [
            # nodetool clients post to the trailing-slash form; a redirect would drop the body.
            Route("/api/assets", collection, methods=ANY_METHOD),
            Route("/api/assets/", collection, methods=ANY_METHOD),
            Route("/api/assets/{asset_id}", item, methods=ANY_METHOD),
            Route("/api/{rest:path}", self._not_found, methods=ANY_METHOD),
        ]

    def _dispatch(self, handlers: dict[str, Handler]) -> Handler:
        allow = ", ".join(handlers)

        async def endpoint(request: Request) -> Response:
            handler = handlers.get(request.method)
            if handler is None:
                return error_response(
                    request,
                    405,
                    "BAD_USER_INPUT",
                    f"{request.method} is not allowed here",
                    headers={"Allow": allow},
                )
            return await self._guarded(handler, request)

        return endpoint

    async def _not_found(self, request: Request) -> Response:
        return error_response(request, 404, "NOT_FOUND", f"No API route {request.url.path}")

    async def _guarded(self, handler: Handler, request: Request) -> Response:
        try:
            return await handler(request)
        except (BodyTooLarge, ClientDisconnect):
            raise  # BodySizeLimit answers 413; a gone client needs no answer
        except Exception as error:
            return respond_to(request, error)

    async def _user(self, request: Request) -> models.User:
        return await self.admission.user(request)

    def _asset_json(self, request: Request, asset: models.Asset) -> dict[str, Any]:
        base = self.settings.external_base_url(request.base_url)
        signer = self.services.signer
        previewable = self.services.thumbnails.previewable(asset.content_type)
        parent_id = asset.parent_id  # type: ignore[attr-defined]
        return {
            "id": str(asset.id),
            "name": asset.name,
            "content_type": asset.content_type,
            "size": asset.size,
            "sha256": asset.sha256,
            "node_id": asset.node_id,
            "job_id": asset.job_id,
            "workflow_id": asset.workflow_id,
            "parent_id": str(parent_id) if parent_id else None,
            "metadata": asset.metadata,
            "created_at": _iso(asset.created_at),
            "updated_at": _iso(asset.updated_at),
            "get_url": None if asset.is_folder else asset_url(signer, base, asset.id),
            "thumb_url": asset_url(signer, base, asset.id, "thumbnail") if previewable else None,
        }

    # Endpoints ----------------------------------------------------------------------------

    async def list_assets(self, request: Request) -> Response:
        user = await self._user(request)
        params = request.query_params
        page_size = MAX_PAGE_SIZE
        if params.get("page_size"):
            try:
                page_size = int(params["page_size"])
            except ValueError as error:
                raise InvalidInput("`page_size` must be an integer") from error
            if page_size < 1:
                raise InvalidInput("`page_size` must be at least 1")
            # nodetool clients ask for up to 10000 at a time; `next` fetches the rest.
            page_size = min(page_size, MAX_PAGE_SIZE)
        page = await self.services.assets.list_assets(
            owner=user,
            where=AssetFilter(
                node_id=params.get("node_id") or None,
                job_id=params.get("job_id") or None,
                workflow_id=params.get("workflow_id") or None,
                parent_id=params.get("parent_id") or None,
                content_type=params.get("content_type") or None,
            ),
            first=page_size,
            after=params.get("cursor") or None,
        )
        more = await page.has_next_page()
        return JSONResponse(
            {
                "assets": [self._asset_json(request, asset) for asset in page.items],
                "next": page.cursors[-1] if more and page.cursors else None,
            }
        )

    async def get_asset(self, request: Request) -> Response:
        user = await self._user(request)
        asset = await self.services.assets.get(owner=user, asset_id=request.path_params["asset_id"])
        return JSONResponse(self._asset_json(request, asset))

    async def create_asset(self, request: Request) -> Response:
        self.admission.require_content_type(
            request, ("multipart/form-data",), "Send the file as multipart/form-data"
        )
        self.admission.require_no_forgery(request)
        user = await self._user(request)
        async with contextlib.aclosing(MultipartStream(request).events()) as events:
            return JSONResponse(self._asset_json(request, await self._receive(user, events)))

    async def _receive(
        self, user: models.User, events: AsyncIterator[tuple[str, Any]]
    ) -> models.Asset:
        form: dict[str, str] = {}
        spooled: UploadFile | None = None
        file_part: Part | None = None
        asset: models.Asset | None = None
        try:
            async for kind, value in events:
                if kind != "part" or asset is not None:
                    continue  # once the asset exists, whatever follows is only drained
                part: Part = value
                if part.filename is None:
                    if len(form) >= MAX_FIELDS:
                        raise InvalidInput(f"At most {MAX_FIELDS} form fields are accepted")
                    form[part.name] = await read_field(events)
                elif part.name != "file" or file_part is not None:
                    raise InvalidInput("Send exactly one file, in the part named `file`")
                else:
                    file_part = part
                    if "json" in form:
                        asset = await self._create(user, form, part, file_chunks(events))
                    else:
                        spooled = await _spool(events)
            if file_part is None:
                raise InvalidInput("The multipart body has no `file` part")
            if asset is None:
                assert spooled is not None
                asset = await self._create(user, form, file_part, _spooled_chunks(spooled))
        finally:
            if spooled is not None:
                await spooled.close()
        return asset

    async def _create(
        self, user: models.User, form: dict[str, str], part: Part, content: AsyncIterator[bytes]
    ) -> models.Asset:
        given = _fields(_parse_object(form.get("json", ""), "The `json` field"), CREATE_FIELDS)
        return await self.services.assets.create_asset(
            owner=user,
            content=content,
            name=given.get("name", part.filename or None),
            content_type=given.get("content_type", part.content_type),
            tracking=Tracking(
                node_id=given.get("node_id"),
                job_id=given.get("job_id"),
                workflow_id=given.get("workflow_id"),
            ),
            parent_id=given.get("parent_id"),
            metadata=given.get("metadata"),
        )

    async def update_asset(self, request: Request) -> Response:
        self.admission.require_content_type(
            request, ("application/json",), "Send the changes as application/json"
        )
        user = await self._user(request)
        given = _fields(_parse_object(await request.body(), "The request body"), UPDATE_FIELDS)
        asset = await self.services.assets.update_asset(
            owner=user,
            asset_id=request.path_params["asset_id"],
            name=given.get("name"),
            move="parent_id" in given,
            parent_id=given.get("parent_id"),
            replace_metadata="metadata" in given,
            metadata=given.get("metadata"),
        )
        return JSONResponse(self._asset_json(request, asset))

    async def delete_asset(self, request: Request) -> Response:
        user = await self._user(request)
        deleted = await self.services.assets.delete_asset(
            owner=user, asset_id=request.path_params["asset_id"]
        )
        return JSONResponse({"deleted_count": deleted})
