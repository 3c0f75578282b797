"""Strategy events and the streams behind a strategy: what a user reads about a run."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import EcosystemModel
from sim.events import EVENTS, EventLog

SMALL = {"population.customers": 8000}
LOTTERY = {"kind": "promotion", "type": "lottery", "chains": ["business_district"], "start_day": 2,
           "duration_days": 20, "probability": 0.05, "prize_yuan": 20.0}


def test_a_cosmetic_name_does_not_change_the_random_numbers():
    """Common random numbers: naming a lever must not move its stream (issue 15)."""
    unnamed = EcosystemModel("city", seed=3, overrides=SMALL, strategies=[LOTTERY]).run(30)
    named = EcosystemModel("city", seed=3, overrides=SMALL,
                           strategies=[{**LOTTERY, "name": "summer lottery"}]).run(30)
    pd.testing.assert_frame_equal(unnamed, named)


def test_window_and_budget_events_are_recorded():
    spec = {**LOTTERY, "budget": 50.0}
    model = EcosystemModel("city", seed=1, overrides=SMALL, strategies=[spec])
    model.run(30)
    ev = model.events
    assert list(ev.columns) == ["day", "strategy", "event", "count", "detail"]
    assert set(ev.event) <= set(EVENTS)
    started = ev[ev.event == "started"]
    assert started.day.tolist() == [2] and started.strategy.tolist() == ["promotion"]
    assert ev[ev.event == "window_closed"].day.tolist() == [22]
    exhausted = ev[ev.event == "budget_exhausted"]
    assert len(exhausted) == 1 and 2 <= exhausted.day.iloc[0] < 22
    assert model.strategies[0].spent_ <= 50.0 + 1e-9


def test_unknown_event_is_refused():
    with pytest.raises(KeyError, match="unknown strategy event"):
        EventLog().record(0, "x", "exploded")


def test_experiments_store_events_and_verdicts_report_budget_use(tmp_path):
    """A verdict says how much of the budget was used and when it ran out."""
    from sim.experiment import run_experiment
    from sim.report.verdicts import verdicts

    spec = {"name": "ev", "scenario": "city", "days": 30, "replications": 2, "seed": 2,
            "overrides": SMALL,
            "variants": [{"name": "baseline"},
                         {"name": "lottery", "strategies": [{**LOTTERY, "budget": 50.0}]}]}
    res = run_experiment(spec, out=tmp_path / "ev", executor="serial")
    stored = pd.read_parquet(tmp_path / "ev" / "events.parquet")
    assert {"variant", "point", "replication", "day", "strategy", "event"} <= set(stored.columns)
    assert (stored[stored.event == "budget_exhausted"].variant == "lottery").sum() == 2
    (line,) = verdicts(res)
    # prizes of 20 yuan: the third cannot be paid from 50, so 40 (80 %) is used
    assert "promotion used 40 yuan of its 50 yuan budget (80%)" in line
    assert "budget exhausted on day" in line and "2 of 2 replications" in line
