"""Writing one file atomically: a reader sees the old file or the whole new one, never half.

The content goes to a temporary file in the destination's folder (same file system, so the rename
is atomic), which is flushed to disk and renamed over the destination with :func:`os.replace`. On
any error or interrupt the temporary file is removed. Temporary names start with ``.tmp-``, so a
folder can be swept of leftovers from a killed process by that prefix.

The module also holds the two rules every command that writes follows (:func:`guard_output` and
the list of files written, :func:`record_written`):

* an output path is never equal to, inside, or holding any file the command reads, compared by
  real path (symbolic links followed) and by file identity (hard links);
* a file is deleted or replaced only if asdsim wrote it: every folder asdsim writes lists what it
  wrote in :data:`WRITTEN_LIST`, and a file not on that list is never touched.

This module is the lowest layer of the package but one: standard library and
:mod:`asdsim.errors` only, importable from anywhere.
"""

from __future__ import annotations

import fnmatch
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from asdsim.errors import AsdsimError

TEMPORARY_PREFIX = ".tmp-"
"""Start of every temporary file name made here."""
WRITTEN_LIST = ".asdsim-written"
"""A file in every folder asdsim writes: the files (or glob patterns, one a line, relative to the
folder) that asdsim wrote there and may therefore replace or delete."""

__all__ = ["TEMPORARY_PREFIX", "WRITTEN_LIST", "OutputRefused", "guard_output", "open_atomic",
           "real_path", "record_written", "unwritten_files", "write_bytes_atomic",
           "write_text_atomic"]


class OutputRefused(AsdsimError):
    """An output path is, holds, or sits inside a file the command reads, or would replace a file
    asdsim did not write."""


def real_path(path: str | Path) -> Path:
    """``path`` made absolute with every symbolic link that exists followed (a loop or a missing
    part is kept as written, so this never fails on a path that does not exist yet).

    Raises
    ------
    OutputRefused
        For a path with a NUL character, which no file system accepts.
    """
    text = os.fspath(path)
    if "\x00" in text:
        raise OutputRefused(f"{text!r}: a path cannot contain a NUL character")
    try:
        return Path(os.path.realpath(text))
    except (OSError, ValueError, RuntimeError):  # a symlink loop on some Python versions
        return Path(os.path.abspath(text))


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def guard_output(out: str | Path, inputs: Iterable[str | Path], option: str = "--out") -> None:
    """Refuse an output path that is, holds, or sits inside any of ``inputs``.

    Paths are compared by their real paths (:func:`real_path`, so a symbolic link to an input, or
    to a folder holding one, is seen through) and by file identity (a hard link to an input).
    Call it before any long work, with every file the command will read.

    Parameters
    ----------
    out
        The file or folder the command will write.
    inputs
        Every file the command reads (a scenario and its ``extends:`` chain, CSV files, grid
        files); folders the command reads from may be given too.
    option
        How the user named ``out``, for the message.

    Raises
    ------
    OutputRefused
        Naming the output and the input, and what to do.
    """
    mine = real_path(out)
    for item in inputs:
        theirs = real_path(item)
        if mine == theirs or _same_file(out, item):
            how = "is"
        elif theirs.is_relative_to(mine):
            how = "holds"
        elif mine.is_relative_to(theirs):
            how = "is inside"
        else:
            continue
        raise OutputRefused(f"{option} {out} {how} the input {item}; choose another {option} "
                            "(results are never written over, into or around their own inputs)")


def record_written(folder: str | Path, names: Iterable[str] | None = None) -> Path:
    """Write the list of files asdsim wrote in ``folder`` (:data:`WRITTEN_LIST`).

    Parameters
    ----------
    folder
        The folder.
    names
        Paths relative to the folder, or glob patterns; by default every file now in it.
    """
    folder = Path(folder)
    if names is None:
        names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.is_file() and p.name != WRITTEN_LIST)
    return write_text_atomic(folder / WRITTEN_LIST, "".join(f"{n}\n" for n in names), fsync=False)


def unwritten_files(folder: str | Path) -> list[Path] | None:
    """The files in ``folder`` that asdsim did not write (not on its :data:`WRITTEN_LIST`), or
    None when the folder has no such list (asdsim did not write it, or an older version did)."""
    folder = Path(folder)
    try:
        patterns = [line for line in (folder / WRITTEN_LIST).read_text(encoding="utf-8").splitlines()
                    if line]
    except (OSError, UnicodeError):
        return None
    others = []
    for path in sorted(folder.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        name = path.relative_to(folder).as_posix()
        if name != WRITTEN_LIST and not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            others.append(path)
    return others


def temporary_name(path: Path) -> Path:
    """A fresh temporary file name beside ``path`` (``.tmp-<stem>-<random><suffix>``)."""
    return path.with_name(f"{TEMPORARY_PREFIX}{path.stem}-{uuid.uuid4().hex[:8]}{path.suffix}")


@contextmanager
def open_atomic(path: str | Path, fsync: bool = True) -> Iterator[BinaryIO]:
    """Open a binary handle whose content replaces ``path`` when the block ends without error.

    Parameters
    ----------
    path
        The destination; its folder must exist.
    fsync
        Flush the content to disk before the rename, so a power cut cannot leave an empty file
        under the final name.

    Yields
    ------
    BinaryIO
        A handle on the temporary file.
    """
    path = Path(path)
    temporary = temporary_name(path)
    try:
        with open(temporary, "wb") as handle:
            yield handle
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`open_atomic`); returns the path."""
    with open_atomic(path, fsync) as handle:
        handle.write(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8", fsync: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`open_atomic`); returns the path."""
    return write_bytes_atomic(path, text.encode(encoding), fsync)
