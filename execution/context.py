"""What a running node may use: the job it belongs to and the asset services, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO
from uuid import UUID

from PIL import Image

from execution import media
from execution.refs import AssetRef, AudioRef, ImageRef, JSONRef, ref_class_for
from models import Asset, User
from services.assets import AssetFilter, Tracking, parse_id
from services.errors import InvalidInput
from services.runtime import Services

CHUNK_BYTES = 1 << 20
# get_assets_by_* read everything; this bounds one call so a huge job cannot exhaust memory.
MAX_LISTED_ASSETS = 10_000


Content = bytes | bytearray | memoryview | AsyncIterator[bytes] | BinaryIO


async def _chunks(data: bytes | bytearray | memoryview) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK_BYTES):
        yield bytes(view[start : start + CHUNK_BYTES])


async def _file_chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    with contextlib.suppress(OSError, ValueError):
        file.seek(0)  # the seed rewinds too: a buffer just written is at its end
    while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
        yield chunk


def _as_chunks(content: Content) -> AsyncIterator[bytes]:
    if isinstance(content, bytes | bytearray | memoryview):
        return _chunks(content)
    if hasattr(content, "read"):
        return _file_chunks(content)  # type: ignore[arg-type]
    if hasattr(content, "__aiter__"):
        return content
    raise InvalidInput(f"Asset content must be bytes or a file, not {type(content).__name__}")


class ProcessingContext:
    def __init__(
        self,
        *,
        services: Services,
        user: User,
        job_id: str | None = None,
        workflow_id: str | None = None,
        keep_for_seconds: int | None = None,
    ) -> None:
        self.services = services
        self.user = user
        self.job_id = job_id
        self.workflow_id = workflow_id
        # Retention of what auto-save stores for this run (runWorkflow(keepForSeconds:)).
        self.keep_for_seconds = keep_for_seconds

    def auto_save_expiry(self) -> datetime | None:
        """Provisional expiry of an auto-saved asset: now + keepForSeconds. When the job
        finishes, JobService moves it to the finish time + keepForSeconds."""
        if self.keep_for_seconds is None:
            return None
        return datetime.now(UTC) + timedelta(seconds=self.keep_for_seconds)

    # Writing ---------------------------------------------------------------------------------

    async def create_asset(
        self,
        name: str | None,
        content_type: str | None,
        content: Content | None = None,
        parent_id: str | UUID | None = None,
        instructions: Content | None = None,
        node_id: str | None = None,
        *,
        metadata: Any = None,
        derived_from: Sequence[str | UUID] = (),
        expires_at: datetime | None = None,
    ) -> Asset:
        """Store content as an asset of this job and workflow (the same path uploads take).

        The arguments are the seed's (nodetool's), in its order: `content` may be bytes, an
        async iterator of bytes or a binary file object (read in chunks); `instructions` is
        its older name for `content`. A `parent_id` equal to the user's id is the top level.
        """
        source = content if content is not None else instructions
        if source is None:
            raise InvalidInput("Asset content is required")
        if parent_id is not None and str(parent_id) == str(self.user.id):
            parent_id = None
        chunks = _as_chunks(source)
        return await self.services.assets.create_asset(
            owner=self.user,
            content=chunks,
            name=name,
            content_type=content_type,
            tracking=Tracking(node_id=node_id, job_id=self.job_id, workflow_id=self.workflow_id),
            parent_id=parent_id,
            metadata=metadata,
            derived_from=[parse_id(i) for i in derived_from],
            expires_at=expires_at,
        )

    # Reading ---------------------------------------------------------------------------------

    async def get_asset(self, asset_id: str | UUID) -> Asset:
        return await self.services.assets.get(owner=self.user, asset_id=asset_id)

    async def _all(self, where: AssetFilter) -> list[Asset]:
        assets = self.services.assets.iter_assets(
            owner=self.user, where=where, limit=MAX_LISTED_ASSETS
        )
        return [asset async for asset in assets]

    async def get_assets_by_node(self, node_id: str) -> list[Asset]:
        """Every asset a node produced, in any job (newest first)."""
        return await self._all(AssetFilter(node_id=node_id))

    async def get_assets_by_job(self, job_id: str | None = None) -> list[Asset]:
        """Every asset of a job, this one by default (newest first)."""
        job_id = job_id or self.job_id
        if job_id is None:
            raise InvalidInput("No job id given and this context runs no job")
        return await self._all(AssetFilter(job_id=job_id))

    async def get_assets_by_workflow(self, workflow_id: str | None = None) -> list[Asset]:
        """Every asset of a workflow, this job's by default (newest first)."""
        workflow_id = workflow_id or self.workflow_id
        if workflow_id is None:
            raise InvalidInput("No workflow id given and this job runs no stored workflow")
        return await self._all(AssetFilter(workflow_id=workflow_id))

    async def asset_bytes(self, ref: AssetRef | str | UUID) -> bytes:
        """The content of a reference: its bytes in hand, or those of the stored asset."""
        if isinstance(ref, AssetRef):
            if ref.data is not None:
                return ref.data
            if ref.asset_id is None:
                raise InvalidInput(f"This {ref.kind} reference has neither data nor an asset id")
            ref = ref.asset_id
        asset = await self.get_asset(ref)
        return b"".join([chunk async for chunk in self.services.assets.read_content(asset)])

    async def ref_for_asset(self, asset_id: str | UUID) -> AssetRef:
        """A reference of the kind that fits the stored asset (ImageRef for an image, ...)."""
        asset = await self.get_asset(asset_id)
        if asset.is_folder:
            raise InvalidInput(f"Asset '{asset.id}' is a folder and has no content")
        return ref_class_for(asset.content_type)(
            asset_id=str(asset.id), content_type=asset.content_type
        )

    # Media helpers ---------------------------------------------------------------------------

    @staticmethod
    def image_from_bytes(data: bytes) -> Image.Image:
        return media.image_from_bytes(data)

    @staticmethod
    def image_to_bytes(image: Image.Image, format: str = "PNG") -> bytes:
        return media.image_to_bytes(image, format)

    async def image_from_ref(self, ref: ImageRef) -> Image.Image:
        data = await self.asset_bytes(ref)
        return await asyncio.to_thread(media.image_from_bytes, data)

    async def image_to_ref(self, image: Image.Image, format: str = "PNG") -> ImageRef:
        data = await asyncio.to_thread(media.image_to_bytes, image, format)
        return ImageRef(data=data)

    async def audio_from_ref(self, ref: AudioRef) -> media.Audio:
        data = await self.asset_bytes(ref)
        return await asyncio.to_thread(media.audio_from_bytes, data)

    async def audio_to_ref(self, audio: media.Audio) -> AudioRef:
        return AudioRef(data=await asyncio.to_thread(media.audio_to_wav, audio))

    async def json_from_ref(self, ref: JSONRef) -> Any:
        try:
            return json.loads(await self.asset_bytes(ref))
        except (UnicodeDecodeError, ValueError) as error:
            raise InvalidInput(f"The content is not JSON: {error}") from error
