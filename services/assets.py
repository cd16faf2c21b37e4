"""Every read and write of assets. No GraphQL or HTTP here: resolvers, the REST adapter and the
workflow runner's auto-save all call these same functions."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Max, Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Asset, AssetLineage, AssetTag, User
from models.asset import FOLDER_CONTENT_TYPE
from services import content_types, metadata_search
from services import tags as tagging
from services.errors import (
    ContentMissing,
    InsufficientStorage,
    InvalidInput,
    NotFound,
    Overloaded,
    StorageUnavailable,
    TooLarge,
)
from services.events import EventBroker, EventHistoryGone, asset_topic
from services.media_facts import DEFAULT_BUDGET_SECONDS, MediaFacts
from services.pagination import MAX_PAGE_SIZE, Ordering, Page, PageBounds, paginate
from services.records import AssetRecord, fetch_asset_records
from services.statements import StatementCache
from services.validation import check_json, check_text
from storage import BlobStorage, BlobTooLarge, StagedBlob
from storage.base import StorageError, StorageFull, StorageMisconfigured

logger = logging.getLogger(__name__)

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MAX_TRACKING_LENGTH = 255
MAX_METADATA_BYTES = 64 * 1024
MIN_SEARCH_LENGTH = 2
# Names are at most 255 bytes, so a longer search can never match; SQLite also refuses
# LIKE patterns past 50,000 bytes with an error.
MAX_SEARCH_LENGTH = 255
_TRACKING_ARGUMENTS = {"node_id": "nodeId", "job_id": "jobId", "workflow_id": "workflowId"}
# Bulk changes work through the matches this many rows per transaction.
BULK_BATCH = 500


class AssetOrder(StrEnum):
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    SIZE_DESC = "SIZE_DESC"
    SIZE_ASC = "SIZE_ASC"


_ORDERINGS = {
    AssetOrder.CREATED_AT_DESC: Ordering("CREATED_AT_DESC", None, descending=True),
    AssetOrder.CREATED_AT_ASC: Ordering("CREATED_AT_ASC", None, descending=False),
    AssetOrder.NAME_ASC: Ordering("NAME_ASC", "name", descending=False),
    AssetOrder.NAME_DESC: Ordering("NAME_DESC", "name", descending=True),
    AssetOrder.SIZE_DESC: Ordering("SIZE_DESC", "size", descending=True, key_type=int),
    AssetOrder.SIZE_ASC: Ordering("SIZE_ASC", "size", descending=False, key_type=int),
}


class AssetGrouping(StrEnum):
    NODE = "node_id"
    JOB = "job_id"
    WORKFLOW = "workflow_id"
    CONTENT_TYPE = "content_type"


@dataclass(frozen=True)
class Tracking:
    """Which node, job and workflow produced an asset: free-form strings."""

    node_id: str | None = None
    job_id: str | None = None
    workflow_id: str | None = None

    def validated(self) -> Tracking:
        for field, argument in _TRACKING_ARGUMENTS.items():
            value = getattr(self, field)
            if value is not None and (not value or len(value) > MAX_TRACKING_LENGTH):
                raise InvalidInput(f"`{argument}` must be 1 to {MAX_TRACKING_LENGTH} characters")
            check_text(value, f"`{argument}`")
        return self


@dataclass(frozen=True)
class NewAsset:
    """One asset for `create_assets`: its content (a stream, or what `stage_upload` already
    received) and what the caller says about it."""

    content: AsyncIterator[bytes] | StagedBlob
    name: str | None
    content_type: str | None = None
    tracking: Tracking = Tracking()
    parent_id: str | UUID | None = None
    metadata: Any = None
    derived_from: Sequence[UUID] = ()
    tags: Sequence[str] | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class AssetFilter:
    """Which of the caller's assets; every field given narrows (they combine with AND)."""

    node_id: str | None = None
    job_id: str | None = None
    workflow_id: str | None = None
    # Exact (`image/png`), a prefix ending in `/` (`image/`), or a family (`image`).
    content_type: str | None = None
    parent_id: str | None = None
    # Only assets outside any folder (nodetool's "Home").
    top_level: bool = False
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    ids: Sequence[str | UUID] | None = None
    # Assets carrying every one of these tags (compared case-insensitively).
    tags: Sequence[str] | None = None
    # Assets whose metadata contains this JSON object (PostgreSQL's `@>`).
    metadata: dict[str, Any] | None = None
    expired_before: datetime | None = None

    def narrows(self) -> bool:
        """Whether any field restricts the selection (bulk changes refuse one that doesn't)."""
        return (
            any(
                getattr(self, name) is not None
                for name in (
                    "node_id",
                    "job_id",
                    "workflow_id",
                    "content_type",
                    "parent_id",
                    "created_after",
                    "created_before",
                    "ids",
                    "expired_before",
                )
            )
            or self.top_level
            or bool(self.search)
            or bool(self.tags)
            or bool(self.metadata)
        )

    def validated(self) -> AssetFilter:
        for field, argument in _TRACKING_ARGUMENTS.items():
            value = getattr(self, field)
            if value is not None and len(value) > MAX_TRACKING_LENGTH:
                raise InvalidInput(f"`{argument}` is at most {MAX_TRACKING_LENGTH} characters")
            check_text(value, f"`{argument}`")
        if self.search is not None and len(self.search) > MAX_SEARCH_LENGTH:
            raise InvalidInput(f"`search` is at most {MAX_SEARCH_LENGTH} characters")
        check_text(self.search, "`search`")
        if self.content_type is not None and len(self.content_type) > MAX_TRACKING_LENGTH:
            raise InvalidInput(f"`contentType` is at most {MAX_TRACKING_LENGTH} characters")
        check_text(self.content_type, "`contentType`")
        return self


