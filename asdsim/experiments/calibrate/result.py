"""A scenario fitted to an area's data, with the fits behind each number.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from asdsim.experiments.calibrate.fits import ReferralFit
from asdsim.experiments.calibrate.yamltext import Path_, _json_copy, emit_yaml
from asdsim.scenario.schema import Scenario

CALIBRATED_MARK = "# Calibrated by asdsim calibrate"
"""The first line of every calibrated scenario starts so: ``--force`` replaces only such a file."""


@dataclass
class Calibration:
    """A scenario fitted to an area's data, with the fits behind each number.

    The tables are tidy (one row per thing measured) for the report and for checking by hand.
    """

    base_file: str
    """The base scenario file, as named in messages."""
    inputs: dict[str, str]
    """The data files read, by kind (referrals, waiting_list, activity)."""
    scenario: Scenario
    """The calibrated scenario, validated (its starting list attached)."""
    data: dict[str, Any]
    """The calibrated scenario's plain data (the starting list by its absolute path)."""
    referral_fit: ReferralFit
    """The Poisson GLM of referral counts."""
    parameters: pd.DataFrame
    """One row per number set from the data: parameter (dotted path in the scenario), value (as
    written), estimate, ci_low, ci_high, base_value, fit (how it was fitted)."""
    mixes: pd.DataFrame
    """kind (age_band, source, locality, triage_outcome), category, count, share, ci_low,
    ci_high, base_share."""
    activity: pd.DataFrame | None
    """team, step, booked, dna, dna_share, dna_ci_low, dna_ci_high, timed, mean_hours,
    hours_ci_low, hours_ci_high (None without an activity file)."""
    waiting_list: pd.DataFrame | None
    """stage, weeks_waited (a band), children: today's list (None without one)."""
    notes: list[str] = field(default_factory=list)
    """What a reader of the fit should know (over-dispersion, columns missing, repeated rows)."""
    comments: dict[Path_, str] = field(default_factory=dict, repr=False)
    """Comment for the YAML line of each scenario path set from the data."""
    above: dict[Path_, list[str]] = field(default_factory=dict, repr=False)
    """Comment lines written above a scenario path."""
    files: list[Path] = field(default_factory=list, repr=False)
    """Every file read (data files, and the base scenario with its ``extends:`` chain and
    snapshot): what an output must never be, hold or sit inside."""

    def _base_shown(self, out: str | Path) -> str:
        base = Path(self.base_file)
        if self.base_file.startswith("scenario '") or not base.exists():
            return self.base_file
        return Path(os.path.relpath(base.absolute(), Path(out).absolute().parent)).as_posix()

    def yaml_text(self, out: str | Path) -> str:
        """The calibrated scenario as YAML, with a comment on every number from the data.

        Parameters
        ----------
        out
            Where the file will be written: the starting list's path is written relative to
            its folder.
        """
        data = _json_copy(self.data)
        state = data.get("initial_state", {})
        if state.get("csv"):
            state["csv"] = Path(os.path.relpath(state["csv"], Path(out).absolute().parent)).as_posix()
        head = [
            f"{CALIBRATED_MARK} on {dt.date.today().isoformat()} over the base "
            f"scenario {self._base_shown(out)},",
            "# from " + ", ".join(f"{name} ({kind.replace('_', ' ')})"
                                  for kind, name in self.inputs.items()) + ".",
            "# A number with a '# fitted' comment comes from the data (the comment names the fit and",
            "# its 95% interval); every other number is copied from the base as it was: see that file",
            "# for where it came from. The fit report (report.html) shows each fit against the data.",
        ]
        text = "\n".join(head) + "\n" + emit_yaml(data, self.comments, self.above)
        check = yaml.safe_load(text)
        if check != data:  # the emitter must write exactly the data
            raise AssertionError("calibrated YAML does not read back as the data it was made from")
        return text
