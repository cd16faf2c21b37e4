"""Every code block in README.md and docs/ runs, as pasted, against live `trove serve`s.

How blocks are found and which are skipped: tests/doc_examples.py and docs/README.md. Each
block runs in a scratch directory holding `photo.png`, `picture.png` and `workflow.json`,
with `$TOKEN`, `$ID` (a fresh image asset) and `$FOLDER` (a fresh folder) set and
`127.0.0.1:8000` pointing at the test server. A block that mentions TOKEN runs against a
server with TROVE_AUTH=token, any other against the embedded default (TROVE_AUTH=none).
`curl` is strict here: an HTTP error status or a GraphQL `errors` answer fails the block.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import TEST_SECRET, LiveServer
from tests.doc_examples import ROOT, Block, DocError, all_blocks
from tests.js.runner import require

# Blocks that cannot run in a test, each with its reason in the docs; keep this small.
MAX_SKIPPED = 10
TIMEOUT = 240
WORKFLOW = {
    "nodes": [
        {"id": "photo", "type": "input.Image", "data": {"name": "photo"}},
        {"id": "small", "type": "image.Resize", "data": {"width": 256, "height": 256}},
        {"id": "result", "type": "control.Output", "data": {"name": "thumbnail"}},
    ],
    "edges": [
        {"source": "photo", "sourceHandle": "output", "target": "small", "targetHandle": "image"},
        {"source": "small", "sourceHandle": "output", "target": "result", "targetHandle": "value"},
    ],
}
STRICT_CURL = """#!/usr/bin/env bash
# The docs' curl, strict: an HTTP error status or a GraphQL error fails the example.
body=$({real} --fail-with-body --silent --show-error "$@") || {{ printf '%s\\n' "$body"; exit 22; }}
printf '%s\\n' "$body"
case "$body" in *'"errors"'*) echo "curl: the answer has GraphQL errors" >&2; exit 1;; esac
"""


def _collect() -> list[Any]:
    try:
        found = all_blocks()
    except DocError as error:
        return [pytest.param(None, id="parse", marks=pytest.mark.xfail(reason=str(error)))]
    return [pytest.param(block, id=block.id) for block in found if block.language]


@dataclass
class DocServer:
    server: LiveServer
    token: str
    auth: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def doc_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DocServer]]:
    servers: dict[str, DocServer] = {}
    try:
        for auth in ("none", "token"):
            data_dir = tmp_path_factory.mktemp(f"docs-{auth}") / "data"
            data_dir.mkdir()
            env = {key: value for key, value in os.environ.items() if not key.startswith("TROVE_")}
            env.update(TROVE_DATA_DIR=str(data_dir), TROVE_SECRET_KEY=TEST_SECRET, TROVE_AUTH=auth)
            server = LiveServer(env, data_dir)
            server.start()
            server.env["TROVE_PORT"] = str(server.port)
            token = "not-needed-without-auth"
            if auth == "token":
                created = subprocess.run(
                    [sys.executable, "-m", "server.cli", "token", "create", "--user", "docs"],
                    cwd=ROOT,
                    env=server.env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                token = created.stdout.splitlines()[-1]
            servers[auth] = DocServer(server, token, auth)
        yield servers
    finally:
        for doc_server in servers.values():
            doc_server.server.stop()


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "PNG")
    return buffer.getvalue()


def _scratch(tmp_path: Path, target: DocServer) -> dict[str, str]:
    """The files and variables every example may use; returns the environment."""
    (tmp_path / "photo.png").write_bytes(_png((200, 40, 40)))
    (tmp_path / "picture.png").write_bytes(_png((40, 40, 200)))
    (tmp_path / "workflow.json").write_text(json.dumps(WORKFLOW, indent=2))
    for name in (".venv", "node_modules"):
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_curl = shutil.which("curl")
    require(real_curl is not None, "curl is not installed")
    curl = bin_dir / "curl"
    curl.write_text(STRICT_CURL.format(real=real_curl))
    curl.chmod(0o755)

    url = target.server.url
    with httpx.Client(base_url=url, headers=target.headers, timeout=60) as http:
        photo = http.post(
            "/api/assets/",
            files={"file": ("photo.png", _png((10, 200, 10)), "image/png")},
            data={"json": json.dumps({"node_id": "resize-1", "job_id": "job-42"})},
        )
        assert photo.status_code == 200, photo.text
        folder = http.post(
            "/api/assets/",
            files={"json": (None, json.dumps({"name": "outputs", "content_type": "folder"}))},
        )
        assert folder.status_code == 200, folder.text
    return {
        **target.server.env,
        "PATH": os.pathsep.join([str(bin_dir), str(ROOT / ".venv" / "bin"), os.environ["PATH"]]),
        "TOKEN": target.token,
        "ID": photo.json()["id"],
        "FOLDER": folder.json()["id"],
        "TROVE_URL": url,
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }


def _run(command: list[str], cwd: Path, env: dict[str, str], block: Block) -> None:
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as error:
        raw = error.stdout or b""
        output = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        pytest.fail(f"{block.id}: the example did not finish in {TIMEOUT} s\n{output}")
    assert done.returncode == 0, (
        f"{block.id}: the example failed (exit {done.returncode})\n--- code\n{block.code}"
        f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )


@pytest.mark.parametrize("block", _collect())
def test_example_runs_as_pasted(
    block: Block, doc_servers: dict[str, DocServer], tmp_path: Path
) -> None:
    if block.skip_reason is not None:
        pytest.skip(f"doc-test skip: {block.skip_reason}")
    if block.language == "json":
        json.loads(block.code)
        return
    if block.language == "toml":
        tomllib.loads(block.code)
        return
    target = doc_servers["token" if "TOKEN" in block.code else "none"]
    port = str(target.server.port)
    code = block.code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    code = code.replace("localhost:8000", f"localhost:{port}")
    env = _scratch(tmp_path, target)
    if block.language == "graphql":
        answer = httpx.post(
            target.server.url + "/graphql",
            json={"query": code},
            headers=target.headers,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert "errors" not in answer.json(), answer.text
    elif block.language == "sh":
        script = tmp_path / "example.sh"
        script.write_text(code)
        _run(["bash", "-euo", "pipefail", str(script)], tmp_path, env, block)
    elif block.language == "python":
        script = tmp_path / "example.py"
        script.write_text(code)
        _run([str(ROOT / ".venv" / "bin" / "python"), str(script)], tmp_path, env, block)
    elif block.language == "js":
        node = shutil.which("node")
        require(node is not None and (ROOT / "node_modules").is_dir(), "Node.js or npm ci missing")
        assert node is not None
        script = tmp_path / "example.mjs"
        script.write_text(code)
        preload = (ROOT / "tests" / "js" / "browser-globals.mjs").as_uri()
        _run([node, "--import", preload, str(script)], tmp_path, env, block)
    else:  # pragma: no cover - doc_examples.RUNNABLE and this function list the same kinds
        pytest.fail(f"{block.id}: no runner for {block.language}")


def test_the_skip_list_stays_short() -> None:
    skipped = [block for block in all_blocks() if block.skip_reason is not None]
    assert len(skipped) <= MAX_SKIPPED, [f"{b.id}: {b.skip_reason}" for b in skipped]
    runnable = [block for block in all_blocks() if block.language and not block.skip_reason]
    assert len(runnable) >= 20, "the example runner found too few blocks: is the parser broken?"


def test_the_pinned_client_versions_are_the_tested_ones() -> None:
    """docs/api.md names the npm versions to install; they are the ones package.json pins."""
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    api = (ROOT / "docs" / "api.md").read_text()
    for name in ("@apollo/client", "apollo-upload-client", "graphql", "@urql/core"):
        assert f"{name}@{pinned[name]}" in api, (name, pinned[name])
