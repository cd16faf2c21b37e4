"""Direct uploads: the client sends the bytes part by part straight to storage (presigned S3
URLs, or Trove's own signed part URLs on local storage), then completes; Trove verifies the
size and declared SHA-256 and records the asset through `AssetService.create_asset`."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from models import Asset, DirectUpload, User
from models.ids import new_id
from services import content_types
from services.assets import AssetService, Tracking, parse_id, storage_errors
from services.errors import InvalidInput, NotFound, TooLarge, TroveError
from services.signing import UrlSigner
from storage import BlobTooLarge

MIN_PART_SIZE = 8 << 20  # S3's minimum is 5 MiB (except the last part)
MAX_PARTS = 10_000  # S3's maximum
DEFAULT_TTL_SECONDS = 24 * 3600
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PartTarget:
    number: int
    # Absolute (presigned on the bucket) or a path on this server to make absolute.
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class StartedUpload:
    upload: DirectUpload
    parts: list[PartTarget]


def part_path(upload_id: UUID | str, number: int) -> str:
    return f"/uploads/{upload_id}/parts/{number}"


def plan_parts(size: int) -> tuple[int, int]:
    """(part size, part count): 8 MiB parts, larger when a file would need over 10,000."""
    part_size = max(MIN_PART_SIZE, math.ceil(size / MAX_PARTS))
    return part_size, max(1, math.ceil(size / part_size))


class UploadService:
    def __init__(
        self, *, assets: AssetService, signer: UrlSigner, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        self.assets = assets
        self.storage = assets.storage
        self.signer = signer
        self.ttl_seconds = ttl_seconds

    async def create(
        self,
        *,
        owner: User,
        name: str,
        size: int,
        sha256: str | None = None,
        content_type: str | None = None,
        tracking: Tracking | None = None,
        parent_id: str | None = None,
        metadata: Any = None,
    ) -> StartedUpload:
        if size < 0:
            raise InvalidInput("`size` must be zero or more bytes")
        if size > self.assets.max_upload_bytes:
            raise TooLarge(f"The content is larger than {self.assets.max_upload_bytes} bytes")
        if sha256 is not None and not _SHA256.match(sha256.lower()):
            raise InvalidInput("`sha256` must be 64 hexadecimal digits")
        clean_name = content_types.sanitize_name(name)
        if not clean_name:
            raise InvalidInput(f"'{name}' is not a usable name")
        try:
            content_types.normalize_claim(content_type)
        except ValueError as error:
            raise InvalidInput(str(error)) from error
        tracking = (tracking or Tracking()).validated()
        parent = await self.assets.check_parent(owner, parent_id)
        part_size, part_count = plan_parts(size)
        upload_id = new_id()
        async with storage_errors():
            handle = await self.storage.start_parts(str(upload_id))
        row = await DirectUpload.create(
            id=upload_id,
            owner_id=owner.id,
            name=clean_name,
            size=size,
            sha256=sha256.lower() if sha256 else None,
            content_type=content_type,
            node_id=tracking.node_id,
            job_id=tracking.job_id,
            workflow_id=tracking.workflow_id,
            parent_id=parent,
            metadata=metadata,
            part_size=part_size,
            part_count=part_count,
            handle=handle,
            expires_at=datetime.now(UTC) + timedelta(seconds=self.ttl_seconds),
        )
        return StartedUpload(upload=row, parts=await self.part_targets(row))

    async def part_targets(self, row: DirectUpload) -> list[PartTarget]:
        targets = []
        for number in range(1, row.part_count + 1):
            async with storage_errors():
                url = await self.storage.part_url(
                    row.handle, number, expires_in=self.ttl_seconds
                ) or self.signer.sign(part_path(row.id, number))
            targets.append(PartTarget(number=number, url=url, headers={}))
        return targets

    async def _open(self, owner: User | None, upload_id: str | UUID) -> DirectUpload:
        query = DirectUpload.filter(id=parse_id(upload_id, what="upload"))
        if owner is not None:
            query = query.filter(owner_id=owner.id)
        row = await query.first()
        if row is None or row.expires_at < datetime.now(UTC):
            raise NotFound(f"No open upload with id '{upload_id}'")
        return row

    async def receive_part(
        self, *, upload_id: str, number: int, content: AsyncIterator[bytes]
    ) -> str:
        """One part through Trove (local storage); the caller checked the URL's signature."""
        row = await self._open(None, upload_id)
        if not 1 <= number <= row.part_count:
            raise InvalidInput(f"This upload has parts 1 to {row.part_count}")
        try:
            async with storage_errors():
                return await self.storage.write_part(
                    row.handle, number, content, max_bytes=row.part_size
                )
        except BlobTooLarge as error:
            raise TooLarge(f"A part holds at most {error.limit} bytes") from error

    async def complete(
        self, *, owner: User, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> Asset:
        row = await self._open(owner, upload_id)
        numbers = sorted(n for n, _ in parts)
        if numbers != list(range(1, row.part_count + 1)):
            raise InvalidInput(f"List every part, 1 to {row.part_count}, once")
        try:
            async with storage_errors():
                staged = await self.storage.finish_parts(row.handle, list(parts))
        except TroveError:
            raise  # The store failed (503/507): the upload stays open for another try.
        except (FileNotFoundError, OSError) as error:
            raise InvalidInput(f"Not every part has arrived: {error}") from error
        except Exception as error:  # The store refused the parts (e.g. a wrong ETag).
            raise InvalidInput(f"The parts could not be joined: {error}") from error
        problem = None
        if staged.size != row.size:
            problem = f"Received {staged.size} bytes, but the upload declared {row.size}"
        elif row.sha256 is not None and staged.sha256 != row.sha256:
            problem = f"The content's SHA-256 is {staged.sha256}, not the declared {row.sha256}"
        if problem is not None:
            await self.assets.discard_upload(staged)
            await row.delete()
            raise InvalidInput(problem + "; the upload is discarded")
        asset = await self.assets.create_asset(
            owner=owner,
            content=staged,
            name=row.name,
            content_type=row.content_type,
            tracking=Tracking(node_id=row.node_id, job_id=row.job_id, workflow_id=row.workflow_id),
            parent_id=row.parent_id,
            metadata=row.metadata,
        )
        await row.delete()
        return asset

    async def abort(self, *, owner: User, upload_id: str) -> bool:
        row = await self._open(owner, upload_id)
        async with storage_errors():
            await self.storage.abort_parts(row.handle)
        await row.delete()
        return True

    async def sweep_expired(self) -> int:
        """Forget uploads past their expiry, with the parts they received."""
        swept = 0
        for row in await DirectUpload.filter(expires_at__lt=datetime.now(UTC)):
            await self.storage.abort_parts(row.handle)
            swept += await DirectUpload.filter(id=row.id).delete()
        return swept
