"""Every read and write of assets. No GraphQL or HTTP here: resolvers, the REST adapter and the
workflow runner's auto-save all call these same functions."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count, Max, Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Asset, AssetLineage, User
from models.asset import FOLDER_CONTENT_TYPE
from services import content_types
from services.errors import ContentMissing, InvalidInput, NotFound, TooLarge
from services.events import EventBroker, EventHistoryGone, asset_topic
from services.pagination import MAX_PAGE_SIZE, Ordering, Page, paginate
from services.records import AssetRecord, fetch_asset_records
from storage import BlobStorage, BlobTooLarge, StagedBlob

logger = logging.getLogger(__name__)

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MAX_TRACKING_LENGTH = 255
MAX_METADATA_BYTES = 64 * 1024
MIN_SEARCH_LENGTH = 2


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
    AssetOrder.SIZE_DESC: Ordering("SIZE_DESC", "size", descending=True),
    AssetOrder.SIZE_ASC: Ordering("SIZE_ASC", "size", descending=False),
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
        for field in ("node_id", "job_id", "workflow_id"):
            value = getattr(self, field)
            if value is not None and (not value or len(value) > MAX_TRACKING_LENGTH):
                raise InvalidInput(f"`{field}` must be 1 to {MAX_TRACKING_LENGTH} characters")
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


@dataclass(frozen=True)
class AssetFilter:
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


def _validate_metadata(metadata: Any) -> Any:
    if metadata is None:
        return None
    try:
        encoded = json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInput("`metadata` must be JSON") from error
    if len(encoded) > MAX_METADATA_BYTES:
        raise InvalidInput(f"`metadata` is larger than {MAX_METADATA_BYTES} bytes")
    return metadata


def _validated_name(raw: str | None, *, required: bool) -> str | None:
    if raw is None:
        if required:
            raise InvalidInput("`name` is required")
        return None
    name = content_types.sanitize_name(raw)
    if not name:
        raise InvalidInput(f"'{raw}' is not a usable name")
    return name


class AssetService:
    def __init__(self, *, storage: BlobStorage, broker: EventBroker, max_upload_bytes: int) -> None:
        self.storage = storage
        self.broker = broker
        self.max_upload_bytes = max_upload_bytes

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
        if asset.is_folder or await self.storage.exists(asset.sha256):
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

    async def presigned_url(
        self, asset: Asset, *, content_type: str, disposition: str, expires_in: int
    ) -> str | None:
        """A URL to fetch the bytes from the object store itself, when the store signs them."""
        presign = getattr(self.storage, "presigned_get", None)
        if presign is None or asset.is_folder:
            return None
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
        list endpoints): the same page as light records instead of ORM objects."""
        return await paginate(
            self._filtered(owner, where),
            _ORDERINGS[order],
            first=first,
            after=after,
            last=last,
            before=before,
            fetch=fetch_asset_records,
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

    async def stage_upload(self, content: AsyncIterator[bytes]) -> StagedBlob:
        """Receive content ahead of `create_asset` (e.g. while a request body streams in)."""
        try:
            return await self.storage.stage(content, max_bytes=self.max_upload_bytes)
        except BlobTooLarge as error:
            raise TooLarge(f"The content is larger than {error.limit} bytes") from error

    async def discard_upload(self, staged: StagedBlob) -> None:
        await self.storage.discard(staged)

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
                parent = await self._check_parent(owner, item.parent_id)
                if isinstance(item.content, StagedBlob):
                    staged = item.content
                else:
                    staged = await self.stage_upload(item.content)
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
                }
                records.append((staged, fields, item.derived_from))
            assets = await self._record(owner=owner, records=records)
        finally:
            for staged in staged_blobs:
                await self.storage.discard(staged)
        # Ids only: every subscriber, in whichever process, reads the row with its own scoping.
        for asset in assets:
            await self.broker.publish(
                asset_topic(owner.id), {"id": str(asset.id)}, subject=str(asset.id)
            )
        return assets

    async def _record(
        self,
        *,
        owner: User,
        records: Sequence[tuple[StagedBlob, dict[str, Any], Sequence[UUID]]],
    ) -> list[Asset]:
        assets: list[Asset] = []
        async with in_transaction() as conn:
            await _lock_blob(conn, [staged.sha256 for staged, _, _ in records])
            for staged, fields, derived_from in records:
                asset = await Asset.create(
                    using_db=conn,
                    owner_id=owner.id,
                    size=staged.size,
                    sha256=staged.sha256,
                    **fields,
                )
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
                assets.append(asset)
            # Published while the rows are uncommitted and the blob locks held: a concurrent
            # delete of the last asset with these bytes cannot remove them under us.
            for staged, _, _ in records:
                await self.storage.commit(staged)
        return assets

    async def create_folder(
        self, *, owner: User, name: str, parent_id: str | UUID | None = None
    ) -> Asset:
        clean_name = _validated_name(name, required=True)
        parent = await self._check_parent(owner, parent_id)
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
    ) -> Asset:
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
        await asset.save()
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
        staged = content if isinstance(content, StagedBlob) else await self.stage_upload(content)
        trashed: list[str] = []
        try:
            detected = content_types.detect(staged.head)
            stored_type = asset.content_type
            if detected != stored_type and not content_types.claim_fits(stored_type, detected):
                stored_type = detected
            old_digest = asset.sha256
            async with in_transaction() as conn:
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
        return await self.get(owner=owner, asset_id=asset.id)

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
        if not ids:
            return 0
        digests = set(
            await Asset.filter(id__in=list(ids))
            .exclude(content_type=FOLDER_CONTENT_TYPE)
            .values_list("sha256", flat=True)
        )
        trashed: list[str] = []
        try:
            async with in_transaction() as conn:
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
                await self.storage.restore(token)
            raise
        for token in trashed:
            with contextlib.suppress(OSError):
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

    def _require_filter(self, where: AssetFilter) -> None:
        if not any((where.node_id, where.job_id, where.workflow_id, where.created_before)):
            raise InvalidInput("deleteAssets needs at least one filter field")

    async def delete_assets(self, *, owner: User, where: AssetFilter, dry_run: bool) -> int:
        self._require_filter(where)
        roots = await self._filtered(owner, where).values_list("id", flat=True)
        ids = await self._with_descendants(owner, roots)  # type: ignore[arg-type]
        if dry_run:
            return len(ids)
        return await self._delete_rows(owner, ids)

    # Maintenance -------------------------------------------------------------------------

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
