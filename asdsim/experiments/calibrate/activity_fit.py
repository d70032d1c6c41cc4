"""DNA shares and appointment lengths per team and step, from an activity file.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from asdsim.experiments.calibrate.fits import LEVEL, wilson
from asdsim.experiments.calibrate.readers import Activity
from asdsim.experiments.calibrate.yamltext import Path_, _pct, _set, dotted_path
from asdsim.scenario.schema import Scenario


def _fit_activity(act: Activity, scenario: Scenario, data: dict[str, Any],
                  params: list[dict[str, Any]], comments: dict[Path_, str],
                  notes: list[str]) -> pd.DataFrame:
    """DNA shares and appointment lengths per team and step, set into ``data``."""
    rows = []
    for team_name, team in scenario.teams.items():
        for i, step in enumerate(team.steps):
            mask = (act.step == step.name) & ((act.team == team_name) | (act.team == ""))
            booked = int(mask.sum())
            if not booked:
                continue
            dna = int((~act.attended[mask]).sum())
            low, high = wilson(dna, booked)
            lengths = act.hours[mask & act.attended]
            lengths = lengths[~np.isnan(lengths)]
            mean = h_low = h_high = math.nan
            if len(lengths):
                mean = float(lengths.mean())
                if len(lengths) > 1:
                    half = float(stats.t.ppf(0.5 + LEVEL / 2, len(lengths) - 1)
                                 * lengths.std(ddof=1) / math.sqrt(len(lengths)))
                    h_low, h_high = mean - half, mean + half
            rows.append({"team": team_name, "step": step.name, "booked": booked, "dna": dna,
                         "dna_share": dna / booked, "dna_ci_low": low, "dna_ci_high": high,
                         "timed": len(lengths), "mean_hours": mean, "hours_ci_low": h_low,
                         "hours_ci_high": h_high})
            path: Path_ = ("teams", team_name, "steps", i)
            said = []
            if step.contact:
                value = round(dna / booked, 4)
                params.append({"parameter": dotted_path((*path, "dna_probability")), "value": value,
                               "estimate": dna / booked, "ci_low": low, "ci_high": high,
                               "base_value": step.dna_probability, "fit": "share not attended (Wilson)"})
                _set(data, (*path, "dna_probability"), value)
                said.append(f"dna_probability: {dna} of {booked} booked not attended (95% CI "
                            f"{_pct(low)} to {_pct(high)}, Wilson)")
            elif dna:
                notes.append(f"{act.shown}: {dna} DNAs of '{step.name}' ({team_name}), which is not "
                             "a contact step in the scenario; not used.")
            longest = max(step.hours.values(), default=0.0)
            if len(lengths) and longest > 0:
                scale = mean / longest
                for group, hours in step.hours.items():
                    value = round(hours * scale, 3)
                    params.append({"parameter": dotted_path((*path, "hours", group)), "value": value,
                                   "estimate": hours * scale, "ci_low": hours / longest * h_low,
                                   "ci_high": hours / longest * h_high, "base_value": hours,
                                   "fit": "mean length of attended appointments (t)"})
                    _set(data, (*path, "hours", group), value)
                interval = f"95% CI {h_low:.2f} to {h_high:.2f} h" if len(lengths) > 1 else "one only"
                said.append(f"hours: mean of {len(lengths)} attended appointments {mean:.2f} h "
                            f"({interval}), longest group's hours set to it")
            if said:
                comments[path] = "fitted: " + "; ".join(said)
    columns = ["team", "step", "booked", "dna", "dna_share", "dna_ci_low", "dna_ci_high", "timed",
               "mean_hours", "hours_ci_low", "hours_ci_high"]
    return pd.DataFrame(rows, columns=columns)
