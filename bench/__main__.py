"""`make bench` / `python -m bench`: Trove against the limit of its stack, side by side.

Each ratio is measured in this one run on this machine: both sides of a ratio run against
the same data with the same load generator, one after the other, best of several rounds.
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import seed_system, topology
from bench.load import LoadResult, build_request, run_load
from bench.seed import seed_postgres, seed_sqlite
from services.assets import AssetFilter

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get(
    "TROVE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret"

LIST_QUERY = (
    "query($jobId: String!) { assets(jobId: $jobId, first: 50) { edges { node { "
    "id name contentType size url createdAt nodeId } } pageInfo { hasNextPage endCursor } } }"
)
CURSOR_QUERY = (
    "query($after: String) { assets(first: 50, after: $after) { pageInfo { endCursor } } }"
)
PAGE_QUERY = (
    "query($after: String) { assets(first: 50, after: $after) { edges { node { "
    "id name contentType size url createdAt nodeId } } pageInfo { hasNextPage endCursor } } }"
)


@dataclass
class Row:
    metric: str
    trove: str
    baseline: str
    ratio: float
    target: str
    met: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    command: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited; see {log}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(20)


def trove_server(env: dict[str, str], log: Path) -> tuple[Any, int]:
    port = free_port()
    return server(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env, port, log
    ), port


def floor_server(env: dict[str, str], log: Path) -> tuple[Any, int]:
    port = free_port()
    return server([sys.executable, "-m", "bench.floor", "--port", str(port)], env, port, log), port


async def prepare_database(url: str) -> uuid.UUID:
    from models import db
    from services import users

    await db.connect(url)
    try:
        await db.apply_migrations(url)
        user = await users.get_or_create_user(name="local")
        return user.id
    finally:
        await db.disconnect()


async def create_pg_database() -> str:
    name = f"trove_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


async def drop_pg_database(url: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await admin.close()


def gql_request(port: int, query: str, variables: dict[str, Any]) -> bytes:
    body = json.dumps({"query": query, "variables": variables}).encode()
    return build_request("127.0.0.1", port, "/graphql", body, {})


async def throughput(
    port: int, request: bytes, seconds: float, check: bytes = b'"edges"'
) -> LoadResult:
    await run_load("127.0.0.1", port, request, connections=4, seconds=0.5)  # warm-up
    return await run_load("127.0.0.1", port, request, connections=16, seconds=seconds, check=check)


async def sequential_p50s(port: int, requests: list[bytes], rounds: int) -> list[float]:
    """Median latency of each request, one connection, interleaved rounds (best round)."""
    best = [float("inf")] * len(requests)
    for request in requests:
        await run_load("127.0.0.1", port, request, connections=1, seconds=0.3)
    for _ in range(rounds):
        for index, request in enumerate(requests):
            result = await run_load("127.0.0.1", port, request, connections=1, seconds=0.5)
            assert result.errors == 0, "requests failed"
            best[index] = min(best[index], statistics.median(result.latencies))
    return best


# Sections ----------------------------------------------------------------------------------


def rest_request(port: int, job: str) -> bytes:
    path = f"/api/assets?job_id={job}&page_size=50"
    return build_request("127.0.0.1", port, path, b"", {}, method="GET")


def bench_list(work: Path, quick: bool) -> list[Row]:
    """One page of 50 assets of a job, three ways, in alternating rounds: Trove's GraphQL,
    Trove's REST adapter (same server, same page) and the floor."""
    count = 20_000 if quick else 100_000
    env = {"TROVE_DATA_DIR": str(work / "list"), "TROVE_SECRET_KEY": SECRET}
    url = f"sqlite://{work / 'list' / 'trove.db'}"
    (work / "list").mkdir()
    owner = asyncio.run(prepare_database(url))
    seed_sqlite(work / "list" / "trove.db", owner, count)
    seconds = 2.0 if quick else 5.0
    rounds = 2 if quick else 3
    rates: dict[str, list[LoadResult]] = {"graphql": [], "rest": [], "floor": []}
    trove_ctx, trove_port = trove_server(env, work / "trove-list.log")
    floor_ctx, floor_port = floor_server(env, work / "floor-list.log")
    with trove_ctx, floor_ctx:
        for round_ in range(rounds):
            job = f"job-{round_ % 100}"
            sides = {
                "graphql": (trove_port, gql_request(trove_port, LIST_QUERY, {"jobId": job})),
                "rest": (trove_port, rest_request(trove_port, job)),
                "floor": (floor_port, gql_request(floor_port, LIST_QUERY, {"jobId": job})),
            }
            for name, (port, request) in sides.items():
                check = b'"assets"' if name == "rest" else b'"edges"'
                rates[name].append(asyncio.run(throughput(port, request, seconds, check)))
    best = {name: max(results, key=lambda r: r.rate) for name, results in rates.items()}
    assert all(result.errors == 0 for result in best.values()), "requests failed"
    graphql, rest, floor = best["graphql"], best["rest"], best["floor"]
    to_floor = graphql.rate / floor.rate
    to_rest = graphql.rate / rest.rate
    return [
        Row(
            f"list throughput ({count // 1000}k assets, 16 clients)",
            f"{graphql.rate:.0f} req/s (p50 {graphql.percentile(0.5) * 1000:.1f} ms)",
            f"floor {floor.rate:.0f} req/s",
            to_floor,
            ">= 0.5",
            to_floor >= 0.5,
        ),
        Row(
            "list throughput, GraphQL / Trove's REST (same page)",
            f"{graphql.rate:.0f} req/s",
            f"REST {rest.rate:.0f} req/s",
            to_rest,
            ">= 0.8",
            to_rest >= 0.8,
        ),
    ]


