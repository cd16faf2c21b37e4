"""One contract, every blob store: the same tests run against local disk and a real S3 server
(SeaweedFS, see tests/s3server.py)."""

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import BlobStorage, BlobTooLarge, LocalBlobStorage
from storage.base import StorageError
from storage.s3 import _HOST, PART_SIZE, S3BlobStorage, S3Config, S3Location


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


class Backend:
    """What the tests need to know about a store beyond the contract: its private corners."""

    def __init__(self, store: BlobStorage, seaweedfs: Any = None, bucket: str = "") -> None:
        self.store = store
        self.seaweedfs = seaweedfs
        self.bucket = bucket

    @property
    def is_s3(self) -> bool:
        return isinstance(self.store, S3BlobStorage)

    def leftovers(self) -> list[str]:
        """Staging files, staged objects and unfinished multipart uploads."""
        if isinstance(self.store, LocalBlobStorage):
            return [p.name for p in self.store.staging.iterdir()]
        client = self.seaweedfs.client()
        objects = client.list_objects_v2(Bucket=self.bucket, Prefix=".staging/")
        uploads = client.list_multipart_uploads(Bucket=self.bucket, Prefix=".staging/")
        return [o["Key"] for o in objects.get("Contents", [])] + [
            u["Key"] for u in uploads.get("Uploads", [])
        ]

    def plant_staging(self, *, pid: int, name: str, unfinished: bool = False) -> None:
        """A staging leftover as a writer with this pid would leave it."""
        if isinstance(self.store, LocalBlobStorage):
            (self.store.staging / f"{pid}.{name}.part").write_bytes(b"partial")
            return
        key = f".staging/{_HOST}-{pid}-{int(time.time())}.{name}"
        client = self.seaweedfs.client()
        if unfinished:
            client.create_multipart_upload(Bucket=self.bucket, Key=key)
        else:
            client.put_object(Bucket=self.bucket, Key=key, Body=b"partial")

    def age_blobs(self) -> None:
        if isinstance(self.store, LocalBlobStorage):
            an_hour_ago = time.time() - 3600
            for path in self.store.root.rglob("*"):
                if path.is_file():
                    os.utime(path, (an_hour_ago, an_hour_ago))


