"""Errors the user can act on: each names the file, line, field, value and what was expected."""

from __future__ import annotations

import errno
import os
import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    """File the problem is in."""
    line: int | None
    """Line number in that file (1-based), where known."""
    field: str
    """Dotted path of the field (``teams.mdt.steps[0].hours``), or empty for the whole file."""
    message: str
    """What is wrong, or what was expected."""
    value: str | None = None
    """The offending value as written, where there is one."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.field:
            parts.append(self.field)
        if self.value is not None:
            parts.append(f"got {self.value}")
        return ": ".join(parts) + f": {self.message}"


class AsdsimError(Exception):
    """Base class of the errors asdsim raises on purpose."""


class ScenarioError(AsdsimError, ValueError):
    """A scenario (or its CSV snapshot) is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in scenario"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


_OS_HINTS = {
    errno.ENOENT: "check the path",
    errno.EACCES: "check the file's permissions",
    errno.EPERM: "check the file's permissions",
    errno.ELOOP: "a symbolic link points back to itself; fix or remove it",
    errno.EISDIR: "this is a folder; give a file",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOSPC: "the disk is full; free some space and run again",
    errno.EROFS: "the file system is read-only; choose a place you can write to",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
    errno.EEXIST: "it exists already; choose another path",
}


def os_error_message(error: OSError) -> str:
    """An operating-system error as ``FILE: what; how to fix it`` (no traceback, no errno)."""
    what = (error.strerror or type(error).__name__).rstrip(".").lower()
    hint = _OS_HINTS.get(error.errno or 0)
    place = os.fsdecode(error.filename) if error.filename is not None else None
    text = f"{place}: {what}" if place else what
    if error.filename2 is not None:
        text += f" (and {os.fsdecode(error.filename2)})"
    return f"{text}; {hint}" if hint else text


def unexpected_error_message(error: BaseException) -> str:
    """A last-resort message for an error asdsim did not expect: its kind and where in asdsim it
    arose, never its text (which could hold a value read from a file)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f"{os.sep}asdsim{os.sep}" in f.filename]
    where = ""
    if frames:
        frame = frames[-1]
        where = f" at {frame.filename.rsplit(os.sep + 'asdsim' + os.sep, 1)[-1]}:{frame.lineno}"
    return (f"unexpected error ({type(error).__name__}{where}); nothing was written. Check the "
            "input files, and please report this with the command you ran")
