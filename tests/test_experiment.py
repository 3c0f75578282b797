"""Experiments: validation, executors, resumability, paired analysis, sweeps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import ConfigError
from sim.cli import main
from sim.experiment import load_experiment, run_experiment

SMALL = {"population.customers": 1500}
SPEC = {
    "name": "tiny", "scenario": "city", "days": 20, "replications": 2, "seed": 5,
    "overrides": SMALL,
    "variants": [
        {"name": "baseline"},
        {"name": "promo", "strategies": [{"kind": "promotion", "type": "cashback", "rate": 0.05,
                                          "start_day": 5, "duration_days": 10,
                                          "budget": 50_000}]},
    ],
}


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BAD_BUDGET = """
name = "bad"
[[variants]]
name = "baseline"
[[variants]]
name = "waiver"
[[variants.strategies]]
kind = "fee_waiver"
merchants = 10
duration_days = 30
budget = -5
"""


def test_error_names_the_field_path_value_and_rule(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_experiment(write_toml(tmp_path / "bad.toml", BAD_BUDGET))
    assert str(err.value) == "variants[1].strategies[0].budget: must be >= 0, got -5.0"


def test_validate_and_run_exit_2_without_traceback_or_output(tmp_path, capsys):
    bad = write_toml(tmp_path / "bad.toml", BAD_BUDGET)
    assert main(["validate", str(bad)]) == 2
    assert main(["run", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "variants[1].strategies[0].budget" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("patch, field", [
    ({"days": 0}, "days"),
    ({"baseline": "nothing"}, "baseline"),
    ({"variants": []}, "variants"),
    ({"overrides": {"population.customerz": 3}}, "population.customerz"),
    ({"colour": "red"}, "colour"),
    ({"sweep": {"method": "latin", "parameters": {"adoption.imitation_rate": [0.1]}}},
     "sweep.method"),
    ({"sweep": {"parameters": {"strategies[0].rate": [0.01, 2.0]}}},
     "sweep.parameters.strategies[0].rate"),
])
def test_bad_experiment_fields_are_named(patch, field):
    with pytest.raises(ConfigError) as err:
        load_experiment({**SPEC, **patch})
    assert err.value.field == field


def test_valid_file_reports_its_shape(tmp_path, capsys):
    assert main(["validate", "experiments/demo.toml"]) == 0
    assert "4 variants" in capsys.readouterr().out


def test_serial_and_processes_write_identical_kpis(tmp_path):
    run_experiment(SPEC, out=tmp_path / "s", executor="serial")
    run_experiment(SPEC, out=tmp_path / "p", executor="processes", workers=2)
    assert (tmp_path / "s/kpis.parquet").read_bytes() == (tmp_path / "p/kpis.parquet").read_bytes()


@pytest.mark.slow
def test_dask_executor_writes_identical_kpis(tmp_path):
    pytest.importorskip("dask.distributed")
    run_experiment(SPEC, out=tmp_path / "s", executor="serial")
    run_experiment(SPEC, out=tmp_path / "d", executor="dask", workers=2)
    assert (tmp_path / "s/kpis.parquet").read_bytes() == (tmp_path / "d/kpis.parquet").read_bytes()


def test_results_tables_and_paired_comparison(tmp_path):
    res = run_experiment(SPEC, out=tmp_path / "o", executor="serial")
    assert set(res.kpis.columns) >= {"variant", "replication", "point", "day", "app_mau"}
    assert len(res.kpis) == 2 * 2 * 20
    row = res.summary[(res.summary.variant == "promo") & (res.summary.kpi == "strategy_spend")]
    assert row.iloc[0]["diff"] > 0 and row.iloc[0]["share_better"] == 0.0  # spending is a cost
    base = res.summary[res.summary.variant == "baseline"]
    assert (base["diff"] == 0).all()
    cmp = res.compare("app_mau")
    assert list(cmp.columns) == ["point", "variant", "replication", "value", "baseline", "diff"]
    promo = cmp[cmp.variant == "promo"]
    assert (promo["diff"] == promo["value"] - promo["baseline"]).all()
    for name in ("summary.csv", "summary.parquet", "cost_effectiveness.csv", "manifest.json"):
        assert (tmp_path / "o" / name).exists()
    cost = res.cost.set_index("variant").loc["promo"]
    assert cost["incremental_spend"] > 0
    assert cost["roi"] == pytest.approx(cost["incremental_net_contribution"]
                                        / cost["incremental_spend"])


def test_rerun_skips_finished_cells_and_refuses_another_experiment(tmp_path):
    out = tmp_path / "o"
    first = run_experiment(SPEC, out=out, executor="serial")
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.kpis.parquet")}
    second = run_experiment(SPEC, out=out, executor="serial")
    assert stamps == {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.kpis.parquet")}
    pd.testing.assert_frame_equal(first.kpis, second.kpis)
    with pytest.raises(ConfigError, match="out"):
        run_experiment({**SPEC, "seed": 6}, out=out, executor="serial")


def test_resume_refuses_results_written_by_other_code(tmp_path):
    out = tmp_path / "o"
    run_experiment(SPEC, out=out, executor="serial")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["code_hash"] = "0123456789abcdef"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="code 0123456789abcdef"):
        run_experiment(SPEC, out=out, executor="serial")
    assert main(["report", str(out)]) == 0  # reading results back is still fine


def test_a_failing_cell_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    import sim.experiment.runner as runner

    real = runner.run_cell

    def flaky(job):
        if job[0].variant == "promo" and job[0].replication == 1:
            raise RuntimeError("boom")
        return real(job)

    monkeypatch.setattr(runner, "run_cell", flaky)
    res = run_experiment(SPEC, out=tmp_path / "o", executor="serial")
    assert list(res.failed) == ["promo__p000__r001"]
    manifest = json.loads((tmp_path / "o/manifest.json").read_text())
    assert manifest["cells"]["promo__p000__r001"].startswith("error")
    assert sum(v == "done" for v in manifest["cells"].values()) == 3
    assert "boom" in (tmp_path / "o/cells/promo__p000__r001.error.txt").read_text()


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_gives_every_cell_exactly_once(tmp_path):
    spec = {**SPEC, "replications": 4, "days": 40}
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(spec))
    toml = tmp_path / "exp.toml"
    toml.write_text(_to_toml(spec))
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim.cli", "run", str(toml), "--executor", "serial",
           "--quiet", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "cells").glob("*.kpis.parquet"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((out / "cells").glob("*.kpis.parquet")))
    assert 3 <= done_before < 8
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    cells = sorted(p.name for p in (out / "cells").glob("*.kpis.parquet"))
    assert len(cells) == 8 and not list((out / "cells").glob("*.tmp"))
    clean = run_experiment(toml, out=tmp_path / "clean", executor="serial")
    resumed = pd.read_parquet(out / "kpis.parquet")
    pd.testing.assert_frame_equal(resumed, clean.kpis)


def _to_toml(spec: dict) -> str:
    lines = [f'name = "{spec["name"]}"', f'days = {spec["days"]}',
             f'replications = {spec["replications"]}', f'seed = {spec["seed"]}', "[overrides]"]
    lines += [f'"{k}" = {v}' for k, v in spec["overrides"].items()]
    for v in spec["variants"]:
        lines += ["[[variants]]", f'name = "{v["name"]}"']
        for s in v.get("strategies", []):
            lines.append("[[variants.strategies]]")
            lines += [f"{k} = {json.dumps(val)}" for k, val in s.items()]
    return "\n".join(lines) + "\n"


def test_common_random_numbers_narrow_the_paired_interval(tmp_path):
    spec = {**SPEC, "replications": 6, "days": 30}
    crn = run_experiment(spec, out=tmp_path / "crn", executor="processes", workers=2)
    ind = run_experiment({**spec, "crn": False}, out=tmp_path / "ind", executor="processes",
                         workers=2)

    def width(res):
        row = res.summary[(res.summary.variant == "promo") & (res.summary.kpi == "app_mau")]
        return float(row["diff_ci_high"].iloc[0] - row["diff_ci_low"].iloc[0])

    assert width(crn) < width(ind)


def test_grid_sweep_runs_every_point_and_morris_writes_indices(tmp_path):
    grid = {**SPEC, "replications": 1, "days": 10,
            "sweep": {"method": "grid", "parameters": {"strategies[0].rate": [0.02, 0.1],
                                                       "adoption.imitation_rate": [0.0, 0.001]}}}
    res = run_experiment(grid, out=tmp_path / "g", executor="serial")
    assert sorted(res.kpis.point.unique()) == [0, 1, 2, 3]
    assert len(res.kpis) == 4 * 2 * 10
    morris = {**grid, "sweep": {"method": "morris", "samples": 2,
                                "parameters": {"strategies[0].rate": [0.01, 0.1],
                                               "adoption.imitation_rate": [0.0, 0.001]}}}
    run_experiment(morris, out=tmp_path / "m", executor="processes", workers=2)
    sens = pd.read_csv(tmp_path / "m" / "sensitivity.csv")
    assert {"variant", "kpi", "parameter", "mu_star"} <= set(sens.columns)
    assert set(sens.parameter) == {"strategies[0].rate", "adoption.imitation_rate"}


def test_result_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        run_experiment({**SPEC, "replications": 1, "days": 6}, out=tmp_path / "o",
                       executor="serial")
    finally:
        os.umask(old)
    assert (tmp_path / "o" / "kpis.parquet").stat().st_mode & 0o777 == 0o644


def test_reading_results_is_read_only_and_keeps_the_declared_parameter_order(tmp_path):
    """Sensitivity indices and sweep points are credited to the parameter that ran, in
    the order declared (here not alphabetical), and reading a folder writes nothing."""
    from sim.experiment import load_results

    # a growing market (no steady-state exits), where the imitation rate sets the level
    spec = {**SPEC, "replications": 1, "days": 12,
            "overrides": {**SPEC["overrides"], "market.steady": False},
            "sweep": {"method": "grid", "parameters": {"strategies[0].rate": [0.0, 0.2],
                                                       "adoption.imitation_rate": [0.0, 0.01]}}}
    out = tmp_path / "g"
    ran = run_experiment(spec, out=out, executor="serial")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    read = load_results(out)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    pd.testing.assert_frame_equal(read.summary, ran.summary)
    assert read.spec.points() == ran.spec.points()
    assert ran.spec.points()[1] == {"strategies[0].rate": 0.0, "adoption.imitation_rate": 0.01}
    # the imitation rate drives adoption: point 1 (imitation 0.01) adopts more than point 0
    mau = ran.kpis[ran.kpis.day == 11].groupby(["variant", "point"])["app_users"].first()
    assert mau[("baseline", 1)] > mau[("baseline", 0)]
