"""Bench rows for the production topology (docs/deploy.md): several API processes, S3 uploads
and cross-process events. Each ratio is measured side by side in one run."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from bench.__main__ import Row

PART = 8 << 20


def _rows() -> Any:
    import bench.__main__ as main

    return main


def bench_processes(work: Path, quick: bool) -> list[Row]:
    """The list query against `trove serve --workers 2` and `--workers 1` on PostgreSQL."""
    m = _rows()
    from bench.seed import seed_postgres

    count = 20_000 if quick else 100_000
    url = asyncio.run(m.create_pg_database())
    try:
        owner = asyncio.run(m.prepare_database(url))
        asyncio.run(seed_postgres(url, owner, count))
        seconds = 2.0 if quick else 5.0
        rounds = 2 if quick else 3
        rates: dict[int, list[Any]] = {1: [], 2: []}
        for workers in (1, 2):
            env = {
                "TROVE_DATA_DIR": str(work / f"procs-{workers}"),
                "TROVE_SECRET_KEY": m.SECRET,
                "TROVE_DATABASE_URL": url,
                "TROVE_WORKERS": str(workers),
            }
            ctx, port = m.trove_server(env, work / f"trove-procs-{workers}.log")
            with ctx:
                for round_ in range(rounds):
                    request = m.gql_request(port, m.LIST_QUERY, {"jobId": f"job-{round_}"})
                    rates[workers].append(asyncio.run(m.throughput(port, request, seconds)))
        one = max(rates[1], key=lambda r: r.rate)
        two = max(rates[2], key=lambda r: r.rate)
        assert one.errors == 0 and two.errors == 0, "requests failed"
        ratio = two.rate / one.rate
        return [
            m.Row(
                f"list throughput, 2 API processes / 1 (PostgreSQL, {os.cpu_count()} cores)",
                f"{two.rate:.0f} req/s",
                f"1 process {one.rate:.0f} req/s",
                ratio,
                ">= 1.6",
                ratio >= 1.6,
            )
        ]
    finally:
        asyncio.run(m.drop_pg_database(url))


async def _client_upload(endpoint: str, bucket: str, path: Path, access: dict[str, str]) -> None:
    """The baseline: the S3 client writing the file straight to the server (multipart, 8 MiB
    parts, 4 in flight: what Trove's own staging does)."""
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access["s3_access_key_id"],
        aws_secret_access_key=access["s3_secret_access_key"],
    ) as client:
        created = await client.create_multipart_upload(Bucket=bucket, Key="baseline")
        slots = asyncio.Semaphore(4)

        async def part(number: int, body: bytes) -> dict[str, Any]:
            try:
                answer = await client.upload_part(
                    Bucket=bucket,
                    Key="baseline",
                    UploadId=created["UploadId"],
                    PartNumber=number,
                    Body=body,
                )
                return {"PartNumber": number, "ETag": answer["ETag"]}
            finally:
                slots.release()

        tasks = []
        with path.open("rb") as source:
            number = 0
            while True:
                await slots.acquire()
                body = source.read(PART)
                if not body:
                    slots.release()
                    break
                number += 1
                tasks.append(asyncio.create_task(part(number, body)))
        parts = await asyncio.gather(*tasks)
        await client.complete_multipart_upload(
            Bucket=bucket,
            Key="baseline",
            UploadId=created["UploadId"],
            MultipartUpload={"Parts": list(parts)},
        )


async def _direct_upload(port: int, path: Path, size: int) -> None:
    """createUpload, the parts PUT in parallel (4 at once) with plain httpx, completeUpload."""
    create = (
        "mutation($i: CreateUploadInput!) { createUpload(input: $i) { id partSize "
        "parts { partNumber url } } }"
    )
    complete = (
        "mutation($id: ID!, $p: [CompletedPartInput!]!) { completeUpload(id: $id, parts: $p) "
        "{ size } }"
    )
    api = f"http://127.0.0.1:{port}/graphql"
    async with httpx.AsyncClient(timeout=600) as http:
        answer = await http.post(
            api, json={"query": create, "variables": {"i": {"name": "big.bin", "size": size}}}
        )
        upload = answer.json()["data"]["createUpload"]
        part_size = int(upload["partSize"])
        slots = asyncio.Semaphore(4)

        async def put(part: dict[str, Any]) -> dict[str, Any]:
            async with slots:
                with path.open("rb") as source:
                    source.seek((part["partNumber"] - 1) * part_size)
                    body = source.read(part_size)
                response = await http.put(part["url"], content=body)
            response.raise_for_status()
            return {"partNumber": part["partNumber"], "etag": response.headers["etag"]}

        parts = await asyncio.gather(*(put(p) for p in upload["parts"]))
        done = await http.post(
            api, json={"query": complete, "variables": {"id": upload["id"], "p": parts}}
        )
        assert done.json()["data"]["completeUpload"]["size"] == size, done.text


