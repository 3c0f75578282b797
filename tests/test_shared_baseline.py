"""Sweeps that change only other variants' strategies run the baseline once per
replication, not once per point; results, pairing, reports and resuming are unchanged."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.cli import main
from sim.experiment import load_experiment, run_experiment
from sim.experiment.runner import load_results

DURATIONS = [5, 10, 15, 25]
PROMO = {"kind": "promotion", "type": "spend_save", "chains": ["business_district"],
         "start_day": 3, "duration_days": 10, "budget": 3000}
BASE = {"name": "shared", "scenario": "city", "days": 30, "replications": 4, "seed": 5,
        "overrides": {"population.customers": 1500},
        "variants": [{"name": "baseline"}, {"name": "promo", "strategies": [PROMO]}]}
SWEPT = {**BASE, "sweep": {"method": "grid", "variants": ["promo"],
                           "parameters": {"strategies[0].duration_days": DURATIONS}}}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("shared") / "out"
    return out, run_experiment(SWEPT, out=out, executor="serial")


@pytest.fixture(scope="module")
def one_per_point(tmp_path_factory):
    """The old layout: each point its own experiment, the baseline run again with the
    same seeds."""
    folder = tmp_path_factory.mktemp("points")
    return [run_experiment({**BASE, "variants": [
        {"name": "baseline"}, {"name": "promo", "strategies": [{**PROMO, "duration_days": d}]}]},
        out=folder / str(d), executor="serial") for d in DURATIONS]


def test_the_untouched_baseline_runs_once_per_replication():
    spec = load_experiment(SWEPT)
    cells = spec.cells()
    assert len(cells) == 4 + 16  # not 4 points x 2 variants x 4 replications = 32
    base = [c for c in cells if c.variant == "baseline"]
    assert [c.replication for c in base] == [0, 1, 2, 3]
    assert all(c.point == 0 and c.points == (0, 1, 2, 3) for c in base)
    promo = [c for c in cells if c.variant == "promo"]
    assert sorted({(c.point, c.points) for c in promo}) == [(p, (p,)) for p in range(4)]
    assert {c.seed for c in base} == {c.seed for c in promo}  # replication r pairs
    assert spec.shape().startswith("2 variants x 4 sweep points x 4 replications = 20 cells")


def test_a_swept_scenario_key_still_runs_the_baseline_at_every_point():
    spec = load_experiment({**SWEPT, "sweep": {**SWEPT["sweep"], "parameters": {
        "strategies[0].duration_days": DURATIONS, "adoption.imitation_rate": [0.0]}}})
    assert len(spec.cells()) == 32 and spec.shared() == []
    assert sorted({c.point for c in spec.cells() if c.variant == "baseline"}) == [0, 1, 2, 3]


def test_results_and_paired_lifts_equal_the_baseline_run_at_every_point(swept, one_per_point):
    out, res = swept
    assert len(list((out / "cells").glob("*.kpis.parquet"))) == 20
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["cells"]) == 20 and set(manifest["cells"].values()) == {"done"}
    for p, old in enumerate(one_per_point):
        for name in ("kpis", "ledger", "events"):
            new = getattr(res, name)
            new = new[new.point == p].reset_index(drop=True)
            pd.testing.assert_frame_equal(new, getattr(old, name).assign(point=p),
                                          check_dtype=False)
        for name in ("summary", "cost", "ranking", "pairs"):
            new = getattr(res, name)
            new = new[new.point == p].drop(columns="point").reset_index(drop=True)
            pd.testing.assert_frame_equal(new, getattr(old, name).drop(columns="point"))
        lift = res.summary.set_index(["point", "variant", "kpi"])["lift"]
        values = old.kpis[old.kpis.day == old.kpis.day.max()].pivot(
            index="replication", columns="variant", values="app_mau")
        d = (values["promo"] - values["baseline"]).mean()
        assert lift[(p, "promo", "app_mau")] == pytest.approx(d / values["baseline"].mean())


def test_the_report_reads_the_new_layout(swept, capsys):
    out, res = swept
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    for d in DURATIONS:
        assert f"promo at duration_days = {d}:" in html
    assert "Budget: promotion used" in html
    read = load_results(out)
    pd.testing.assert_frame_equal(read.summary, res.summary)


def test_resuming_reruns_only_the_missing_cells(tmp_path, swept):
    out = tmp_path / "o"
    first = run_experiment(SWEPT, out=out, executor="serial")
    lost = ["baseline__p000__r002", "promo__p002__r001"]  # as if killed before they finished
    for stem in lost:
        (out / "cells" / f"{stem}.kpis.parquet").unlink()
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.kpis.parquet")}
    again = run_experiment(SWEPT, out=out, executor="serial")
    now = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.kpis.parquet")}
    assert sorted(set(now) - set(stamps)) == [f"{stem}.kpis.parquet" for stem in lost]
    assert all(now[name] == stamp for name, stamp in stamps.items())
    pd.testing.assert_frame_equal(again.kpis, first.kpis)
    pd.testing.assert_frame_equal(again.summary, swept[1].summary)
