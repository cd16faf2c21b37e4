"""`python -m bench seed`: Trove against the seed system, nodetool's FastAPI REST API.

Issue #10's target: GraphQL `assets(jobId:, first: 50)` with 7 fields at >= 2x the seed's
REST list of the same page. Both servers hold the same 10,000 assets (bench/seed.py's rows:
100 jobs of 100 assets), each run as its own `serve` runs it (uvicorn, one process), and one
load generator (bench/load.py) asks each in turn, alternating rounds, best round each:

- seed REST: `GET /api/assets/?parent_id=<job's folder>&page_size=50`. nodetool 0.5.3's list
  filters by folder or content type, not by job, so each job's assets live in one folder of
  their own: the same 50 of the same 100 rows, filtered by one column and paged.
- Trove REST: `GET /api/assets?job_id=<job>&page_size=50` (the adapter, same page).
- Trove GraphQL: `assets(jobId:, first: 50)`, bench's LIST_QUERY.

CPU per request is each server process's own CPU time (/proc/PID/stat) over a measured run
divided by its requests: the load generator's CPU is not in it.

The seed runs from its own venv, `.bench/seed-venv` (`make bench-seed`; see
bench/seed_server.py and bench/seed-requirements.in); without it the section is skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.load import LoadResult, _read_response, build_request, run_load

if TYPE_CHECKING:
    from bench.__main__ import Row

ROOT = Path(__file__).resolve().parent.parent
SEED_VENV = ROOT / ".bench" / "seed-venv"
SEED_PYTHON = SEED_VENV / "bin" / "python"
SEED_SERVER = ROOT / "bench" / "seed_server.py"
ASSETS = 10_000
JOBS = 100
SIDES = ("seed REST", "Trove REST", "Trove GraphQL")


def _main() -> Any:
    import bench.__main__ as main

    return main


def seed_command(command: str, data: Path) -> list[str]:
    return [str(SEED_PYTHON), str(SEED_SERVER), command, "--data", str(data)]


def seed_venv_ready() -> bool:
    """`make bench-seed` touches the stamp last, so a half-made venv does not count."""
    return (SEED_VENV / ".installed").exists() and SEED_PYTHON.exists()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class SideResult:
    load: LoadResult
    cpu_ms: float  # server process CPU per request

    @property
    def rate(self) -> float:
        return self.load.rate


async def measure(port: int, pid: int, request: bytes, seconds: float, check: bytes) -> SideResult:
    await run_load("127.0.0.1", port, request, connections=4, seconds=0.5)  # warm-up
    before = process_cpu_seconds(pid)
    load = await run_load("127.0.0.1", port, request, connections=16, seconds=seconds, check=check)
    cpu = process_cpu_seconds(pid) - before
    return SideResult(load, cpu / max(load.requests, 1) * 1000)


def seed_the_seed(data: Path, count: int) -> dict[str, str]:
    """Fill the seed's data dir through its own models; returns {job: folder id}."""
    result = subprocess.run(
        [*seed_command("seed", data), "--count", str(count)],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    )
    folders: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])["folders"]
    return folders


def first_response(port: int, request: bytes, check: bytes) -> bytes:
    async def once() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            status, body = await _read_response(reader)
        finally:
            writer.close()
        assert status == 200 and check in body, body[:500]
        return body

    return asyncio.run(once())


