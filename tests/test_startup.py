"""Quick to start: the package and the command import heavy libraries only where they are used.

What is imported is checked in a fresh interpreter (``sys.modules``), not timed: the times are
measured by ``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import asdsim

HEAVY = ("pandas", "scipy", "matplotlib", "statsmodels", "asdsim.experiments.plan",
         "asdsim.experiments.calibrate", "asdsim.reporting")
"""Libraries and packages that cost tenths of a second to import."""


def _imported_after(code: str) -> set[str]:
    """Top-level packages and asdsim packages in ``sys.modules`` after running ``code`` in a
    fresh interpreter."""
    script = (f"import sys\n{code}\n"
              "import json\nprint(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in modules)


def test_importing_the_package_imports_no_heavy_library():
    assert _heavy(_imported_after("import asdsim")) == []


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_heavy_library_and_no_command(argv):
    modules = _imported_after(
        f"from asdsim.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass")
    assert _heavy(modules) == []
    commands = sorted(m for m in modules if m.startswith("asdsim.cli.")
                      and m not in ("asdsim.cli.root", "asdsim.cli.console"))
    assert commands == []


def test_validate_imports_neither_tables_nor_charts():
    modules = _imported_after(
        "from asdsim.cli import main\nmain(['validate', 'scenarios/minimal.yaml'])")
    assert "asdsim.cli.validate" in modules
    assert [m for m in ("pandas", "matplotlib", "statsmodels", "scipy.stats",
                        "asdsim.experiments.plan") if m in modules] == []
    assert "asdsim.cli.run" not in modules  # only the command that runs


def test_a_command_imports_its_own_module_only(capsys):
    from asdsim.cli import main

    assert main(["validate", "scenarios/minimal.yaml"]) == 0
    assert main(["nonsense"]) == 2  # not a command: argparse lists the commands
    err = capsys.readouterr().err
    assert "invalid choice: 'nonsense'" in err and "validate" in err and "app" in err


def test_every_command_is_listed_with_its_own_help_line():
    # the table the command's root lists without importing the commands says what each
    # command's module says of itself
    from asdsim.cli.root import SUBCOMMANDS, build_parser

    parser = build_parser()  # every command in full
    sub = next(a for a in parser._actions if a.dest == "command")
    own = {action.dest: action.help for action in sub._choices_actions}
    assert own == dict(SUBCOMMANDS)
    listed = subprocess.run([sys.executable, "-m", "asdsim.cli.root", "--help"],
                            capture_output=True, text=True, check=True).stdout
    for name, help_line in SUBCOMMANDS:
        assert name in listed and help_line.split()[0] in listed


def test_every_public_name_still_resolves():
    names = [*asdsim.__all__, "plan"]
    for name in names:
        assert getattr(asdsim, name) is not None, name
    assert callable(asdsim.load_scenario) and callable(asdsim.simulate) and callable(asdsim.plan)
    from asdsim.experiments.runner import simulate

    assert asdsim.simulate is simulate
    assert set(names) <= set(dir(asdsim))
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = asdsim.nonsense
