"""The fenced code blocks of README.md and docs/, as the example runner sees them.

The convention (docs/README.md explains it to writers):
- a block runs by its language: `sh`/`bash`/`shell` with bash, `python` with the project's
  Python, `js`/`javascript`/`mjs` with Node.js as an ES module, `graphql` as a request to
  /graphql, `json` and `toml` must parse. Blocks with no language, or `text`/`console`/
  `output`, are prose and never run;
- `<!-- doc-test: skip: <reason> -->` on the line before a fence skips a block that cannot
  run in a test (it starts a server that never exits, runs the suite itself...). The reason
  is required, and the list of skipped blocks is kept short by a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = {
    "sh": "sh",
    "bash": "sh",
    "shell": "sh",
    "python": "python",
    "py": "python",
    "js": "js",
    "javascript": "js",
    "mjs": "js",
    "graphql": "graphql",
    "json": "json",
    "toml": "toml",
}
PROSE = {"", "text", "console", "output", "plain", "diff"}
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_SKIP = re.compile(r"<!--\s*doc-test:\s*skip\s*:?\s*(?P<reason>.*?)\s*-->")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str  # the runner's kind: sh, python, js, graphql, json, toml
    info: str  # the fence's language word as written
    code: str
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


class DocError(ValueError):
    pass


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, runnable or not (`language` "" for prose)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        info = opening["info"].strip().split(" ", 1)[0].lower() if opening["info"].strip() else ""
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if closing and closing["fence"].startswith(fence) and not closing["info"].strip():
                break
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else lines[end])
            end += 1
        else:
            raise DocError(f"{path}:{index + 1}: the code block is never closed")
        previous = lines[index - 1] if index > 0 else ""
        skip = _SKIP.search(previous)
        if skip is not None and not skip["reason"]:
            raise DocError(f"{path}:{index}: a doc-test skip needs a reason")
        if info not in RUNNABLE and info not in PROSE:
            raise DocError(
                f"{path}:{index + 1}: unknown code block language {info!r}: use one the "
                f"example runner knows ({', '.join(sorted(RUNNABLE))}) or `text`"
            )
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=RUNNABLE.get(info, ""),
                info=info,
                code="\n".join(body) + "\n",
                skip_reason=skip["reason"] if skip else None,
            )
        )
        index = end + 1
    return found


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks(path)]
