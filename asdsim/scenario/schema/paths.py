"""Dotted field paths into a scenario (``teams.mdt.staff.psychologist.wte``) and its dumped data.
"""

from __future__ import annotations

import difflib
import re

from asdsim.scenario.base import (
    Model,
)


def parse_path(text: str) -> tuple[str | int, ...] | None:
    """Keys of a dotted field path (``outsourcing[0].price_gbp`` -> ``("outsourcing", 0,
    "price_gbp")``), or None when it is not one."""
    keys: list[str | int] = []
    for part in text.split("."):
        match = re.fullmatch(r"([A-Za-z_][\w\-]*|\d+)((?:\[\d+\])*)", part.strip())
        if match is None:
            return None
        name, indices = match.groups()
        keys.append(int(name) if name.isdigit() else name)
        keys.extend(int(i) for i in re.findall(r"\[(\d+)\]", indices))
    return tuple(keys)


def canonical_path(text: str) -> str:
    """The one spelling of a dotted field path (``demand.monthly_factors.7`` and ``demand.
    monthly_factors[7]`` are both ``demand.monthly_factors[7]``); the text as given when it is
    not a path."""
    keys = parse_path(text)
    if keys is None:
        return text
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")


def value_in(data: object, keys: tuple[str | int, ...]) -> object:
    """The value at ``keys`` in nested plain data (a dumped scenario)."""
    for key in keys:
        data = data[key]  # type: ignore[index]
    return data


def set_in(data: object, keys: tuple[str | int, ...], value: object) -> None:
    """Set the value at ``keys`` in nested plain data (a dumped scenario), in place."""
    for key in keys[:-1]:
        data = data[key]  # type: ignore[index]
    data[keys[-1]] = value  # type: ignore[index]


def json_copy(data: dict[str, object]) -> dict[str, object]:
    """A deep copy of plain JSON-like data (dicts, lists, numbers and text)."""
    def copy(item: object) -> object:
        if isinstance(item, dict):
            return {k: copy(v) for k, v in item.items()}
        if isinstance(item, list):
            return [copy(v) for v in item]
        return item
    return copy(data)  # type: ignore[return-value]


def number_at(scenario: Model, text: str) -> tuple[float | None, str | None]:
    """The number a dotted field path names in a scenario, or why it names none.

    Returns
    -------
    tuple
        ``(value, None)``, or ``(None, reason)`` (no such field; not a single number).
    """
    keys = parse_path(text)
    if keys is None:
        return None, "not a dotted field path like teams.mdt.staff.psychologist.wte"
    node: object = scenario
    for depth, key in enumerate(keys):
        here = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys[:depth]).lstrip(".")
        node, why = _step(node, key, here or "the scenario")
        if why is not None:
            return None, why
    if isinstance(node, bool) or not isinstance(node, int | float):
        what = f"a list of {len(node)}" if isinstance(node, tuple) else \
            "a mapping" if isinstance(node, Model | dict) else "not a number"
        return None, f"is {what}, not a single number; name one number in it"
    return float(node), None


def _step(node: object, key: str | int, here: str) -> tuple[object, str | None]:
    """The value under ``key`` in ``node`` (a model, mapping or tuple, named ``here`` in
    messages), or why there is none."""
    if isinstance(node, Model) and isinstance(key, str) and key in type(node).model_fields:
        return getattr(node, key), None
    if isinstance(node, dict) and key in node:
        return node[key], None
    if isinstance(node, tuple) and isinstance(key, int):
        if key >= len(node):
            return None, f"{here} has {len(node)} items, so no [{key}]"
        return node[key], None
    if node is None:
        return None, f"{here} is not set, so it has no field {key!r}"
    names = list(type(node).model_fields) if isinstance(node, Model) else \
        list(node) if isinstance(node, dict) else []
    close = difflib.get_close_matches(str(key), [str(n) for n in names], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return None, f"{here} has no field {key!r}{hint}"
