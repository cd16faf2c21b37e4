"""`trove run`: a workflow run in the command's own process, into the configured store."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, TEST_SECRET
from tests.test_execution_support import download, edge, graph, image_of, job_assets, node


def trove(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TROVE_DATA_DIR": str(tmp_path / "data"),
        "TROVE_DATABASE_URL": database_url,
        "TROVE_SECRET_KEY": TEST_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_run_prints_progress_and_saves_assets(
    tmp_path: Path, database_url: str, app_factory: Any
) -> None:
    workflow = graph(
        [
            node("who", "input.Text", name="who", value="nobody"),
            node("card", "image.RenderText", width=40, height=20, font_size=8),
            node("small", "image.Resize", width=20, height=10),
            node("out", "control.Output", name="card"),
        ],
        [
            edge("who", "card", "text"),
            edge("card", "small", "image"),
            edge("small", "out", "value"),
        ],
    )
    path = tmp_path / "workflow.json"
    # A stored workflow's export ({name, graph}) runs as well as a bare graph.
    path.write_text(json.dumps({"name": "cards", "graph": workflow}))

    result = await asyncio.to_thread(
        trove, tmp_path, database_url, "run", str(path), "--param", "who=Ada", "--job-id", "cli-1"
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "[4/4] done    out (control.Output)" in lines
    assert any(
        line.startswith("[") and "small (image.Resize), saved 1 asset(s)" in line for line in lines
    )
    assert "Job cli-1: COMPLETED" in lines
    assert "Saved assets: 2" in lines
    async with app_factory(database_url) as client:
        saved = await job_assets(client, jobId="cli-1")
        assert [a["nodeId"] for a in saved] == ["card", "small"]
        assert all(a["name"] in result.stdout for a in saved)
        _, content = await download(client, saved[1]["url"])
        assert image_of(content).size == (20, 10)
        # Links are absolute (where `trove serve` listens) and work without credentials.
        printed = [line.strip() for line in lines if line.strip().startswith("http")]
        assert len(printed) == 2
        assert all(url.startswith("http://127.0.0.1:8000/assets/") for url in printed)
        output_url = json.loads(result.stdout.split("Outputs: ", 1)[1].split("\nSaved", 1)[0])
        assert output_url["card"]["url"].startswith("http://127.0.0.1:8000/assets/")
        _, fetched = await download(client, printed[1].removeprefix("http://127.0.0.1:8000"))
        assert fetched == content


async def test_run_reports_failures_with_a_nonzero_exit(tmp_path: Path, sqlite_url: str) -> None:
    failing = tmp_path / "failing.json"
    failing.write_text(
        json.dumps(
            graph(
                [node("c", "image.Create", width=4, height=4), node("crop", "image.Crop", left=9)],
                [edge("c", "crop", "image")],
            )
        )
    )
    result = await asyncio.to_thread(trove, tmp_path, sqlite_url, "run", str(failing))
    assert result.returncode == 1
    assert "FAILED  crop (image.Crop)" in result.stderr
    assert "Error: Node 'crop' (image.Crop) failed" in result.stderr
    assert "Saved assets: 1" in result.stdout

    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps(graph([node("x", "image.Unknown")])))
    result = await asyncio.to_thread(trove, tmp_path, sqlite_url, "run", str(invalid))
    assert result.returncode == 1
    assert "unknown node type 'image.Unknown'" in result.stderr

    result = await asyncio.to_thread(
        trove, tmp_path, sqlite_url, "run", str(invalid), "--param", "novalue"
    )
    assert result.returncode == 2
    assert "'novalue' is not NAME=VALUE" in result.stderr