@pytest.fixture(params=["local", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "local":
        yield Backend(LocalBlobStorage(tmp_path / "blobs"))
        return
    seaweedfs = request.getfixturevalue("seaweedfs")
    bucket = request.getfixturevalue("s3_bucket")
    store = S3BlobStorage(
        S3Location.parse(f"s3://{bucket}"),
        S3Config(
            endpoint_url=seaweedfs.endpoint,
            region="us-east-1",
            access_key_id=seaweedfs.connection["s3_access_key_id"],
            secret_access_key=seaweedfs.connection["s3_secret_access_key"],
        ),
    )
    try:
        yield Backend(store, seaweedfs, bucket)
    finally:
        await store.close()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(
    store: BlobStorage, sha256: str, start: int = 0, end: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in store.read(sha256, start, end)])


async def test_stage_hashes_counts_and_commits_once(backend: Backend) -> None:
    store = backend.store
    staged = await store.stage(chunks(b"hello ", b"", b"world"), max_bytes=100)
    assert staged.sha256 == hashlib.sha256(b"hello world").hexdigest()
    assert (staged.size, staged.head) == (11, b"hello world")
    assert not await store.exists(staged.sha256)
    await store.commit(staged)
    again = await store.stage(chunks(b"hello world"), max_bytes=100)
    await store.commit(again)  # identical bytes: one copy
    assert await store.exists(staged.sha256)
    assert await read_all(store, staged.sha256) == b"hello world"
    assert backend.leftovers() == []


async def test_ranged_reads(backend: Backend) -> None:
    store = backend.store
    staged = await store.stage(chunks(b"0123456789"), max_bytes=100)
    await store.commit(staged)
    assert await read_all(store, staged.sha256, 3, 7) == b"3456"
    assert await read_all(store, staged.sha256, 7) == b"789"
    assert await read_all(store, staged.sha256, 0, 1) == b"0"
    assert await read_all(store, staged.sha256, 5, 5) == b""


async def test_empty_content(backend: Backend) -> None:
    store = backend.store
    staged = await store.stage(chunks(), max_bytes=100)
    assert staged.size == 0 and staged.sha256 == hashlib.sha256(b"").hexdigest()
    await store.commit(staged)
    assert await read_all(store, staged.sha256) == b""


async def test_large_content_streams_in_parts(backend: Backend) -> None:
    """Several multipart parts on S3; the hash and ranges across part boundaries hold."""
    block = os.urandom(1 << 20)
    count = (2 * PART_SIZE + (3 << 20)) // len(block)
    digest = hashlib.sha256()
    for _ in range(count):
        digest.update(block)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield block

    staged = await backend.store.stage(body(), max_bytes=1 << 30)
    assert staged.sha256 == digest.hexdigest() and staged.size == count * len(block)
    await backend.store.commit(staged)
    boundary = PART_SIZE
    piece = await read_all(backend.store, staged.sha256, boundary - 5, boundary + 5)
    offset = (boundary - 5) % len(block)
    assert piece == (block + block)[offset : offset + 10]
    assert backend.leftovers() == []


async def test_too_large_leaves_nothing(backend: Backend) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(PART_SIZE // (1 << 20) + 2):
            yield b"x" * (1 << 20)

    with pytest.raises(BlobTooLarge):
        await backend.store.stage(body(), max_bytes=PART_SIZE + (1 << 20))
    assert backend.leftovers() == []


async def test_failing_source_leaves_nothing(backend: Backend) -> None:
    """A client that disconnects mid-upload: the multipart upload is aborted, not billed."""

    async def body() -> AsyncIterator[bytes]:
        for _ in range(PART_SIZE // (1 << 20) + 1):
            yield b"y" * (1 << 20)
        raise ConnectionResetError("client went away")

    # The source's own error, or the store's StorageError wrapping it: either way it fails.
    with pytest.raises((ConnectionResetError, StorageError)):
        await backend.store.stage(body(), max_bytes=1 << 30)
    assert backend.leftovers() == []


async def test_discard_removes_the_staged_copy(backend: Backend) -> None:
    staged = await backend.store.stage(chunks(b"not wanted"), max_bytes=100)
    assert backend.leftovers() != []
    await backend.store.discard(staged)
    assert backend.leftovers() == []
    assert not await backend.store.exists(staged.sha256)


async def test_delete(backend: Backend) -> None:
    staged = await backend.store.stage(chunks(b"delete me"), max_bytes=100)
    await backend.store.commit(staged)
    await backend.store.delete(staged.sha256)
    assert not await backend.store.exists(staged.sha256)
    await backend.store.delete(staged.sha256)  # deleting twice is fine


async def test_trash_restore_and_purge(backend: Backend) -> None:
    store = backend.store
    staged = await store.stage(chunks(b"keep or not"), max_bytes=100)
    await store.commit(staged)
    token = await store.trash(staged.sha256)
    assert token is not None
    assert not await store.exists(staged.sha256)
    # This process is alive: its trash is not up for recovery.
    assert await store.trashed() == []
    await store.restore(token)
    assert await read_all(store, staged.sha256) == b"keep or not"
    token = await store.trash(staged.sha256)
    assert token is not None
    await store.purge(token)
    assert not await store.exists(staged.sha256)
    assert await store.trash(staged.sha256) is None


async def test_iter_digests_by_age(backend: Backend) -> None:
    staged = await backend.store.stage(chunks(b"aged"), max_bytes=100)
    await backend.store.commit(staged)
    assert [d async for d in backend.store.iter_digests(older_than_seconds=600)] == []
    backend.age_blobs()
    # S3 keeps its own modification times: look at everything older than a second from now.
    age = 600 if not backend.is_s3 else -1
    assert [d async for d in backend.store.iter_digests(older_than_seconds=age)] == [staged.sha256]


async def test_recover_removes_only_dead_writers_leftovers(backend: Backend) -> None:
    gone = dead_pid()
    backend.plant_staging(pid=gone, name="abc")
    if backend.is_s3:
        backend.plant_staging(pid=gone, name="def", unfinished=True)
    backend.plant_staging(pid=os.getpid(), name="live")
    removed = await backend.store.recover()
    assert removed == (2 if backend.is_s3 else 1)
    assert len(backend.leftovers()) == 1
    assert "live" in backend.leftovers()[0]
