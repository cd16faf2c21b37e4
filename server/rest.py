"""The seed system's (nodetool's) REST asset API, as a thin adapter over AssetService.

Everything here translates HTTP to service calls and back: the rules (validation, scoping,
size limits, storage) live in the services, exactly as for GraphQL.
"""

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from tempfile import SpooledTemporaryFile
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import models
from models.asset import FOLDER_CONTENT_TYPE
from server.content import zip_response
from server.edge import Admission, error_response, essence, respond_to
from server.json_input import parse_json
from server.limits import BodyTooLarge
from server.multipart import MultipartStream, Part, file_chunks, read_field
from server.settings import Settings
from services.archives import archive_filename
from services.assets import HOME_FOLDER_NAME, AssetFilter, Tracking
from services.errors import InvalidInput
from services.pagination import MAX_PAGE_SIZE
from services.records import AssetRecord
from services.runtime import Services
from services.urls import asset_url

CHUNK = 1 << 20
# The `json` part holds a handful of short strings and metadata (itself capped at 64 KiB).
MAX_FIELDS = 16
MAX_FORM_BYTES = 128 * 1024
# Trove's curation fields, beyond nodetool's: tags replace, expires_at (null clears it).
CURATION_FIELDS = ("tags", "expires_at")
CREATE_FIELDS = ("name", "content_type", "node_id", "job_id", "workflow_id", "parent_id")
# Everything nodetool's AssetUpdateRequest sends (`duration` and `size` are numbers).
UPDATE_FIELDS = ("name", "parent_id", "content_type", "data")
UPDATE_NUMBERS = ("duration", "size")
# nodetool's upload form also carries these; the size is measured, the duration kept in metadata.
CREATE_NUMBERS = ("duration", "size")
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


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _spooled_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


