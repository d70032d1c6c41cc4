"""The plain-English summary that opens a report and a command's console output.

One line per design, read from its KPI table: whether, and from which quarter of referral, it
meets the 3-month standard (NICE QS51: the share of each quarter's referrals whose assessment
started within 3 months, against a stated level, 90% by default); its open-referral list at the
end of the run; and its annual funded cost (posts plus outsourcing). Every figure names its
cohort or date and carries its 95% confidence interval, and is kept as data
(:class:`Stated`) beside the sentence, so a report, the console or a web page can show the same
words and check the same numbers.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from asdsim.analysis.bottleneck import StageFlow, describe_bottleneck
from asdsim.analysis.definitions import HEADLINE, definition, split
from asdsim.analysis.paired import UNPAIRED, WINDOW_COST, Comparison, incremental_cost
from asdsim.analysis.results import Results
from asdsim.reporting import formatting as fmt
from asdsim.reporting.quarters import Judgement, judge, quarter_range, unsure_words
from asdsim.scenario.schema import Scenario

DEFAULT_LEVEL = 0.9
"""The share of a quarter's referrals that must start assessment within 3 months to meet the
standard, unless another level is stated."""

COST_PER_YEAR = "cost_funded_total/year"
"""Derived KPI: funded cost of posts plus outsourcing over the run, divided by its years."""
OUTSOURCING_PER_YEAR = "cost_outsourced/year"
"""Derived KPI: outsourced assessments over the run, divided by its years."""
DERIVED = {
    COST_PER_YEAR: ("cost_funded_total", "Funded cost of posts and outsourcing a year"),
    OUTSOURCING_PER_YEAR: ("cost_outsourced", "Outsourced assessments a year"),
}
"""Per-year KPIs the summary states, by name: the KPI they divide by the run's years, and a
label. The report's KPI table shows them beside the registry's."""


@dataclass(frozen=True)
class Stated:
    """One figure the summary states: a KPI's value with its interval, as shown.

    Attributes
    ----------
    scenario
        The design it belongs to.
    kpi
        The KPI's name in the KPI table (a registry name, or one of :data:`DERIVED`).
    mean, ci_low, ci_high
        The value and its 95% confidence interval, in the KPI's unit (shares 0-1).
    unit
        The registry unit.
    text
        The figure as the sentence shows it, e.g. ``98% (95% to 100%)``.
    """

    scenario: str
    kpi: str
    mean: float
    ci_low: float
    ci_high: float
    unit: str
    text: str


Part = str | Stated
"""A piece of a sentence: plain words, or a stated figure."""


@dataclass(frozen=True)
class DesignSummary:
    """What the summary says about one design.

    Attributes
    ----------
    scenario
        The design's name.
    level
        The share a quarter must reach to meet the standard.
    meets
        Whether the design meets it by the end: every quarter of referral from
        ``meets_from`` to the last one whose 3-month window had closed reaches ``level``.
    meets_from
        The first quarter of that run of quarters (``2019Q3``), or None.
    certain
        Whether the 95% interval of every one of those quarters is at or above ``level``.
    last_quarter
        The last quarter of referral judged (all its referrals' 3-month windows closed within the
        run), or None.
    quarter_share, open_referrals, annual_cost, posts_per_year, outsourcing_per_year
        The figures stated (None where the KPI table has no value).
    parts
        The sentences, as pieces of text and figures (see :attr:`sentences`).
    bottleneck
        Where children pile up (:mod:`asdsim.analysis.bottleneck`): the stage whose queue grows
        most, or None when none grows or the run was not given.
    """

    scenario: str
    level: float
    meets: bool
    meets_from: str | None
    certain: bool
    last_quarter: str | None
    quarter_share: Stated | None
    open_referrals: Stated | None
    annual_cost: Stated | None
    posts_per_year: Stated | None
    outsourcing_per_year: Stated | None
    parts: tuple[tuple[Part, ...], ...] = field(repr=False)
    bottleneck: StageFlow | None = None

    @property
    def sentences(self) -> list[str]:
        """The summary of this design as plain sentences."""
        return ["".join(p if isinstance(p, str) else p.text for p in s) for s in self.parts]

    @property
    def text(self) -> str:
        """The sentences as one line."""
        return " ".join(self.sentences)

    @property
    def figures(self) -> list[Stated]:
        """Every figure the sentences state, in order."""
        return [p for s in self.parts for p in s if isinstance(p, Stated)]


@dataclass(frozen=True)
class IncrementalSummary:
    """Extra cost per extra child started within 3 months, against the baseline, in words."""

    scenario: str
    baseline: str
    parts: tuple[Part, ...] = field(repr=False)

    @property
    def text(self) -> str:
        """The sentence as plain text."""
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)


@dataclass(frozen=True)
class Summary:
    """The summary of a run or a comparison: one :class:`DesignSummary` per design.

    Attributes
    ----------
    designs
        One per design, in the order given.
    level
        The share that meets the standard.
    baseline
        The baseline of a comparison, or None.
    incremental
        Per design other than the baseline, the extra cost per extra child (comparisons only).
    """

    designs: tuple[DesignSummary, ...]
    level: float
    baseline: str | None = None
    incremental: tuple[IncrementalSummary, ...] = ()

    @property
    def standard(self) -> str:
        """The standard as judged: ``at least 90% of a quarter's referrals ...``."""
        return (f"at least {fmt.percent(self.level)} of each quarter's referrals have their "
                "assessment started within 3 months of referral (NICE QS51)")

    def lines(self, width: int | None = None) -> list[str]:
        """The summary as lines for a console: a paragraph per design, then the incremental
        costs.

        Parameters
        ----------
        width
            Wrap each paragraph to this many characters, later lines indented by two spaces;
            by default each paragraph is one line.
        """
        paragraphs = ([f"{d.scenario}: {d.text}" for d in self.designs]
                      + [i.text for i in self.incremental])
        if width is None:
            return paragraphs
        return [line for p in paragraphs
                for line in textwrap.wrap(p, width, subsequent_indent="  ", break_on_hyphens=False)]