@dataclass
class ExpirySummary:
    """What a retention sweep deleted (or, dry, would delete)."""

    assets: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class FolderPath:
    """Where an asset sits, as nodetool's search shows it: `Home / Photos / 2026`."""

    folder_id: str
    folder_name: str
    folder_path: str


HOME_FOLDER_NAME = "Home"


@dataclass(frozen=True)
class AssetGroup:
    key: str | None
    count: int
    total_size: int
    newest: datetime | None


def parse_id(raw: str | UUID, *, what: str = "asset") -> UUID:
    if isinstance(raw, UUID):
        return raw
    try:
        return UUID(raw)
    except (ValueError, TypeError, AttributeError) as error:
        raise NotFound(f"No {what} with id '{raw}'") from error


def _lock_key(sha256: str) -> int:
    return zlib.crc32(sha256.encode()) - (1 << 31)


async def _lock_blob(conn: BaseDBAsyncClient, digests: Iterable[str]) -> None:
    """Serialise row changes that share a blob across workers.

    SQLite needs nothing: the first write of a transaction takes the database's write lock.
    """
    if conn.capabilities.dialect != "postgres":
        return
    for key in sorted({_lock_key(d) for d in digests}):
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [key])


async def _digests_in_use(
    digests: Iterable[str], conn: BaseDBAsyncClient | None = None
) -> set[str]:
    query = Asset.filter(sha256__in=list(digests))
    if conn is not None:
        query = query.using_db(conn)
    return set(await query.values_list("sha256", flat=True))  # type: ignore[arg-type]


