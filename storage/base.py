"""The contract every blob store meets: content-addressed by SHA-256, written in two steps.

`stage` streams bytes somewhere private while hashing and counting them; `commit` publishes
the staged bytes under their digest (a no-op when identical bytes are already stored). The
caller records its database row between the two, so a failure on either side can be undone.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

SNIFF_BYTES = 8192


class StorageError(Exception):
    """The store could not do what was asked (an I/O error, an unreachable service).

    Implementations raise this (or StorageFull) instead of their own exceptions, so that
    callers can answer with a clear status instead of an internal error.
    """


class StorageFull(StorageError):
    """No space left (a full disk, a quota): freeing space makes the same call work."""


class StorageMisconfigured(StorageError):
    """The store refuses Trove's settings (a bucket that does not exist, credentials it
    rejects or lacks): retrying will not help until an operator fixes the configuration.
    The message is safe to show to clients; the details go to the log."""


class BlobTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"content exceeds the limit of {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class StagedBlob:
    sha256: str
    size: int
    # The first bytes of the content, kept for content-type detection.
    head: bytes
    token: str


class BlobStorage(Protocol):
    async def stage(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StagedBlob: ...

    async def commit(self, staged: StagedBlob) -> bool | None:
        """Publish the staged bytes; True when this call placed them, False (or None, for a
        store that cannot tell) when identical bytes were already stored. Undoing a failed
        commit removes only what was placed."""
        ...

    async def discard(self, staged: StagedBlob) -> None: ...

    async def exists(self, sha256: str) -> bool: ...

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Yield the bytes in [start, end) (end exclusive, None for the end of the blob)."""
        ...

    async def delete(self, sha256: str) -> None: ...

    async def trash(self, sha256: str) -> str | None:
        """Move a blob aside, reversibly; returns a token, or None if it was not there."""
        ...

    async def restore(self, token: str) -> None: ...

    async def purge(self, token: str) -> None: ...

    async def trashed(self) -> list[tuple[str, str]]:
        """(token, sha256) of blobs moved aside by processes that are gone."""
        ...

    def iter_digests(self, *, older_than_seconds: float) -> AsyncIterator[str]:
        """Every stored digest whose blob was written more than the given seconds ago."""
        ...

    async def recover(self) -> int:
        """Remove staging leftovers of processes that died; returns how many were removed."""
        ...

    async def close(self) -> None:
        """Release connections (called once when the process stops)."""
        ...

    # Direct uploads: the client sends the parts, straight to the store where it can.

    async def start_parts(self, upload_id: str) -> str:
        """Prepare to receive parts; returns the store's handle for them."""
        ...

    async def part_url(self, handle: str, number: int, *, expires_in: int) -> str | None:
        """A presigned URL for one part, or None when the parts come through Trove."""
        ...

    async def write_part(
        self, handle: str, number: int, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> str:
        """Receive one part through Trove (stores without presigned URLs); returns its ETag."""
        ...

    async def finish_parts(self, handle: str, parts: list[tuple[int, str]]) -> StagedBlob:
        """Join the parts (in number order) into a staged blob, hashing them."""
        ...

    async def abort_parts(self, handle: str) -> None:
        """Forget the parts received so far."""
        ...
