"""Auto-save policy per run and retention (expiresAt, keepForSeconds, the sweeper, trove gc),
through the HTTP app on SQLite and PostgreSQL."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, TEST_SECRET, TroveClient
from tests.test_execution_support import edge, graph, job_assets, node, png, run_job

# create -> grey -> resize -> Output; grey also feeds a branch that reaches no output.
WORKFLOW = graph(
    [
        node("photo", "input.Image", name="photo"),
        node("grey", "image.Grayscale"),
        node("resize", "image.Resize", width=20, height=15),
        node("side", "image.Resize", width=10, height=10),
        node("result", "control.Output", name="small"),
    ],
    [
        edge("photo", "grey", "image"),
        edge("grey", "resize", "image"),
        edge("grey", "side", "image"),
        edge("resize", "result", "value"),
    ],
)
LINEAGE = "query($id: ID!) { asset(id: $id) { derivedFrom { id } expiresAt } }"


async def upload_photo(client: TroveClient) -> str:
    uploaded = (await client.upload(png(40, 30, (0, 0, 255)), filename="blue.png"))["data"]
    return str(uploaded["createAsset"]["id"])


async def test_auto_save_outputs_stores_only_what_reaches_an_output(client: TroveClient) -> None:
    photo = await upload_photo(client)
    everything = await run_job(client, graph=WORKFLOW, params={"photo": photo})
    assert everything["status"] == "COMPLETED", everything
    assert {a["nodeId"] for a in await job_assets(client, jobId=everything["id"])} == {
        "grey",
        "resize",
        "side",
    }

    job = await run_job(client, graph=WORKFLOW, params={"photo": photo}, autoSave="OUTPUTS")
    assert job["status"] == "COMPLETED", job
    stored = await job_assets(client, jobId=job["id"])
    assert [a["nodeId"] for a in stored] == ["resize"]
    # The output names the stored asset; its lineage skips the unsaved grey image and names
    # the stored photo it came from.
    assert stored[0]["id"] in str(job["outputs"]["small"]), job["outputs"]
    lineage = await client.data(LINEAGE, {"id": stored[0]["id"]})
    assert lineage["asset"]["derivedFrom"] == [{"id": photo}]

    nothing = await run_job(client, graph=WORKFLOW, params={"photo": photo}, autoSave="NONE")
    assert nothing["status"] == "COMPLETED", nothing
    assert await job_assets(client, jobId=nothing["id"]) == []


async def test_keep_for_seconds_expires_what_the_run_saved(client: TroveClient) -> None:
    photo = await upload_photo(client)
    # A chosen job id is stored in its owner's namespace; the expiry must still find the
    # assets, which carry the id the API shows.
    job = await run_job(
        client, graph=WORKFLOW, params={"photo": photo}, keepForSeconds=3600, jobId="kept-run"
    )
    assert job["status"] == "COMPLETED", job
    assert job["id"] == "kept-run"
    finished = datetime.fromisoformat(job["finishedAt"].replace("Z", "+00:00"))
    saved = await job_assets(client, jobId=job["id"])
    assert len(saved) == 3
    for asset in saved:
        expires = (await client.data(LINEAGE, {"id": asset["id"]}))["asset"]["expiresAt"]
        assert datetime.fromisoformat(expires.replace("Z", "+00:00")) == finished + timedelta(
            hours=1
        )
    # The uploaded input is not the run's: it keeps no expiry.
    assert (await client.data(LINEAGE, {"id": photo}))["asset"]["expiresAt"] is None
    for bad in (0, -5):
        body = await client.graphql(
            "mutation($g: JSON) { runWorkflow(input: {graph: $g, keepForSeconds: "
            + str(bad)
            + "}) { id } }",
            {"g": WORKFLOW},
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_sweeper_deletes_expired_assets_and_their_blobs(
    app_factory: Any, database_url: str
) -> None:
    async with app_factory(database_url, retention_interval_seconds=0.2) as client:
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        gone = await client.upload(b"short-lived", filename="a.txt", expiresAt=past)
        shared = await client.upload(b"shared bytes", filename="b.txt", expiresAt=past)
        keeper = await client.upload(b"shared bytes", filename="c.txt", expiresAt=future)
        folder = await client.data('mutation { createFolder(input: {name: "old"}) { id } }')
        inside = await client.upload(
            b"in folder", filename="d.txt", parentId=folder["createFolder"]["id"]
        )
        await client.data(
            "mutation($id: ID!, $t: DateTime) { updateAsset(id: $id, input: {expiresAt: $t}) "
            "{ id } }",
            {"id": folder["createFolder"]["id"], "t": past},
        )
        storage = client.services.assets.storage
        sha_gone = gone["data"]["createAsset"]["sha256"]
        # (No check that the blob is there yet: on a loaded machine the sweeper, every
        # 0.2 s, may already have taken it.)

        import asyncio

        for _ in range(100):
            left = await client.data("{ assets(first: 100) { totalCount } }")
            if left["assets"]["totalCount"] == 1:
                break
            await asyncio.sleep(0.1)
        remaining = await client.data("{ assets(first: 100) { nodes { id } } }")
        assert remaining["assets"]["nodes"] == [{"id": keeper["data"]["createAsset"]["id"]}]
        for asset in (gone, shared, inside):
            found = await client.data(
                "query($id: ID!) { asset(id: $id) { id } }",
                {"id": asset["data"]["createAsset"]["id"]},
            )
            assert found["asset"] is None
        # The blob went with its last row; the shared one stays for the asset still using it.
        assert not await storage.exists(sha_gone)
        assert await storage.exists(keeper["data"]["createAsset"]["sha256"])


def gc(data_dir: Path, database_url: str, *args: str) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "TROVE_DATA_DIR": str(data_dir),
        "TROVE_DATABASE_URL": database_url,
        "TROVE_SECRET_KEY": TEST_SECRET,
    }
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "gc", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_trove_gc_dry_run_then_delete(
    app_factory: Any, database_url: str, tmp_path: Path
) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    # A sweeper interval longer than the test: only `trove gc` deletes here.
    async with app_factory(database_url, retention_interval_seconds=3600) as client:
        await client.upload(b"x" * 10, filename="a.txt", expiresAt=past)
        await client.upload(b"y" * 5, filename="b.txt", expiresAt=past)
        await client.upload(b"z", filename="c.txt")
    data_dir = tmp_path / "data"
    assert "would delete 2 expired assets (15 bytes)" in gc(data_dir, database_url, "--dry-run")
    assert "deleted 2 expired assets (15 bytes)" in gc(data_dir, database_url)
    assert "would delete 0 expired assets" in gc(data_dir, database_url, "--dry-run")
    async with app_factory(database_url, retention_interval_seconds=3600) as client:
        names = await client.data("{ assets { nodes { name } } }")
        assert names["assets"]["nodes"] == [{"name": "c.txt"}]