def bench_seed(work: Path, quick: bool) -> list[Row]:
    main = _main()
    if not seed_venv_ready():
        print(
            "   skipped: the seed system (nodetool's FastAPI REST) is not installed.\n"
            "   `make bench-seed` makes its venv (.bench/seed-venv, about 390 MB, a minute),\n"
            "   then `make bench` (or `.venv/bin/python -m bench --quick seed`) measures it.",
            flush=True,
        )
        return []
    seconds = 2.0 if quick else 5.0
    rounds = 2 if quick else 3

    seed_data = work / "seed-system"
    folders = seed_the_seed(seed_data, ASSETS)
    trove_data = work / "seed-trove"
    trove_data.mkdir()
    owner = asyncio.run(main.prepare_database(f"sqlite://{trove_data / 'trove.db'}"))
    from bench.seed import seed_sqlite

    seed_sqlite(trove_data / "trove.db", owner, ASSETS, jobs=JOBS)

    seed_port = main.free_port()
    seed_ctx = main.server(
        [*seed_command("serve", seed_data), "--port", str(seed_port)],
        {},
        seed_port,
        work / "seed-system.log",
    )
    trove_ctx, trove_port = main.trove_server(
        {"TROVE_DATA_DIR": str(trove_data), "TROVE_SECRET_KEY": main.SECRET},
        work / "trove-seed.log",
    )

    def requests(job: str) -> dict[str, tuple[int, bytes, bytes]]:
        seed_path = f"/api/assets/?parent_id={folders[job]}&page_size=50"
        return {
            "seed REST": (
                seed_port,
                build_request("127.0.0.1", seed_port, seed_path, b"", {}, method="GET"),
                b'"assets"',
            ),
            "Trove REST": (trove_port, main.rest_request(trove_port, job), b'"assets"'),
            "Trove GraphQL": (
                trove_port,
                main.gql_request(trove_port, main.LIST_QUERY, {"jobId": job}),
                b'"edges"',
            ),
        }

    results: dict[str, list[SideResult]] = {side: [] for side in SIDES}
    sizes: dict[str, int] = {}
    with seed_ctx as seed_process, trove_ctx as trove_process:
        pids = {
            "seed REST": seed_process.pid,
            "Trove REST": trove_process.pid,
            "Trove GraphQL": trove_process.pid,
        }
        # The same page on every side: 50 assets of job-3, checked before measuring.
        for side, (port, request, check) in requests("job-3").items():
            body = first_response(port, request, check)
            page = json.loads(body)
            items = page["assets"] if "assets" in page else page["data"]["assets"]["edges"]
            assert len(items) == 50, (side, len(items))
            sizes[side] = len(body)
        for round_ in range(rounds):
            for side, (port, request, check) in requests(f"job-{round_ % JOBS}").items():
                results[side].append(
                    asyncio.run(measure(port, pids[side], request, seconds, check))
                )
    best = {side: max(runs, key=lambda r: r.rate) for side, runs in results.items()}
    assert all(r.load.errors == 0 for runs in results.values() for r in runs), "requests failed"
    cpu = {side: min(r.cpu_ms for r in runs) for side, runs in results.items()}
    seed, rest, graphql = (best[side] for side in SIDES)
    print(
        f"   page of 50 ({ASSETS:,} assets, {JOBS} jobs): response bytes "
        + ", ".join(f"{side} {sizes[side]:,}" for side in SIDES),
        flush=True,
    )
    for side in SIDES:
        print(
            f"   {side}: best of {rounds} rounds {best[side].rate:.0f} req/s "
            f"(p50 {best[side].load.percentile(0.5) * 1000:.1f} ms), "
            f"server CPU {cpu[side]:.2f} ms/request",
            flush=True,
        )
    Row = main.Row
    return [
        Row(
            f"list vs seed, GraphQL / seed REST ({ASSETS // 1000}k assets, 16 clients)",
            f"{graphql.rate:.0f} req/s",
            f"seed {seed.rate:.0f} req/s",
            graphql.rate / seed.rate,
            ">= 2",
            graphql.rate / seed.rate >= 2,
        ),
        Row(
            "list vs seed, Trove REST / seed REST",
            f"{rest.rate:.0f} req/s",
            f"seed {seed.rate:.0f} req/s",
            rest.rate / seed.rate,
            "(for scale)",
            True,
        ),
        Row(
            "list vs seed, server CPU per request, GraphQL / seed",
            f"{cpu['Trove GraphQL']:.2f} ms",
            f"seed {cpu['seed REST']:.2f} ms",
            cpu["Trove GraphQL"] / cpu["seed REST"],
            "(for scale)",
            True,
        ),
        Row(
            "list vs seed, server CPU per request, Trove REST / seed",
            f"{cpu['Trove REST']:.2f} ms",
            f"seed {cpu['seed REST']:.2f} ms",
            cpu["Trove REST"] / cpu["seed REST"],
            "(for scale)",
            True,
        ),
    ]
