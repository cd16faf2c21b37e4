"""Zip archives of assets, streamed as they are read: never built in memory or on disk.

One service for every way to ask for an archive: `assetArchiveUrl(filter:)` (a signed link
that carries the filter), a folder's `url`, and the REST `POST /api/assets/download`. Folders
become directories; names that collide in one directory get ` (2)`, ` (3)`, ... before their
extension, compared case-insensitively so the archive unpacks on any file system. The zip
format itself is stream-zip's (ZIP64 when a member or the archive passes 4 GiB).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import stat
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from uuid import UUID

from stream_zip import ZIP_32, ZIP_AUTO, async_stream_zip

from models import Asset, User
from services.assets import AssetFilter, AssetService, parse_id
from services.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

# Links carry their filter; past this a proxy or browser may refuse the URL.
MAX_TOKEN_CHARS = 6000
PAGE = 500
MAX_IDS = 10_000
CHUNK = 256 * 1024
# Deflating what is already compressed costs CPU for nothing: such members are stored.
_STORED_PREFIXES = ("image/", "video/", "audio/")
_STORED_TYPES = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-7z-compressed",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
_FILE_MODE = stat.S_IFREG | 0o644
_DIR_MODE = stat.S_IFDIR | 0o755


@dataclass(frozen=True)
class Member:
    """One entry of an archive: a directory (asset is a folder) or a file."""

    path: str
    asset: Asset

    @property
    def is_dir(self) -> bool:
        return self.asset.is_folder


def member_name(raw: str) -> str:
    """A single path component: no separators, never '.' or '..', never empty."""
    name = raw.replace("/", "_").replace("\\", "_").strip()
    return "_" if name in ("", ".", "..") else name


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `stem (n).ext` with the smallest n >= 2 not yet taken in this directory."""
    candidate = name
    if candidate.casefold() in taken:
        path = PurePosixPath(name)
        suffix = path.suffix if path.stem else ""
        stem = name[: len(name) - len(suffix)] if suffix else name
        n = 2
        while f"{stem} ({n}){suffix}".casefold() in taken:
            n += 1
        candidate = f"{stem} ({n}){suffix}"
    taken.add(candidate.casefold())
    return candidate