def years(scenario: Scenario) -> float:
    """The run's length in years (days / 365.25), the divisor of the per-year KPIs."""
    return scenario.horizon_days / 365.25


def cohort_words(scenario: Scenario) -> str:
    """The headline cohort in words: ``referred from 4 Oct 2021`` (whose window had closed)."""
    start = scenario.reporting.cohort_from_date or scenario.start_date
    return f"referred from {fmt.date(start)}"


def derived_kpis(kpis: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The per-year KPIs of :data:`DERIVED`, as rows like the KPI table's.

    Returns
    -------
    pandas.DataFrame
        Columns ``kpi, mean, ci_low, ci_high, unit``; the KPIs the table lacks are left out.
    """
    per_year = 1.0 / years(scenario)
    table = kpis.set_index("kpi")
    rows = []
    for name, (source, _label) in DERIVED.items():
        if source in table.index:
            r = table.loc[source]
            rows.append({"kpi": name, "mean": r["mean"] * per_year, "ci_low": r.ci_low * per_year,
                         "ci_high": r.ci_high * per_year, "unit": "GBP"})
    return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "unit"])


def label(name: str) -> str:
    """A readable label for a KPI of the table or of :data:`DERIVED`."""
    return DERIVED[name][1] if name in DERIVED else fmt.kpi_label(name)


def unit(name: str) -> str:
    """The registry unit of a KPI of the table or of :data:`DERIVED`."""
    return "GBP" if name in DERIVED else definition(name).unit


def _stated(scenario: str, table: pd.DataFrame, kpi: str, short: bool = True) -> Stated | None:
    if kpi not in table.index or pd.isna(table.loc[kpi, "mean"]):
        return None
    r = table.loc[kpi]
    u = unit(kpi)
    return Stated(scenario, kpi, float(r["mean"]), float(r.ci_low), float(r.ci_high), u,
                  fmt.estimate(r["mean"], r.ci_low, r.ci_high, u, short))


def uncertainty_sentence(name: str, uncertainty: pd.DataFrame, scenario: Scenario,
                         kpis: pd.DataFrame | None = None) -> tuple[Part, ...] | None:
    """The sentence stating the two sources of spread in the headline KPI, for a run with drawn
    inputs (None when the table has no headline row).

    Parameters
    ----------
    name
        The design's name.
    uncertainty
        ``Results.uncertainty`` (see :mod:`asdsim.analysis.uncertainty`).
    scenario
        Its scenario: the uncertain inputs and the cohort.
    kpis
        Its KPI table; the figure with drawn inputs is the table's (they are the same numbers).
    """
    table = uncertainty.set_index("kpi")
    if HEADLINE not in table.index or pd.isna(table.loc[HEADLINE, "drawn_mean"]):
        return None
    r = table.loc[HEADLINE]
    drawn = _stated(name, kpis.set_index("kpi"), HEADLINE) if kpis is not None else None
    if drawn is None:
        drawn = Stated(name, HEADLINE, float(r.drawn_mean), float(r.drawn_ci_low),
                       float(r.drawn_ci_high), "share",
                       fmt.estimate(r.drawn_mean, r.drawn_ci_low, r.drawn_ci_high, "share", True))
    fixed = fmt.estimate(r.fixed_mean, r.fixed_ci_low, r.fixed_ci_high, "share", True)
    count = len(scenario.uncertain)
    inputs = f"{count} uncertain input{'s' if count != 1 else ''}"
    share = r.unknown_share
    if pd.isna(share):
        split = "; too few replications to tell how much of the spread comes from each source."
    else:
        split = (f"; about {fmt.percent(share, 0)} of the spread between replications comes from "
                 f"what is not known about the inputs, and {fmt.percent(1.0 - share, 0)} from "
                 "run-to-run randomness.")
    ranges = "their stated ranges" if count != 1 else "its stated range"
    return (f"With the {inputs} drawn from {ranges} in each replication, ", drawn,
            f" of children {cohort_words(scenario)} had their assessment started within 3 months, "
            f"against {fixed} with the inputs as written{split}")


def summarise_design(name: str, kpis: pd.DataFrame, scenario: Scenario,
                     level: float = DEFAULT_LEVEL,
                     uncertainty: pd.DataFrame | None = None,
                     results: Results | None = None) -> DesignSummary:
    """Summarise one design from its KPI table.

    Parameters
    ----------
    name
        The design's name, as shown.
    kpis
        Its KPI table (``Results.kpis``: ``kpi, mean, ci_low, ci_high, unit``).
    scenario
        Its scenario (dates and the run's length).
    level
        The share of a quarter's referrals that must start assessment within 3 months.
    uncertainty
        ``Results.uncertainty`` of a run with drawn inputs: adds a sentence stating how much of
        the headline KPI's spread comes from what is not known (see
        :func:`uncertainty_sentence`).
    results
        The run itself: adds a sentence naming where children pile up, measured from its
        patient table (:func:`asdsim.analysis.bottleneck.describe_bottleneck`).
    """
    if not 0 < level <= 1:
        raise ValueError(f"the level must be a share in (0, 1], not {level!r}")
    table = pd.concat([kpis, derived_kpis(kpis, scenario)], ignore_index=True).set_index("kpi")
    judgement = judge(table, scenario, level)
    shown_quarter = judgement.meets_from if judgement.meets_from is not None else judgement.last
    quarter_share = None if shown_quarter is None else _stated(
        name, table, f"{HEADLINE}[{shown_quarter}]")
    parts = [_standard_sentence(judgement, quarter_share, level)]
    open_ref, open_sentence = _open_referrals(name, table, scenario)
    if open_sentence is not None:
        parts.append(open_sentence)
    bottleneck = None
    if results is not None:
        bottleneck, pile_up = describe_bottleneck(results.patients,
                                                  7.0 * results.scenario.horizon_weeks,
                                                  stays=results.list_stays)
        parts.append((pile_up,))
    annual, posts, outsourcing = (_stated(name, table, kpi) for kpi in (
        COST_PER_YEAR, "funded_cost_per_year", OUTSOURCING_PER_YEAR))
    parts.append(_cost_sentence(scenario, annual, posts, outsourcing))
    if uncertainty is not None:
        stated = uncertainty_sentence(name, uncertainty, scenario, kpis)
        if stated is not None:
            parts.append(stated)
    return DesignSummary(name, level, judgement.meets_from is not None, judgement.meets_from,
                         judgement.certain, judgement.last, quarter_share, open_ref, annual, posts,
                         outsourcing, tuple(parts), bottleneck)


def _standard_sentence(judgement: Judgement, quarter_share: Stated | None,
                       level: float) -> tuple[Part, ...]:
    """Whether, and from which quarter, the design meets the 3-month standard."""
    meets_from, last = judgement.meets_from, judgement.last
    standard = f"the 3-month standard (at least {fmt.percent(level)} of a quarter's referrals)"
    if last is None or quarter_share is None:
        return (f"Not judged against {standard}: no quarter of referral had its 3-month "
                "window close within the run.",)
    if meets_from is not None:
        later = (f"and every later quarter to {fmt.period(last)} reached {fmt.percent(level)}"
                 if meets_from != last else "the last quarter whose 3-month window closed")
        sure = "" if judgement.certain else "; " + unsure_words(judgement.unsure, judgement.judged,
                                                                 level)
        return (f"Meets {standard} from {fmt.period(meets_from)}: ", quarter_share,
                f" of children referred in {fmt.period(meets_from)} "
                f"({quarter_range(meets_from)}) had their assessment started within "
                f"3 months, {later}{sure}.")
    return (f"Does not meet {standard} by {fmt.period(last)}, the last quarter whose "
            "3-month window closed: ", quarter_share,
            f" of children referred in {fmt.period(last)} ({quarter_range(last)}) "
            f"had their assessment started within 3 months, against "
            f"{fmt.percent(level)}.")


def _open_referrals(name: str, table: pd.DataFrame,
                    scenario: Scenario) -> tuple[Stated | None, tuple[Part, ...] | None]:
    """The open referrals on the last reporting date, and the sentence stating them."""
    snapshots = sorted((dt.date.fromisoformat(split(k)[1] or ""), k) for k in table.index
                       if split(k)[0] == "open_referrals" and split(k)[1])
    if not snapshots:
        return None, None
    day, kpi = snapshots[-1]
    open_ref = _stated(name, table, kpi)
    if open_ref is None:
        return None, None
    when = (" (the end of the run)" if day >= scenario.end_date - dt.timedelta(days=7)
            else " (the last reporting date)")
    return open_ref, (f"Open referrals on {fmt.date(day)}{when}: ", open_ref, " children.")


def _cost_sentence(scenario: Scenario, annual: Stated | None, posts: Stated | None,
                   outsourcing: Stated | None) -> tuple[Part, ...]:
    """The funded cost a year: posts plus outsourcing, over the run's dates."""
    if annual is None or posts is None:
        return ("No funded cost is stated (the KPI table has none).",)
    if annual.mean == 0:
        return ("Funded cost not stated: the scenario gives no annual cost per WTE "
                "and buys no outsourced assessments.",)
    span = (f"averaged over the {years(scenario):.1f} years of the run, {fmt.date(scenario.start_date)}"
            f" to {fmt.date(scenario.end_date)}")
    sentence: list[Part] = ["Funded cost ", annual, f" a year, {span}: posts ", posts]
    if outsourcing is not None and outsourcing.mean > 0:
        sentence += [" plus outsourcing ", outsourcing]
    else:
        sentence += [" and no outsourcing"]
    return (*sentence, ".")


def window_words(first: str, last: str) -> str:
    """The matched window of an incremental cost in words: ``from 4 Oct 2021 to 2 Jan 2023``
    (``in the headline cohort`` for runs that name no dates)."""
    if not first or not last:
        return "in the headline cohort"
    return (f"from {fmt.date(dt.date.fromisoformat(first))} to "
            f"{fmt.date(dt.date.fromisoformat(last))}")


def _incremental(comparison: Comparison) -> tuple[IncrementalSummary, ...]:
    table = incremental_cost(comparison.results, comparison.baseline)
    out = []
    for r in table.to_dict("records"):
        name = r["scenario"]
        window = window_words(r["window_from"], r["window_to"])
        children = Stated(name, "started_within_3_months_count", r["extra_children"],
                          r["extra_children_ci_low"], r["extra_children_ci_high"], "children",
                          fmt.difference_estimate(r["extra_children"], r["extra_children_ci_low"],
                                                  r["extra_children_ci_high"], "children"))
        extra = fmt.difference(r["extra_cost_gbp"], "GBP", short=True)
        cost = Stated(name, WINDOW_COST, r["extra_cost_gbp"], math.nan, math.nan, "GBP",
                      "£0" if extra == "0" else extra)  # "for £0", not "for 0", of funded cost
        unpaired = r["difference"] == UNPAIRED
        parts: list[Part] = [f"{name} against {comparison.baseline}"
                             + (" (unpaired: the designs' cohorts differ)" if unpaired else "")
                             + ": ", children,
                             f" children referred {window} had their assessment started within 3 "
                             "months, for ", cost, " of funded cost over the same dates"]
        if pd.isna(r["cost_per_extra_child_gbp"]):
            parts.append("; no cost per extra child, as the extra children's 95% interval "
                         "includes zero.")
        else:
            each = Stated(name, "cost_per_extra_child_gbp", r["cost_per_extra_child_gbp"],
                          r["ci_low"], r["ci_high"], "GBP",
                          fmt.estimate(r["cost_per_extra_child_gbp"], r["ci_low"], r["ci_high"],
                                       "GBP"))
            parts += [": ", each, " per extra child."]
        out.append(IncrementalSummary(name, comparison.baseline, tuple(parts)))
    return tuple(out)


def summarise(results: Results | Mapping[str, Results] | Comparison,
              level: float = DEFAULT_LEVEL) -> Summary:
    """The plain-English summary of a run or a comparison.

    Parameters
    ----------
    results
        One run, runs by name, or a comparison (which adds each design's extra cost per extra
        child started within 3 months against the baseline).
    level
        The share of a quarter's referrals that must start assessment within 3 months.

    Returns
    -------
    Summary
        Data and sentences; ``Summary.lines()`` for a console.
    """
    baseline = None
    incremental: tuple[IncrementalSummary, ...] = ()
    if isinstance(results, Results):
        runs: Mapping[str, Results] = {results.scenario.name: results}
    elif isinstance(results, Comparison):
        runs, baseline = results.results, results.baseline
        if len(runs) > 1:
            incremental = _incremental(results)
    else:
        runs = results
    designs = tuple(summarise_design(name, res.kpis, res.scenario, level, res.uncertainty, res)
                    for name, res in runs.items())
    return Summary(designs, level, baseline, incremental)


__all__ = ["DEFAULT_LEVEL", "DERIVED", "DesignSummary", "IncrementalSummary", "Stated", "Summary",
           "derived_kpis", "label", "summarise", "summarise_design", "uncertainty_sentence", "unit",
           "window_words", "years"]
