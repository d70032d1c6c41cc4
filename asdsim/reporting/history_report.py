"""The folders ``asdsim calibrate --observed`` and ``asdsim backtest`` write: tables, charts and a
small self-contained HTML report (charts embedded, no network requests)."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from asdsim.files import write_text_atomic
from asdsim.reporting.calibration_report import _table, _version
from asdsim.reporting.outputs import MARKER, atomic_folder
from asdsim.spreadsheet import write_csv


def write_report_folder(folder: str | Path, *, title: str, intro: Sequence[str],
                        tables: Mapping[str, pd.DataFrame], figures: Mapping[str, Figure],
                        sections: Sequence[tuple[str, str | pd.DataFrame | Figure]],
                        provenance: Mapping[str, Any], force: bool = False,
                        inputs: Sequence[Path | str] = ()) -> Path:
    """Write a report folder, all at once: each table as ``NAME.csv``, each figure as
    ``NAME.png``, ``provenance.json`` and ``report.html``.

    Parameters
    ----------
    folder
        The folder to write.
    title, intro
        The page's heading and its opening paragraphs (plain text).
    tables, figures
        Files to write, by name.
    sections
        (heading, content) in page order: plain text, a table or a figure.
    provenance
        What made the folder (written as ``provenance.json``).
    force, inputs
        As :func:`asdsim.reporting.outputs.atomic_folder`.

    Raises
    ------
    asdsim.reporting.outputs.OutputExists
        When ``folder`` is in the way and may not be replaced.
    """
    folder = Path(folder)
    with atomic_folder(folder, force, inputs) as tmp:
        (tmp / MARKER).write_text(json.dumps({**provenance, "asdsim_version": _version()},
                                             indent=2, default=str) + "\n")
        for name, frame in tables.items():
            write_csv(frame, tmp / f"{name}.csv")
        for name, figure in figures.items():
            figure.savefig(tmp / f"{name}.png", dpi=110)
        parts = [f"<p>{html.escape(text)}</p>" for text in intro]
        for heading, content in sections:
            parts.append(f"<h2>{html.escape(heading)}</h2>")
            if isinstance(content, pd.DataFrame):
                parts.append(_table(content))
            elif isinstance(content, Figure):
                buffer = io.BytesIO()
                content.savefig(buffer, format="png", dpi=110)
                data = base64.b64encode(buffer.getvalue()).decode()
                parts.append(f"<img alt='{html.escape(heading)}' src='data:image/png;base64,{data}'>")
            else:
                parts.append(f"<p>{html.escape(content)}</p>")
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:0.85em}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}img{{max-width:100%}}</style></head><body>
<h1>{html.escape(title)}</h1>
{''.join(parts)}
</body></html>
"""
        write_text_atomic(tmp / "report.html", page, fsync=False)
    return folder
