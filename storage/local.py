import asyncio
import contextlib
import errno
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

from storage.base import SNIFF_BYTES, BlobTooLarge, StagedBlob, StorageError, StorageFull

READ_CHUNK = 1 << 20
# Kept free for deletes: on a disk so full that the database cannot write the log of a
# delete, releasing this lets the delete (which frees far more) go through.
RESERVE_BYTES = 256 * 1024
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


@contextlib.contextmanager
def _storage_errors(doing: str) -> Iterator[None]:
    """OSError as the contract's StorageFull / StorageError, saying what failed."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno in _FULL_ERRNOS:
            raise StorageFull(f"no space left while {doing}: {reason}") from error
        raise StorageError(f"storage failed while {doing}: {reason}") from error


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalBlobStorage:
    """Blobs on local disk at `root/ab/cd/<sha256>`; staging files in `root/.staging`.

    Staging files carry the writer's pid, so a restarted server can tell the leftovers of a
    killed process from uploads that other live workers are still receiving.
    """

    def __init__(self, root: Path, *, reserve: Path | None = None) -> None:
        self.root = root
        self.staging = root / ".staging"
        self.trash_dir = root / ".trash"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.trash_dir.mkdir(parents=True, exist_ok=True)
        # A file of RESERVE_BYTES on the disk the database shares (see release_reserve).
        self.reserve = reserve
        self._ensure_reserve()

    def _ensure_reserve(self) -> bool:
        if self.reserve is None:
            return False
        if self.reserve.is_file() and self.reserve.stat().st_size >= RESERVE_BYTES:
            return True
        partial = self.reserve.with_suffix(f".{uuid.uuid4().hex}")
        try:
            with open(partial, "wb", buffering=0) as handle:
                handle.write(b"\0" * RESERVE_BYTES)
            os.replace(partial, self.reserve)
        except OSError:
            partial.unlink(missing_ok=True)
            return False
        return True

    async def release_reserve(self) -> bool:
        """Free the reserved space (for a delete on a full disk); False if none was held."""
        if self.reserve is None:
            return False
        try:
            self.reserve.unlink()
        except FileNotFoundError:
            return False
        return True

    async def restore_reserve(self) -> bool:
        """Reserve the space again, if there is room now."""
        return await asyncio.to_thread(self._ensure_reserve)

    def path_of(self, sha256: str) -> Path:
        """Where the blob lives, for readers that need a real file (e.g. video decoders)."""
        return self._path(sha256)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _staging_path(self, token: str) -> Path:
        return self.staging / f"{token}.part"

    async def stage(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StagedBlob:
        token = f"{os.getpid()}.{uuid.uuid4().hex}"
        path = self._staging_path(token)
        digest = hashlib.sha256()
        size = 0
        head = bytearray()
        with _storage_errors("receiving content"):
            # Unbuffered: a full disk fails the write itself, never a later flush in
            # close(), which would skip the clean-up below and leak the staging file.
            handle = await asyncio.to_thread(open, path, "xb", buffering=0)
        try:
            # Only the writes are the store's errors; the source's own failures pass as
            # they are.
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(max_bytes)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                with _storage_errors("receiving content"):
                    await asyncio.to_thread(_hash_and_write, digest, handle, chunk)
            with _storage_errors("receiving content"):
                await asyncio.to_thread(_flush_and_close, handle)
        except BaseException:
            with contextlib.suppress(OSError):
                handle.close()
            path.unlink(missing_ok=True)
            raise
        return StagedBlob(sha256=digest.hexdigest(), size=size, head=bytes(head), token=token)

    async def commit(self, staged: StagedBlob) -> bool:
        source = self._staging_path(staged.token)
        target = self._path(staged.sha256)
        with _storage_errors("storing content"):
            return await asyncio.to_thread(_publish, source, target)

    async def discard(self, staged: StagedBlob) -> None:
        self._staging_path(staged.token).unlink(missing_ok=True)

    async def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    async def read(
        self, sha256: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self._path(sha256), "rb")
        try:
            if start:
                handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                want = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, sha256: str) -> None:
        path = self._path(sha256)
        with _storage_errors("deleting content"):
            path.unlink(missing_ok=True)
        for parent in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                parent.rmdir()

    async def trash(self, sha256: str) -> str | None:
        token = f"{os.getpid()}.{uuid.uuid4().hex}.{sha256}"
        try:
            with _storage_errors("deleting content"):
                os.replace(self._path(sha256), self.trash_dir / token)
        except StorageError as error:
            if isinstance(error.__cause__, FileNotFoundError):
                return None
            raise
        return token

    async def restore(self, token: str) -> None:
        sha256 = token.rsplit(".", 1)[-1]
        target = self._path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.trash_dir / token, target)

    async def purge(self, token: str) -> None:
        (self.trash_dir / token).unlink(missing_ok=True)
        sha256 = token.rsplit(".", 1)[-1]
        path = self._path(sha256)
        for parent in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                parent.rmdir()

    async def trashed(self) -> list[tuple[str, str]]:
        found = []
        for entry in self.trash_dir.iterdir():
            pid_text, _, rest = entry.name.partition(".")
            if pid_text.isdigit() and _process_alive(int(pid_text)):
                continue
            found.append((entry.name, rest.rsplit(".", 1)[-1]))
        return found

    async def iter_digests(self, *, older_than_seconds: float) -> AsyncIterator[str]:
        cutoff = time.time() - older_than_seconds
        for path in await asyncio.to_thread(lambda: list(self._walk_blobs())):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    yield path.name

    def _walk_blobs(self) -> Iterator[Path]:
        for first in self.root.iterdir():
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in first.iterdir():
                yield from second.iterdir()

    async def recover(self) -> int:
        removed = 0
        for part in self.staging.glob("*.part"):
            pid_text = part.name.split(".", 1)[0]
            if pid_text.isdigit() and _process_alive(int(pid_text)) and int(pid_text) != 0:
                continue
            part.unlink(missing_ok=True)
            removed += 1
        return removed

    async def close(self) -> None:
        """Nothing to release: files are opened per call."""

    # Direct uploads: parts arrive through Trove's signed part URLs into .uploads/<id>/.

    def _parts_dir(self, handle: str) -> Path:
        if not handle or not all(c in "0123456789abcdef-" for c in handle):
            raise ValueError("not an upload handle")
        return self.root / ".uploads" / handle

    async def start_parts(self, upload_id: str) -> str:
        handle = upload_id.replace("-", "")
        self._parts_dir(handle).mkdir(parents=True, exist_ok=True)
        return handle

    async def part_url(self, handle: str, number: int, *, expires_in: int) -> str | None:
        return None

    async def write_part(
        self, handle: str, number: int, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> str:
        directory = self._parts_dir(handle)
        if not directory.is_dir():
            raise FileNotFoundError(handle)
        target = directory / f"{number}.part"
        partial = directory / f"{number}.{uuid.uuid4().hex}.tmp"
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        handle_file = await asyncio.to_thread(open, partial, "xb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(max_bytes)
                await asyncio.to_thread(_hash_and_write, digest, handle_file, chunk)
            await asyncio.to_thread(_flush_and_close, handle_file)
        except BaseException:
            handle_file.close()
            partial.unlink(missing_ok=True)
            raise
        # A repeated PUT of the same part replaces it, as on S3.
        os.replace(partial, target)
        return f'"{digest.hexdigest()}"'

    async def finish_parts(self, handle: str, parts: list[tuple[int, str]]) -> StagedBlob:
        directory = self._parts_dir(handle)
        files = [directory / f"{number}.part" for number, _ in sorted(parts)]
        for path in files:
            if not path.is_file():
                raise FileNotFoundError(path.name)

        async def joined() -> AsyncIterator[bytes]:
            for path in files:
                with path.open("rb") as source:
                    while chunk := await asyncio.to_thread(source.read, READ_CHUNK):
                        yield chunk

        staged = await self.stage(joined(), max_bytes=1 << 62)
        await self.abort_parts(handle)
        return staged

    async def abort_parts(self, handle: str) -> None:
        directory = self._parts_dir(handle)
        await asyncio.to_thread(shutil.rmtree, directory, True)


def _hash_and_write(digest: "hashlib._Hash", handle: BinaryIO, chunk: bytes) -> None:
    digest.update(chunk)
    view = memoryview(chunk)
    while view:  # an unbuffered write may take only part of the chunk
        written = handle.write(view)
        view = view[written or 0 :]


def _flush_and_close(handle: BinaryIO) -> None:
    os.fsync(handle.fileno())
    handle.close()


def _publish(source: Path, target: Path) -> bool:
    if target.exists():
        # Identical bytes are already stored: keep one copy.
        source.unlink(missing_ok=True)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    return True
