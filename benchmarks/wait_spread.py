"""The effect of each list policy, alone and together, on the spread of as_is_2018's waits.

Runs ``scenarios/as_is_2018.yaml`` as shipped (no list policies, lists first come first served),
then with its lists in priority order only (which books the base area's looked-after and
safeguarding children, flagged urgent at referral, first), then with each policy of
``scenarios/as_is_2018_varied.yaml`` alone at that file's assumed setting (prioritisation also
puts the list in priority order, which it needs), then with all three; and reports, for the wait
from referral to assessment start (completed waits that ended from the cohort date, pooled over
replications: :mod:`asdsim.analysis.waitspread`), the number of waits, mean, sd, coefficient of
variation (sd/mean), share within 13 weeks, median and 90th percentile, the coefficient of
variation of the wait from referral to diagnosis, and the children who left under each policy.
Nothing is tuned: the settings are the example scenario's.

Run: ``python benchmarks/wait_spread.py [--replications 10] [--seed 1]`` (a few seconds a
replication on one core).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import asdsim
from asdsim.analysis.waitspread import wait_spread

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
POLICIES = ("prioritisation", "leaving", "validation")


def variant(policies: tuple[str, ...], priority_order: bool = False) -> asdsim.Scenario:
    """as_is_2018 with the named policies of as_is_2018_varied on every team's list (and its
    lists in priority order with ``priority_order`` or prioritisation)."""
    base = asdsim.load_scenario(SCENARIOS / "as_is_2018.yaml").model_dump(mode="json")
    varied = asdsim.load_scenario(SCENARIOS / "as_is_2018_varied.yaml").model_dump(mode="json")
    for name, team in base["teams"].items():
        lists = team["waiting_list"]
        for policy in policies:
            lists[policy] = varied["teams"][name]["waiting_list"][policy]
        if priority_order or "prioritisation" in policies:
            lists["discipline"] = "priority"
    return asdsim.scenario_from_dict(base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    runs = [("none", (), False), ("priority order only", (), True),
            *((p, (p,), False) for p in POLICIES), ("all three", POLICIES, False)]
    for label, policies, priority_order in runs:
        scenario = variant(policies, priority_order)
        results = asdsim.simulate(scenario, replications=args.replications, seed=args.seed, jobs=1)
        spread = wait_spread(results.records, scenario, "referral_to_assessment_start")
        diagnosis = wait_spread(results.records, scenario, "referral_to_diagnosis")
        kpis = results.kpis.set_index("kpi")["mean"]
        rows.append({
            "policies": label,
            "waits": spread.n, "mean_weeks": spread.mean, "sd_weeks": spread.sd, "cv": spread.cv,
            "within_13_weeks": spread.share_within(13.0), "median_weeks": spread.quantiles[0.5],
            "p90_weeks": spread.quantiles[0.9], "cv_to_diagnosis": diagnosis.cv,
            "left_per_run": kpis.get("exit[left_to_other_provider]", 0.0),
            "discharged_on_validation_per_run": kpis.get("exit[discharged_on_validation]", 0.0),
        })
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