def _filter_to_json(where: AssetFilter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in asdict(where).items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif key == "ids":
            value = [str(v) for v in value]
        elif key == "tags":
            value = list(value)
        out[key] = value
    return out


def _filter_from_json(raw: dict[str, Any]) -> AssetFilter:
    known = {f.name for f in fields(AssetFilter)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ValueError(key)
        if key in ("created_after", "created_before", "expired_before"):
            value = datetime.fromisoformat(value)
        values[key] = value
    return AssetFilter(**values)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ArchiveService:
    def __init__(self, *, assets: AssetService) -> None:
        self.assets = assets

    # Links --------------------------------------------------------------------------------

    async def link_token(self, *, owner: User, where: AssetFilter) -> str:
        """What an archive link carries (services/urls.py signs it): owner and filter."""
        # Run the filter once now, so a bad filter is refused here rather than by the link.
        await self.assets._filtered(owner, where).limit(1).values_list("id", flat=True)
        payload = {"owner": str(owner.id), "filter": _filter_to_json(where)}
        token = _b64(zlib.compress(json.dumps(payload, separators=(",", ":")).encode()))
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidInput(
                "This filter is too large for a link (e.g. too many ids): tag the assets or "
                "put them in a folder and archive that"
            )
        return token

    def read_token(self, token: str) -> tuple[User, AssetFilter]:
        """The owner and filter a link carries (its signature is checked by the caller)."""
        try:
            payload = json.loads(zlib.decompress(_unb64(token)))
            owner = User(id=UUID(payload["owner"]))
            where = _filter_from_json(payload["filter"])
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError) as error:
            raise NotFound("This archive link is malformed") from error
        return owner, where

    # Selecting members -------------------------------------------------------------------

    async def _pages(self, query: Any) -> AsyncIterator[Asset]:
        """Rows of a query in id order, a page at a time (memory stays flat)."""
        last: UUID | None = None
        while True:
            page = query if last is None else query.filter(id__gt=last)
            rows: list[Asset] = await page.order_by("id").limit(PAGE)
            for row in rows:
                yield row
            if len(rows) < PAGE:
                return
            last = rows[-1].id

    async def _members(
        self, owner: User, roots: AsyncIterator[Asset], prefix: str, seen: set[UUID]
    ) -> AsyncIterator[Member]:
        taken: set[str] = set()
        async for asset in roots:
            name = unique_name(member_name(asset.name), taken)
            if not asset.is_folder:
                yield Member(prefix + name, asset)
                continue
            if asset.id in seen:
                continue  # a folder listed twice (or a cycle) is archived once
            seen.add(asset.id)
            directory = f"{prefix}{name}/"
            yield Member(directory, asset)
            children = self._pages(Asset.filter(owner_id=owner.id, parent_id=asset.id))
            async for member in self._members(owner, children, directory, seen):
                yield member

    def members_of_filter(self, owner: User, where: AssetFilter) -> AsyncIterator[Member]:
        return self._members(owner, self._pages(self.assets._filtered(owner, where)), "", set())

    def members_of_folder(self, owner: User, folder: Asset) -> AsyncIterator[Member]:
        children = self._pages(Asset.filter(owner_id=owner.id, parent_id=folder.id))
        return self._members(owner, children, "", {folder.id})

    async def members_of_ids(self, owner: User, ids: Sequence[str]) -> AsyncIterator[Member]:
        """The given assets (folders with their contents), in the order given."""
        wanted = list(dict.fromkeys(parse_id(raw) for raw in ids))
        if not wanted:
            raise InvalidInput("`asset_ids` must name at least one asset")
        if len(wanted) > MAX_IDS:
            raise InvalidInput(f"At most {MAX_IDS} asset ids per download (folders count as one)")
        found = await self.assets.get_many(owner_id=owner.id, ids=wanted)
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise NotFound(f"No asset with id '{missing[0]}'")

        async def roots() -> AsyncIterator[Asset]:
            for asset_id in wanted:
                yield found[asset_id]

        return self._members(owner, roots(), "", set())

    # Streaming ---------------------------------------------------------------------------

    async def stream(self, members: AsyncIterator[Member]) -> AsyncIterator[bytes]:
        """The zip bytes, produced while the members' content is read, in pieces of at least
        CHUNK bytes: stream-zip yields each header on its own, and a first piece that holds
        content read from the store lets the caller answer a failing store with a status
        (see `primed`) rather than a cut-off archive."""
        pending = bytearray()
        async for chunk in async_stream_zip(self._zip_entries(members), chunk_size=CHUNK):
            pending += chunk
            if len(pending) >= CHUNK:
                yield bytes(pending)
                pending.clear()
        if pending:
            yield bytes(pending)

    async def _zip_entries(self, members: AsyncIterator[Member]) -> AsyncIterator[Any]:
        async for member in members:
            modified = member.asset.updated_at or datetime.now(UTC)
            if member.is_dir:
                yield member.path, modified, _DIR_MODE, ZIP_32, _no_bytes()
                continue
            asset = member.asset
            level = 0 if _already_compressed(asset.content_type) else 6
            yield (
                member.path,
                modified,
                _FILE_MODE,
                ZIP_AUTO(asset.size, level=level),
                self.assets.read_content(asset),
            )


def _already_compressed(content_type: str) -> bool:
    return content_type.startswith(_STORED_PREFIXES) or content_type in _STORED_TYPES


async def _no_bytes() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


def archive_filename(where: AssetFilter | None = None, folder: Asset | None = None) -> str:
    if folder is not None:
        return f"{member_name(folder.name)}.zip"
    if where is not None and where.job_id:
        return f"job-{member_name(where.job_id)}.zip"
    return "assets.zip"
