"""Asset bytes over HTTP: streaming, Range, ETag, and safe headers for active content."""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

import models
from server.edge import Admission, respond_to
from services.archives import archive_filename
from services.assets import primed, storage_errors
from services.content_types import is_passive
from services.errors import Forbidden
from services.runtime import Services
from services.urls import ARCHIVE_PREFIX

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Assets never change their bytes, so a browser may keep them for the life of the URL.
CACHE_CONTROL = "private, max-age=3600"


def _disposition(kind: str, name: str) -> str:
    ascii_name = (
        name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "download"
    )
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end exclusive) for one satisfiable range; None to send it all; 'unsatisfiable'."""
    match = _RANGE.match(header.replace(" ", ""))
    if match is None:
        return None  # Multiple or malformed ranges: RFC 9110 lets us ignore the header.
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


async def zip_response(request: Request, body: AsyncIterator[bytes], filename: str) -> Response:
    """A streamed zip download (its length is unknown until the last member is read).

    The first chunk is read before answering, so a store that cannot be read is an error
    status (503/507) rather than a cut-off archive."""
    headers = {
        "Content-Disposition": _disposition("attachment", filename),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type="application/zip")
    return StreamingResponse(await primed(body), headers=headers, media_type="application/zip")


class ContentRoutes:
    def __init__(
        self,
        *,
        services: Services,
        admission: Admission,
        presigned_downloads: bool = False,
        presigned_ttl_seconds: int = 3600,
    ) -> None:
        self.services = services
        self.admission = admission
        # Send GETs to the object store (TROVE_S3_PRESIGNED_DOWNLOADS): no bytes through us.
        self.presigned_downloads = presigned_downloads
        self.presigned_ttl_seconds = presigned_ttl_seconds

    def routes(self) -> list[Route]:
        return [
            Route(
                "/assets/{asset_id}/content", self._guarded(self.content), methods=["GET", "HEAD"]
            ),
            Route(
                "/assets/{asset_id}/thumbnail",
                self._guarded(self.thumbnail),
                methods=["GET", "HEAD"],
            ),
            Route(ARCHIVE_PREFIX + "{token}", self._guarded(self.archive), methods=["GET", "HEAD"]),
        ]

    def _guarded(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ClientDisconnect:
                raise
            except Exception as error:
                return respond_to(request, error)

        return endpoint

    async def _asset(self, request: Request) -> models.Asset:
        """The asset, if the URL's signature or the caller's credentials allow it."""
        asset_id = request.path_params["asset_id"]
        params = request.query_params
        if "signature" in params or "expires" in params:
            if not self.services.signer.verify(
                request.url.path, params.get("expires"), params.get("signature")
            ):
                raise Forbidden("This link is invalid or has expired")
            return await self.services.assets.get_unscoped(asset_id=asset_id)
        user = await self.admission.user(request)
        return await self.services.assets.get(owner=user, asset_id=asset_id)

    async def content(self, request: Request) -> Response:
        asset = await self._asset(request)
        if asset.is_folder:
            # A folder's content is the zip of what it holds.
            owner = models.User(id=asset.owner_id)  # type: ignore[attr-defined]
            archives = self.services.archives
            return await zip_response(
                request,
                archives.stream(archives.members_of_folder(owner, asset)),
                archive_filename(folder=asset),
            )
        # Before any header goes out: a lost blob is an error status, not a dropped stream.
        await self.services.assets.require_content(asset)
        etag = f'"{asset.sha256}"'
        headers = {
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Cache-Control": CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff",
        }
        content_type = asset.content_type
        if is_passive(content_type):
            headers["Content-Disposition"] = _disposition("inline", asset.name)
        else:
            # Never run uploaded markup or script with our origin's authority.
            headers["Content-Disposition"] = _disposition("attachment", asset.name)
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        if content_type.startswith("text/") and "charset" not in content_type:
            content_type += "; charset=utf-8"

        if_none_match = request.headers.get("if-none-match")
        if if_none_match and (
            if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]
        ):
            return Response(status_code=304, headers=headers)

        if self.presigned_downloads and request.method == "GET":
            url = await self.services.assets.presigned_url(
                asset,
                content_type=content_type,
                disposition=headers["Content-Disposition"],
                expires_in=self.presigned_ttl_seconds,
            )
            if url is not None:
                # The bucket answers Range requests itself; this redirect must not be cached
                # longer than the presigned URL lives.
                return RedirectResponse(
                    url, status_code=307, headers={"Cache-Control": "private, no-store"}
                )

        size = asset.size
        start, end, status = 0, size, 200
        range_header = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if range_header and (if_range is None or if_range.strip() == etag):
            parsed = parse_range(range_header, size)
            if parsed == "unsatisfiable":
                return Response(
                    status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"}
                )
            if isinstance(parsed, tuple):
                start, end = parsed
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=content_type)
        body = await self.services.assets.open_content(asset, start, end)
        return StreamingResponse(body, status_code=status, headers=headers, media_type=content_type)

    async def archive(self, request: Request) -> Response:
        """An `assetArchiveUrl` link: the signature vouches for the owner and the filter."""
        params = request.query_params
        if not self.services.signer.verify(
            request.url.path, params.get("expires"), params.get("signature")
        ):
            raise Forbidden("This link is invalid or has expired")
        owner, where = self.services.archives.read_token(request.path_params["token"])
        archives = self.services.archives
        return await zip_response(
            request,
            archives.stream(archives.members_of_filter(owner, where)),
            archive_filename(where),
        )

    async def thumbnail(self, request: Request) -> Response:
        asset = await self._asset(request)
        await self.services.assets.require_content(asset)
        async with storage_errors():
            image = await self.services.thumbnails.thumbnail(asset)
        return Response(
            image,
            media_type="image/webp",
            headers={
                "ETag": f'"{asset.sha256}-thumb"',
                "Cache-Control": CACHE_CONTROL,
                "X-Content-Type-Options": "nosniff",
            },
        )
