"""docs/architecture.md stays true: the packages and modules it names exist, and it names every
package; the layers it draws are those import-linter enforces."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "architecture.md"
NAMED = re.compile(r"`(asdsim(?:\.[a-z_][a-z0-9_]*)*)`")


def packages() -> set[str]:
    """Every package under asdsim/ (a folder with an ``__init__.py``), as a dotted name."""
    return {".".join(init.parent.relative_to(REPO).parts)
            for init in (REPO / "asdsim").rglob("__init__.py")}


def named() -> set[str]:
    """Every dotted ``asdsim...`` name the document puts in backticks."""
    return set(NAMED.findall(DOC.read_text(encoding="utf-8")))


def exists(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def test_every_package_is_named():
    missing = packages() - named()
    assert not missing, f"docs/architecture.md does not name these packages: {sorted(missing)}"


def test_every_package_and_module_named_exists():
    gone = sorted(name for name in named() if not exists(name))
    assert not gone, f"docs/architecture.md names what is not there: {gone}"


def test_the_layers_drawn_are_the_layers_enforced():
    # the first word of each line of the layer drawing, top to bottom, against the top-level
    # layers contract
    text = DOC.read_text(encoding="utf-8")
    drawing = text.split("## The layers", 1)[1].split("```", 2)[1]
    drawn = [line.split("  ")[0].strip() for line in drawing.strip().splitlines()]
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    top = next(c for c in contracts if c.get("containers") == ["asdsim"])
    assert drawn == top["layers"]
    model = next(c for c in contracts if c.get("containers") == ["asdsim.model"])
    # the model's layers, in the order the document lists them
    listed = text.split("Inside the model", 1)[1].split("## Each package", 1)[0]
    order = re.findall(r"`([a-z_ |]+)`", listed)
    assert [layer for layer in order if layer in model["layers"]] == model["layers"]
