"""The asset browser in headless Chromium against a live, seeded `trove serve`.

One browser session per server walks through the app as a person would (tests/js/web.mjs)
and reports what it saw; each test below checks one part of that report. With
TROVE_SCREENSHOTS=DIR (`make screenshots`) the session also saves each main screen there.
"""

import base64
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.web import DEFAULT_WEB_DIST
from tests.conftest import ROOT, TEST_SECRET, LiveServer
from tests.js.runner import require, require_chromium, require_node, run_script
from tests.web_seed import FAVOURITES, TILES, Api, png, seed

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"


def require_web_build() -> None:
    require(
        (DEFAULT_WEB_DIST / "index.html").is_file(),
        "the asset browser is not built: run `make install`",
    )
    require(AXE.is_file(), "axe-core is not installed in web/node_modules: run `make install`")


def start_server(tmp: Path, **env: str) -> LiveServer:
    data_dir = tmp / "data"
    data_dir.mkdir()
    server = LiveServer(
        {**os.environ, "TROVE_DATA_DIR": str(data_dir), "TROVE_SECRET_KEY": TEST_SECRET, **env},
        data_dir,
    )
    server.start()
    return server


def drive(tmp: Path, server: LiveServer, mode: str, seeded: dict[str, Any], token: str = "") -> Any:
    shots = os.environ.get("TROVE_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    config = {
        "url": server.url,
        "mode": mode,
        "token": token,
        "seed": seeded,
        "userDataDir": str(tmp / "chromium-profile"),
        "axe": str(AXE),
        "screenshots": shots,
    }
    (tmp / "config.json").write_text(json.dumps(config))
    [report] = run_script(
        "web.mjs", str(tmp / "config.json"), env={"CHROMIUM": require_chromium()}, timeout=600
    )
    # TROVE_WEB_REPORT=DIR keeps each session's whole report, to look at what a step saw.
    keep = os.environ.get("TROVE_WEB_REPORT")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / f"{mode}.json").write_text(json.dumps(report, indent=2))
    return report


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_node("playwright-core")
    require_web_build()
    tmp = tmp_path_factory.mktemp("web-browser")
    server = start_server(tmp)
    try:
        seeded = seed(server.url)
        seeded["pngBase64"] = base64.b64encode(png(64, 64, (200, 30, 30))).decode()
        report = drive(tmp, server, "main", seeded)
        yield {"report": report, "seed": seeded, "server": server}
    finally:
        server.stop()


def step(session: dict[str, Any], name: str) -> Any:
    report = session["report"]
    failures = [f for f in report["failures"] if f.startswith(name + ":")]
    assert not failures, "\n".join(failures)
    assert name in report["steps"], f"step {name} did not run"
    return report["steps"][name]


def test_gallery_pages_through_every_asset_on_scroll(session: dict[str, Any]) -> None:
    gallery = step(session, "gallery")
    assert gallery["firstPage"] == 48  # one page
    assert gallery["total"] > TILES
    assert gallery["afterScroll"] == gallery["total"]  # infinite scroll reached the end
    assert gallery["lazy"] > 0


def test_filters_live_in_the_url(session: dict[str, Any]) -> None:
    filters = step(session, "filters")
    assert "q=tile-0" in filters["url"] and "node=tiler" in filters["url"]
    assert "type=image%2F" in filters["url"]
    assert filters["restored"] == {"name": "tile-0", "node": "tiler", "type": "image/"}
    assert filters["sorted"] == "tile-09.png"
    assert filters["future"] == "0 assets"


def test_keyboard_moves_through_the_grid(session: dict[str, Any]) -> None:
    keys = step(session, "keyboard")
    assert keys["right"] == "tile-02.png"
    assert keys["down"] == f"tile-{2 + keys['columns']:02d}.png"
    assert keys["opened"] == keys["down"]
    assert keys["position"] == f"← Previous\n{2 + keys['columns']} of 48\nNext →"
    assert keys["next"] == f"tile-{3 + keys['columns']:02d}.png"
    assert keys["back"].endswith("/?node=tiler&sort=NAME_ASC")


def test_an_auto_saved_asset_arrives_while_its_workflow_runs(session: dict[str, Any]) -> None:
    live = step(session, "liveArrival")
    assert live["wasSubscribed"] and live["beforeArrival"] == 0
    assert live["started"]["status"] in ("QUEUED", "RUNNING")
    assert live["name"].endswith("banner.png")
    assert live["url"].endswith("/?job=live-1")  # no reload, no navigation


def test_job_status_follows_the_run_live(session: dict[str, Any]) -> None:
    live = step(session, "jobStatusLive")
    assert live["seen"][0] in ("queued", "running") and live["seen"][-1] == "completed"
    assert live["banner"].endswith("banner.png")
    job = step(session, "jobLive")
    assert "completed" in job["seen"]
    assert "Run from the browser" in job["notes"]  # the run form's value for input "title"
    nodes = {group.split(" ")[1] for group in job["groups"]}
    assert nodes == {"create", "resize", "grey", "video", "tone", "notes", "poster"}
    assert step(session, "cancel")["status"] == "cancelled"
    failed = step(session, "failedJob")
    assert failed["status"] == "failed"
    assert "Failed at node photo" in failed["error"] and "no image was given" in failed["error"]
    assert step(session, "jobsList")["rows"] >= 3
    assert step(session, "workflows")["rows"][0].startswith("Poster pipeline")


