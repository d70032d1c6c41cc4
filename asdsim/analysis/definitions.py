"""Every KPI's definition, in one place: its label, unit, direction, censoring and basis.

A KPI's name is a base name, optionally followed by one argument in square brackets: a date
(``open_referrals[2019-06-30]``), a period of referral (``assessment_started_within_3_months[2019]``,
``...[2019Q2]``), a team and staff group (``utilisation[mdt/psychologist]``), an exit reason
(``exit[withdrawn]``) and so on. :func:`split` is the only place that name is taken apart;
:func:`definition` gives the registry entry of any KPI name. The KPI table, paired differences,
regression checks, the console, the charts and the report all read labels, units and censoring
from here, and ``docs/kpis.md`` documents the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["share", "weeks", "children", "hours", "GBP", "WTE"]
Direction = Literal["higher", "lower", "none"]


@dataclass(frozen=True)
class KpiDefinition:
    """What a KPI means.

    Attributes
    ----------
    name
        Base name (without any ``[argument]``).
    label
        Short readable label, for tables and chart axes.
    unit
        ``share`` (0-1), ``weeks``, ``children``, ``hours`` or ``GBP``.
    direction
        Which way is better: ``higher``, ``lower`` or ``none`` (a count that is neither).
    censored
        Whether the KPI may not be reached by the horizon in a replication (a wait quantile, the
        backlog clearance time): such a KPI is NaN for the whole run unless every replication
        reached it, since a mean of those that did would be biased.
    numerator, denominator, clock
        The basis, in words (``docs/kpis.md`` shows them as a table).
    standard
        The standard it follows, if any.
    """

    name: str
    label: str
    unit: Unit
    direction: Direction
    censored: bool = False
    numerator: str = ""
    denominator: str = ""
    clock: str = ""
    standard: str = ""


_WAIT_SHARE_CLOCKS = {
    "first_appointment": ("first attended appointment", "first appointment", "13 weeks (91 days)",
                          "NHS England AWTS: first care contact within 13 weeks"),
    "assessment_started": ("attended step that starts the assessment", "assessment started",
                           "3 months (91.31 days)",
                           "NICE QS51 statement 1: assessment started within 3 months"),
}
_BASES = {
    "": "every referral except those turned down at triage (rejected, or information never "
        "returned): the headline basis",
    "_all_referrals": "all referrals",
    "_listed": "referrals that reached a team's waiting list",
}


def _wait_shares() -> list[KpiDefinition]:
    out = []
    for key, window in (("first_appointment", "13_weeks"), ("assessment_started", "3_months")):
        event, short, span, standard = _WAIT_SHARE_CLOCKS[key]
        for suffix, basis in _BASES.items():
            base = f"{key}_within_{window}{suffix}"
            out.append(KpiDefinition(
                base, f"{short.capitalize()} within {span.split(' (')[0]}"
                + ("" if not suffix else f" ({'listed' if suffix == '_listed' else 'all referrals'})"),
                "share", "higher",
                numerator=f"of the denominator, children whose {event} came within {span} of "
                          "their current referral",
                denominator=f"{basis}, referred in the cohort (or the period named in brackets) "
                            f"whose {span} window had closed by the horizon; children who left "
                            "unseen count as not seen",
                clock=f"current referral to {event}", standard=standard))
    return out


def _waits() -> list[KpiDefinition]:
    out = []
    for key, event in (("first_appointment_wait", "first attended appointment"),
                       ("assessment_started_wait", "start of assessment"),
                       ("diagnosis_wait", "diagnosis (definite outcome)")):
        what = key.removesuffix("_wait").replace("_", " ")
        common = {"denominator": "listed children referred in the cohort; not yet seen: censored "
                                 "at the horizon or when they left",
                  "clock": f"current referral to {event}"}
        out += [
            KpiDefinition(f"{key}_median", f"Median wait to {what}", "weeks", "lower", True,
                          numerator="Kaplan-Meier median", **common),
            KpiDefinition(f"{key}_p90", f"90th percentile wait to {what}", "weeks", "lower", True,
                          numerator="Kaplan-Meier 90th percentile", **common),
            KpiDefinition(f"{key}_median_at_least", f"Median wait to {what}, at least", "weeks",
                          "lower", numerator="the Kaplan-Meier median where reached, otherwise "
                          "the longest follow-up (the median is longer than that)", **common),
            KpiDefinition(f"{key}_restricted_mean", f"Mean wait to {what} within follow-up",
                          "weeks", "lower", numerator="area under the Kaplan-Meier survival curve "
                          "up to the cohort's longest follow-up (restricted mean)", **common),
            KpiDefinition(f"{key}_mean_seen", f"Mean wait to {what}, children seen", "weeks",
                          "lower", numerator="mean wait of the children seen by the horizon "
                          "(biased low while many wait)", **common),
        ]
    return out


REGISTRY: dict[str, KpiDefinition] = {d.name: d for d in [
    *_wait_shares(),
    KpiDefinition("triaged_within_target", "Triage decision within target", "share", "higher",
                  numerator="referrals whose first triage decision came within the target",
                  denominator="referrals (first and repeat) arriving in the cohort whose target "
                              "window had closed by the horizon; the starting list's own "
                              "referrals, made before the run, are not arrivals",
                  clock="each referral's own arrival to its first triage decision"),
    *_waits(),
    KpiDefinition("backlog_cleared_weeks", "Starting list cleared (weeks)", "weeks", "lower", True,
                  numerator="time when the last child of the starting list was seen or left",
                  clock="weeks from the scenario start"),
    KpiDefinition("open_referrals", "Open referrals", "children", "lower",
                  numerator="children referred and not yet exited at the end of the date, less "
                            "those rejected and waiting to be referred again",
                  clock="at the end of the date", standard="NHS England AWTS open referrals"),
    *(KpiDefinition(f"waiting_over_{n}_weeks", f"Open referrals over {n} weeks", "children", "lower",
                    numerator=f"open referrals whose current referral is more than {n} weeks old "
                              "at the end of the date, at any stage",
                    clock="current referral to the end of the date",
                    standard="NHS England AWTS") for n in (13, 52, 104)),
    KpiDefinition("referrals", "Referrals", "children", "none",
                  numerator="children first referred within the horizon"),
    KpiDefinition("exit", "Children by exit or status", "children", "none",
                  numerator="children by how they left the pathway, or their status at the horizon"),
    KpiDefinition("held_until_old_enough", "Held until a team covers them", "children", "none",
                  numerator="children held for a team's minimum age, or for a team to open"),
    KpiDefinition("unmet_need", "Unmet need (no pathway)", "children", "lower",
                  numerator="children found to have no pathway for their age and locality, "
                            "whether they then left or were referred again when old enough"),
    KpiDefinition("staff_hours_per_assessment", "Staff hours per assessment", "hours", "none",
                  numerator="professional hours attended", denominator="in-house assessments "
                  "completed"),
    KpiDefinition("outcome_share", "Share of outcomes", "share", "none",
                  numerator="assessments completed with the outcome",
                  denominator="assessments completed"),
    KpiDefinition("dna_share", "Missed appointments", "share", "lower",
                  numerator="appointments of the step missed (DNA)",
                  denominator="appointments of the step within the horizon"),
    KpiDefinition("utilisation", "Staff utilisation", "share", "none",
                  numerator="clinic hours booked", denominator="clinic hours available"),
    KpiDefinition("slot_utilisation", "Caseload slots held", "share", "none",
                  numerator="slot-days held", denominator="slot-days available"),
    KpiDefinition("cost_total", "Cost, staff hours used and outsourcing", "GBP", "lower",
                  numerator="hours used x cost per hour, plus outsourced assessments"),
    KpiDefinition("cost_outsourced", "Cost of outsourced assessments", "GBP", "lower"),
    KpiDefinition("cost_per_assessment", "Cost per assessment completed", "GBP", "lower",
                  numerator="cost_total", denominator="assessments completed"),
    KpiDefinition("funded_cost", "Funded cost of posts in the financial year", "GBP", "lower",
                  numerator="sum over staff groups and days of the year within the horizon of WTE "
                            "in post that day x autism share x annual cost per WTE x "
                            "(1 + on-costs) / 365.25",
                  clock="financial year, April to March, cut to the horizon"),
    KpiDefinition("outsourcing_cost", "Outsourced assessments bought in the financial year",
                  "GBP", "lower", numerator="price of each outsourced assessment bought in the year",
                  clock="financial year, April to March, cut to the horizon"),
    KpiDefinition("funded_cost_per_year", "Funded cost of posts a year", "GBP", "lower",
                  numerator="funded cost of posts over the horizon",
                  denominator="years in the horizon"),
    KpiDefinition("funded_wte", "Funded WTE (average)", "WTE", "none",
                  numerator="WTE in post, averaged over the days of the horizon"),
    KpiDefinition("cost_funded_total", "Funded cost of posts and outsourcing", "GBP", "lower",
                  numerator="funded cost of posts plus outsourced assessments, over the horizon"),
    KpiDefinition("cost_per_assessment_funded", "Funded cost per assessment completed", "GBP",
                  "lower", numerator="cost_funded_total", denominator="assessments completed"),
    KpiDefinition("cost_per_diagnosis", "Funded cost per autism diagnosis", "GBP", "lower",
                  numerator="cost_funded_total", denominator="assessments ending in an autism "
                                                          "diagnosis"),
    KpiDefinition("outsourcing_not_bought", "Outsourcing not bought under stop rules", "GBP", "none",
                  numerator="the block's full monthly purchase (assessments a month x price) in "
                            "each month its stop rule skipped; the saving against buying "
                            "regardless is the paired difference in cost_outsourced"),
    KpiDefinition("started_within_3_months_count", "Children started within 3 months",
                  "children", "higher",
                  numerator="children of the headline basis and cohort whose assessment started "
                            "within 3 months (the count behind the headline share)"),
]}
"""Every KPI by base name."""

HEADLINE = "assessment_started_within_3_months"
"""The KPI a design is judged by first (NICE QS51, all referrals)."""


def split(name: str) -> tuple[str, str | None]:
    """A KPI name's base and its bracketed argument (None where it has none)."""
    base, bracket, rest = str(name).partition("[")
    return base, (rest[:-1] if bracket and rest.endswith("]") else None)


def definition(name: str) -> KpiDefinition:
    """The registry entry of a KPI name, with or without an argument.

    Raises
    ------
    KeyError
        For a name not in the registry, listing the valid base names.
    """
    base, _ = split(name)
    try:
        return REGISTRY[base]
    except KeyError:
        raise KeyError(f"no KPI {base!r}; valid KPIs: {', '.join(sorted(REGISTRY))}") from None


def label(name: str) -> str:
    """A readable label for a KPI name, its argument included."""
    entry = definition(name)
    _, arg = split(name)
    return entry.label if arg is None else f"{entry.label} [{arg}]"


def is_censored(name: str) -> bool:
    """Whether a KPI may not be reached by the horizon (see :class:`KpiDefinition`)."""
    return definition(name).censored


def markdown_table() -> str:
    """The registry as a Markdown table (``docs/kpis.md`` carries it; a test keeps them equal)."""
    rows = ["| KPI | unit | better | numerator | denominator | clock | censored | standard |",
            "|---|---|---|---|---|---|---|---|"]
    for d in REGISTRY.values():
        cells = [f"`{d.name}`", d.unit, d.direction, d.numerator or d.label, d.denominator or "-",
                 d.clock or "-", "yes" if d.censored else "no", d.standard or "-"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
