"""Reading a YAML input file safely, with the line of every value, for errors people can act on.

Scenario files and grid files are both read here. Input files come from people and from other
tools, so reading is bounded before any parsing starts:

* only a regular file is read (not a folder, a device such as ``/dev/zero``, or a named pipe),
  and at most :data:`MAX_FILE_BYTES` of it;
* mappings and lists may nest at most :data:`MAX_DEPTH` deep;
* aliases (``*name``) may expand the document to at most :data:`MAX_NODES` values in all (an
  "alias bomb" of a few hundred bytes would otherwise expand to billions), and an alias may not
  refer to the mapping or list it is inside;
* a key given twice in one mapping is an error (YAML would silently keep the last);
* every key must be text: YAML 1.1 reads ``on``, ``off``, ``yes``, ``no`` as true/false and
  ``1`` as a number, so such a key must be quoted to be a name;
* a date that is not in the calendar (``2024-02-30``) is kept as text, so that the field it is
  in reports it with its line rather than the whole file failing to parse.

Every problem becomes a :class:`~asdsim.errors.Problem` naming the file, line and field.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from asdsim.errors import Problem, ScenarioError
from asdsim.scenario.values import python_only_number

MAX_FILE_BYTES = 1_000_000
"""Largest YAML file read, in bytes (1 MB); a scenario file is a few kilobytes."""
MAX_DEPTH = 50
"""Deepest nesting of mappings and lists in a YAML file."""
MAX_NODES = 100_000
"""Most values (scalars, mappings, lists) a YAML file may hold once its aliases are expanded."""

KeyPath = tuple[str | int, ...]
"""Where a value is in a document: ``("teams", "mdt", "steps", 0, "hours")``."""


def display_path(path: str | Path) -> str:
    """How a file is named in messages: relative to the working folder when inside it.

    Parameters
    ----------
    path
        Any path.

    Returns
    -------
    str
        The path relative to the working folder if it is inside it, else the path as given.
    """
    path = Path(path)
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)


def dotted(keys: KeyPath) -> str:
    """The dotted form of a key path: ``("teams", "mdt", "steps", 0)`` -> ``teams.mdt.steps[0]``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _size(count: int) -> str:
    return f"{count / 1_000_000:g} MB" if count >= 1_000_000 else f"{count / 1000:g} kB"