def test_a_job_and_a_filtered_gallery_download_as_zips(session: dict[str, Any]) -> None:
    archive = step(session, "archive")
    made_by_job = sorted(asset["name"] for asset in session["seed"]["byNode"].values())
    with zipfile.ZipFile(archive["jobZip"]) as job_zip:
        assert sorted(job_zip.namelist()) == made_by_job
        assert all(info.file_size > 0 for info in job_zip.infolist())
    assert archive["jobName"].endswith(".zip")
    with zipfile.ZipFile(archive["imagesZip"]) as images_zip:
        assert sorted(images_zip.namelist()) == sorted(archive["imageCards"])
    assert 0 < len(archive["imageCards"]) < len(made_by_job)


def test_each_type_gets_its_viewer(session: dict[str, Any]) -> None:
    image = step(session, "image")
    assert image["width"] == 240 and "zoom-full" in image["zoomed"]
    assert "Node\ngrey" in image["facts"] and "SHA-256" in image["facts"]
    assert "Workflow\nPoster pipeline" in image["facts"]  # the name, not the id
    video = step(session, "video")
    assert video["duration"] > 0
    assert 206 in video["statuses"]  # streamed with Range requests
    assert step(session, "audio")["duration"] > 0
    assert step(session, "text")["text"].startswith("Plain text notes")
    json_view = step(session, "json")
    assert '"sampler": {\n    "name": "euler"' in json_view["text"]  # pretty-printed
    assert 'prompt: "a lighthouse at dusk"' in json_view["tree"]
    assert json_view["byValue"] == {"meta": 'loras=["grain"]', "names": ["params.json"]}
    assert "Hello from Trove" in step(session, "markdown")["html"]
    pdf = step(session, "pdf")
    assert pdf["status"] == 200 and pdf["type"] == "application/pdf"
    download = step(session, "download")
    assert download["name"] == "archive.bin" and "Folder\nRenders" in download["folder"]
    assert step(session, "factLinks")["url"].endswith("/?node=grey")


def test_lineage_can_be_walked_by_clicking(session: dict[str, Any]) -> None:
    lineage = step(session, "lineage")
    names = session["seed"]["byNode"]
    assert lineage["parentName"] == names["resize"]["name"]
    assert set(lineage["derivatives"]) == {names["resize"]["name"], names["video"]["name"]}


def test_upload_sends_parts_directly_with_progress_per_file(session: dict[str, Any]) -> None:
    upload = step(session, "upload")
    assert upload["states"] == ["done", "done", "done", "done"]  # one after a retry
    assert upload["offlineError"] == "The upload failed: network error"
    assert upload["bigPartial"] > 0, "no progress was seen between start and end"
    # Direct uploads: the 20 MiB file went as three part PUTs, some at the same time, and
    # nothing went as a multipart POST to /graphql.
    assert upload["partsPerUpload"] == [1, 1, 3]
    assert upload["maxInFlight"] >= 2
    assert upload["multipartPosts"] == 0
    # The stored bytes are the chosen files' bytes, with the tags and folder chosen.
    assert upload["hashesMatch"]
    stored = {asset["name"]: asset for asset in upload["stored"]}
    assert set(stored) == {"big-upload.bin", "hello-upload.txt", "pixel-upload.png"}
    assert stored["big-upload.bin"]["size"] == 20 * 1024 * 1024
    for asset in stored.values():
        assert asset["nodeId"] == "uploader" and asset["workflowId"] == "uploads-wf"
        assert asset["parent"] == {"name": "Renders"}
    assert "Folder\nRenders" in upload["facts"]


def test_a_refused_part_is_sent_again_then_the_upload_is_abandoned(
    session: dict[str, Any],
) -> None:
    retry = step(session, "uploadRetry")
    assert retry["retriedHash"] == [retry["expectedHash"]]
    assert retry["error"] == (
        "Part 1 of 1 failed twice (HTTP 503: Storage is busy); the upload was abandoned"
    )
    assert retry["aborted"] is True and retry["refusedStored"] == 0


def test_cancel_aborts_the_upload(session: dict[str, Any]) -> None:
    cancel = step(session, "uploadCancel")
    assert cancel["stateAfterReturn"] == "uploading"  # went on while the gallery was shown
    assert 0 < cancel["sentBeforeCancel"] < 20 * 1024 * 1024
    assert cancel["state"] == "cancelled" and cancel["text"].startswith("Cancelled")
    assert cancel["aborted"] is True
    assert cancel["stored"] == 0


