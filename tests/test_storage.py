"""The local blob store and the recovery steps that keep rows and blobs in agreement."""

import hashlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from models import Asset, User
from services.assets import Tracking
from storage import BlobTooLarge, LocalBlobStorage
from tests.conftest import TroveClient


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def test_stage_hashes_counts_and_publishes_once(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path)
    staged = await storage.stage(chunks(b"hello ", b"world"), max_bytes=100)
    assert staged.sha256 == hashlib.sha256(b"hello world").hexdigest()
    assert (staged.size, staged.head) == (11, b"hello world")
    await storage.commit(staged)
    again = await storage.stage(chunks(b"hello world"), max_bytes=100)
    await storage.commit(again)
    assert b"".join([c async for c in storage.read(staged.sha256)]) == b"hello world"
    assert b"".join([c async for c in storage.read(staged.sha256, 6, 9)]) == b"wor"
    assert list((tmp_path / ".staging").iterdir()) == []


async def test_stage_refuses_too_much_and_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path)
    with pytest.raises(BlobTooLarge):
        await storage.stage(chunks(b"x" * 60, b"y" * 60), max_bytes=100)
    assert list((tmp_path / ".staging").iterdir()) == []


async def test_recover_removes_only_dead_writers_staging(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path)
    dead = tmp_path / ".staging" / f"{dead_pid()}.abc.part"
    alive = tmp_path / ".staging" / f"{os.getpid()}.def.part"
    dead.write_bytes(b"partial")
    alive.write_bytes(b"in progress")
    assert await storage.recover() == 1
    assert not dead.exists() and alive.exists()


async def test_restart_restores_trashed_blobs_that_rows_still_use(
    sqlite_client: TroveClient,
) -> None:
    services = sqlite_client.services
    owner = await User.get(name="local")
    kept = await services.assets.create_asset(owner=owner, content=chunks(b"kept"), name="k")
    storage = services.assets.storage
    # A delete that moved the blob aside and then died before committing:
    token = await storage.trash(kept.sha256)
    assert token is not None
    trash_file = storage.trash_dir / token
    orphan_token = f"{dead_pid()}.{token.split('.', 1)[1]}"
    trash_file.rename(storage.trash_dir / orphan_token)
    unused = hashlib.sha256(b"gone").hexdigest()
    (storage.trash_dir / f"{dead_pid()}.feed.{unused}").write_bytes(b"gone")

    await services.assets.recover_storage()

    assert await storage.exists(kept.sha256)
    assert list(storage.trash_dir.iterdir()) == []
    response = await sqlite_client.http.get(f"/assets/{kept.id}/content")
    assert response.content == b"kept"


async def test_garbage_collection_removes_unreferenced_blobs_only(
    sqlite_client: TroveClient,
) -> None:
    services = sqlite_client.services
    owner = await User.get(name="local")
    used = await services.assets.create_asset(owner=owner, content=chunks(b"used"), name="u")
    storage = services.assets.storage
    staged = await storage.stage(chunks(b"orphan"), max_bytes=100)
    await storage.commit(staged)  # as if the process died before its row committed
    assert await services.assets.collect_garbage(grace_seconds=0) == 1
    assert not await storage.exists(staged.sha256)
    assert await storage.exists(used.sha256)
    assert await Asset.filter(id=used.id).exists()


async def test_failed_row_insert_leaves_no_blob(sqlite_client: TroveClient) -> None:
    services = sqlite_client.services
    owner = await User.get(name="local")
    with pytest.raises(IntegrityError):
        await services.assets.create_asset(
            owner=User(id=owner.id.__class__(int=1), name="ghost"),
            content=chunks(b"never stored"),
            name="x",
            tracking=Tracking(job_id="j"),
        )
    blobs = [p for p in services.assets.storage.root.rglob("*") if p.is_file()]
    assert blobs == []


async def test_start_up_sweeps_old_unreferenced_blobs(
    app_factory: Any, sqlite_url: str, tmp_path: Path
) -> None:
    import asyncio
    import time

    digest = hashlib.sha256(b"left by a crash").hexdigest()
    orphan = tmp_path / "data" / "blobs" / digest[:2] / digest[2:4] / digest
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crash")
    an_hour_ago = time.time() - 3600
    os.utime(orphan, (an_hour_ago, an_hour_ago))
    async with app_factory(sqlite_url):
        for _ in range(200):
            if not orphan.exists():
                break
            await asyncio.sleep(0.05)
        assert not orphan.exists()
