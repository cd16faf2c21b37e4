"""Direct uploads (../shared/api/uploads.graphql): the bytes go straight to storage."""

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from schema.assets import Asset
from schema.context import Info
from schema.scalars import BigInt
from services.assets import Tracking
from services.uploads import StartedUpload
from services.urls import http_base


@strawberry.type(description="Where the parts of a direct upload go.")
class UploadPart:
    part_number: int
    url: str = strawberry.field(
        description="PUT this part's bytes here: a presigned object-store URL, or Trove's own "
        "signed URL."
    )
    headers: JSON | None = strawberry.field(
        description="Headers the PUT must carry, as a JSON object of strings."
    )


@strawberry.type(description="An upload whose bytes go straight to storage, part by part.")
class DirectUpload:
    id: strawberry.ID
    part_size: BigInt = strawberry.field(
        description="Every part but the last holds exactly this many bytes."
    )
    parts: list[UploadPart]
    expires_at: datetime


@strawberry.input
class CreateUploadInput:
    name: str
    size: BigInt
    sha256: str | None = strawberry.field(
        default=None,
        description="Hex SHA-256 of the whole file; when given, completion verifies it.",
    )
    content_type: str | None = None
    node_id: str | None = None
    job_id: str | None = None
    workflow_id: str | None = None
    parent_id: strawberry.ID | None = None
    metadata: JSON | None = None


@strawberry.input
class CompletedPartInput:
    part_number: int
    etag: str = strawberry.field(description="The ETag that storage answered to the part's PUT.")


def _direct_upload(info: Info, started: StartedUpload) -> DirectUpload:
    base = http_base(info.context.base_url)
    return DirectUpload(
        id=strawberry.ID(str(started.upload.id)),
        part_size=BigInt(started.upload.part_size),
        parts=[
            UploadPart(
                part_number=part.number,
                url=part.url if "://" in part.url else base + part.url,
                headers=JSON(part.headers),
            )
            for part in started.parts
        ],
        expires_at=started.upload.expires_at,
    )


@strawberry.type
class DirectUploadMutations:
    @strawberry.mutation(
        description="Start a direct upload: the client PUTs the parts, then calls completeUpload."
    )
    async def create_upload(self, info: Info, input: CreateUploadInput) -> DirectUpload:
        started = await info.context.services.uploads.create(
            owner=info.context.user,
            name=input.name,
            size=input.size,
            sha256=input.sha256,
            content_type=input.content_type,
            tracking=Tracking(
                node_id=input.node_id, job_id=input.job_id, workflow_id=input.workflow_id
            ),
            parent_id=str(input.parent_id) if input.parent_id is not None else None,
            metadata=input.metadata,
        )
        return _direct_upload(info, started)

    @strawberry.mutation(
        description="Finish a direct upload: size (and sha256 when declared) verified, the "
        "asset recorded."
    )
    async def complete_upload(
        self, info: Info, id: strawberry.ID, parts: list[CompletedPartInput]
    ) -> Asset:
        row = await info.context.services.uploads.complete(
            owner=info.context.user,
            upload_id=str(id),
            parts=[(part.part_number, part.etag) for part in parts],
        )
        return Asset.from_model(row)

    @strawberry.mutation(description="Give up a direct upload; its parts are removed.")
    async def abort_upload(self, info: Info, id: strawberry.ID) -> bool:
        return await info.context.services.uploads.abort(owner=info.context.user, upload_id=str(id))