def bench_cpu(work: Path, quick: bool) -> list[Row]:
    """CPU per list request, in-process through ASGI (bench/cpu.py): the least noisy view
    of the list path on a shared machine."""
    from bench.cpu import seeded_measure

    result = asyncio.run(
        seeded_measure(
            10_000 if quick else 20_000,
            requests=150 if quick else 400,
            rounds=2 if quick else 3,
            profile=False,
        )
    )
    return [
        Row(
            "CPU per list request, GraphQL (in-process)",
            f"{result.graphql_ms:.2f} ms",
            "target 1.5 ms",
            result.graphql_ms / 1.5,
            "<= 1.0",
            result.graphql_ms <= 1.5,
        ),
        Row(
            "CPU per list request, GraphQL / REST",
            f"{result.graphql_ms:.2f} ms",
            f"REST {result.rest_ms:.2f} ms",
            result.graphql_ms / result.rest_ms,
            "<= 1.25",
            result.graphql_ms / result.rest_ms <= 1.25,
        ),
        Row(
            "CPU per list request, GraphQL / floor",
            f"{result.graphql_ms:.2f} ms",
            f"floor {result.floor_ms:.2f} ms",
            result.graphql_ms / result.floor_ms,
            "(for scale)",
            True,
        ),
        Row(
            "cyclic GC per GraphQL list request / the request",
            f"{result.graphql_gc_ms:.3f} ms",
            f"request {result.graphql_ms:.2f} ms",
            result.graphql_gc_ms / result.graphql_ms,
            "< 0.01",
            result.graphql_gc_ms / result.graphql_ms < 0.01,
        ),
    ]


def bench_engine(work: Path, quick: bool) -> list[Row]:
    """The changes of the list path, each against what it replaced, in-process."""
    from bench.engine import executor_ms, records_ms

    fast, normal = executor_ms(requests=200 if quick else 600, rounds=3)
    fetch = records_ms(work / "engine", requests=200 if quick else 600, rounds=3)
    lean, orm, compiled = fetch["records"], fetch["orm"], fetch["compiled"]
    return [
        Row(
            "executor: 50 x 7 page, fast path / graphql-core",
            f"{fast:.2f} ms",
            f"graphql-core {normal:.2f} ms",
            fast / normal,
            "< 1 (faster)",
            fast < normal,
        ),
        Row(
            "page fetch: 51 rows as records / as ORM objects",
            f"{lean:.2f} ms",
            f"ORM {orm:.2f} ms",
            lean / orm,
            "< 1 (faster)",
            lean < orm,
        ),
        Row(
            "page fetch: SQL compiled once per shape / by Tortoise each time",
            f"{compiled:.2f} ms",
            f"Tortoise {lean:.2f} ms",
            compiled / lean,
            "< 1 (faster)",
            compiled < lean,
        ),
    ]


