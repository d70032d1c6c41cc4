"""What every command shares: exit codes, error and problem printing, the console and the one
progress bar.

Messages are printed as plain text, never as rich markup, so a path or a KPI name with square
brackets (``slot_utilisation[camhs]``) is shown as written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asdsim.errors import ScenarioError

EXIT_OK = 0
"""Success."""
EXIT_INVALID = 1
"""Invalid input (a scenario, grid or expected file), a failed check, or a file that cannot be
written."""
EXIT_USAGE = 2
"""A usage error: an unknown option, a missing argument, a value out of range."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT, as a shell reports it)."""

Update = Callable[..., None]
"""``update(done, total, note=None)``: move the bar; ``note`` is shown after it."""


def err(message: str) -> None:
    """Print a message to standard error, as plain text."""
    print(message, file=sys.stderr)


def out(message: str) -> None:
    """Print a message to standard output, as plain text."""
    print(message)


def print_problems(error: ScenarioError) -> None:
    """Print each problem of an invalid input on its own line of standard error."""
    for problem in error.problems:
        err(str(problem))


def console(stderr: bool = False) -> Any:
    """A rich console for tables: colour on a terminal; plain and wide enough for a table in CI
    logs otherwise."""
    from rich.console import Console

    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, highlight=False, width=max(probe.width, 240), no_color=True,
                   force_terminal=False)


def print_table(table: Any) -> None:
    """Print a rich table on standard output: boxes of plain ASCII when it is not a terminal."""
    from rich import box

    target = console()
    if not target.is_terminal:
        table.box = box.ASCII
    target.print(table)


def plain(text: str) -> Any:
    """A table cell shown exactly as written (no rich markup)."""
    from rich.text import Text

    return Text(text)


@contextmanager
def progress_bar(label: str, terminal: Any = None) -> Iterator[Update | None]:
    """A progress bar while work runs: on a terminal only, and gone when the block ends.

    Parameters
    ----------
    label
        Shown before the bar, as written.
    terminal
        A rich console to draw on (for tests); by default standard output when it is a terminal.

    Yields
    ------
    callable or None
        ``update(done, total, note=None)``, or None when output is not a terminal, so that
        pipes and CI logs get no control codes.
    """
    if terminal is None and not sys.stdout.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}", markup=False), BarColumn(bar_width=30),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[note]}", markup=False),
                  transient=True, console=terminal) as bar:
        task = bar.add_task(label, total=None, note="")
        width = bar.console.width

        def update(done: int, total: int, note: str | None = None) -> None:
            if note is None:
                bar.update(task, completed=done, total=total)
                return
            room = max(20, width - 80)  # what the bar, counts and times leave on one line
            note = note if len(note) <= room else note[: room - 1] + "…"
            bar.update(task, completed=done, total=total, note=note)

        yield update
