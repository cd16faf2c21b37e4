"""Running this folder's Node.js scripts from pytest.

Without Node.js, the npm packages or Chromium a test is skipped locally, but with CI=true
it fails: CI installs all three, so their absence there is a broken setup, not a choice.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent
NODE_MODULES = ROOT / "node_modules"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, reason: str) -> None:
    if available:
        return
    if in_ci():
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def require_node(*packages: str) -> str:
    node = shutil.which("node")
    require(node is not None, "Node.js is not installed")
    assert node is not None
    missing = [name for name in packages if not (NODE_MODULES / name / "package.json").is_file()]
    require(not missing, f"npm packages missing ({', '.join(missing)}): run `make install`")
    return node


def require_chromium() -> str:
    found = next((p for name in CHROMIUM_CANDIDATES if (p := shutil.which(name))), None)
    require(found is not None, "Chromium is not installed (apt-get install chromium)")
    assert found is not None
    return found


def run_script(
    name: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> list[Any]:
    """Run tests/js/NAME with node; returns the JSON objects it printed, one per line."""
    node = require_node()
    completed = subprocess.run(
        [node, str(SCRIPTS / name), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, (
        f"node {name} exited with {completed.returncode}\n"
        f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    )
    results = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    assert results, f"node {name} printed nothing\nstderr:\n{completed.stderr}"
    return results
