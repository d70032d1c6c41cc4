"""Writing one file atomically: a reader sees the old file or the whole new one, never half.

The content goes to a temporary file in the destination's folder (same file system, so the rename
is atomic), which is flushed to disk and renamed over the destination with :func:`os.replace`. On
any error or interrupt the temporary file is removed. Temporary names start with ``.tmp-``, so a
folder can be swept of leftovers from a killed process by that prefix.

This module is the lowest layer of the package: standard library only, importable from anywhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMPORARY_PREFIX = ".tmp-"
"""Start of every temporary file name made here."""

__all__ = ["TEMPORARY_PREFIX", "open_atomic", "write_bytes_atomic", "write_text_atomic"]


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
