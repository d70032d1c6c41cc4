"""The report's "Model and method" section, following the STRESS-DES reporting checklist.

STRESS-DES (Strengthening the Reporting of Empirical Simulation Studies, discrete-event
simulation) asks a report to state the model's purpose and outputs, its logic (what is modelled
and what is not), its data and assumptions, how it was run (initialisation, run length,
replications), its implementation, and how it was checked. :func:`method_sections` builds those
sections as data, from the runs themselves where they can say (assumptions, cohort, replications
and the width of the headline's interval), so the words never drift from what was run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

import pandas as pd

from asdsim.analysis.definitions import HEADLINE
from asdsim.analysis.results import Results
from asdsim.reporting import formatting as fmt
from asdsim.reporting.wait_spread_chart import simulated_spreads


def package_version() -> str:
    """The installed asdsim version (read from the package metadata, not the package root,
    which imports every layer)."""
    try:
        return metadata.version("asdsim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from an unbuilt tree
        return "0.0.0+unknown"


TARGET_HALF_WIDTH = 0.025
"""The half-width (as a share) of the headline's 95% interval taken as precise enough: 2.5
percentage points, small against the 10-point gap between a 90% standard and a 100% service."""


@dataclass(frozen=True)
class Section:
    """One part of the method: a heading, its STRESS-DES items, paragraphs and a list."""

    heading: str
    items: str
    paragraphs: tuple[str, ...]
    bullets: tuple[str, ...] = ()


MODELLED = (
    "Referrals arriving week by week (a base rate, growth, months and dated changes), each child "
    "with an age, a source, a locality and flags (priority, co-occurring conditions).",
    "Triage: accept, reject (some re-referred later, with a new clock) or ask for more "
    "information, at a stated weekly capacity.",
    "Routing by age and locality to a team, with unmet need where no team covers a child, holds "
    "until old enough, transfers at an age boundary and ageing out at 18.",
    "Waiting lists in a stated order, with families withdrawing at a stated yearly rate and, "
    "where a design says so, a share of children flagged urgent and booked first, children "
    "leaving for another provider, and list validation discharging a share of long waiters.",
    "Assessment as a sequence of steps, each needing hours of named staff groups (joint steps "
    "need all in one week), with gaps, missed appointments, rebooking and discharge, and an "
    "outcome decided at one step (further steps where it is uncertain).",
    "Capacity as clinic hours per staff group from WTE, job-plan share and weeks lost, or as a "
    "caseload of slots; outsourced blocks bought by the month. A dated change of staff can carry "
    "a recruitment lead time (it applies that many weeks after it is decided) and a ramp (added "
    "WTE rises linearly to full productivity over stated weeks, funded in full from the start).",
    "The funded cost of posts (WTE x annual cost x on-costs) and of outsourced assessments.",
)
NOT_MODELLED = (
    "Post-diagnostic support, and any service after the diagnostic decision and follow-up.",
    "Adult (18+) services: children still waiting at 18 leave the model.",
    "Staff absence week by week and turnover, beyond the scenario's weeks lost a year and dated "
    "WTE changes; recruitment delays only as a dated change's stated lead time and ramp.",
    "Referrers' behaviour changing with the length of the wait, and children seen privately.",
    "Clinicians' time spent on work other than the autism pathway, beyond the stated share.",
)
LIMITATIONS = (
    "Figures are only as good as the scenario's inputs; most are assumptions (listed under each "
    "scenario below), not measured local data.",
    "Unless a design lists published figures (observed:), its output has not been set against "
    "the area's; a figure used to calibrate an input is matched by construction, so only "
    "held-out figures test the model.",
    "Booking is by whole packages in the earliest week with hours, which is one of several "
    "rules a service may use; start-based measures can improve when assessments are stretched "
    "out, so read the diagnosis waits beside the 3-month share.",
    "Funded cost counts posts in post, whether or not their hours were used; it is not the "
    "marginal cost of one more assessment.",
    "Intervals describe the model's randomness across replications, not uncertainty in the "
    "inputs; a sensitivity analysis (asdsim sweep) is needed for that.",
)
DRAWN_LIMITATION = (
    "Where inputs were drawn, intervals describe the model's randomness and what is not known "
    "about those inputs over their stated ranges only; every other input is fixed as written, "
    "and what it does is shown only by a sensitivity analysis (asdsim sensitivity).")
"""The last limitation, in place of the fixed-input one, when any design drew its inputs."""
UNCERTAINTY_SECTION = "What is not known: drawn inputs"
"""The report section that states run-to-run randomness and what is not known apart."""


def _years(days: float) -> str:
    return f"{days / 365.25:.1f} years"


def _half_widths(runs: Mapping[str, Results]) -> list[tuple[str, float, int]]:
    out = []
    for name, res in runs.items():
        row = res.kpis[res.kpis.kpi == HEADLINE]
        if row.empty or pd.isna(row["mean"].iloc[0]):
            continue
        r = row.iloc[0]
        out.append((name, (float(r.ci_high) - float(r.ci_low)) / 2.0, int(r.n)))
    return out


def replications_text(runs: Mapping[str, Results], target: float = TARGET_HALF_WIDTH) -> str:
    """Why the number of replications is enough, from the headline's interval half-widths.

    The half-width of a mean's interval falls with the square root of the replications, so
    ``n * (half-width / target)**2`` replications would bring it to ``target``.
    """
    first = next(iter(runs.values()))
    n = int(first.provenance["replications"])
    widths = _half_widths(runs)
    if not widths:
        return (f"Each design was run for {n} replications; the headline share had no value, so "
                "its precision cannot be stated.")
    name, widest, _ = max(widths, key=lambda item: item[1])
    text = (f"Each design was run for {n} replications with seed {first.provenance['seed']}, the "
            "same in every design (common random numbers), and every figure is a mean with a "
            "Student-t 95% confidence interval across them. The widest 95% interval of the "
            f"headline share (assessment started within 3 months) is ±{100 * widest:.1f} "
            f"percentage points ({name}); the target is ±{100 * target:.1f} points.")
    if widest <= target:
        return text + " That is precise enough for the verdicts above."
    needed = math.ceil(n * (widest / target) ** 2) if math.isfinite(widest) else math.nan
    more = f"about {needed} replications" if math.isfinite(needed) else "more replications"
    return (text + f" That is wider than the target: {more} would narrow it to the target "
            "(half-widths fall with the square root of the replications), so treat verdicts "
            "near the standard's level as uncertain.")


def cohort_text(runs: Mapping[str, Results]) -> str:
    """How the model is started and which children the wait KPIs count, and why."""
    parts = []
    for name, res in runs.items():
        s = res.scenario
        start = s.reporting.cohort_from_date
        state = {"empty": "an empty pathway", "generated": "a generated starting list",
                 "csv": "a snapshot of a real list (CSV)"}[s.initial_state.kind]
        cohort = (f"children referred from {fmt.date(start)}" if start
                  else f"children referred from the start, {fmt.date(s.start_date)}")
        parts.append(f"{name}: starts on {fmt.date(s.start_date)} from {state}, runs "
                     f"{s.horizon_weeks} weeks ({_years(s.horizon_days)}); wait KPIs count "
                     f"{cohort}.")
    return " ".join(parts)


def drawn_inputs_text(runs: Mapping[str, Results]) -> str | None:
    """Which inputs were drawn per replication, how, and where the report states the split.

    Parameters
    ----------
    runs
        The runs the report shows, by name.

    Returns
    -------
    str or None
        None when no run drew its inputs (``Results.drawn``).
    """
    drawn = {name: res for name, res in runs.items() if res.drawn}
    if not drawn:
        return None
    named = "; ".join(f"in {name}, {', '.join(res.scenario.uncertain)}" for name, res in drawn.items())
    as_written = [name for name, res in runs.items() if not res.drawn]
    rest = (f" {', '.join(as_written)} {'gives' if len(as_written) == 1 else 'give'} no "
            "uncertain inputs and ran with the numbers as written." if as_written else "")
    return (
        "Drawn inputs: the inputs given a range or a distribution under uncertain: were drawn, "
        f"not fixed: {named}.{rest} "
        "Each replication drew one value of each input from a random stream keyed by the seed, "
        "the replication and the input's path (so designs giving an input the same distribution "
        "drew the same value in the same replication, and the model's own random streams were "
        "untouched), and the same replications were repeated with the inputs as written. The "
        "intervals shown are those with the inputs drawn, so they include what is not known "
        "about these inputs as well as run-to-run randomness; the section "
        f"\"{UNCERTAINTY_SECTION}\" gives each headline KPI with both intervals and the share "
        "of the spread from what is not known (docs/uncertainty.md).")


def validation_text(runs: Mapping[str, Results]) -> str:
    """What the runs say about validation: the published figures they were set against, if any."""
    parts = []
    for name, res in runs.items():
        table = res.validation
        if table.empty:
            continue
        held = table[table.use == "validation"]
        fitted = table[table.use == "calibration"]
        parts.append(f"{name}: {len(table)} published figures ({len(fitted)} used to calibrate an "
                     f"input, {len(held)} held out); {int(held.inside.sum())} of the {len(held)} "
                     "held out fall inside the simulated 95% range of replications.")
    for name, res in runs.items():
        for published, spread in simulated_spreads(res):
            cv = "" if published.cv is None else f" (published {published.cv:.2f})"
            parts.append(f"{name}: the {spread.n:,} completed waits from "
                         f"{published.measure.replace('_', ' ')} have a coefficient of variation "
                         f"of {spread.cv:.2f}{cv} and {spread.share_within(13.0):.0%} within 13 "
                         f"weeks, set against {published.source} in the wait-spread chart.")
    if not parts:
        return ("Not done: no design states published figures to compare with (the scenario "
                "format's observed: list, or published_waits:), so this report cannot set the "
                "model against an area's published waits or list sizes. Scenario comments note "
                "where a value was chosen to match a published figure.")
    observed = any(not res.validation.empty for res in runs.values())
    return " ".join(parts) + (" The validation table above lists each figure beside the "
                              "simulation; a figure used to calibrate is not evidence that the "
                              "model is right." if observed else "")


def method_sections(runs: Mapping[str, Results]) -> list[Section]:
    """The "Model and method" section as parts, in STRESS-DES order.

    Parameters
    ----------
    runs
        The runs the report shows, by name.
    """
    assumptions = sum(len(r.scenario.assumptions) for r in runs.values())
    drawn = drawn_inputs_text(runs)
    limitations = LIMITATIONS if drawn is None else (*LIMITATIONS[:-1], DRAWN_LIMITATION)
    return [
        Section("Purpose and outputs", "STRESS-DES 1.1-1.3", (
            "To estimate, before money is spent, how children's autism diagnostic pathways "
            "perform against the NICE quality standard (QS51: assessment started within 3 months "
            "of referral) and the NHS England 13-week measure, and what each design costs. "
            "Outputs are the KPIs above, each defined in docs/kpis.md (numerator, denominator, "
            "clock, censoring), for each design and as paired differences from the baseline "
            "(unpaired, with Welch intervals, only where designs judge different headline "
            "cohorts, and then labelled so). The extra cost per extra child started within 3 "
            "months counts cost and children over the same dates: the headline cohort's referral "
            "dates, the children referred in them and the funded cost paid in them.",
            "The 3-month standard is judged quarter by quarter, as NICE states it: a design meets "
            "it from a quarter of referral when at least 90% of that quarter's referrals, and of "
            "every later quarter whose referrals all have their 3-month window closed by the end "
            "of the run (a quarter cut by the end of the run is not judged), start assessment within 3 "
            "months (each quarter's mean over the replications), and meets it with 95% confidence "
            "when every one of those quarters' intervals lies above 90%. A share pooled over all "
            "referrals from a date can pass while a quarter fails, so it is not the verdict. "
            "`asdsim plan` judges its options by the same definition (asdsim.analysis.standard): "
            "with its share rule, an option must meet every quarter together in the stated share "
            "of replications and each quarter's mean must reach 90%; with its lower_ci rule, every "
            "quarter's interval must.")),
        Section("What is modelled, and what is not", "STRESS-DES 2.1-2.5", (
            "A discrete-event simulation (SimPy) of each child from referral to diagnosis or "
            "exit; docs/model.md describes the pathway in full.",), MODELLED + tuple(
                f"Not modelled: {item[0].lower()}{item[1:]}" for item in NOT_MODELLED)),
        Section("Data and assumptions", "STRESS-DES 3.1-3.4", (
            f"The designs state {assumptions} assumptions between them, listed under each "
            "scenario below; the scenario files mark each value as published (with its source) "
            "or assumed, and docs/model.md lists the sources. Distributions of durations and "
            "delays are stated in the scenario files.",) + ((drawn,) if drawn else ())),
        Section("Starting state, cohort and run length", "STRESS-DES 4.1-4.2", (
            cohort_text(runs),
            "The model is not warmed up by discarding simulated time: it starts from the stated "
            "list (a terminating simulation from a known state), and the wait KPIs count a "
            "cohort of referrals instead. Counting children referred from a later date leaves "
            "out those whose waits were set by the inherited list, so the shares describe the "
            "service each design settles into; counts of open referrals cover the whole run. "
            "Only children whose 3-month (or 13-week) window had closed by the end are counted.",
        )),
        Section("Replications", "STRESS-DES 4.3", (replications_text(runs),)),
        Section("Implementation and verification", "STRESS-DES 5.1-5.4", (
            f"asdsim {package_version()} (Python, SimPy). Every random draw comes from a stream named "
            "after its activity and derived from the seed and replication, so the same seed gives "
            "the same tables and designs meet the same children (the provenance below has the "
            "seed, versions and each scenario's hash).",
            "Verification: `asdsim verify` checks the simulator against queueing theory (Erlang C "
            "waits and chance of waiting, Cobham's priority formula, Little's law, and the fluid "
            "balance of list growth and clearance) and that a plan for the standard keeps its "
            "promise (its recommended scenario, run on fresh replications, meets the standard from "
            "the plan's quarter); its result is not part of this report, so run "
            "it on the installed version. The test suite checks invariants (every child accounted "
            "for, no negative wait, hours booked never above hours available) and hand-worked "
            "cases.",)),
        Section("Validation", "STRESS-DES 3.1, 4", (validation_text(runs),)),
        Section("Limitations", "STRESS-DES 1, 3.4", (), limitations),
    ]


__all__ = [
    "DRAWN_LIMITATION",
    "LIMITATIONS",
    "MODELLED",
    "NOT_MODELLED",
    "TARGET_HALF_WIDTH",
    "UNCERTAINTY_SECTION",
    "Section",
    "cohort_text",
    "drawn_inputs_text",
    "method_sections",
    "replications_text",
]