def bench_s3(work: Path, quick: bool) -> list[Row]:
    """A large file into S3 (SeaweedFS) three ways, against the S3 client on its own."""
    m = _rows()
    from tests.s3server import SeaweedFS

    size = (256 if quick else 1024) << 20
    source = work / "s3-upload.bin"
    with source.open("wb") as handle:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            handle.write(block[:-1] + os.urandom(1))
    seaweed = SeaweedFS(work / "seaweedfs")
    seaweed.root.mkdir()
    seaweed.start()
    try:
        bucket = seaweed.create_bucket()
        started = time.perf_counter()
        asyncio.run(_client_upload(seaweed.endpoint, bucket, source, seaweed.connection))
        client_seconds = time.perf_counter() - started
        env = {
            "TROVE_DATA_DIR": str(work / "s3"),
            "TROVE_SECRET_KEY": m.SECRET,
            "TROVE_MAX_UPLOAD_BYTES": str(size * 2),
            "TROVE_STORAGE_URL": f"s3://{bucket}/trove",
            **seaweed.env,
        }
        ctx, port = m.trove_server(env, work / "trove-s3.log")
        with ctx as process:
            with httpx.Client(timeout=60) as http:
                http.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": "{ assets { totalCount } }"},
                )
            before = m._peak_rss_kb(process.pid)
            api_seconds = m.upload_with_curl(port, source, size)
            after_api = m._peak_rss_kb(process.pid)
            # Different bytes for the direct upload, so it is not a deduplicated copy.
            with source.open("r+b") as handle:
                handle.write(hashlib.sha256(b"direct").digest())
            started = time.perf_counter()
            asyncio.run(_direct_upload(port, source, size))
            direct_seconds = time.perf_counter() - started
            after_direct = m._peak_rss_kb(process.pid)
    finally:
        seaweed.stop()
        source.unlink()
    mb = size / 1e6
    client_rate = mb / client_seconds
    api_ratio = (mb / api_seconds) / client_rate
    direct_ratio = (mb / direct_seconds) / client_rate
    api_growth = (after_api - before) / 1024
    direct_growth = (after_direct - after_api) / 1024
    label = f"{size >> 20} MiB"
    return [
        m.Row(
            f"S3 upload {label} through createAsset / the S3 client alone",
            f"{mb / api_seconds:.0f} MB/s",
            f"client {client_rate:.0f} MB/s",
            api_ratio,
            ">= 0.8",
            api_ratio >= 0.8,
        ),
        m.Row(
            f"S3 upload {label} as a direct upload / the S3 client alone",
            f"{mb / direct_seconds:.0f} MB/s",
            f"client {client_rate:.0f} MB/s",
            direct_ratio,
            ">= 0.8",
            direct_ratio >= 0.8,
        ),
        m.Row(
            "S3 upload through createAsset: API peak RSS growth",
            f"{api_growth:.1f} MB",
            f"before {before / 1024:.0f} MB",
            api_growth / 100,
            "< 100 MB",
            api_growth < 100,
        ),
        m.Row(
            "S3 direct upload: API peak RSS growth (after createAsset's peak)",
            f"{direct_growth:.1f} MB",
            f"before {after_api / 1024:.0f} MB",
            direct_growth / 100,
            "< 100 MB",
            direct_growth < 100,
        ),
    ]


async def _event_latencies(a: int, b: int, count: int) -> list[float]:
    """Seconds from the asset's row on A (its createdAt) to its delivery on B's subscriber."""
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    subscription = "subscription($after: ID) { assetCreated(after: $after) { id createdAt } }"
    upload_query = "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }"

    async def upload(http: httpx.AsyncClient, index: int) -> str:
        answer = await http.post(
            f"http://127.0.0.1:{a}/graphql",
            data={
                "operations": json.dumps({"query": upload_query, "variables": {"f": None}}),
                "map": json.dumps({"0": ["variables.f"]}),
            },
            files={"0": (f"{index}.txt", f"event {index} {time.time()}".encode(), "text/plain")},
            headers={"Apollo-Require-Preflight": "1"},
        )
        return str(answer.json()["data"]["createAsset"]["id"])

    latencies = []
    async with (
        httpx.AsyncClient(timeout=30) as http,
        connect(
            f"ws://127.0.0.1:{b}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as socket,
    ):
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        await socket.recv()
        marker = await upload(http, -1)
        await socket.send(
            json.dumps(
                {
                    "id": "s",
                    "type": "subscribe",
                    "payload": {"query": subscription, "variables": {"after": marker}},
                }
            )
        )
        for index in range(count):
            await upload(http, index)
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 30))
                if message.get("type") == "next":
                    break
            received = time.time()
            created = message["payload"]["data"]["assetCreated"]["createdAt"]
            stamp = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
            latencies.append(max(received - stamp, 0.0))
            await asyncio.sleep(0.02)
    return latencies


def bench_events(work: Path, quick: bool) -> list[Row]:
    """assetCreated from a commit on API process A to a subscriber on API process B."""
    m = _rows()
    count = 100 if quick else 400
    url = asyncio.run(m.create_pg_database())
    try:
        asyncio.run(m.prepare_database(url))
        env = {
            "TROVE_DATA_DIR": str(work / "events"),
            "TROVE_SECRET_KEY": m.SECRET,
            "TROVE_DATABASE_URL": url,
        }
        a_ctx, a_port = m.trove_server(env, work / "trove-events-a.log")
        b_ctx, b_port = m.trove_server(env, work / "trove-events-b.log")
        with a_ctx, b_ctx:
            latencies = asyncio.run(_event_latencies(a_port, b_port, count))
    finally:
        asyncio.run(m.drop_pg_database(url))
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return [
        m.Row(
            f"assetCreated latency, commit on A to subscriber on B ({count} events)",
            f"p50 {p50:.1f} ms",
            f"p99 {p99:.1f} ms",
            p99 / 100,
            "p99 < 100 ms",
            p99 < 100,
        )
    ]
