"""docs/nodes.md's node reference is generated from the registry and kept current."""

from click.testing import CliRunner

from execution import reference
from server.cli import main


def test_committed_reference_matches_the_registry() -> None:
    document = reference.DOC.read_text()
    expected = reference.with_reference(document, reference.current_reference())
    assert document == expected, "docs/nodes.md is out of date: run `make docs`"


def test_reference_covers_every_node_with_its_bounds() -> None:
    text = reference.current_reference()
    assert text.count("\n#### `") >= 100
    assert "#### `image.Brightness`" in text
    assert "| `factor` | float | `1.5` | 1 leaves the image unchanged (0 to 10) |" in text
    assert "| `size` | int | `3` | odd: 3, 5, 7... (3 to 15) |" in text


def test_trove_nodes_markdown_prints_the_reference() -> None:
    result = CliRunner().invoke(main, ["nodes", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == reference.current_reference()
