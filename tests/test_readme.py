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


# ------------------------------------------------------------------------------ README examples


def code_blocks(path: Path, language: str) -> list[str]:
    """The fenced code blocks of one language in a Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def test_readme_python_examples_run(monkeypatch, capsys):
    """Every Python block of the README, run in order in one namespace from the repository root,
    as a reader would paste them (with 2 replications instead of the README's, for time)."""
    blocks = code_blocks(REPO / "README.md", "python")
    assert len(blocks) >= 3
    monkeypatch.chdir(REPO)
    namespace: dict = {"__name__": "__readme__"}
    for i, block in enumerate(blocks):
        code = re.sub(r"replications=\d+", "replications=2", block)
        exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
    assert namespace["bigger"].name != namespace["scenario"].name
    printed = capsys.readouterr().out
    assert "3-month standard" in printed and "against NICE MDT" in printed


# -------------------------------------------------------------------------------- rules it states


def test_one_rule_for_jobs_in_every_command_that_simulates():
    import os

    from asdsim.cli.root import build_parser
    from asdsim.experiments.backends import make_backend

    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert ("`--jobs` always wins (`--jobs 1` runs in the command's own process); without it, "
            "the number of worker processes is chosen from the estimated work") in readme
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # the subcommands
    for name in ("run", "compare", "sweep", "verify", "regress"):
        jobs = next(a for a in sub.choices[name]._actions if a.dest == "jobs")
        assert "chosen from the work" in jobs.help, name
        assert jobs.default is None, name  # None: the work chooses (tests/test_workers.py)
    # work not estimated beforehand: one per CPU
    with make_backend(None) as backend:
        assert getattr(backend, "workers", 1) == (os.cpu_count() or 1)


def test_notebook_extra_installs_what_the_readme_command_needs():
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    notebook = " ".join(extras["notebook"])
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"jupyter (\w+)", readme)
    assert {"lab", "nbconvert"} <= set(commands)
    provides = {"lab": "jupyterlab", "nbconvert": "nbconvert", "notebook": "notebook",
                "execute": "nbclient"}
    for command in commands:
        assert provides[command] in notebook, command
    assert "ipykernel" in notebook  # a kernel to run the notebooks on
    assert 'pip install -e ".[notebook]"' in readme


# ------------------------------------------------------------------------------------ docs/ci.md


def test_ci_docs_install_from_the_checkout_and_the_workflow_runs(tmp_path):
    """docs/ci.md's workflow, run on a copy of a regression scenario: check, a deliberate change
    that the check catches, --update, and the check passing again."""
    from asdsim.cli import main

    ci = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    assert "OWNER" not in ci and "asdsim==" not in ci
    section = ci[ci.index("## Try it from a checkout"):]
    block = code_blocks_from_text(section, "bash")[0]
    lines = [line.split("  #")[0].strip() for line in block.splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "pip install ." and lines[3].startswith("git diff")
    folder = tmp_path / "regression"
    folder.mkdir()
    scenario = folder / "caseload.yaml"
    scenario.write_text((REPO / "scenarios" / "regression" / "caseload.yaml").read_text())
    # the stored results the documented check compares with (2 replications, for time)
    assert main(["regress", str(folder), "--update", "--replications", "2", "--jobs", "1"]) == 0

    def run(line: str) -> int:
        words = line.split()
        assert words[:3] == ["asdsim", "regress", "scenarios/regression"], line
        return main([words[1], str(folder), *words[3:], "--jobs", "1"])

    assert run(lines[1]) == 0                                  # nothing moved
    scenario.write_text(scenario.read_text().replace("referrals_per_week: 4",
                                                     "referrals_per_week: 5"))
    assert run(lines[1]) == 1                                  # the change is caught
    assert run(lines[2]) == 0                                  # --update records it
    assert run(lines[4]) == 0                                  # and the check passes again


def code_blocks_from_text(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)