async def _cursor_after(port: int, rows: int) -> str:
    """Walk to the page boundary at `rows` the way a client would."""
    cursor = None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        for _ in range(rows // 50):
            response = await http.post(
                "/graphql",
                json={
                    "query": CURSOR_QUERY,
                    "variables": {"after": cursor},
                },
            )
            cursor = response.json()["data"]["assets"]["pageInfo"]["endCursor"]
    assert cursor is not None
    return cursor


def bench_deep_paging(work: Path, quick: bool) -> list[Row]:
    count = 60_000 if quick else 100_000
    depth = 50_000
    rows: list[Row] = []
    for dialect in ("sqlite", "postgres"):
        data_dir = work / f"paging-{dialect}"
        data_dir.mkdir()
        url = (
            f"sqlite://{data_dir / 'trove.db'}"
            if dialect == "sqlite"
            else asyncio.run(create_pg_database())
        )
        try:
            owner = asyncio.run(prepare_database(url))
            if dialect == "sqlite":
                seed_sqlite(data_dir / "trove.db", owner, count)
            else:
                asyncio.run(seed_postgres(url, owner, count))
            env = {
                "TROVE_DATA_DIR": str(data_dir),
                "TROVE_SECRET_KEY": SECRET,
                "TROVE_DATABASE_URL": url,
            }
            ctx, port = trove_server(env, work / f"trove-paging-{dialect}.log")
            with ctx:
                deep = asyncio.run(_cursor_after(port, depth))
                first, later = asyncio.run(
                    sequential_p50s(
                        port,
                        [
                            gql_request(port, PAGE_QUERY, {"after": None}),
                            gql_request(port, PAGE_QUERY, {"after": deep}),
                        ],
                        rounds=3 if quick else 6,
                    )
                )
        finally:
            if dialect == "postgres":
                asyncio.run(drop_pg_database(url))
        ratio = later / first
        rows.append(
            Row(
                f"deep paging, {dialect} (page after {depth:,} / first)",
                f"{later * 1000:.2f} ms",
                f"first page {first * 1000:.2f} ms",
                ratio,
                "<= 1.2",
                ratio <= 1.2,
            )
        )
    return rows


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def upload_with_curl(port: int, source: Path, size: int) -> float:
    """Seconds to send `source` through `createAsset` with curl, a client outside this
    process (so the server's memory is measured alone), checking the stored size."""
    operations = json.dumps(
        {
            "query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { size } }",
            "variables": {"f": None},
        }
    )
    started = time.perf_counter()
    result = subprocess.run(
        [
            "curl",
            "-sS",
            f"http://127.0.0.1:{port}/graphql",
            "-H",
            "Apollo-Require-Preflight: 1",
            "-F",
            f"operations={operations}",
            "-F",
            'map={"0": ["variables.f"]}',
            "-F",
            f"0=@{source}",
        ],
        capture_output=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    assert json.loads(result.stdout)["data"]["createAsset"]["size"] == size, result.stdout
    return seconds


def bench_upload(work: Path, quick: bool) -> list[Row]:
    # 1 GiB even in --quick: a smaller copy ends in the page cache of this VM's disk before
    # fsync returns (256 MiB "copied" at ~1.2 GB/s, against ~0.36 GB/s at 1 GiB), which
    # measures the cache, not the disk the upload is compared with.
    size = 1024 << 20
    source = work / "upload.bin"
    with source.open("wb") as handle:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            handle.write(block[:-1] + os.urandom(1))
    copy_target = work / "copy.bin"
    started = time.perf_counter()
    with source.open("rb") as src, copy_target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())
    copy_seconds = time.perf_counter() - started
    copy_target.unlink()
    data_dir = work / "upload"
    env = {
        "TROVE_DATA_DIR": str(data_dir),
        "TROVE_SECRET_KEY": SECRET,
        "TROVE_MAX_UPLOAD_BYTES": str(size * 2),
    }
    ctx, port = trove_server(env, work / "trove-upload.log")
    with ctx as process:
        with httpx.Client(timeout=60) as http:  # warm the app (first request imports lazily)
            http.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": "{ assets { totalCount } }"}
            )
        before = _peak_rss_kb(process.pid)
        upload_seconds = upload_with_curl(port, source, size)
        after = _peak_rss_kb(process.pid)
    source.unlink()
    mb = size / 1e6
    ratio = (mb / upload_seconds) / (mb / copy_seconds)
    growth_mb = (after - before) / 1024
    return [
        Row(
            f"upload {size >> 20} MiB (createAsset vs copy + fsync)",
            f"{mb / upload_seconds:.0f} MB/s",
            f"copy {mb / copy_seconds:.0f} MB/s",
            ratio,
            ">= 0.5",
            ratio >= 0.5,
        ),
        Row(
            "upload: server peak RSS growth",
            f"{growth_mb:.1f} MB",
            f"before {before / 1024:.0f} MB",
            growth_mb / 100,
            "< 100 MB",
            growth_mb < 100,
        ),
    ]


