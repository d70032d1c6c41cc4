"""What a verification check found: one quantity against theory, and the whole report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from asdsim.analysis.stats import mean_ci


@dataclass(frozen=True)
class CheckResult:
    """One compared quantity: theory against the simulated mean and its 95% CI."""

    check: str
    """The check (scenario and what it tests)."""
    quantity: str
    """What is compared, with its unit."""
    theory: float
    """The analytic value."""
    mean: float
    """Mean across replications."""
    ci_low: float
    """Lower end of the 95% confidence interval of the mean."""
    ci_high: float
    """Upper end of the 95% confidence interval of the mean."""
    replications: int
    """Replications with a value."""
    tolerance: float
    """Largest accepted ``|mean - theory|``, in the quantity's unit."""
    tolerance_text: str
    """The tolerance as stated (``±5%``, ``±0.02``, ``±4 weeks``)."""
    check_id: str = ""
    """Id of the check that produced it (``erlang-c-5``)."""

    @property
    def half_width(self) -> float:
        """Half-width of the confidence interval."""
        return (self.ci_high - self.ci_low) / 2.0

    @property
    def passed(self) -> bool:
        """Within tolerance, with a confidence interval no wider than the tolerance."""
        return bool(abs(self.mean - self.theory) <= self.tolerance
                    and self.half_width <= self.tolerance)

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL``, or ``FAIL (CI wider than tolerance)``."""
        if self.passed:
            return "pass"
        if abs(self.mean - self.theory) <= self.tolerance:
            return "FAIL (CI wider than tolerance)"
        return "FAIL"


@dataclass
class VerifyReport:
    """The outcome of :func:`run_checks`."""

    results: list[CheckResult]
    seed: int
    jobs: int
    wall_seconds: float
    checks: list[str] = field(default_factory=list)
    """Ids of the checks that ran."""

    @property
    def passed(self) -> bool:
        """Whether every compared quantity passed."""
        return all(r.passed for r in self.results)

    def table(self) -> pd.DataFrame:
        """One row per compared quantity, with ``passed`` and ``verdict`` columns."""
        rows = [{"id": r.check_id, "check": r.check, "quantity": r.quantity, "theory": r.theory,
                 "mean": r.mean, "ci_low": r.ci_low, "ci_high": r.ci_high, "replications": r.replications,
                 "tolerance": r.tolerance_text, "passed": r.passed, "verdict": r.verdict}
                for r in self.results]
        return pd.DataFrame(rows, columns=["id", "check", "quantity", "theory", "mean", "ci_low", "ci_high",
                                           "replications", "tolerance", "passed", "verdict"])


def _result(check: str, quantity: str, theory: float, values: np.ndarray, *, relative: float = 0.0,
            absolute: float = 0.0, text: str | None = None) -> CheckResult:
    mean, low, high, n = mean_ci(values)
    tolerance = max(relative * abs(theory), absolute)
    if text is None:
        text = f"±{relative:.0%}" if relative else f"±{absolute:g}"
    return CheckResult(check, quantity, float(theory), mean, low, high, n, tolerance, text)
