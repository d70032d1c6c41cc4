"""Dotted field paths of a scenario (``teams.mdt.staff.psychologist.wte``), as sweeps and
their charts name the fields they vary."""

from __future__ import annotations

import re

FieldPath = tuple[str | int, ...]


def parse_field(text: str) -> FieldPath:
    """Split a dotted field path into keys: ``outsourcing[0].team`` -> ``("outsourcing", 0, "team")``.

    A list index is written ``[0]`` after a name, or as its own part (``outsourcing.0.team``).

    Raises
    ------
    ValueError
        When the path is empty or malformed.
    """
    keys: list[str | int] = []
    for part in text.split("."):
        match = re.fullmatch(r"([^\[\]]+?)((?:\[\d+\])*)", part.strip())
        if not part.strip() or match is None:
            raise ValueError(f"{text!r} is not a dotted field path like teams.mdt.staff.psychologist.wte")
        name, indices = match.groups()
        keys.append(int(name) if name.isdigit() else name)
        keys.extend(int(i) for i in re.findall(r"\[(\d+)\]", indices))
    return tuple(keys)


def format_field(keys: FieldPath) -> str:
    """The canonical dotted form of a field path (as in scenario error messages)."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def short_names(fields: list[str]) -> dict[str, str]:
    """Each field path cut to its last two names (``psychologist.wte``, ``outsourcing[0].price_gbp``),
    or left whole where two would look the same."""
    short = {}
    for text in fields:
        keys = parse_field(text)
        names = [i for i, k in enumerate(keys) if isinstance(k, str)]
        short[text] = format_field(keys[names[-2] if len(names) > 1 else 0:])
    clash = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {f: (f if s in clash else s) for f, s in short.items()}
