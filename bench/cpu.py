"""CPU per list request, in-process: `python -m bench.cpu [--rows N] [--requests N] [--profile]`.

The same page (50 assets of one job) asked of the same app three ways, each driven straight
through ASGI (no network, no HTTP client: only the server's own work is counted):

- GraphQL `assets(jobId:, first: 50)` with 7 fields (bench's LIST_QUERY);
- Trove's REST adapter, `GET /api/assets?job_id=...&page_size=50`;
- the floor (bench/floor.py): the same SQL and JSON from a bare Starlette endpoint.

CPU time is `time.process_time()` over many requests (the database driver's thread
included), in alternating rounds, best round each: far less sensitive to other processes
on the machine than wall-clock throughput. `--profile` prints where the GraphQL request's
time goes.
"""

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager

ASGIApp = Callable[..., Awaitable[None]]


@dataclass
class CpuResult:
    graphql_ms: float
    rest_ms: float
    floor_ms: float
    graphql_bytes: int
    rest_bytes: int
    # Time the cyclic garbage collector ran, per GraphQL request (objects left in cycles).
    graphql_gc_ms: float = 0.0


async def asgi_call(
    app: ASGIApp, method: str, path: str, *, query: str = "", body: bytes = b""
) -> tuple[int, bytes]:
    """One request through the app's ASGI interface; returns (status, body)."""
    headers = [(b"host", b"bench"), (b"accept", b"application/json")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    status = 0
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def list_requests(job: str) -> dict[str, Callable[[ASGIApp], Awaitable[tuple[int, bytes]]]]:
    from bench.__main__ import LIST_QUERY

    graphql_body = json.dumps({"query": LIST_QUERY, "variables": {"jobId": job}}).encode()
    return {
        "graphql": lambda app: asgi_call(app, "POST", "/graphql", body=graphql_body),
        "rest": lambda app: asgi_call(
            app, "GET", "/api/assets", query=f"job_id={job}&page_size=50"
        ),
        "floor": lambda app: asgi_call(app, "POST", "/graphql", body=graphql_body),
    }


async def _cpu_per_request(
    call: Callable[[ASGIApp], Awaitable[tuple[int, bytes]]], app: ASGIApp, count: int
) -> float:
    started = time.process_time()
    for _ in range(count):
        status, _ = await call(app)
        assert status == 200
    return (time.process_time() - started) / count * 1000


async def measure(data_dir: Path, *, requests: int, rounds: int, profile: bool) -> CpuResult:
    from bench.__main__ import SECRET
    from bench.floor import create_floor_app
    from server.app import create_app
    from server.settings import Settings

    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite://{data_dir / 'trove.db'}", secret_key=SECRET
    )
    trove = create_app(settings)
    floor = create_floor_app(settings)
    calls = list_requests("job-3")
    async with LifespanManager(trove) as trove_app, LifespanManager(floor) as floor_app:
        apps = {"graphql": trove_app.app, "rest": trove_app.app, "floor": floor_app.app}
        sizes = {}
        for name, call in calls.items():
            status, body = await call(apps[name])
            assert status == 200, body[:500]
            sizes[name] = len(body)
            for _ in range(20):
                await call(apps[name])
        best = {name: float("inf") for name in calls}
        for _ in range(rounds):
            for name, call in calls.items():
                best[name] = min(best[name], await _cpu_per_request(call, apps[name], requests))
        gc_ms = await _gc_per_request(calls["graphql"], apps["graphql"], requests)
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(requests):
                await calls[os.environ.get("BENCH_TARGET", "graphql")](
                    apps[os.environ.get("BENCH_TARGET", "graphql")]
                )
            profiler.disable()
            print("\nGraphQL list request, most expensive functions (own time):")
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
                int(os.environ.get("BENCH_LINES", "25"))
            )
    return CpuResult(
        best["graphql"], best["rest"], best["floor"], sizes["graphql"], sizes["rest"], gc_ms
    )


async def _gc_per_request(
    call: Callable[[ASGIApp], Awaitable[tuple[int, bytes]]], app: ASGIApp, count: int
) -> float:
    """ms of cyclic garbage collection per request, over `count` requests."""
    spent = 0.0
    started = 0.0

    def timer(phase: str, info: dict[str, Any]) -> None:
        nonlocal spent, started
        if phase == "start":
            started = time.perf_counter()
        else:
            spent += time.perf_counter() - started

    gc.collect()
    gc.callbacks.append(timer)
    try:
        for _ in range(count):
            await call(app)
    finally:
        gc.callbacks.remove(timer)
    return spent / count * 1000


async def seeded_measure(rows: int, *, requests: int, rounds: int, profile: bool) -> CpuResult:
    from bench.__main__ import prepare_database
    from bench.seed import seed_sqlite

    with tempfile.TemporaryDirectory(prefix="trove-cpu-") as tmp:
        data = Path(tmp)
        owner = await prepare_database(f"sqlite://{data / 'trove.db'}")
        seed_sqlite(data / "trove.db", owner, rows)
        return await measure(data, requests=requests, rounds=rounds, profile=profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(
        seeded_measure(args.rows, requests=args.requests, rounds=args.rounds, profile=args.profile)
    )
    print(f"CPU per list request (50 assets, {args.rows:,} in the database), in-process:")
    print(f"  GraphQL  {result.graphql_ms:.2f} ms  ({result.graphql_bytes} bytes)")
    print(f"  REST     {result.rest_ms:.2f} ms  ({result.rest_bytes} bytes)")
    print(f"  floor    {result.floor_ms:.2f} ms")
    print(f"  GraphQL / REST CPU: {result.graphql_ms / result.rest_ms:.2f}")
    print(f"  cyclic GC per GraphQL request: {result.graphql_gc_ms:.3f} ms")


if __name__ == "__main__":
    main()
