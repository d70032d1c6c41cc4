"""The documentation holds: the README's Python examples run, the files it cites exist, and the
rules it states are the code's."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def project_files() -> list[Path]:
    """Files under version control (or about to be), as the repository would ship them."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [REPO / name for name in listed if (REPO / name).is_file()]


def test_no_project_file_cites_a_file_outside_the_project():
    offenders = []
    for path in project_files():
        if path.suffix not in (".py", ".md", ".yaml", ".yml", ".ipynb", ".toml", ".txt", ".j2",
                               ".cfg", ".sh", ""):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in ("../shared", "MODEL.md"):
            if pattern in text and path.name != "test_readme.py":
                offenders.append(f"{path.relative_to(REPO)}: {pattern}")
    assert offenders == []


def test_scenarios_cite_docs_model_md_which_has_what_they_cite():
    model = (REPO / "docs" / "model.md").read_text(encoding="utf-8")
    citing = [p for p in (REPO / "scenarios").rglob("*.yaml") if "docs/model.md" in p.read_text()]
    assert citing, "the scenario library cites docs/model.md"
    # what the scenarios say docs/model.md states
    for claim in ("10-20%", "about 10%", "commonly two", "pre-school (0-4) pathway", "kpis.md"):
        assert claim in model, claim
    for link in re.findall(r"\]\(([^)#]+)\)", model):
        assert (REPO / "docs" / link).is_file(), link