def test_filter_by_tag_and_metadata_and_tag_an_asset(session: dict[str, Any]) -> None:
    tags = step(session, "tags")
    favourites = [f"tile-{i:02d}.png" for i in range(1, FAVOURITES + 1)]
    assert tags["tagged"] == favourites
    assert "meta=grid.row%3D0" in tags["rowZero"] and "tag=" not in tags["rowZero"]
    assert tags["bySeed"] == "params.json"
    assert tags["badFilter"].startswith("Metadata filter: Write key=value")
    assert tags["before"] == "None"
    assert tags["afterAdd"] == sorted([*favourites, "tile-06.png"])
    assert tags["tagsAfterRemove"] == []


def test_rename_move_and_delete(session: dict[str, Any]) -> None:
    assert "parameters.json" in step(session, "renameAndMove")["folderView"]
    deleted = step(session, "delete")
    assert deleted["stillThere"] == "tile-60.png"  # Cancel kept it
    assert deleted["after"] is None
    assert step(session, "folders")["folders"] == ["Renders"]
    assert step(session, "notFound")["title"] == "Not found"


def test_no_serious_accessibility_violations(session: dict[str, Any]) -> None:
    report = session["report"]
    assert len(report["axe"]) >= 12
    assert {name: v for name, v in report["axe"].items() if v} == {}


def test_responsive_and_dark(session: dict[str, Any]) -> None:
    phone = step(session, "phone")
    assert phone == {
        "overflow": 0,
        "assetOverflow": 0,
        "foldedFilters": False,
        "shownFilters": True,
        "others": {"upload": 0, "jobs": 0, "folders": 0, "workflows": 0},
    }
    assert step(session, "dark")["background"] == "rgb(18, 20, 28)"


def test_nothing_fails_in_the_console_or_the_network(session: dict[str, Any]) -> None:
    report = session["report"]
    assert report["failures"] == []
    assert report["consoleErrors"] == []
    assert report["pageErrors"] == []
    assert report["errorResponses"] == []
    assert report["externalRequests"] == []
    # Leaving a page cancels what it was still loading; nothing else may fail.
    assert [r for r in report["failedRequests"] if not r.startswith("net::ERR_ABORTED")] == []


def test_token_sign_in(tmp_path: Path) -> None:
    require_node("playwright-core")
    require_web_build()
    server = start_server(tmp_path, TROVE_AUTH="token")
    try:
        token = subprocess.run(
            [sys.executable, "-m", "server.cli", "token", "create", "--user", "browser"],
            cwd=ROOT,
            env=server.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[-1]
        seeded: dict[str, Any] = {"tiles": []}

        with Api(server.url, token) as api:
            api.upload_many(
                [
                    (f"signed-{i}.png", png(32, 32, (i * 60, 90, 160)), "image/png", {})
                    for i in range(3)
                ]
            )
        report = drive(tmp_path, server, "token", seeded, token)
    finally:
        server.stop()
    assert report["failures"] == []
    assert report["steps"]["prompt"]["title"] == "Sign in to Trove"
    assert report["steps"]["wrongToken"]["error"] == "That token was not accepted."
    signed_in = report["steps"]["signIn"]
    assert signed_in["who"] == "Signed in as browser"  # the viewer query's name
    assert token[:10] in signed_in["title"]
    assert signed_in["count"] == "3 assets"
    assert report["steps"]["reloadKeepsSession"]["who"] == signed_in["who"]
    signed_out = report["steps"]["signOut"]
    assert signed_out["stored"] is None and signed_out["title"] == "Assets"
    assert report["axe"]["signedIn"] == []
    assert report["steps"]["uploadSignedIn"] == {"state": "done", "count": "4 assets"}
    assert "asked for your token again" in report["steps"]["revokedTokenReturnsToPrompt"]["notice"]
    assert report["axe"]["signIn"] == []
    assert report["pageErrors"] == [] and report["externalRequests"] == []
    # Refusals of missing or wrong tokens are the only errors.
    assert all("status of 401" in error for error in report["consoleErrors"]), report


def test_upload_straight_to_an_s3_bucket(tmp_path: Path, seaweedfs: Any, s3_bucket: str) -> None:
    """With S3 storage the page PUTs the parts to the bucket's presigned URLs: the page's
    policy allows that origin (connect-src) and the bucket's CORS rules let the page read
    each part's ETag, as docs/web.md tells operators to set them."""
    require_node("playwright-core")
    require_web_build()
    env = {f"TROVE_{key.upper()}": value for key, value in seaweedfs.connection.items()}
    server = start_server(tmp_path, TROVE_STORAGE_URL=f"s3://{s3_bucket}/trove", **env)
    try:
        seaweedfs.client().put_bucket_cors(
            Bucket=s3_bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [server.url],
                        "AllowedMethods": ["PUT"],
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                    }
                ]
            },
        )
        report = drive(tmp_path, server, "s3upload", {})
    finally:
        server.stop()
    assert report["failures"] == []
    upload = report["steps"]["s3upload"]
    assert upload["states"] == ["done", "done"], upload["errors"]
    assert upload["putOrigins"] == [seaweedfs.endpoint.rstrip("/")]
    assert upload["partNumbers"] == [1, 1, 2, 3]
    assert upload["hashesMatch"]
    assert report["consoleErrors"] == [] and report["pageErrors"] == []
    assert report["errorResponses"] == [] and report["failedRequests"] == []