def read_limited(path: str | Path, max_bytes: int, *, what: str = "file", field: str = "",
                 error: type[ScenarioError] = ScenarioError, shown: str | None = None) -> bytes:
    """Read the bytes of a regular file of at most ``max_bytes``.

    The file is opened without blocking and checked to be a regular file before anything is
    read, so a folder, ``/dev/zero`` or a named pipe fails at once rather than hanging or
    filling memory.

    Parameters
    ----------
    path
        The file.
    max_bytes
        Largest size accepted; the message states it.
    what
        What the file is, for messages (``"file"``, ``"grid file"``, ``"snapshot"``).
    field
        The field that named the file, if any (``"initial_state.csv"``).
    error
        The error class raised.
    shown
        How to name the file in messages (default :func:`display_path`).

    Returns
    -------
    bytes
        The whole content.

    Raises
    ------
    ScenarioError
        (or ``error``) when the file is missing, not a regular file, unreadable or too large.
    """
    name = shown if shown is not None else display_path(path)

    def fail(message: str) -> ScenarioError:
        return error([Problem(name, None, field, message)])

    why = unreadable(path, max_bytes, what)
    if why is not None:
        raise fail(why)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise fail(f"cannot read {what}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between the two looks
            raise fail(f"expected a regular {what}, but this is a device, pipe or socket")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise fail(f"{what} is larger than the limit of {_size(max_bytes)}")
    except OSError as exc:
        raise fail(f"cannot read {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def unreadable(path: str | Path, max_bytes: int, what: str = "file") -> str | None:
    """Why ``path`` cannot be read as an input file, or None if it can (looks without opening).

    Parameters
    ----------
    path
        The file.
    max_bytes
        Largest size accepted.
    what
        What the file is, for the message.

    Returns
    -------
    str or None
        ``"file not found"``, ``"expected a file, but this is a folder"``, ... or None.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return f"{what} not found"
    except OSError as exc:
        return f"cannot read {what}: {exc.strerror or exc}"
    if stat.S_ISDIR(info.st_mode):
        return f"expected a {what}, but this is a folder"
    if not stat.S_ISREG(info.st_mode):
        return f"expected a regular {what}, but this is a device, pipe or socket"
    if info.st_size > max_bytes:
        return f"{what} is larger than the limit of {_size(max_bytes)}"
    return None


class _LimitError(yaml.YAMLError):
    """A limit of :mod:`yamlfile` was exceeded at a place in the file."""

    def __init__(self, mark: yaml.Mark | None, message: str):
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None


class _Loader(yaml.SafeLoader):
    """The safe loader, composing with bounded depth and alias expansion."""

    def __init__(self, text: str):
        super().__init__(text)
        self._depth = 0
        self._open: set[str] = set()
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise _LimitError(event.start_mark, f"the alias *{event.anchor} refers to the "
                                  "mapping or list it is inside (a recursive alias)")
            return super().compose_node(parent, index)
        anchor = getattr(event, "anchor", None)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitError(event.start_mark,
                              f"mappings and lists nest more than {MAX_DEPTH} deep")
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open.discard(anchor)
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        size = 1 + sum(self._sizes.get(id(c), 1) for c in children)
        if size > MAX_NODES:
            raise _LimitError(node.start_mark, f"aliases expand the file to more than {MAX_NODES:,} "
                              "values (an alias bomb?)")
        self._sizes[id(node)] = size
        return node

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:  # type: ignore[override]
        why = python_only_number(node.value)
        if why is not None:  # YAML 1.1 reads 1_000, 0x1F, 010 (octal) and 1:30 as numbers
            raise _LimitError(node.start_mark, why)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:  # type: ignore[override]
        text = node.value
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            return super().construct_yaml_float(node)  # the field says a finite number is needed
        why = python_only_number(text)
        if why is not None:
            raise _LimitError(node.start_mark, why)
        value = super().construct_yaml_float(node)
        if math.isinf(value):
            raise _LimitError(node.start_mark, "a number is too large (more than about 1.8e308)")
        if value == 0.0 and any(ch in "123456789" for ch in re.split(r"[eE]", text)[0]):
            raise _LimitError(node.start_mark, "a number is too small to tell from 0 (less than "
                              "about 1e-308); write 0 if 0 is meant")
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return node.value  # not in the calendar: the field reports it, with its line


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


@dataclass(frozen=True)
class YamlFile:
    """A parsed YAML file: its data and the line of every value in it."""

    path: Path
    """The file as given."""
    name: str
    """How the file is named in messages."""
    data: Any
    """The content as plain Python data (mappings, lists, text, numbers, dates)."""
    lines: Mapping[KeyPath, int] = field(repr=False)
    """Key path -> 1-based line of its key (for a mapping entry) or of the item (in a list)."""

    def line(self, keys: KeyPath) -> int | None:
        """Line of ``keys``, or of its nearest enclosing key that has one."""
        for n in range(len(keys), -1, -1):
            found = self.lines.get(keys[:n])
            if found is not None:
                return found
        return None


def _key_text(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        return "a mapping or list"
    text = str(node.value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_yaml(text: str, name: str, path: Path | None = None, *,
               error: type[ScenarioError] = ScenarioError) -> YamlFile:
    """Parse YAML text with the limits of this module.

    Parameters
    ----------
    text
        The YAML text.
    name
        The file's name for messages.
    path
        The file, if the text came from one.
    error
        The error class raised.

    Returns
    -------
    YamlFile
        The data (``None`` for an empty file) and the line map.

    Raises
    ------
    ScenarioError
        (or ``error``) for text that is not valid YAML, exceeds a limit, repeats a key, or has
        a key that is not text.
    """
    deep = _flow_too_deep(text)
    if deep is not None:  # before parsing: the parser's work grows with open brackets
        raise error([Problem(name, deep, "", f"mappings and lists nest more than {MAX_DEPTH} deep")])
    try:  # the reader checks every character as it starts
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise error([_reader_problem(name, text, exc)]) from None
    try:
        try:
            node = loader.get_single_node()
        except _LimitError as exc:
            raise error([Problem(name, exc.line, "", exc.message)]) from None
        except yaml.reader.ReaderError as exc:
            raise error([_reader_problem(name, text, exc)]) from None
        except yaml.YAMLError as exc:
            raise error([_yaml_problem(name, exc)]) from None
        lines = _line_map(node, name, error)
        try:  # after the line map: construction rewrites merge keys (<<) in place
            data = loader.construct_document(node) if node is not None else None
        except _LimitError as exc:
            raise error([Problem(name, exc.line, "", exc.message)]) from None
        except yaml.YAMLError as exc:
            raise error([_yaml_problem(name, exc)]) from None
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            reason = "a number has too many digits" if "digits" in str(exc) else str(exc)
            raise error([Problem(name, None, "", f"not valid YAML: {reason}")]) from None
    finally:
        loader.dispose()
    return YamlFile(path=path or Path(name), name=name, data=data, lines=lines)


_BRACKETS = re.compile(r"[\[\]{}\n]")


def _flow_too_deep(text: str) -> int | None:
    """Line where ``[`` and ``{`` brackets open more than :data:`MAX_DEPTH` deep, if any.

    Brackets inside quoted text count too; that could only refuse a file with more than
    :data:`MAX_DEPTH` unclosed brackets in its strings.
    """
    depth, line = 0, 1
    for match in _BRACKETS.finditer(text):
        char = match.group()
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        else:
            depth = max(depth - 1, 0)
    return None


def _reader_problem(name: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow (a control character, a NUL byte), by line."""
    position = exc.position if isinstance(exc.position, int) else 0
    line = text.count("\n", 0, position) + 1
    character = exc.character  # the code point (int), or the byte for a decoding error
    point = ord(character) if isinstance(character, str) and len(character) == 1 else character
    if not isinstance(point, int):
        kind = "a character that is not text"
    else:
        kind = "a NUL byte" if point == 0 else f"the control character U+{point:04X}"
    return Problem(name, line, "", f"not valid YAML: {kind} is not allowed in a YAML file; remove "
                                   "it (a text editor that shows invisible characters finds it)")


def resolved(path: Path) -> Path:
    """``path`` with its symbolic links followed.

    Raises
    ------
    ScenarioError
        When the links loop (each points on to the next and back), naming the file.
    """
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise ScenarioError([Problem(display_path(path), None, "", (
            "is a loop of symbolic links (each points on to the next and back); point the link "
            "at a file"))]) from None


def _yaml_problem(name: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc)
    return Problem(name, line, "", f"not valid YAML: {reason}")


def _line_map(node: yaml.Node | None, name: str, error: type[ScenarioError]) -> dict[KeyPath, int]:
    """Key path -> line of each value; raises for repeated keys and keys that are not text."""
    lines: dict[KeyPath, int] = {}
    problems: list[Problem] = []
    seen_nodes = 0

    def walk(n: yaml.Node, keys: KeyPath) -> None:
        nonlocal seen_nodes
        seen_nodes += 1
        if seen_nodes > MAX_NODES:  # the loader's count makes this unreachable; a second guard
            raise error([Problem(name, None, "", f"more than {MAX_NODES:,} values")])
        lines.setdefault(keys, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in n.value:
                if k.tag == "tag:yaml.org,2002:merge":
                    continue
                here = k.start_mark.line + 1
                if not (isinstance(k, yaml.ScalarNode) and k.tag == "tag:yaml.org,2002:str"):
                    kind = {"tag:yaml.org,2002:bool": "true/false",
                            "tag:yaml.org,2002:null": "empty (null)"}.get(k.tag, "not text")
                    problems.append(Problem(
                        name, here, dotted(keys),
                        f"the key {_key_text(k)!r} is read by YAML as {kind}, not as a name; "
                        "write it in quotes",
                    ))
                    continue
                if k.value in seen:
                    problems.append(Problem(name, here, dotted((*keys, k.value)),
                                            "key given twice in the same mapping"))
                seen.add(k.value)
                lines[(*keys, k.value)] = here
                walk(v, (*keys, k.value))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, (*keys, i))

    if node is not None:
        walk(node, ())
    if problems:
        raise error(problems)
    return lines


def read_yaml(path: str | Path, *, what: str = "file", error: type[ScenarioError] = ScenarioError,
              field: str = "") -> YamlFile:
    """Read and parse a YAML file with the limits of this module.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (``"file"``, ``"grid file"``).
    error
        The error class raised (:class:`~asdsim.errors.ScenarioError` or a subclass).
    field
        The field that named the file, if another file named it (``"extends"``).

    Returns
    -------
    YamlFile
        The data (``None`` for an empty file) and the line of every value.

    Raises
    ------
    ScenarioError
        (or ``error``) naming the file, line and field of every problem found.
    """
    path = Path(path)
    name = display_path(path)
    raw = read_limited(path, MAX_FILE_BYTES, what=what, field=field, error=error, shown=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error([Problem(name, line, "", "expected text in UTF-8 (save the file as UTF-8)")]) \
            from None
    return parse_yaml(text, name, path, error=error)
