"""A pytest plugin for mutation runs (loaded by setup.cfg's [mutmut] section): run the quickest,
most targeted tests first, so that with ``-x`` a mutant is usually killed within a second or
two instead of after the whole-run functional tests."""

from __future__ import annotations

ORDER = (
    "tests/test_pinned_",
    "tests/test_units.py",
    "tests/test_kpi_definitions.py",
    "tests/test_funded_cost.py",
    "tests/test_validation.py",
    "tests/test_starting_state.py",
    "tests/test_pathway_changes.py",
    "tests/test_scenario_loading.py",
    "tests/test_invariants.py",
    "tests/test_compare.py",
    "tests/test_functional.py",
    "tests/test_exits.py",
)


def _rank(nodeid: str) -> int:
    path = nodeid.split("::", 1)[0].removeprefix("mutants/")
    return next((i for i, prefix in enumerate(ORDER) if path.startswith(prefix)), len(ORDER))


def pytest_collection_modifyitems(items: list) -> None:
    """Sort the collected tests by ``ORDER`` (stable: each file keeps its own order)."""
    items.sort(key=lambda item: _rank(item.nodeid))
