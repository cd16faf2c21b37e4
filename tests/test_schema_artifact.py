"""The committed schema.graphql is what the server serves, and it keeps the public contract."""

import difflib
import subprocess
import sys

from graphql import build_schema as parse_sdl
from graphql import find_breaking_changes, find_dangerous_changes, print_ast

from schema import build_schema
from tests.conftest import ROOT
from tests.js.runner import require

ARTIFACT = ROOT / "schema.graphql"
CONTRACT = ROOT.parent / "shared" / "api" / "schema.graphql"
REGENERATE = "regenerate it with `.venv/bin/trove schema > schema.graphql` and commit it"


def served_sdl() -> str:
    return build_schema().as_str() + "\n"


def test_committed_schema_matches_the_served_one() -> None:
    committed = ARTIFACT.read_text()
    served = served_sdl()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            served.splitlines(keepends=True),
            "schema.graphql (committed)",
            "schema (served)",
        )
    )
    assert not diff, f"schema.graphql is out of date; {REGENERATE}:\n{diff}"


def test_trove_schema_prints_the_artifact() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "server.cli", "schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == ARTIFACT.read_text()


def test_served_schema_keeps_the_public_contract() -> None:
    require(CONTRACT.is_file(), f"the API contract is not at {CONTRACT}")
    changes = find_breaking_changes(parse_sdl(CONTRACT.read_text()), parse_sdl(served_sdl()))
    assert not changes, "breaking changes against shared/api/schema.graphql:\n" + "\n".join(
        f"- {change.type.name}: {change.description}" for change in changes
    )


CURATION = ROOT.parent / "shared" / "api" / "curation.graphql"


def test_served_schema_keeps_the_contract_plus_curation() -> None:
    """Every type, field, argument and default of schema.graphql + curation.graphql is served."""
    require(CURATION.is_file(), f"the curation contract is not at {CURATION}")
    planned = parse_sdl(CONTRACT.read_text() + "\n" + CURATION.read_text())
    served = parse_sdl(served_sdl())
    changes = find_breaking_changes(planned, served)
    assert not changes, "breaking changes against schema.graphql + curation.graphql:\n" + (
        "\n".join(f"- {change.type.name}: {change.description}" for change in changes)
    )
    # Defaults are part of the plan too (find_breaking_changes only calls them dangerous).
    defaults = [
        change.description
        for change in find_dangerous_changes(planned, served)
        if change.type.name == "ARG_DEFAULT_VALUE_CHANGE"
    ]
    assert not defaults, defaults
    auto_save = served.type_map["RunWorkflowInput"].fields["autoSave"]  # type: ignore[attr-defined]
    assert print_ast(auto_save.ast_node.default_value) == "ALL"
    # Query.assets also takes `tags` and `metadata` (stated in words in curation.graphql).
    assets_args = served.query_type.fields["assets"].args  # type: ignore[union-attr]
    assert str(assets_args["tags"].type) == "[String!]"
    assert str(assets_args["metadata"].type) == "JSON"