def bench_scale(work: Path, quick: bool) -> list[Row]:
    sizes = (10_000, 200_000 if quick else 1_000_000)
    p50s: list[float] = []
    plan = ""
    for count in sizes:
        url = asyncio.run(create_pg_database())
        try:
            owner = asyncio.run(prepare_database(url))
            asyncio.run(seed_postgres(url, owner, count))
            env = {
                "TROVE_DATA_DIR": str(work / f"scale-{count}"),
                "TROVE_SECRET_KEY": SECRET,
                "TROVE_DATABASE_URL": url,
            }
            ctx, port = trove_server(env, work / f"trove-scale-{count}.log")
            with ctx:
                p50s.extend(
                    asyncio.run(
                        sequential_p50s(
                            port,
                            [gql_request(port, LIST_QUERY, {"jobId": "job-7"})],
                            rounds=3 if quick else 6,
                        )
                    )
                )
            plan = asyncio.run(_explain(url, owner))
        finally:
            asyncio.run(drop_pg_database(url))
    ratio = p50s[1] / p50s[0]
    print(f"query plan at {sizes[1]:,} assets:\n{plan}\n")
    uses_index = "Index" in plan and "Seq Scan" not in plan
    return [
        Row(
            f"scale, PostgreSQL p50 ({sizes[1] // 1000}k / 10k assets)",
            f"{p50s[1] * 1000:.2f} ms",
            f"10k: {p50s[0] * 1000:.2f} ms",
            ratio,
            "<= 1.5, index",
            ratio <= 1.5 and uses_index,
        )
    ]


async def _explain(url: str, owner: uuid.UUID) -> str:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            'EXPLAIN SELECT * FROM "assets" WHERE "owner_id"=$1 AND "job_id"=$2 '
            'ORDER BY "id" DESC LIMIT 51',
            owner,
            "job-7",
        )
    finally:
        await connection.close()
    return "\n".join(r[0] for r in rows)


