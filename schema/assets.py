from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

import models
from schema.context import Context, Info
from schema.execution import fast_resolver, root_field
from schema.nodes import Node
from schema.pagination import Connection
from schema.scalars import BigInt
from schema.uploads import upload_content, upload_content_type, upload_filename
from services import assets as asset_service
from services.pagination import Page
from services.records import AssetRecord
from services.urls import archive_url

if TYPE_CHECKING:
    from schema.jobs import Job

# Registered in place: the service enums are the GraphQL enums.
strawberry.enum(asset_service.AssetOrder, name="AssetOrder")
strawberry.enum(asset_service.AssetGrouping, name="AssetGrouping")


@strawberry.type(
    name="MediaInfo",
    description="Facts read from the stored bytes; null where they do not apply or could not "
    "be read.",
)
class MediaInfo:
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    page_count: int | None = None

    @classmethod
    def from_json(cls, facts: Any) -> "MediaInfo | None":
        if not isinstance(facts, dict) or not facts:
            return None
        known = {name for name in cls.__annotations__}
        return cls(**{key: value for key, value in facts.items() if key in known})


@strawberry.type(name="TagCount", description="A tag and how many of the caller's assets carry it.")
class TagCount:
    tag: str
    count: int


# The resolvers of Asset's fields that are read from its row on demand.
def _parent_id(root: "Asset") -> strawberry.ID | None:
    parent_id = root._row.parent_id  # type: ignore[union-attr]
    return strawberry.ID(str(parent_id)) if parent_id else None


def _metadata(root: "Asset") -> JSON | None:
    return root._row.metadata


def _updated_at(root: "Asset") -> datetime:
    return root._row.updated_at


def _tags(root: "Asset") -> list[str]:
    return list(root._row.tags or [])


def _expires_at(root: "Asset") -> datetime | None:
    return root._row.expires_at


def _media(root: "Asset") -> MediaInfo | None:
    return MediaInfo.from_json(root._row.media)