def _is_database_full(error: BaseException) -> bool:
    """SQLite's SQLITE_FULL, or PostgreSQL's disk_full (53100) / out_of_memory-class 53xxx."""
    message = str(error).lower()
    if "database or disk is full" in message or "no space left on device" in message:
        return True
    sqlstate = getattr(error, "sqlstate", None) or getattr(error.__cause__, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("53")


# Seconds a client is told to wait (`Retry-After`) after the blob store failed in passing.
STORAGE_RETRY_AFTER_SECONDS = 5


@contextlib.asynccontextmanager
async def storage_errors() -> AsyncIterator[None]:
    """A full disk or a failing blob store, as errors the caller can act on (507 / 503)."""
    try:
        yield
    except StorageFull as error:
        raise InsufficientStorage(
            f"Not enough storage space: {error}. Delete assets to free space, or ask the "
            "operator to add some."
        ) from error
    except StorageMisconfigured as error:
        # The store logged the details an operator needs; the client learns what is wrong.
        raise StorageUnavailable(
            f"Storage is misconfigured: {error}. Nothing was changed; the server's operator "
            "must fix the storage settings (details are in the server log)."
        ) from error
    except StorageError as error:
        raise StorageUnavailable(
            f"Storage is unavailable: {error}. Nothing was changed; try again later.",
            retry_after=STORAGE_RETRY_AFTER_SECONDS,
        ) from error
    except Exception as error:
        # Drivers raise their own types (sqlite3.OperationalError escapes Tortoise at
        # commit, asyncpg's DiskFullError): what counts is what they say.
        if _is_database_full(error):
            raise InsufficientStorage(
                "Not enough storage space: the database's disk is full. Delete assets to "
                "free space, or ask the operator to add some."
            ) from error
        raise


async def primed(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`stream` with its first chunk read now, under `storage_errors`: a response built on
    it can still answer with an error status. Later failures end the stream (logged)."""
    async with storage_errors():
        first = await anext(stream, None)

    async def rest() -> AsyncIterator[bytes]:
        if first is None:
            return
        yield first
        try:
            async for chunk in stream:
                yield chunk
        except StorageError:
            # The status is already sent: all that is left is to cut the response short.
            logger.warning("storage failed while streaming content", exc_info=True)
            raise

    return rest()


def _validate_metadata(metadata: Any) -> Any:
    if metadata is None:
        return None
    check_json(metadata, "`metadata`")
    try:
        encoded = json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInput("`metadata` must be JSON") from error
    if len(encoded) > MAX_METADATA_BYTES:
        raise InvalidInput(f"`metadata` is larger than {MAX_METADATA_BYTES} bytes")
    return metadata


def _aware(value: datetime | None) -> datetime | None:
    """Datetimes without an offset are taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _validated_name(raw: str | None, *, required: bool) -> str | None:
    if raw is None:
        if required:
            raise InvalidInput("`name` is required")
        return None
    name = content_types.sanitize_name(raw)
    if not name:
        raise InvalidInput(f"'{raw}' is not a usable name")
    return name


# The filters whose values a listing's SQL carries as they are (services/statements.py).
# The others (search, a content-type family, tags, metadata, ids, expiry) build the
# statement from the value, so a listing using one is compiled by Tortoise each time.
_STATEMENT_FIELDS = ("node_id", "job_id", "workflow_id", "content_type", "parent_id")
_OTHER_FILTER_FIELDS = (
    "search",
    "created_after",
    "created_before",
    "ids",
    "tags",
    "metadata",
    "expired_before",
)


def _cacheable_filter_fields(where: AssetFilter) -> tuple[str, ...] | None:
    # `is not None`, not truthiness: an empty `ids` list still narrows (to nothing).
    if any(getattr(where, name) is not None for name in _OTHER_FILTER_FIELDS):
        return None
    if where.content_type is not None and content_types.family_prefix(where.content_type):
        return None
    return tuple(name for name in _STATEMENT_FIELDS if getattr(where, name) is not None)


def _filter_value(where: AssetFilter, name: str) -> Any:
    value = getattr(where, name)
    # Canonical objects, so that each parameter is made from its value in one way.
    return parse_id(value, what="folder") if name == "parent_id" else value


class AssetService:
    def __init__(
        self,
        *,
        storage: BlobStorage,
        broker: EventBroker,
        max_upload_bytes: int,
        max_concurrent_uploads: int = 64,
        media_budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    ) -> None:
        self.storage = storage
        self.broker = broker
        self.max_upload_bytes = max_upload_bytes
        self.max_concurrent_uploads = max_concurrent_uploads
        # Each upload in progress holds a staging file and a connection.
        self._upload_slots = asyncio.Semaphore(max_concurrent_uploads)
        self.media = MediaFacts(storage=storage, budget_seconds=media_budget_seconds)
        self._list_statements = StatementCache(Asset)

    # Reading -----------------------------------------------------------------------------

    async def get(self, *, owner: User, asset_id: str | UUID) -> Asset:
        asset = await Asset.filter(id=parse_id(asset_id), owner_id=owner.id).first()
        if asset is None:
            raise NotFound(f"No asset with id '{asset_id}'")
        return asset

    async def get_unscoped(self, *, asset_id: str | UUID) -> Asset:
        """For holders of a signed URL: the signature already proves the owner issued it."""
        asset = await Asset.filter(id=parse_id(asset_id)).first()
        if asset is None:
            raise NotFound(f"No asset with id '{asset_id}'")
        return asset

    async def require_content(self, asset: Asset) -> None:
        """Raise ContentMissing (and log the integrity fault) when the bytes are gone."""
        if asset.is_folder:
            return
        async with storage_errors():
            if await self.storage.exists(asset.sha256):
                return
        logger.error(
            "integrity: asset %s (owner %s) has no blob %s in storage",
            asset.id,
            asset.owner_id,  # type: ignore[attr-defined]
            asset.sha256,
        )
        raise ContentMissing(
            f"The content of asset '{asset.id}' is missing from storage. This is a fault of "
            "the server, reported in its log; the asset's metadata is intact."
        )

    def read_content(
        self, asset: Asset, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The asset's bytes in [start, end), streamed."""
        if asset.is_folder:
            raise InvalidInput(f"Asset '{asset.id}' is a folder and has no content")
        return self.storage.read(asset.sha256, start, end)

    async def open_content(
        self, asset: Asset, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """`read_content`, with the first bytes already read: a store that cannot be read
        fails here (507/503 for the caller to answer) rather than in a response under way."""
        return await primed(self.read_content(asset, start, end))

    async def presigned_url(
        self, asset: Asset, *, content_type: str, disposition: str, expires_in: int
    ) -> str | None:
        """A URL to fetch the bytes from the object store itself, when the store signs them."""
        presign = getattr(self.storage, "presigned_get", None)
        if presign is None or asset.is_folder:
            return None
        async with storage_errors():
            url: str = await presign(
                asset.sha256,
                expires_in=expires_in,
                disposition=disposition,
                content_type=content_type,
            )
        return url

    async def created(
        self, *, owner: User, where: AssetFilter, after: str | None = None
    ) -> AsyncIterator[Asset]:
        """Assets as they are created, from any process; with `after` (the id of the last
        asset a subscriber saw), first every one created since, so a reconnect misses none."""
        wanted = {f: getattr(where, f) for f in ("node_id", "job_id", "workflow_id")}
        topic = asset_topic(owner.id)
        try:
            async with self.broker.subscribe(topic, after_subject=after) as events:
                async for event in events:
                    asset = await Asset.filter(
                        id=parse_id(event.payload.get("id", "")), owner_id=owner.id
                    ).first()
                    if asset is None:
                        continue  # Deleted meanwhile.
                    if all(v is None or getattr(asset, k) == v for k, v in wanted.items()):
                        yield asset
        except EventHistoryGone as error:
            raise InvalidInput(str(error)) from error

    async def get_many(self, *, owner_id: UUID, ids: Sequence[UUID]) -> dict[UUID, Asset]:
        rows = await Asset.filter(id__in=list(ids), owner_id=owner_id)
        return {row.id: row for row in rows}

    def _filtered(self, owner: User, where: AssetFilter) -> QuerySet[Asset]:
        where = where.validated()
        query = Asset.filter(owner_id=owner.id)
        for field in ("node_id", "job_id", "workflow_id"):
            value = getattr(where, field)
            if value is not None:
                query = query.filter(**{field: value})
        if where.content_type is not None:
            prefix = content_types.family_prefix(where.content_type)
            if prefix is not None:
                query = query.filter(content_type__startswith=prefix)
            else:
                query = query.filter(content_type=where.content_type)
        if where.parent_id is not None:
            query = query.filter(parent_id=parse_id(where.parent_id, what="folder"))
        if where.top_level:
            query = query.filter(parent_id__isnull=True)
        if where.search:
            query = query.filter(name__icontains=where.search)
        if where.created_after is not None:
            query = query.filter(created_at__gt=where.created_after)
        if where.created_before is not None:
            query = query.filter(created_at__lt=where.created_before)
        if where.ids is not None:
            ids = []
            for raw in where.ids:
                try:
                    ids.append(raw if isinstance(raw, UUID) else UUID(str(raw)))
                except ValueError:
                    continue  # no asset has a malformed id: it selects nothing
            query = query.filter(id__in=ids)
        for key in sorted({tagging.tag_key(t) for t in tagging.normalize_tags(where.tags or [])}):
            # One (owner, key, asset) index range per tag.
            query = query.filter(
                id__in=Subquery(AssetTag.filter(owner_id=owner.id, key=key).values("asset_id"))
            )
        if where.metadata is not None:
            dialect = Asset._meta.db.capabilities.dialect
            query = query.filter(metadata_search.containment(where.metadata, dialect=dialect))
        if where.expired_before is not None:
            query = query.filter(expires_at__lte=where.expired_before)
        return query

    async def list_assets(
        self,
        *,
        owner: User,
        where: AssetFilter,
        order: AssetOrder = AssetOrder.CREATED_AT_DESC,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Page[Asset]:
        return await paginate(
            self._filtered(owner, where),
            _ORDERINGS[order],
            first=first,
            after=after,
            last=last,
            before=before,
        )

    async def list_records(
        self,
        *,
        owner: User,
        where: AssetFilter,
        order: AssetOrder = AssetOrder.CREATED_AT_DESC,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Page[AssetRecord]:
        """`list_assets` for readers that only serialise the page (the GraphQL and REST
        list endpoints): the same page as light records instead of ORM objects, its SQL
        compiled once per filter shape (services/statements.py)."""
        where = where.validated()
        fields = _cacheable_filter_fields(where)

        async def fetch(base: QuerySet[Asset], bounds: PageBounds) -> list[AssetRecord]:
            if fields is None:
                return await fetch_asset_records(bounds.apply(base))
            values = [owner.id, *(_filter_value(where, name) for name in fields)]
            values += bounds.values()

            def build(given: Sequence[Any]) -> QuerySet[Asset]:
                stand_in = User(id=given[0], name="")
                narrowed = dataclasses.replace(
                    where, **dict(zip(fields, given[1 : 1 + len(fields)], strict=True))
                )
                page = bounds.with_values(given[1 + len(fields) :])
                return page.apply(self._filtered(stand_in, narrowed))

            shape = (fields, where.top_level, bounds.shape)
            rows = await self._list_statements.rows(shape, build, values)
            return [AssetRecord(row) for row in rows]

        return await paginate(
            self._filtered(owner, where),
            _ORDERINGS[order],
            first=first,
            after=after,
            last=last,
            before=before,
            fetch=fetch,
        )

    async def iter_assets(
        self,
        *,
        owner: User,
        where: AssetFilter,
        order: AssetOrder = AssetOrder.CREATED_AT_DESC,
        limit: int | None = None,
    ) -> AsyncIterator[Asset]:
        """Every matching asset, a page at a time (for callers that want them all)."""
        after: str | None = None
        seen = 0
        while limit is None or seen < limit:
            page = await self.list_assets(
                owner=owner, where=where, order=order, first=MAX_PAGE_SIZE, after=after
            )
            for asset in page.items:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield asset
            if not page.cursors or not await page.has_next_page():
                return
            after = page.cursors[-1]

    async def paginate(
        self,
        *,
        user_id: str | UUID,
        parent_id: str | UUID | None = None,
        workflow_id: str | None = None,
        content_type: str | None = None,
        limit: int = 100,
        start_key: str | None = None,
        reverse: bool = False,
        node_id: str | None = None,
        job_id: str | None = None,
        cursor: str | None = None,
    ) -> tuple[list[Asset], str]:
        """The seed system's `Asset.paginate`: `(assets, next_key)`, `next_key` "" at the end.

        Oldest first (`reverse=True`: newest first). `parent_id` equal to `user_id` is the
        top level (nodetool's Home); `content_type` is a prefix (`image` or `image/`).
        `cursor` is another name for `start_key`. A thin layer over `list_assets`.
        """
        user = parse_id(user_id, what="user")
        home = parent_id is not None and str(parent_id) == str(user)
        page = await self.list_assets(
            owner=User(id=user),
            where=AssetFilter(
                node_id=node_id,
                job_id=job_id,
                workflow_id=workflow_id,
                content_type=content_type or None,
                parent_id=None if home or not parent_id else str(parent_id),
                top_level=home,
            ),
            order=AssetOrder.CREATED_AT_DESC if reverse else AssetOrder.CREATED_AT_ASC,
            first=min(max(limit, 1), MAX_PAGE_SIZE),
            after=start_key or cursor or None,
        )
        more = await page.has_next_page()
        return page.items, (page.cursors[-1] if more and page.cursors else "")

    async def search_assets_global(
        self,
        *,
        user_id: str | UUID,
        query: str,
        content_type: str | None = None,
        limit: int = 100,
        start_key: str | None = None,
    ) -> tuple[list[Asset], str, list[dict[str, str]]]:
        """The seed's `Asset.search_assets_global`: `(assets, next_key, folder_paths)`, the
        paths as `{folder_id, folder_name, folder_path}` dicts in the assets' order."""
        owner = User(id=parse_id(user_id, what="user"))
        page, paths = await self.search_assets(
            owner=owner,
            query=query,
            where=AssetFilter(content_type=content_type or None),
            first=min(max(limit, 1), MAX_PAGE_SIZE),
            after=start_key or None,
        )
        more = await page.has_next_page()
        return (
            page.items,
            page.cursors[-1] if more and page.cursors else "",
            [dataclasses.asdict(paths[asset.id]) for asset in page.items],
        )

    async def get_asset_path_info(
        self, *, user_id: str | UUID, asset_ids: Sequence[str | UUID]
    ) -> dict[str, dict[str, str]]:
        """The seed's `Asset.get_asset_path_info`: folder path info by asset id, for the
        user's own assets (unknown or malformed ids are left out)."""
        owner = User(id=parse_id(user_id, what="user"))
        ids = []
        for raw in asset_ids:
            with contextlib.suppress(NotFound):
                ids.append(parse_id(raw))
        assets = await Asset.filter(owner_id=owner.id, id__in=ids) if ids else []
        paths = await self.folder_paths(owner=owner, assets=assets)
        return {str(key): dataclasses.asdict(value) for key, value in paths.items()}

    async def search_assets(
        self,
        *,
        owner: User,
        query: str,
        where: AssetFilter = AssetFilter(),
        first: int | None = None,
        after: str | None = None,
    ) -> tuple[Page[Asset], dict[UUID, FolderPath]]:
        """Assets whose name contains `query` (any case, at least 2 characters), in any
        folder, with where each one sits."""
        text = query.strip()
        if len(text) < MIN_SEARCH_LENGTH:
            raise InvalidInput(f"Search query must be at least {MIN_SEARCH_LENGTH} characters long")
        page = await self.list_assets(
            owner=owner, where=replace(where, search=text), first=first, after=after
        )
        return page, await self.folder_paths(owner=owner, assets=page.items)

    async def folder_paths(self, *, owner: User, assets: Sequence[Asset]) -> dict[UUID, FolderPath]:
        """For each asset, its folder and the breadcrumb from Home; one query per level."""
        folders: dict[UUID, tuple[str, UUID | None]] = {}
        wanted = {a.parent_id for a in assets if a.parent_id is not None}  # type: ignore[attr-defined]
        while wanted:
            rows = await Asset.filter(owner_id=owner.id, id__in=list(wanted)).values_list(
                "id", "name", "parent_id"
            )
            for folder_id, name, parent in rows:
                folders[folder_id] = (name, parent)
            wanted = {p for _, _, p in rows if p is not None and p not in folders}
        home = str(owner.id)
        found: dict[UUID, FolderPath] = {}
        for asset in assets:
            parent_id: UUID | None = asset.parent_id  # type: ignore[attr-defined]
            names: list[str] = []
            current = parent_id
            while current is not None and current in folders and len(names) <= len(folders):
                name, current = folders[current]
                names.append(name)
            names.append(HOME_FOLDER_NAME)
            names.reverse()
            found[asset.id] = FolderPath(
                folder_id=str(parent_id) if parent_id is not None else home,
                folder_name=names[-1],
                folder_path=" / ".join(names),
            )
        return found

    async def stats(
        self, *, owner: User, group_by: AssetGrouping, where: AssetFilter
    ) -> list[AssetGroup]:
        field = group_by.value
        rows = (
            await self._filtered(owner, where)
            .exclude(content_type=FOLDER_CONTENT_TYPE)
            .annotate(count=Count("id"), total_size=Sum("size"), newest=Max("created_at"))
            .group_by(field)
            .order_by("-count")
            .values(field, "count", "total_size", "newest")
        )
        return [
            AssetGroup(
                key=row[field],
                count=int(row["count"]),
                total_size=int(row["total_size"] or 0),
                newest=row["newest"],
            )
            for row in rows
        ]

    async def derived_from(self, *, owner: User, asset_id: UUID) -> list[Asset]:
        return await Asset.filter(
            owner_id=owner.id, derivative_links__derived_id=asset_id
        ).order_by("id")

    async def derivatives(
        self, *, owner: User, asset_id: UUID, first: int | None, after: str | None
    ) -> Page[Asset]:
        query = Asset.filter(owner_id=owner.id, source_links__source_id=asset_id)
        return await paginate(
            query,
            _ORDERINGS[AssetOrder.CREATED_AT_DESC],
            first=first,
            after=after,
            last=None,
            before=None,
        )

    # Writing -----------------------------------------------------------------------------

    async def check_parent(self, owner: User, parent_id: str | UUID | None) -> UUID | None:
        """The folder's id, when `parent_id` names a folder of the owner's."""
        return await self._check_parent(owner, parent_id)

    async def _check_parent(self, owner: User, parent_id: str | UUID | None) -> UUID | None:
        if parent_id is None:
            return None
        parent = await Asset.filter(
            id=parse_id(parent_id, what="folder"), owner_id=owner.id
        ).first()
        if parent is None:
            raise NotFound(f"No folder with id '{parent_id}'")
        if not parent.is_folder:
            raise InvalidInput(f"Asset '{parent_id}' is not a folder")
        return parent.id

    async def stage_upload(
        self, content: AsyncIterator[bytes], *, wait: bool = False
    ) -> StagedBlob:
        """Receive content ahead of `create_asset` (e.g. while a request body streams in).

        At most `max_concurrent_uploads` at once: a client's upload past that is refused
        (Overloaded) rather than queued; `wait=True` (the server's own writes) queues.
        """
        if not wait and self._upload_slots.locked():
            raise Overloaded(
                f"{self.max_concurrent_uploads} uploads are already in progress; retry shortly"
            )
        async with self._upload_slots:
            try:
                async with storage_errors():
                    return await self.storage.stage(content, max_bytes=self.max_upload_bytes)
            except BlobTooLarge as error:
                raise TooLarge(f"The content is larger than {error.limit} bytes") from error

    async def discard_upload(self, staged: StagedBlob) -> None:
        """Forget received content; never raises (the caller's own outcome matters more)."""
        try:
            await self.storage.discard(staged)
        except Exception:
            # On S3 the staging key stays until `recover` runs at the next start.
            logger.warning("could not discard received content %s", staged.token, exc_info=True)

    async def create_asset(
        self,
        *,
        owner: User,
        content: AsyncIterator[bytes] | StagedBlob,
        name: str | None,
        content_type: str | None = None,
        tracking: Tracking = Tracking(),
        parent_id: str | UUID | None = None,
        metadata: Any = None,
        derived_from: Sequence[UUID] = (),
        tags: Sequence[str] | None = None,
        expires_at: datetime | None = None,
    ) -> Asset:
        """Stream content into storage, then record the row; undo the blob if the row fails.

        The one write path for content: uploads and workflow auto-save both come here.
        `content` is a stream of bytes, or what `stage_upload` already received.
        """
        (asset,) = await self.create_assets(
            owner=owner,
            items=[
                NewAsset(
                    content=content,
                    name=name,
                    content_type=content_type,
                    tracking=tracking,
                    parent_id=parent_id,
                    metadata=metadata,
                    derived_from=tuple(derived_from),
                    tags=tags,
                    expires_at=expires_at,
                )
            ],
        )
        return asset

    async def create_assets(self, *, owner: User, items: Sequence[NewAsset]) -> list[Asset]:
        """Several assets, all or nothing: each is validated and its content received before
        any row is written, and the rows commit in one transaction."""
        staged_blobs: list[StagedBlob] = []
        records: list[tuple[StagedBlob, dict[str, Any], Sequence[UUID]]] = []
        try:
            for item in items:
                tracking = item.tracking.validated()
                clean_name = _validated_name(item.name, required=False)
                try:
                    claimed_type = content_types.normalize_claim(item.content_type)
                except ValueError as error:
                    raise InvalidInput(str(error)) from error
                metadata = _validate_metadata(item.metadata)
                clean_tags = tagging.normalize_tags(item.tags or [])
                parent = await self._check_parent(owner, item.parent_id)
                if isinstance(item.content, StagedBlob):
                    staged = item.content
                else:
                    staged = await self.stage_upload(item.content, wait=True)
                staged_blobs.append(staged)
                stored_type = content_types.settle(claimed_type, staged.head)
                if clean_name is None:
                    clean_name = "upload" + content_types.extension_for(stored_type)
                fields = {
                    "name": clean_name,
                    "content_type": stored_type,
                    "node_id": tracking.node_id,
                    "job_id": tracking.job_id,
                    "workflow_id": tracking.workflow_id,
                    "parent_id": parent,
                    "metadata": metadata,
                    "expires_at": _aware(item.expires_at),
                    "tags": clean_tags or None,
                }
                records.append((staged, fields, item.derived_from))
            assets = await self._record(owner=owner, records=records)
        finally:
            for staged in staged_blobs:
                await self.discard_upload(staged)
        # Ids only: every subscriber, in whichever process, reads the row with its own scoping.
        for asset in assets:
            await self._record_media(asset)
            await self.broker.publish(
                asset_topic(owner.id), {"id": str(asset.id)}, subject=str(asset.id)
            )
        return assets

    async def _record_media(self, asset: Asset) -> None:
        """Media facts, once the bytes are stored; never fails the save (see media_facts)."""
        facts = await self.media.read(asset)
        if facts != asset.media:
            asset.media = facts
            await Asset.filter(id=asset.id).update(media=facts)

    async def _record(
        self,
        *,
        owner: User,
        records: Sequence[tuple[StagedBlob, dict[str, Any], Sequence[UUID]]],
    ) -> list[Asset]:
        assets: list[Asset] = []
        published: list[str] = []
        try:
            async with storage_errors(), in_transaction() as conn:
                await _lock_blob(conn, [staged.sha256 for staged, _, _ in records])
                for staged, fields, derived_from in records:
                    assets.append(await self._insert(conn, owner, staged, fields, derived_from))
                # Published while the rows are uncommitted and the blob locks held: a
                # concurrent delete of the last asset with these bytes cannot remove them.
                for staged, _, _ in records:
                    if await self.storage.commit(staged):
                        published.append(staged.sha256)
        except BaseException:
            # The rows did not commit (a full database disk, a lost connection): take back
            # the bytes this call placed, unless another row committed meanwhile uses them.
            for digest in published:
                await self._unpublish_unused(digest)
            raise
        return assets

    async def _unpublish_unused(self, sha256: str) -> None:
        try:
            async with in_transaction() as conn:
                await _lock_blob(conn, [sha256])
                if not await _digests_in_use([sha256], conn):
                    await self.storage.delete(sha256)
        except Exception:
            # The start-up sweep removes it later; the caller's own error matters more.
            logger.exception("could not remove the unrecorded blob %s", sha256)

    async def _insert(
        self,
        conn: BaseDBAsyncClient,
        owner: User,
        staged: StagedBlob,
        fields: dict[str, Any],
        derived_from: Sequence[UUID],
    ) -> Asset:
        asset = await Asset.create(
            using_db=conn, owner_id=owner.id, size=staged.size, sha256=staged.sha256, **fields
        )
        if asset.tags:
            await tagging.replace_tags(conn, asset=asset, tags=asset.tags)
        if derived_from:
            sources = (
                await Asset.filter(id__in=list(derived_from), owner_id=owner.id)
                .using_db(conn)
                .values_list("id", flat=True)
            )
            await AssetLineage.bulk_create(
                [AssetLineage(source_id=source, derived_id=asset.id) for source in sources],
                using_db=conn,
            )
        return asset

    async def create_folder(
        self, *, owner: User, name: str, parent_id: str | UUID | None = None
    ) -> Asset:
        clean_name = _validated_name(name, required=True)
        parent = await self._check_parent(owner, parent_id)
        async with storage_errors():
            return await Asset.create(
                owner_id=owner.id,
                name=clean_name,
                content_type=FOLDER_CONTENT_TYPE,
                size=0,
                sha256=EMPTY_SHA256,
                parent_id=parent,
            )

    async def update_asset(
        self,
        *,
        owner: User,
        asset_id: str | UUID,
        name: str | None = None,
        parent_id: str | UUID | None = None,
        move: bool = False,
        metadata: Any = None,
        replace_metadata: bool = False,
        tags: Sequence[str] | None = None,
        replace_tags: bool = False,
        expires_at: datetime | None = None,
        replace_expiry: bool = False,
    ) -> Asset:
        """Change what is given; `replace_*` flags say a value was given (None clears it)."""
        asset = await self.get(owner=owner, asset_id=asset_id)
        if name is not None:
            asset.name = _validated_name(name, required=True) or asset.name
        if move:
            new_parent = await self._check_parent(owner, parent_id)
            if new_parent is not None and await self._is_within(new_parent, asset.id):
                raise InvalidInput("A folder cannot be moved into itself or its descendants")
            asset.parent_id = new_parent
        if replace_metadata:
            asset.metadata = _validate_metadata(metadata)
        if replace_expiry:
            asset.expires_at = _aware(expires_at)
        async with in_transaction() as conn:
            if replace_tags:
                await tagging.replace_tags(
                    conn, asset=asset, tags=tagging.normalize_tags(tags or [])
                )
            await asset.save(using_db=conn)
        return asset

    async def replace_content(
        self,
        *,
        owner: User,
        asset_id: str | UUID,
        content: AsyncIterator[bytes] | StagedBlob,
    ) -> Asset:
        """New bytes for an existing asset, through the same staging and blob protocol as
        `create_asset`; the old blob goes when no other asset uses it.

        The stored content type stays when the new bytes are of the same kind (or more
        generic), otherwise it becomes what the bytes are.
        """
        asset = await self.get(owner=owner, asset_id=asset_id)
        if asset.is_folder:
            raise InvalidInput(f"Asset '{asset.id}' is a folder and has no content")
        if isinstance(content, StagedBlob):
            staged = content
        else:
            staged = await self.stage_upload(content, wait=True)
        trashed: list[str] = []
        try:
            detected = content_types.detect(staged.head)
            stored_type = asset.content_type
            if detected != stored_type and not content_types.claim_fits(stored_type, detected):
                stored_type = detected
            old_digest = asset.sha256
            async with storage_errors(), in_transaction() as conn:
                await _lock_blob(conn, {old_digest, staged.sha256})
                await (
                    Asset.filter(id=asset.id, owner_id=owner.id)
                    .using_db(conn)
                    .update(sha256=staged.sha256, size=staged.size, content_type=stored_type)
                )
                await self.storage.commit(staged)
                if old_digest != staged.sha256 and old_digest not in await _digests_in_use(
                    [old_digest], conn
                ):
                    token = await self.storage.trash(old_digest)
                    if token:
                        trashed.append(token)
        except BaseException:
            for token in trashed:
                await self.storage.restore(token)
            raise
        finally:
            await self.storage.discard(staged)
        for token in trashed:
            with contextlib.suppress(OSError):
                await self.storage.purge(token)
        replaced = await self.get(owner=owner, asset_id=asset.id)
        await self._record_media(replaced)
        return replaced

    async def _is_within(self, candidate: UUID, ancestor: UUID) -> bool:
        current: UUID | None = candidate
        seen: set[UUID] = set()
        while current is not None and current not in seen:
            if current == ancestor:
                return True
            seen.add(current)
            current = await Asset.filter(id=current).first().values_list("parent_id", flat=True)  # type: ignore[assignment]
        return False

    async def _with_descendants(self, owner: User, roots: Sequence[UUID]) -> list[UUID]:
        found = list(dict.fromkeys(roots))
        frontier = list(found)
        while frontier:
            children = await Asset.filter(owner_id=owner.id, parent_id__in=frontier).values_list(
                "id", flat=True
            )
            frontier = [c for c in children if c not in found]  # type: ignore[misc]
            found.extend(frontier)
        return found

    async def _delete_rows(self, owner: User, ids: Sequence[UUID]) -> int:
        try:
            return await self._delete_rows_once(owner, ids)
        except InsufficientStorage:
            # The disk is so full that the database cannot even record a delete (SQLite
            # writes its log first). Give back the store's reserve, delete, and take the
            # reserve again once there is room: deleting is how space is freed.
            release = getattr(self.storage, "release_reserve", None)
            if release is None or not await release():
                raise
            logger.warning("disk full: released the storage reserve to delete %d assets", len(ids))
            try:
                return await self._delete_rows_once(owner, ids)
            finally:
                with contextlib.suppress(Exception):
                    await self.storage.restore_reserve()  # type: ignore[attr-defined]

    async def _delete_rows_once(self, owner: User, ids: Sequence[UUID]) -> int:
        if not ids:
            return 0
        digests = set(
            await Asset.filter(id__in=list(ids))
            .exclude(content_type=FOLDER_CONTENT_TYPE)
            .values_list("sha256", flat=True)
        )
        trashed: list[str] = []
        try:
            async with storage_errors(), in_transaction() as conn:
                deleted = (
                    await Asset.filter(owner_id=owner.id, id__in=list(ids)).using_db(conn).delete()
                )
                await _lock_blob(conn, digests)  # type: ignore[arg-type]
                still_used = await _digests_in_use(digests, conn)  # type: ignore[arg-type]
                for digest in digests - still_used:
                    token = await self.storage.trash(digest)  # type: ignore[arg-type]
                    if token:
                        trashed.append(token)
        except BaseException:
            for token in trashed:
                try:
                    await self.storage.restore(token)
                except Exception:
                    # recover_storage() puts it back at the next start.
                    logger.exception("could not restore trashed blob %s", token)
            raise
        for token in trashed:
            with contextlib.suppress(OSError, StorageError):
                await self.storage.purge(token)
        return deleted

    async def delete_asset(self, *, owner: User, asset_id: str | UUID) -> int:
        return len(await self.delete_asset_tree(owner=owner, asset_id=asset_id))

    async def delete_asset_tree(self, *, owner: User, asset_id: str | UUID) -> list[UUID]:
        """Delete an asset, and a folder with everything in it; returns their ids."""
        asset = await self.get(owner=owner, asset_id=asset_id)
        ids = await self._with_descendants(owner, [asset.id])
        await self._delete_rows(owner, ids)
        return ids

    def _require_filter(self, where: AssetFilter, action: str) -> None:
        if not where.narrows():
            raise InvalidInput(
                f"{action} needs at least one filter field (an empty filter would match "
                "every asset)"
            )

    async def _matching_ids(self, owner: User, where: AssetFilter) -> list[UUID]:
        return await self._filtered(owner, where).values_list("id", flat=True)  # type: ignore[return-value]

    async def delete_assets(self, *, owner: User, where: AssetFilter, dry_run: bool) -> int:
        self._require_filter(where, "deleteAssets")
        roots = await self._filtered(owner, where).values_list("id", flat=True)
        ids = await self._with_descendants(owner, roots)  # type: ignore[arg-type]
        if dry_run:
            return len(ids)
        return await self._delete_rows(owner, ids)

    # Curation ----------------------------------------------------------------------------

    async def tag_assets(
        self, *, owner: User, where: AssetFilter, tags: Sequence[str], remove: bool = False
    ) -> int:
        """Add (or remove) tags on every asset matching the filter; how many changed."""
        self._require_filter(where, "untagAssets" if remove else "tagAssets")
        clean = tagging.normalize_tags(tags)
        if not clean:
            raise InvalidInput("Give at least one tag")
        ids = await self._matching_ids(owner, where)
        changed = 0
        for start in range(0, len(ids), BULK_BATCH):
            async with in_transaction() as conn:
                changed += await tagging.change_tags(
                    conn,
                    owner_id=owner.id,
                    asset_ids=ids[start : start + BULK_BATCH],
                    add=() if remove else clean,
                    remove=clean if remove else (),
                )
        return changed

    async def tag_counts(
        self, *, owner: User, prefix: str | None = None, first: int = 100
    ) -> list[tagging.TagCount]:
        return await tagging.tag_counts(owner_id=owner.id, prefix=prefix, first=first)

    async def move_assets(
        self, *, owner: User, where: AssetFilter, parent_id: str | UUID | None
    ) -> int:
        """Move every matching asset into a folder (None: the top level); how many moved."""
        self._require_filter(where, "moveAssets")
        target = await self._check_parent(owner, parent_id)
        ids = await self._matching_ids(owner, where)
        if target is not None:
            ancestors = await self._ancestors(target)
            if ancestors & set(ids):
                raise InvalidInput("A folder cannot be moved into itself or its descendants")
        moved = 0
        for start in range(0, len(ids), BULK_BATCH):
            batch = ids[start : start + BULK_BATCH]
            query = Asset.filter(owner_id=owner.id, id__in=batch)
            query = (
                query.filter(parent_id__not_isnull=True)
                if target is None
                # SQL's NULL <> x is not true: top-level assets need their own branch.
                else query.filter(Q(parent_id__isnull=True) | ~Q(parent_id=target))
            )
            moved += await query.update(parent_id=target)
        return moved

    async def _ancestors(self, folder: UUID) -> set[UUID]:
        """The folder and every folder above it."""
        found: set[UUID] = set()
        current: UUID | None = folder
        while current is not None and current not in found:
            found.add(current)
            current = await Asset.filter(id=current).first().values_list("parent_id", flat=True)  # type: ignore[assignment]
        return found

    # Maintenance -------------------------------------------------------------------------

    async def delete_expired(
        self, *, now: datetime | None = None, dry_run: bool = False, batch: int = BULK_BATCH
    ) -> ExpirySummary:
        """Retention: delete every asset whose `expires_at` has passed, for every owner.

        Through the normal delete path (a folder goes with its contents, a blob with the last
        row using it); `dry_run` only counts what would go.
        """
        moment = _aware(now) or datetime.now(UTC)
        summary = ExpirySummary()
        after: UUID | None = None
        while True:
            query = Asset.filter(expires_at__lte=moment)
            if after is not None:
                query = query.filter(id__gt=after)
            rows = await query.order_by("id").limit(batch).values("id", "owner_id")
            if not rows:
                return summary
            after = rows[-1]["id"]
            by_owner: dict[UUID, list[UUID]] = {}
            for row in rows:
                by_owner.setdefault(row["owner_id"], []).append(row["id"])
            for owner_id, roots in by_owner.items():
                owner = User(id=owner_id)
                ids = await self._with_descendants(owner, roots)
                sizes = (
                    await Asset.filter(id__in=ids)
                    .exclude(content_type=FOLDER_CONTENT_TYPE)
                    .values_list("size", flat=True)
                )
                summary.assets += len(ids)
                summary.bytes += sum(int(size) for size in sizes)  # type: ignore[call-overload]
                if not dry_run:
                    await self._delete_rows(owner, ids)
            if len(rows) < batch:
                return summary

    async def collect_garbage(self, *, grace_seconds: float = 600, batch: int = 500) -> int:
        """Delete blobs no row references (left by a crash between publish and commit).

        The grace period spares blobs whose rows are still being committed elsewhere.
        """
        removed = 0
        pending: list[str] = []

        async def sweep(digests: list[str]) -> int:
            used = await _digests_in_use(digests)
            orphans = [d for d in digests if d not in used]
            if not orphans:
                return 0
            async with in_transaction() as conn:
                await _lock_blob(conn, orphans)
                still_used = await _digests_in_use(orphans, conn)
                for digest in orphans:
                    if digest not in still_used:
                        await self.storage.delete(digest)
            return len(orphans) - len(still_used)

        async for digest in self.storage.iter_digests(older_than_seconds=grace_seconds):
            pending.append(digest)
            if len(pending) >= batch:
                removed += await sweep(pending)
                pending = []
        if pending:
            removed += await sweep(pending)
        return removed

    async def recover_storage(self) -> None:
        """After a crash: drop dead uploads, put back blobs whose delete did not commit."""
        await self.storage.recover()
        for token, digest in await self.storage.trashed():
            if await Asset.filter(sha256=digest).exists():
                await self.storage.restore(token)
            else:
                await self.storage.purge(token)