async def _autosave_rates(work: Path, nodes: int, rounds: int) -> tuple[float, float]:
    """Assets per second: a workflow of `nodes` image nodes, and the service in a loop.

    Both sides are warmed up, then measured in alternating rounds (best round each), and
    every round stores bytes no earlier round stored, so neither side gains from dedupe.
    """
    import io
    import itertools

    from PIL import Image

    from execution.local import run_to_completion
    from models import User, db
    from server.app import build_services
    from server.settings import Settings

    url = f"sqlite://{work / 'autosave' / 'trove.db'}"
    settings = Settings(data_dir=work / "autosave", database_url=url, secret_key=SECRET)
    fresh_colors = (f"#{value:06x}" for value in itertools.count(0x100000, 7919))

    def png(color: str) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), color).save(buffer, "PNG")
        return buffer.getvalue()

    async def once(data: bytes) -> AsyncIterator[bytes]:
        yield data

    await db.connect(url)
    try:
        await db.apply_migrations(url)
        services = build_services(settings)
        owner, _ = await User.get_or_create(name="bench")

        async def workflow(count: int) -> float:
            graph = {
                "nodes": [
                    {
                        "id": f"n{i}",
                        "type": "image.Create",
                        "data": {"width": 64, "height": 64, "color": next(fresh_colors)},
                    }
                    for i in range(count)
                ],
                "edges": [],
            }
            started = time.perf_counter()
            job = await run_to_completion(services=services, owner=owner, graph=graph)
            elapsed = time.perf_counter() - started
            assert job.status == "COMPLETED", job.error
            saved = await services.assets.list_assets(
                owner=owner, where=AssetFilter(job_id=job.public_id), first=1
            )
            assert await saved.total_count() == count, (await saved.total_count(), count)
            return count / elapsed

        async def direct(count: int) -> float:
            # Bytes made beforehand: only saving is timed (a direct caller's best case).
            payloads = [png(next(fresh_colors)) for _ in range(count)]
            started = time.perf_counter()
            for index, data in enumerate(payloads):
                await services.assets.create_asset(
                    owner=owner, content=once(data), name=f"direct-{index}.png"
                )
            return count / (time.perf_counter() - started)

        await workflow(20)
        await direct(20)
        workflow_rates, direct_rates = [], []
        for _ in range(rounds):
            workflow_rates.append(await workflow(nodes))
            direct_rates.append(await direct(nodes))
    finally:
        await db.disconnect()
    return max(workflow_rates), max(direct_rates)


def bench_autosave(work: Path, quick: bool) -> list[Row]:
    nodes = 200
    (work / "autosave").mkdir()
    workflow_rate, direct_rate = asyncio.run(_autosave_rates(work, nodes, 2 if quick else 3))
    ratio = workflow_rate / direct_rate
    return [
        Row(
            f"auto-save ({nodes} image nodes vs service loop)",
            f"{workflow_rate:.0f} assets/s",
            f"direct {direct_rate:.0f} assets/s",
            ratio,
            ">= 0.8",
            ratio >= 0.8,
        )
    ]


async def _seed_archive(data_dir: Path, blob: Path, size: int, copies: int) -> str:
    """`copies` assets sharing one stored blob (dedup keeps the disk use to one copy)."""
    from models import Asset, db
    from server.settings import Settings
    from services import users
    from services.assets import AssetService, Tracking
    from services.events import InProcessBroker
    from storage import LocalBlobStorage

    settings = Settings(data_dir=data_dir, secret_key=SECRET)
    url = settings.resolved_database_url
    await db.connect(url)
    try:
        await db.apply_migrations(url)
        user = await users.get_or_create_user(name="local")
        service = AssetService(
            storage=LocalBlobStorage(settings.storage_dir),
            broker=InProcessBroker(),
            max_upload_bytes=size * 2,
        )

        async def chunks() -> AsyncIterator[bytes]:
            with blob.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    yield chunk

        first = await service.create_asset(
            owner=user,
            content=chunks(),
            name="take.mp4",
            content_type="video/mp4",
            tracking=Tracking(job_id="bench-archive"),
        )
        for _ in range(copies - 1):
            await Asset.create(
                owner_id=user.id,
                name="take.mp4",
                content_type=first.content_type,
                size=first.size,
                sha256=first.sha256,
                job_id="bench-archive",
            )
        return str(first.id)
    finally:
        await db.disconnect()


def _download(http: httpx.Client, url: str) -> tuple[int, bytes, float]:
    """Bytes received, the last 64 bytes, seconds; the body is counted, never kept."""
    total, tail = 0, b""
    started = time.perf_counter()
    with http.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            total += len(chunk)
            tail = (tail + chunk)[-64:]
    return total, tail, time.perf_counter() - started


