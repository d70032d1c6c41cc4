"""A calibrated scenario's YAML: paths into plain data and the commented emitter.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


def dotted_path(keys: Path_) -> str:
    """``("teams", "mdt", "steps", 0)`` -> ``teams.mdt.steps[0]``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _set(data: Any, keys: Path_, value: Any) -> None:
    for key in keys[:-1]:
        data = data.setdefault(key, {}) if isinstance(data, dict) else data[key]
    data[keys[-1]] = value


def _get(data: Any, keys: Path_) -> Any:
    for key in keys:
        data = data[key]
    return data


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def rounded_shares(shares: dict[str, float], decimals: int = 4) -> dict[str, float]:
    """Shares rounded to ``decimals`` places that still sum to exactly 1 (the largest absorbs
    the rounding)."""
    out = {k: round(v, decimals) for k, v in shares.items()}
    largest = max(out, key=lambda k: out[k])
    out[largest] = round(1.0 - math.fsum(v for k, v in out.items() if k != largest), decimals)
    return out


def _json_copy(data: Any) -> Any:
    import json

    return json.loads(json.dumps(data))


# ------------------------------------------------------------------------------- YAML text


def _flow(value: Any) -> str:
    """A value in YAML flow style, safe inside or outside a flow collection."""
    return yaml.safe_dump([value], default_flow_style=True, width=1_000_000, sort_keys=False,
                          allow_unicode=True).strip()[1:-1]


def emit_yaml(data: dict[str, Any], comments: dict[Path_, str],
              above: dict[Path_, list[str]] | None = None) -> str:
    """YAML for plain data, block style at the top, with a comment after the line of any path
    in ``comments`` and comment lines above any path in ``above``.

    A mapping or list with no comment below it is written on one line (flow style) when short;
    a list of numbers always is.
    """
    above = above or {}
    lines: list[str] = []
    under = {p[:n] for p in comments for n in range(len(p))}

    def inline(value: Any, path: Path_) -> bool:
        if not isinstance(value, dict | list) or not value:
            return True
        if path in under:
            return False
        if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            return True
        return len(_flow(value)) <= 100

    def note(path: Path_) -> str:
        return f"  # {comments[path]}" if path in comments else ""

    def block(value: dict[str, Any] | list[Any], path: Path_, indent: int) -> None:
        pad = " " * indent
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            here = (*path, key)
            lines.extend(f"{pad}# {line}" for line in above.get(here, []))
            lead = f"{pad}{_flow(key)}:" if isinstance(value, dict) else f"{pad}-"
            if inline(item, here):
                lines.append(f"{lead} {_flow(item)}{note(here)}")
            elif isinstance(value, list) and isinstance(item, dict):
                lines.extend(f"{pad}# {comments[here]}" for _ in [0] if here in comments)
                start = len(lines)
                block(item, here, indent + 2)
                lines[start] = f"{pad}- " + lines[start][indent + 2:]
            else:
                lines.append(f"{lead}{note(here)}")
                block(item, here, indent + 2)

    block(data, (), 0)
    return "\n".join(lines) + "\n"