def _parse_object(raw: str | bytes, what: str) -> dict[str, Any]:
    # The same strict reading as GraphQL bodies: UTF-8, no lone surrogates, bounded depth.
    value = parse_json(raw, what) if raw else {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return value


def _fields(
    body: dict[str, Any], strings: tuple[str, ...], numbers: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The accepted keys that carry a value; null means 'not given', as in nodetool."""
    accepted = (*strings, *numbers, "metadata", *CURATION_FIELDS)
    unknown = sorted(k for k, value in body.items() if k not in accepted and value is not None)
    if unknown:
        raise InvalidInput(
            f"Unsupported field(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
        )
    given = {key: value for key, value in body.items() if key in accepted and value is not None}
    for key in strings:
        if key in given and not isinstance(given[key], str):
            raise InvalidInput(f"`{key}` must be a string")
    for key in numbers:
        value = given.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidInput(f"`{key}` must be a number")
    return given


def _tags(given: dict[str, Any]) -> list[str] | None:
    tags = given.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput("`tags` must be a list of strings")
    return tags


def _expiry(body: dict[str, Any]) -> dt.datetime | None:
    """`expires_at` as ISO 8601 (an offset, or UTC when it has none); null clears it."""
    raw = body.get("expires_at")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput("`expires_at` must be an ISO 8601 date-time string or null")
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidInput(f"`expires_at` is not an ISO 8601 date-time: '{raw}'") from error
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _json_param(raw: str | None, what: str) -> dict[str, Any] | None:
    if not raw:
        return None
    return _parse_object(raw, f"`{what}`")


def _with_duration(given: dict[str, Any], metadata: Any) -> Any:
    """nodetool keeps an audio or video duration beside the metadata; Trove keeps it inside."""
    if given.get("duration") is None:
        return metadata
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInput("`duration` needs `metadata` to be an object")
    return {**(metadata or {}), "duration": given["duration"]}


def _page_size(raw: str | None, default: int) -> int:
    if not raw:
        return default
    try:
        size = int(raw)
    except ValueError as error:
        raise InvalidInput("`page_size` must be an integer") from error
    if size < 1:
        raise InvalidInput("`page_size` must be at least 1")
    # nodetool clients ask for up to 10000 at a time; `next` fetches the rest.
    return min(size, MAX_PAGE_SIZE)


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
        search = self._dispatch({"GET": self.search_assets, "HEAD": self.search_assets})
        return [
            # nodetool clients post to the trailing-slash form; a redirect would drop the body.
            Route("/api/assets", collection, methods=ANY_METHOD),
            Route("/api/assets/", collection, methods=ANY_METHOD),
            Route("/api/assets/search", search, methods=ANY_METHOD),
            Route(
                "/api/assets/download",
                self._dispatch({"POST": self.download_assets}),
                methods=ANY_METHOD,
            ),
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

    def _asset_json(
        self, request: Request, asset: models.Asset | AssetRecord, base: str | None = None
    ) -> dict[str, Any]:
        if base is None:
            base = self.settings.external_base_url(request.base_url)
        signer = self.services.signer
        owner_id = str(asset.owner_id)  # type: ignore[union-attr]
        previewable = self.services.thumbnails.previewable(asset.content_type)
        parent_id = asset.parent_id  # type: ignore[union-attr]
        duration = asset.metadata.get("duration") if isinstance(asset.metadata, dict) else None
        return {
            "id": asset.id_text,
            "user_id": owner_id,
            "name": asset.name,
            "content_type": asset.content_type,
            "size": asset.size,
            "sha256": asset.sha256,
            "node_id": asset.node_id,
            "job_id": asset.job_id,
            "workflow_id": asset.workflow_id,
            # nodetool's form: the top level ("Home") is the parent whose id is the user's.
            "parent_id": str(parent_id) if parent_id else owner_id,
            "metadata": asset.metadata,
            "duration": duration if isinstance(duration, int | float) else None,
            "created_at": _iso(asset.created_at),
            "updated_at": _iso(asset.updated_at),
            "get_url": None if asset.is_folder else asset_url(signer, base, asset.id_text),
            "thumb_url": asset_url(signer, base, asset.id_text, "thumbnail")
            if previewable
            else None,
            "tags": list(asset.tags or []),
            "expires_at": _iso(asset.expires_at) if asset.expires_at else None,
            "media": asset.media,
        }

    @staticmethod
    def _home_json(user: models.User) -> dict[str, Any]:
        """nodetool's virtual Home folder, whose id is the user's."""
        return {
            "id": str(user.id),
            "user_id": str(user.id),
            "name": HOME_FOLDER_NAME,
            "content_type": FOLDER_CONTENT_TYPE,
            "size": None,
            "sha256": None,
            "node_id": None,
            "job_id": None,
            "workflow_id": None,
            "parent_id": "",
            "metadata": None,
            "duration": None,
            "created_at": "",
            "updated_at": "",
            "get_url": None,
            "thumb_url": None,
        }

    @staticmethod
    def _folder_id(user: models.User, raw: str | None) -> str | None:
        """A parent id from a nodetool client: its user id means the top level (None)."""
        return None if not raw or raw == str(user.id) else raw

    def _filter(self, user: models.User, params: Any, *, search: bool = False) -> AssetFilter:
        tracking = {k: params.get(k) or None for k in ("node_id", "job_id", "workflow_id")}
        content_type = params.get("content_type") or None
        raw_parent = params.get("parent_id") or None
        # `tags=a,b` or `tags=a&tags=b`: assets carrying every one; `metadata={"seed":42}`.
        tags = [t for raw in params.getlist("tags") for t in raw.split(",") if t.strip()]
        metadata = _json_param(params.get("metadata"), "metadata")
        # As in nodetool, a listing with no filter at all is the Home folder.
        unfiltered = (
            raw_parent is None
            and content_type is None
            and not any(tracking.values())
            and not tags
            and metadata is None
        )
        home = raw_parent == str(user.id) or (unfiltered and not search)
        return AssetFilter(
            **tracking,
            content_type=content_type,
            parent_id=None if home else raw_parent,
            top_level=home,
            tags=tags or None,
            metadata=metadata,
        )

    # Endpoints ----------------------------------------------------------------------------

    async def list_assets(self, request: Request) -> Response:
        user = await self._user(request)
        params = request.query_params
        page = await self.services.assets.list_records(
            owner=user,
            where=self._filter(user, params),
            first=_page_size(params.get("page_size"), MAX_PAGE_SIZE),
            after=params.get("cursor") or None,
        )
        more = await page.has_next_page()
        base = self.settings.external_base_url(request.base_url)  # once, not per asset
        body = {
            "assets": [self._asset_json(request, asset, base) for asset in page.items],
            # "" on the last page: nodetool clients loop `while next`.
            "next": page.cursors[-1] if more and page.cursors else "",
        }
        return Response(orjson.dumps(body), media_type="application/json")

    async def search_assets(self, request: Request) -> Response:
        user = await self._user(request)
        params = request.query_params
        page, paths = await self.services.assets.search_assets(
            owner=user,
            query=params.get("query", ""),
            where=self._filter(user, params, search=True),
            first=_page_size(params.get("page_size"), MAX_PAGE_SIZE),
            after=params.get("cursor") or None,
        )
        more = await page.has_next_page()
        assets = [
            {**self._asset_json(request, asset), **dataclasses.asdict(paths[asset.id])}
            for asset in page.items
        ]
        return JSONResponse(
            {
                "assets": assets,
                "next_cursor": page.cursors[-1] if more and page.cursors else "",
                "total_count": len(assets),
                "is_global_search": True,
            }
        )

    async def get_asset(self, request: Request) -> Response:
        user = await self._user(request)
        asset_id = request.path_params["asset_id"]
        if asset_id == str(user.id):
            return JSONResponse(self._home_json(user))
        asset = await self.services.assets.get(owner=user, asset_id=asset_id)
        return JSONResponse(self._asset_json(request, asset))

    async def create_asset(self, request: Request) -> Response:
        # nodetool clients send a folder (no file) as a plain form with the `json` field.
        self.admission.require_content_type(
            request,
            ("multipart/form-data", "application/x-www-form-urlencoded"),
            "Send the file as multipart/form-data (a folder may also come as a form)",
        )
        self.admission.require_no_forgery(request)
        content_type = essence(request.headers.get("content-type", ""))
        user = await self._user(request)
        if content_type == "application/x-www-form-urlencoded":
            # nodetool clients create folders as a plain form with the `json` field.
            body = await request.body()
            if len(body) > MAX_FORM_BYTES:
                raise InvalidInput(f"The form is larger than {MAX_FORM_BYTES} bytes")
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return JSONResponse(self._asset_json(request, await self._create_folder(user, form)))
        async with contextlib.aclosing(MultipartStream(request).events()) as events:
            return JSONResponse(self._asset_json(request, await self._receive(user, events)))

    async def _create_folder(self, user: models.User, form: dict[str, str]) -> models.Asset:
        given = _fields(
            _parse_object(form.get("json", ""), "The `json` field"), CREATE_FIELDS, CREATE_NUMBERS
        )
        if given.get("content_type") != FOLDER_CONTENT_TYPE:
            raise InvalidInput(
                'Without a `file` part only a folder can be created (`"content_type": "folder"`)'
            )
        unexpected = sorted(
            k for k in ("node_id", "job_id", "workflow_id", *CURATION_FIELDS) if k in given
        )
        if unexpected:
            raise InvalidInput(f"A folder has no {', '.join(unexpected)}")
        return await self.services.assets.create_folder(
            owner=user,
            name=given.get("name", ""),
            parent_id=self._folder_id(user, given.get("parent_id")),
        )

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
                if "json" in form:
                    return await self._create_folder(user, form)
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
        given = _fields(
            _parse_object(form.get("json", ""), "The `json` field"), CREATE_FIELDS, CREATE_NUMBERS
        )
        if given.get("content_type") == FOLDER_CONTENT_TYPE:
            raise InvalidInput("A folder has no content: leave out the `file` part")
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
            parent_id=self._folder_id(user, given.get("parent_id")),
            metadata=_with_duration(given, given.get("metadata")),
            tags=_tags(given),
            expires_at=_expiry(given),
        )

    async def update_asset(self, request: Request) -> Response:
        self.admission.require_content_type(
            request, ("application/json",), "Send the changes as application/json"
        )
        user = await self._user(request)
        asset_id = request.path_params["asset_id"]
        body = _parse_object(await request.body(), "The request body")
        given = _fields(body, UPDATE_FIELDS, UPDATE_NUMBERS)
        current = await self.services.assets.get(owner=user, asset_id=asset_id)
        # nodetool's client sends the whole asset back: the same type is no change.
        claimed = given.get("content_type")
        if claimed is not None and claimed != current.content_type:
            raise InvalidInput(
                f"`content_type` cannot be changed (it is '{current.content_type}', what the "
                "content is); send new content as `data`, or upload a new asset"
            )
        data = given.get("data")
        if data is not None and current.is_folder:
            raise InvalidInput(f"Asset '{current.id}' is a folder and has no content")
        encoded = data.encode("utf-8") if data is not None else None
        size = given.get("size")
        expected_size = len(encoded) if encoded is not None else current.size
        if size is not None and size != expected_size:
            raise InvalidInput(
                f"`size` is measured from the content ({expected_size} bytes), not set"
            )
        replace_metadata = "metadata" in given or "duration" in given
        metadata = _with_duration(given, given.get("metadata", current.metadata))
        asset = await self.services.assets.update_asset(
            owner=user,
            asset_id=current.id,
            name=given.get("name"),
            move="parent_id" in given,
            parent_id=self._folder_id(user, given.get("parent_id")),
            replace_metadata=replace_metadata,
            metadata=metadata,
            replace_tags="tags" in given,
            tags=_tags(given),
            replace_expiry="expires_at" in body,
            expires_at=_expiry(body),
        )
        if encoded is not None:
            # New bytes take the same road as an upload: staged, hashed, then published.
            asset = await self.services.assets.replace_content(
                owner=user, asset_id=asset.id, content=_one_chunk(encoded)
            )
        return JSONResponse(self._asset_json(request, asset))

    async def download_assets(self, request: Request) -> Response:
        """nodetool's zip download: `{"asset_ids": [...]}`, folders with their contents."""
        # JSON (unlike a form post) needs a CORS preflight, so no cross-site page can ask.
        self.admission.require_content_type(
            request, ("application/json",), 'Send {"asset_ids": [...]} as application/json'
        )
        user = await self._user(request)
        body = _parse_object(await request.body(), "The request body")
        asset_ids = body.get("asset_ids")
        if not isinstance(asset_ids, list) or not all(isinstance(i, str) for i in asset_ids):
            raise InvalidInput("`asset_ids` must be a list of asset ids")
        archives = self.services.archives
        members = await archives.members_of_ids(user, asset_ids)
        return await zip_response(request, archives.stream(members), archive_filename())

    async def delete_asset(self, request: Request) -> Response:
        user = await self._user(request)
        deleted = await self.services.assets.delete_asset_tree(
            owner=user, asset_id=request.path_params["asset_id"]
        )
        # nodetool answers with the ids; the count is Trove's own.
        return JSONResponse(
            {"deleted_asset_ids": [str(i) for i in deleted], "deleted_count": len(deleted)}
        )