def bench_archive(work: Path, quick: bool) -> list[Row]:
    """A 2 GiB zip of one job's outputs, streamed: server memory must stay flat."""
    part = 256 << 20
    copies = 8
    blob = work / "part.bin"
    with blob.open("wb") as handle:
        block = os.urandom(1 << 20)
        for _ in range(part >> 20):
            handle.write(block[:-1] + os.urandom(1))
    data_dir = work / "archive"
    first_id = asyncio.run(_seed_archive(data_dir, blob, part, copies))
    blob.unlink()
    env = {"TROVE_DATA_DIR": str(data_dir), "TROVE_SECRET_KEY": SECRET}
    ctx, port = trove_server(env, work / "trove-archive.log")
    base = f"http://127.0.0.1:{port}"
    with ctx as process, httpx.Client(timeout=600) as http:
        links = http.post(
            f"{base}/graphql",
            json={
                "query": '{ assetArchiveUrl(filter: {jobId: "bench-archive"}) '
                "asset(id: $id) { url } }".replace("$id", json.dumps(first_id))
            },
        ).json()["data"]
        # Baseline: the same bytes as plain content downloads, one after the other.
        plain_bytes, plain_seconds = 0, 0.0
        for _ in range(copies):
            size, _, seconds = _download(http, links["asset"]["url"])
            plain_bytes += size
            plain_seconds += seconds
        before = _peak_rss_kb(process.pid)
        zip_bytes, tail, zip_seconds = _download(http, links["assetArchiveUrl"])
        after = _peak_rss_kb(process.pid)
    assert zip_bytes > copies * part and b"PK\x05\x06" in tail, (zip_bytes, tail)
    growth_mb = (after - before) / 1024
    zip_rate, plain_rate = zip_bytes / 1e6 / zip_seconds, plain_bytes / 1e6 / plain_seconds
    return [
        Row(
            f"archive {zip_bytes / (1 << 30):.1f} GiB zip: server peak RSS growth",
            f"{growth_mb:.1f} MB",
            f"before {before / 1024:.0f} MB",
            growth_mb / 50,
            "< 50 MB",
            growth_mb < 50,
        ),
        Row(
            "archive throughput (zip vs plain content downloads)",
            f"{zip_rate:.0f} MB/s",
            f"plain {plain_rate:.0f} MB/s",
            zip_rate / plain_rate,
            ">= 0.3",
            zip_rate / plain_rate >= 0.3,
        ),
    ]


def bench_audio(work: Path, quick: bool) -> list[Row]:
    from bench.audio import measure

    seconds = 60.0
    new, old = measure(seconds, legacy_rounds=1, rounds=3 if quick else 7)
    speedup = old / new
    return [
        Row(
            f"audio nodes, {seconds:.0f} s of 44.1 kHz stereo (numpy/PyAV vs pure Python)",
            f"{new * 1000:.0f} ms",
            f"pure Python {old * 1000:.0f} ms",
            speedup,
            ">= 20x, < 100 ms",
            speedup >= 20 and new < 0.1,
        )
    ]


SECTIONS: dict[str, Callable[[Path, bool], list[Row]]] = {
    "list": bench_list,
    "cpu": bench_cpu,
    # Against the seed system, nodetool's REST API, in its own venv: bench/seed_system.py.
    "seed": seed_system.bench_seed,
    "engine": bench_engine,
    "paging": bench_deep_paging,
    "upload": bench_upload,
    "autosave": bench_autosave,
    "scale": bench_scale,
    "archive": bench_archive,
    # The production topology (docs/deploy.md): bench/topology.py.
    "processes": lambda work, quick: topology.bench_processes(work, quick),
    "s3": lambda work, quick: topology.bench_s3(work, quick),
    "events": lambda work, quick: topology.bench_events(work, quick),
    "audio": bench_audio,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data, shorter runs")
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    args.sections = args.sections or list(SECTIONS)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="trove-bench-") as tmp:
        work = Path(tmp)
        for name in args.sections:
            print(f"== {name} ...", flush=True)
            section_rows = SECTIONS[name](work, args.quick)
            for row in section_rows:
                print(
                    f"   {row.metric}: {row.trove} vs {row.baseline} -> {row.ratio:.2f}", flush=True
                )
            rows.extend(section_rows)
    if not rows:
        return
    width = max(len(r.metric) for r in rows)
    print()
    print(f"{'metric'.ljust(width)} | {'ratio':>6} | target         | met | trove / baseline")
    print("-" * (width + 70))
    for r in rows:
        met = "yes" if r.met else "NO "
        print(
            f"{r.metric.ljust(width)} | {r.ratio:6.2f} | {r.target:<14} | {met} | "
            f"{r.trove} / {r.baseline}"
        )


if __name__ == "__main__":
    main()
