"""How many worker processes a run uses: chosen from the estimated work unless ``--jobs`` says.

The rule (:func:`asdsim.experiments.backends.choose_workers`): ``n`` workers take about
``n * S + ceil(items / n) * W / items`` seconds (S = ``WORKER_START_SECONDS`` = 0.05, W the work in
one process), this process alone ``W``; the fewest workers with the shortest time are chosen.
The thresholds below are worked by hand from that formula.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import asdsim
from asdsim.cli import main
from asdsim.experiments import backends
from asdsim.experiments.backends import WORKER_START_SECONDS, Backend, ProcessBackend, choose_workers
from asdsim.experiments.runner import SECONDS_PER_CHILD, children_per_replication, workers_for


def test_the_start_up_cost_the_thresholds_are_worked_from():
    assert WORKER_START_SECONDS == 0.05
    assert SECONDS_PER_CHILD == 15e-6


def test_tiny_work_stays_in_this_process():
    # 10 items of 0.0026 s: two workers take 2 x 0.05 + 5 x 0.0026 = 0.113 s > 0.026 s alone
    assert choose_workers(0.026, 10, cpus=2) == 1
    assert choose_workers(0.026, 10, cpus=64) == 1


def test_two_items_on_two_cpus_split_above_four_start_ups():
    # two workers: 2 x 0.05 + W/2 < W exactly when W > 0.2 s
    assert choose_workers(0.19, 2, cpus=2) == 1
    assert choose_workers(0.21, 2, cpus=2) == 2


def test_large_work_takes_every_cpu():
    # 100 items of 1 s on 4 CPUs: 4 x 0.05 + 25 = 25.2 s, against 34.15 s on 3 and 100 s alone
    assert choose_workers(100.0, 100, cpus=4) == 4
    assert choose_workers(100.0, 100, cpus=2) == 2


def test_no_more_workers_than_items_nor_more_than_make_it_sooner():
    # 3 items of 10 s on 8 CPUs: 3 workers (10.15 s), not 8
    assert choose_workers(30.0, 3, cpus=8) == 3
    # 4 items of 10 s on 3 CPUs: 2 workers take 0.1 + 20 s, 3 take 0.15 + 20 s: 2
    assert choose_workers(40.0, 4, cpus=3) == 2
    assert choose_workers(5.0, 1, cpus=8) == 1


def test_jobs_always_wins_over_the_estimate():
    with backends.make_backend(2, work_seconds=0.001, items=10) as backend:
        assert isinstance(backend, ProcessBackend) and backend.workers == 2
    with backends.make_backend(1, work_seconds=1000.0, items=100) as backend:
        assert type(backend) is Backend
    with backends.make_backend(None, work_seconds=0.001, items=10) as backend:
        assert type(backend) is Backend
    with pytest.raises(ValueError, match="at least 1"):
        backends.make_backend(0, work_seconds=1000.0, items=100)


def test_a_run_estimates_its_work_from_children_and_replications(monkeypatch):
    monkeypatch.setattr(backends.os, "cpu_count", lambda: 2)
    minimal = asdsim.load_scenario("scenarios/minimal.yaml")
    # 3 referrals a week for 52 weeks and 15 waiting: 171 children; 10 replications: 0.026 s
    assert children_per_replication(minimal) == 171
    assert workers_for(minimal, 10, None) == 1
    assert workers_for(minimal, 10, 2) == 2  # --jobs wins
    assert workers_for(minimal, 1, 2) == 1  # never more than one a replication
    # about 2,500 referrals a year for 5 years: 2.5 s over 10 replications: both CPUs
    standard = asdsim.load_scenario("benchmarks/standard.yaml")
    assert children_per_replication(standard) * 10 * SECONDS_PER_CHILD > 2.0
    assert workers_for(standard, 10, None) == 2


def test_the_chosen_workers_change_no_table(monkeypatch):
    monkeypatch.setattr(backends, "WORKER_START_SECONDS", 0.0)  # so None chooses 2 workers
    monkeypatch.setattr(backends.os, "cpu_count", lambda: 2)
    scenario = asdsim.load_scenario("scenarios/minimal.yaml")
    assert workers_for(scenario, 2, None) == 2
    chosen = asdsim.simulate(scenario, replications=2, seed=5, jobs=None)
    serial = asdsim.simulate(scenario, replications=2, seed=5, jobs=1)
    assert chosen.provenance["jobs"] == 2 and serial.provenance["jobs"] == 1
    for table in ("patients", "weekly", "kpis"):
        pd.testing.assert_frame_equal(getattr(chosen, table), getattr(serial, table))


@pytest.mark.parametrize(("extra", "workers"), [([], 1), (["--jobs", "2"], 2)])
def test_the_command_chooses_unless_told(tmp_path, extra, workers, monkeypatch):
    monkeypatch.setattr(backends.os, "cpu_count", lambda: 2)
    monkeypatch.setattr("asdsim.cli.options.cpu_count", lambda: 2)
    out = tmp_path / "out"
    code = main(["run", "scenarios/minimal.yaml", "--replications", "2", "--out", str(out),
                 *extra])
    assert code == 0
    assert json.loads((out / "provenance.json").read_text())["jobs"] == workers
