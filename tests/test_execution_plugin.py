"""A third-party node package, installed with pip, found through the `trove.nodes` entry point."""

import asyncio
import os
import shutil
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from execution.registry import ENTRY_POINT_GROUP, NodeRegistry
from tests.conftest import ROOT
from tests.test_execution_support import JOB_FIELDS, edge, graph, image_of, node

PLUGIN_SOURCE = Path(__file__).resolve().parent / "fixtures_plugin"


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory the example package is pip-installed into (the venv stays untouched)."""
    root = tmp_path_factory.mktemp("plugin")
    # Building writes metadata next to the sources, so build from a copy.
    source = root / "source"
    shutil.copytree(PLUGIN_SOURCE, source, ignore=shutil.ignore_patterns("*.egg-info", "build"))
    site = root / "site"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return site


def test_registry_discovers_installed_packages(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "example" not in {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    monkeypatch.syspath_prepend(str(plugin_site))
    assert "example" in {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}

    registry = NodeRegistry.discover()
    assert registry.errors == []
    invert = registry.get("example.Invert")
    shout = registry.get("example.Shout")
    assert invert is not None and invert.auto_save_asset()
    assert shout is not None and not shout.auto_save_asset()
    assert "image.Resize" in registry


def test_a_broken_package_does_not_hide_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "broken_nodes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-nodes\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[trove.nodes]\nbroken = no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    registry = NodeRegistry.discover()
    assert len(registry.errors) == 1
    assert "broken" in registry.errors[0] and "no_such_module_here" in registry.errors[0]
    assert "image.Create" in registry


def test_trove_nodes_lists_plugin_nodes(plugin_site: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "server.cli", "nodes"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(plugin_site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "example.Invert [auto-save]: Invert" in listed.stdout
    assert "example.Shout: Shout" in listed.stdout
    assert "image.Resize [auto-save]" in listed.stdout


async def test_a_plugin_node_runs_and_auto_saves_on_the_server(
    plugin_site: Path, live_server_factory: Any, database_url: str
) -> None:
    live = await asyncio.to_thread(live_server_factory, database_url, PYTHONPATH=str(plugin_site))
    workflow = graph(
        [
            node("create", "image.Create", width=8, height=8, color="#102030"),
            node("invert", "example.Invert"),
            node("shout", "example.Shout", text="done"),
            node("image", "control.Output", name="image"),
            node("text", "control.Output", name="text"),
        ],
        [
            edge("create", "invert", "image"),
            edge("invert", "image", "value"),
            edge("shout", "text", "value"),
        ],
    )
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:

        async def gql(query: str, variables: dict[str, Any] | None = None) -> Any:
            body = (
                await http.post("/graphql", json={"query": query, "variables": variables})
            ).json()
            assert "errors" not in body, body
            return body["data"]

        types = await gql("{ nodeTypes { type autoSaveAsset inputs { name type } } }")
        by_type = {t["type"]: t for t in types["nodeTypes"]}
        assert by_type["example.Invert"]["autoSaveAsset"] is True
        assert by_type["example.Invert"]["inputs"] == [{"name": "image", "type": "image"}]
        assert by_type["example.Shout"]["autoSaveAsset"] is False

        run = "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }"
        job_id = (await gql(run, {"input": {"graph": workflow}}))["runWorkflow"]["id"]
        deadline = time.monotonic() + 30
        while True:
            job = (
                await gql("query($id: ID!) { job(id: $id) { " + JOB_FIELDS + " } }", {"id": job_id})
            )["job"]
            if job["status"] not in ("QUEUED", "RUNNING"):
                break
            assert time.monotonic() < deadline, job
            await asyncio.sleep(0.02)
        assert job["status"] == "COMPLETED", job
        assert job["outputs"]["text"] == "DONE!"

        saved = await gql(
            'query($job: String) { assets(jobId: $job, nodeId: "invert") { nodes { id name } } }',
            {"job": job_id},
        )
        inverted = saved["assets"]["nodes"]
        assert [a["name"] for a in inverted] == ["Invert_output_invert.png"]
        assert job["outputs"]["image"]["id"] == inverted[0]["id"]
        content = (await http.get(job["outputs"]["image"]["url"])).content
        assert image_of(content).convert("RGB").getpixel((4, 4)) == (0xEF, 0xDF, 0xCF)