@strawberry.type(name="Asset")
class Asset(Node):
    id: strawberry.ID
    name: str
    content_type: str = strawberry.field(
        description="MIME type as stored: detected from content when the client's claim is "
        "absent or generic."
    )
    size: BigInt = strawberry.field(description="Size of the stored content in bytes.")
    sha256: str = strawberry.field(description="Hex SHA-256 of the stored content.")
    node_id: str | None
    job_id: str | None
    workflow_id: str | None
    # The fields below are read from the row only when a query asks for them: a list page
    # rarely does, and converting them for every row costs more than serialising the rest.
    parent_id: strawberry.ID | None = root_field(
        _parent_id,
        description="Folder that holds this asset, if any.",
    )
    metadata: JSON | None = root_field(
        _metadata,
        description="Client-supplied JSON metadata (e.g. generation parameters).",
    )
    created_at: datetime
    updated_at: datetime = root_field(
        _updated_at,
    )
    tags: list[str] = strawberry.field(
        description="Free-form labels, sorted; each 1 to 64 characters.", resolver=_tags
    )
    expires_at: datetime | None = root_field(
        _expires_at,
        description="When retention will delete this asset; null keeps it until deleted.",
    )
    media: MediaInfo | None = strawberry.field(
        description="Facts read from the content when it was stored (dimensions, duration, pages).",
        resolver=_media,
    )
    _row: strawberry.Private[models.Asset | AssetRecord]

    @classmethod
    def from_model(cls, row: models.Asset | AssetRecord) -> "Asset":
        return cls(
            id=strawberry.ID(row.id_text),
            name=row.name,
            content_type=row.content_type,
            size=BigInt(row.size),
            sha256=row.sha256,
            node_id=row.node_id,
            job_id=row.job_id,
            workflow_id=row.workflow_id,
            created_at=row.created_at,
            _row=row,
        )

    @strawberry.field(
        description="Where the content can be downloaded (supports HTTP Range).",
        metadata=fast_resolver(lambda asset, context: content_link(asset, context)),
    )
    def url(self, info: Info) -> str:
        return content_link(self, info.context)

    @strawberry.field(
        description="A small preview image for images (and video where supported); null otherwise.",
        metadata=fast_resolver(lambda asset, context: thumbnail_link(asset, context)),
    )
    def thumbnail_url(self, info: Info) -> str | None:
        return thumbnail_link(self, info.context)

    @strawberry.field
    async def parent(self, info: Info) -> "Asset | None":
        parent_id = self._row.parent_id  # type: ignore[union-attr]
        if parent_id is None:
            return None
        row = await info.context.loaders.asset_by_id.load(parent_id)
        return Asset.from_model(row) if row else None

    @strawberry.field(
        description="The job that produced this asset, when that job ran on this server."
    )
    async def job(self, info: Info) -> Annotated["Job", strawberry.lazy("schema.jobs")] | None:
        from schema.jobs import Job

        if self.job_id is None:
            return None
        row = await info.context.loaders.job_by_id.load(self.job_id)
        return Job.from_model(row) if row else None

    @strawberry.field(
        description="Children of a folder asset (contentType 'folder'); empty otherwise."
    )
    async def children(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection["Asset"]:
        page = await info.context.services.assets.list_records(
            owner=info.context.user,
            where=asset_service.AssetFilter(parent_id=str(self._row.id)),
            first=first,
            after=after,
        )
        return asset_connection(page)

    @strawberry.field(
        description="Lineage: the assets that were inputs of the node run that produced this one."
    )
    async def derived_from(self, info: Info) -> list["Asset"]:
        rows = await info.context.services.assets.derived_from(
            owner=info.context.user, asset_id=self._row.id
        )
        return [Asset.from_model(row) for row in rows]

    @strawberry.field(
        description="Lineage: assets produced by node runs that took this one as an input."
    )
    async def derivatives(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection["Asset"]:
        page = await info.context.services.assets.derivatives(
            owner=info.context.user, asset_id=self._row.id, first=first, after=after
        )
        return asset_connection(page)


AssetConnection = Connection[Asset]


# The resolvers of `url` and `thumbnailUrl`, also called directly by the fast executor.
def content_link(asset: Asset, context: Context) -> str:
    return context.asset_url(asset.id)


def thumbnail_link(asset: Asset, context: Context) -> str | None:
    if not context.services.thumbnails.previewable(asset.content_type):
        return None
    return context.asset_url(asset.id, "thumbnail")


def asset_connection(page: Page[models.Asset] | Page[AssetRecord]) -> Connection[Asset]:
    return Connection[Asset].from_page(page, Asset.from_model)


@strawberry.type(
    name="AssetGroup",
    description="One group of assets in assetStats: e.g. everything one node produced.",
)
class AssetGroupType:
    key: str | None = strawberry.field(
        description="The nodeId, jobId, workflowId or contentType of the group (null for "
        "untracked assets)."
    )
    count: int
    total_size: BigInt
    newest: datetime | None


@strawberry.type
class DeleteAssetsPayload:
    deleted_count: int


@strawberry.input
class CreateAssetInput:
    file: Upload
    name: str | None = strawberry.field(
        default=None, description="Defaults to the uploaded file's name (sanitized)."
    )
    content_type: str | None = None
    node_id: str | None = None
    job_id: str | None = None
    workflow_id: str | None = None
    parent_id: strawberry.ID | None = None
    metadata: JSON | None = None
    tags: list[str] | None = None
    expires_at: datetime | None = None


@strawberry.input
class UpdateAssetInput:
    name: str | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the asset's tags."
    )
    expires_at: datetime | None = strawberry.UNSET


@strawberry.input
class CreateFolderInput:
    name: str
    parent_id: strawberry.ID | None = None


@strawberry.input
class AssetFilter:
    node_id: str | None = None
    job_id: str | None = None
    workflow_id: str | None = None
    created_before: datetime | None = None
    ids: list[strawberry.ID] | None = None
    content_type: str | None = None
    parent_id: strawberry.ID | None = None
    search: str | None = None
    tags: list[str] | None = strawberry.field(
        default=None, description="Assets carrying every one of these tags."
    )
    metadata: JSON | None = strawberry.field(
        default=None,
        description="Assets whose metadata contains this JSON object (containment, like "
        "PostgreSQL's @>).",
    )
    created_after: datetime | None = None

    def to_service(self) -> asset_service.AssetFilter:
        return asset_service.AssetFilter(
            node_id=self.node_id,
            job_id=self.job_id,
            workflow_id=self.workflow_id,
            created_before=self.created_before,
            ids=None if self.ids is None else [str(i) for i in self.ids],
            content_type=self.content_type,
            parent_id=self.parent_id,
            search=self.search,
            tags=self.tags,
            metadata=_metadata_query(self.metadata),
            created_after=self.created_after,
        )


def _metadata_query(value: Any) -> dict[str, Any] | None:
    from services.errors import InvalidInput

    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput('`metadata` must be a JSON object, e.g. {"seed": 42}')
    return value


async def resolve_asset(info: Info, id: strawberry.ID) -> Asset | None:
    from services.errors import NotFound

    try:
        row = await info.context.services.assets.get(owner=info.context.user, asset_id=id)
    except NotFound:
        return None
    return Asset.from_model(row)


@strawberry.type
class AssetQueries:
    @strawberry.field
    async def asset(self, info: Info, id: strawberry.ID) -> Asset | None:
        return await resolve_asset(info, id)

    @strawberry.field
    async def assets(
        self,
        info: Info,
        node_id: str | None = None,
        job_id: str | None = None,
        workflow_id: str | None = None,
        content_type: Annotated[
            str | None,
            strawberry.argument(
                description="Exact MIME type ('image/png'), or a family: 'image' or 'image/'."
            ),
        ] = None,
        parent_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only direct children of this folder."),
        ] = None,
        search: Annotated[
            str | None, strawberry.argument(description="Case-insensitive substring of the name.")
        ] = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        tags: Annotated[
            list[str] | None,
            strawberry.argument(description="Assets carrying every one of these tags."),
        ] = None,
        metadata: Annotated[
            JSON | None,
            strawberry.argument(
                description="Assets whose metadata contains this JSON object (like "
                'PostgreSQL\'s @>), e.g. {seed: 42, model: "sdxl"}.'
            ),
        ] = None,
        order_by: asset_service.AssetOrder | None = asset_service.AssetOrder.CREATED_AT_DESC,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Asset]:
        page = await info.context.services.assets.list_records(
            owner=info.context.user,
            where=asset_service.AssetFilter(
                node_id=node_id,
                job_id=job_id,
                workflow_id=workflow_id,
                content_type=content_type,
                parent_id=parent_id,
                search=search,
                created_after=created_after,
                created_before=created_before,
                tags=tags,
                metadata=_metadata_query(metadata),
            ),
            order=order_by or asset_service.AssetOrder.CREATED_AT_DESC,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return asset_connection(page)

    @strawberry.field(
        description="Counts and bytes per node, job, workflow or content type, within the "
        "given filters."
    )
    async def asset_stats(
        self,
        info: Info,
        group_by: asset_service.AssetGrouping,
        node_id: str | None = None,
        job_id: str | None = None,
        workflow_id: str | None = None,
    ) -> list[AssetGroupType]:
        groups = await info.context.services.assets.stats(
            owner=info.context.user,
            group_by=group_by,
            where=asset_service.AssetFilter(
                node_id=node_id, job_id=job_id, workflow_id=workflow_id
            ),
        )
        return [
            AssetGroupType(
                key=g.key, count=g.count, total_size=BigInt(g.total_size), newest=g.newest
            )
            for g in groups
        ]

    @strawberry.field(
        description="The caller's tags, most used first; `prefix` narrows them for autocomplete."
    )
    async def asset_tags(
        self, info: Info, prefix: str | None = None, first: int | None = 100
    ) -> list[TagCount]:
        counts = await info.context.services.assets.tag_counts(
            owner=info.context.user, prefix=prefix, first=100 if first is None else first
        )
        return [TagCount(tag=c.tag, count=c.count) for c in counts]

    @strawberry.field(
        description="A signed URL that streams a zip of every asset matching the filter (e.g. "
        "one job's outputs)."
    )
    async def asset_archive_url(self, info: Info, filter: AssetFilter) -> str:
        context = info.context
        token = await context.services.archives.link_token(
            owner=context.user, where=filter.to_service()
        )
        return archive_url(context.services.signer, context.base_url, token)


def _new_asset(input: CreateAssetInput) -> asset_service.NewAsset:
    return asset_service.NewAsset(
        content=upload_content(input.file),
        name=input.name if input.name is not None else upload_filename(input.file),
        content_type=input.content_type or upload_content_type(input.file),
        tracking=asset_service.Tracking(
            node_id=input.node_id, job_id=input.job_id, workflow_id=input.workflow_id
        ),
        parent_id=input.parent_id,
        metadata=input.metadata,
        tags=input.tags,
        expires_at=input.expires_at,
    )


@strawberry.type
class AssetMutations:
    @strawberry.mutation(
        description="Upload a file (GraphQL multipart request spec) and record it as an asset."
    )
    async def create_asset(self, info: Info, input: CreateAssetInput) -> Asset:
        (row,) = await info.context.services.assets.create_assets(
            owner=info.context.user, items=[_new_asset(input)]
        )
        return Asset.from_model(row)

    @strawberry.mutation(
        description="Upload several files in one request: all are stored, or none is."
    )
    async def create_assets(self, info: Info, inputs: list[CreateAssetInput]) -> list[Asset]:
        rows = await info.context.services.assets.create_assets(
            owner=info.context.user, items=[_new_asset(one) for one in inputs]
        )
        return [Asset.from_model(row) for row in rows]

    @strawberry.mutation
    async def create_folder(self, info: Info, input: CreateFolderInput) -> Asset:
        row = await info.context.services.assets.create_folder(
            owner=info.context.user, name=input.name, parent_id=input.parent_id
        )
        return Asset.from_model(row)

    @strawberry.mutation
    async def update_asset(self, info: Info, id: strawberry.ID, input: UpdateAssetInput) -> Asset:
        row = await info.context.services.assets.update_asset(
            owner=info.context.user,
            asset_id=id,
            name=input.name or None,
            move=input.parent_id is not strawberry.UNSET,
            parent_id=input.parent_id or None,
            replace_metadata=input.metadata is not strawberry.UNSET,
            metadata=None if input.metadata is strawberry.UNSET else input.metadata,
            replace_tags=input.tags is not strawberry.UNSET,
            tags=None if input.tags is strawberry.UNSET else input.tags,
            replace_expiry=input.expires_at is not strawberry.UNSET,
            expires_at=None if input.expires_at is strawberry.UNSET else input.expires_at,
        )
        return Asset.from_model(row)

    @strawberry.mutation(
        description="Deletes the asset and its content; a folder is deleted with everything in it."
    )
    async def delete_asset(self, info: Info, id: strawberry.ID) -> DeleteAssetsPayload:
        count = await info.context.services.assets.delete_asset(
            owner=info.context.user, asset_id=id
        )
        return DeleteAssetsPayload(deleted_count=count)

    @strawberry.mutation(
        description="Deletes every asset matching the filter (at least one field required); "
        "dryRun only counts."
    )
    async def delete_assets(
        self, info: Info, filter: AssetFilter, dry_run: bool | None = False
    ) -> DeleteAssetsPayload:
        count = await info.context.services.assets.delete_assets(
            owner=info.context.user,
            where=filter.to_service(),
            dry_run=bool(dry_run),
        )
        return DeleteAssetsPayload(deleted_count=count)

    @strawberry.mutation(
        description="Add tags to every asset matching the filter; returns how many assets changed."
    )
    async def tag_assets(self, info: Info, filter: AssetFilter, tags: list[str]) -> int:
        return await info.context.services.assets.tag_assets(
            owner=info.context.user, where=filter.to_service(), tags=tags
        )

    @strawberry.mutation(
        description="Remove tags from every asset matching the filter; returns how many assets "
        "changed."
    )
    async def untag_assets(self, info: Info, filter: AssetFilter, tags: list[str]) -> int:
        return await info.context.services.assets.tag_assets(
            owner=info.context.user, where=filter.to_service(), tags=tags, remove=True
        )

    @strawberry.mutation(
        description="Move every asset matching the filter into a folder (null: to the top level)."
    )
    async def move_assets(
        self, info: Info, filter: AssetFilter, parent_id: strawberry.ID | None = None
    ) -> int:
        return await info.context.services.assets.move_assets(
            owner=info.context.user, where=filter.to_service(), parent_id=parent_id
        )


@strawberry.type
class AssetSubscriptions:
    @strawberry.subscription(
        description="Assets as they are created (uploaded or auto-saved), optionally filtered."
    )
    async def asset_created(
        self,
        info: Info,
        node_id: str | None = None,
        job_id: str | None = None,
        workflow_id: str | None = None,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Resume after this asset (the last one received): every asset "
                "created since is sent first, so a reconnecting client misses none."
            ),
        ] = None,
    ) -> AsyncGenerator[Asset, None]:
        rows = info.context.services.assets.created(
            owner=info.context.user,
            where=asset_service.AssetFilter(
                node_id=node_id, job_id=job_id, workflow_id=workflow_id
            ),
            after=str(after) if after is not None else None,
        )
        async for row in rows:
            yield Asset.from_model(row)
