"""Runs that never mix, hang or orphan (issue 15): the spec hash covers the scenario's
content, one run writes a folder at a time, --fresh says and does what to do, a lost
worker is retried or recorded, Ctrl-C stops within seconds, tiny populations run."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import ConfigError
from sim.cli import main
from sim.experiment import load_experiment, run_experiment
from sim.metrics import KPI_NAMES
from sim.scenarios import scenario_data

PROMO = {"kind": "promotion", "type": "cashback", "rate": 0.05, "start_day": 1,
         "duration_days": 5, "budget": 20_000}
SPEC = {"name": "safe", "scenario": "city", "days": 6, "replications": 2, "seed": 4,
        "overrides": {"population.customers": 500},
        "variants": [{"name": "baseline"}, {"name": "promo", "strategies": [PROMO]}]}
EXPERIMENT = textwrap.dedent("""
    name = "safe"
    scenario = "{scenario}"
    days = {days}
    replications = {replications}
    [overrides]
    "population.customers" = {customers}
    [[variants]]
    name = "baseline"
    [[variants]]
    name = "promo"
    [[variants.strategies]]
    kind = "promotion"
    type = "cashback"
    rate = 0.05
    budget = 20000.0
""")


def experiment_file(tmp: Path, scenario: str = "city", days: int = 6, replications: int = 2,
                    customers: int = 500) -> Path:
    path = tmp / "exp.toml"
    path.write_text(EXPERIMENT.format(scenario=scenario, days=days, replications=replications,
                                      customers=customers), encoding="utf-8")
    return path


def _toml_value(v) -> str:
    return json.dumps(v) if not isinstance(v, bool) else str(v).lower()


def write_scenario(path: Path, imitation: float) -> Path:
    """The city scenario as a file of its own, with one value changed."""
    data = scenario_data("city")
    data["adoption"]["imitation_rate"] = imitation
    lines: list[str] = []

    def emit(table: dict, prefix: str) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in table.items():
            if isinstance(v, dict):
                emit(v, f"{prefix}.{k}" if prefix else k)

    emit(data, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- item 3: inputs are never mixed from different runs ------------------------------
def test_an_edited_scenario_file_is_not_mixed_with_old_cells(tmp_path):
    scenario = write_scenario(tmp_path / "my_city.toml", 0.0006)
    exp = experiment_file(tmp_path, scenario=str(scenario))
    out = tmp_path / "out"
    first = run_experiment(exp, out=out, executor="serial")
    write_scenario(scenario, 0.01)  # same path, new content
    with pytest.raises(ConfigError) as err:
        run_experiment(exp, out=out, executor="serial")
    assert err.value.field == "out" and "--fresh" in err.value.allowed
    assert "scenario's content" in err.value.allowed
    second = run_experiment(exp, out=out, executor="serial", fresh=True)
    assert not second.kpis.equals(first.kpis)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario_sha256"] == load_experiment(exp).scenario_sha256


def test_a_folder_is_written_by_one_run_at_a_time(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from sim.results import locked
        with locked({str(out)!r}):
            print("held", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError) as err:
            run_experiment(SPEC, out=out, executor="serial")
        assert err.value.field == "out" and "another run" in err.value.allowed
        assert main(["run", str(experiment_file(tmp_path)), "--out", str(out)]) == 2
        assert main(["run", "--days", "2", "--out", str(out)]) == 2
        assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing written
    finally:
        holder.kill()
        holder.wait()
    run_experiment(SPEC, out=out, executor="serial")  # the lock dies with its holder


def test_a_single_run_never_overwrites_an_experiment(tmp_path, capsys):
    out = tmp_path / "exp"
    run_experiment(SPEC, out=out, executor="serial")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    single = ["run", "--days", "2", "--quiet", "--set", "population.customers=300",
              "--out", str(out)]
    assert main(single) == 2
    err = capsys.readouterr().err
    assert "holds an experiment's results" in err and "--fresh" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert main([*single, "--fresh"]) == 0
    assert json.loads((out / "manifest.json").read_text())["kind"] == "single_run"
    assert not (out / "cells").exists() and not (out / "summary.csv").exists()


@pytest.mark.parametrize("stamp", ["optimise.json", "calibration.json"])
def test_an_optimisations_or_calibrations_folder_is_never_written_over(tmp_path, capsys, stamp):
    """Neither an experiment (even with --fresh: those files are not its to delete) nor a
    single run writes into another command's results; before, the report was replaced."""
    out = tmp_path / "theirs"
    out.mkdir()
    (out / stamp).write_text("{}")
    (out / "report.html").write_text("their report")
    for argv in (["run", str(experiment_file(tmp_path)), "--fresh"],
                 ["run", "--days", "2", "--set", "population.customers=300"]):
        assert main(argv + ["--executor", "serial", "--quiet", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "another --out" in err and stamp[:-5] in err
    left = sorted(p.name for p in out.iterdir() if p.name != ".lock")  # the lock file stays
    assert left == sorted([stamp, "report.html"])
    assert (out / "report.html").read_text() == "their report"


# --- item 14: an edited experiment is refused with what to do, and --fresh does it -------
def test_rerunning_an_edited_experiment_says_add_fresh_and_fresh_works(tmp_path, capsys):
    out = tmp_path / "out"
    exp = experiment_file(tmp_path)
    assert main(["run", str(exp), "--executor", "serial", "--quiet", "--out", str(out)]) == 0
    (out / "my_notes.txt").write_text("kept")
    edited = experiment_file(tmp_path, days=5)
    capsys.readouterr()
    assert main(["run", str(edited), "--executor", "serial", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "add --fresh" in err and "another --out" in err
    assert main(["run", str(edited), "--executor", "serial", "--quiet", "--out", str(out),
                 "--fresh"]) == 0
    assert pd.read_parquet(out / "kpis.parquet").day.max() == 4
    assert (out / "my_notes.txt").read_text() == "kept"  # --fresh deletes only its outputs


# --- item 12: a lost worker is retried, then recorded; never a hang ----------------------
def _kill_self_once(marker_dir: Path, always: bool = False):
    import sim.experiment.runner as runner

    real = runner.run_cell

    def cell(job):
        mark = marker_dir / job[0].id
        if job[0].variant == "promo" and job[0].replication == 1 and (always or
                                                                    not mark.exists()):
            mark.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
        return real(job)

    return cell


def test_a_worker_lost_once_is_replaced_and_its_cell_run_again(tmp_path, monkeypatch):
    import sim.experiment.runner as runner

    monkeypatch.setattr(runner, "run_cell", _kill_self_once(tmp_path))
    start = time.monotonic()
    res = run_experiment(SPEC, out=tmp_path / "p", executor="processes", workers=2)
    assert time.monotonic() - start < 90 and not res.failed
    monkeypatch.undo()
    clean = run_experiment(SPEC, out=tmp_path / "s", executor="serial")
    pd.testing.assert_frame_equal(res.kpis, clean.kpis)


def test_a_cell_that_always_loses_its_worker_is_recorded_and_the_others_finish(tmp_path,
                                                                               monkeypatch):
    import sim.experiment.runner as runner

    monkeypatch.setattr(runner, "run_cell", _kill_self_once(tmp_path, always=True))
    res = run_experiment(SPEC, out=tmp_path / "p", executor="processes", workers=2)
    assert list(res.failed) == ["promo__p000__r001"]
    text = (tmp_path / "p" / "cells" / "promo__p000__r001.error.txt").read_text()
    assert "WorkerLost" in text and "SIGKILL" in text
    assert len(res.kpis.groupby(["variant", "replication"])) == 3


def _alive_in_group(pgid: int) -> list[int]:
    """Processes of a process group that still run (zombies excluded)."""
    alive = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(Path(stat).parent.name))
    return alive


def _start_run(tmp_path: Path, out: Path) -> subprocess.Popen:
    exp = experiment_file(tmp_path, days=150, replications=6, customers=20_000)
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(exp), "--executor",
                             "processes", "--workers", "2", "--quiet", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_alive_in_group(proc.pid)) < 3:
        time.sleep(0.1)  # the main process and its two workers
    time.sleep(1.0)
    return proc


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_the_workers_within_seconds_and_says_how_to_resume(tmp_path):
    out = tmp_path / "out"
    proc = _start_run(tmp_path, out)
    assert len(_alive_in_group(proc.pid)) >= 3
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C
    start = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - start < 10
    assert proc.returncode == 130
    lines = err.strip().splitlines()  # the run's opening line, then one line on Ctrl-C
    assert len(lines) == 2 and lines[0].startswith("safe: 2 variants")
    assert "resume" in lines[1] and "Traceback" not in err
    assert _alive_in_group(proc.pid) == []


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")
def test_killing_the_main_process_leaves_no_orphan_workers(tmp_path):
    proc = _start_run(tmp_path, tmp_path / "out")
    os.kill(proc.pid, signal.SIGKILL)  # the main process only
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive_in_group(proc.pid):
        time.sleep(0.1)
    assert _alive_in_group(proc.pid) == []


# --- item 8: tiny and degenerate populations run, and kernels stay in bounds -------------
def _levers() -> list[dict]:
    """One strategy of each kind the shipped experiments use, naming one payee (all a
    tiny city has)."""
    from sim.strategies import STRATEGY_KINDS

    levers: dict[str, dict] = {}
    for path in sorted(glob.glob("experiments/*.toml")):
        if "\n[optimise]" in Path(path).read_text(encoding="utf-8"):
            continue  # an optimisation file: its levers are those of budget_split
        for variant in load_experiment(path, days=200, replications=1).variants:
            for s in variant.strategies:
                one = dict.fromkeys(STRATEGY_KINDS[s["kind"]].payee_count_params, 1)
                levers.setdefault(s["kind"], dict(s, start_day=2, **one))
    return list(levers.values())


SEGMENTS = list(scenario_data("city")["segments"])
DEGENERATE = {
    "plain": {},
    "a chain with no payers": {f"segments.{s}.chains.education": 0.0 for s in SEGMENTS},
    "one payee per chain": {f"chains.{c}.payees_per_100k": 0.001
                            for c in scenario_data("city")["chains"]},
}
TINY_RUN = """
import json, sys
import numpy as np
from sim.model import EcosystemModel
from sim.metrics import KPI_NAMES
levers, cases = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for overrides in cases.values():
    for n in (1, 2, 3, 5):
        kpis = EcosystemModel("city", seed=n, overrides={"population.customers": n, **overrides},
                              strategies=levers).run(20)
        assert np.isfinite(kpis[list(KPI_NAMES)].to_numpy(float)).all()
print("ok")
"""


@pytest.mark.parametrize("case", list(DEGENERATE))
@pytest.mark.parametrize("customers", [1, 2, 3, 4, 5])
def test_tiny_populations_run_with_every_lever(case, customers):
    from sim.model import EcosystemModel

    model = EcosystemModel("city", seed=customers, strategies=_levers(),
                           overrides={"population.customers": customers, **DEGENERATE[case]})
    kpis = model.run(20)
    assert len(kpis) == 20
    assert np.isfinite(kpis[list(KPI_NAMES)].to_numpy(float)).all()
    assert kpis["app_users"].max() <= customers


@pytest.mark.slow
def test_kernels_stay_in_bounds_on_tiny_populations(tmp_path):
    """The same runs with numba's bounds checks on (compiled afresh): an index past an
    array's end raises instead of reading memory it does not own."""
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path / "nb")}
    done = subprocess.run([sys.executable, "-c", TINY_RUN, json.dumps(_levers()),
                           json.dumps(DEGENERATE)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


@pytest.mark.slow
def test_dask_from_a_script_without_a_main_guard_is_one_clear_line(tmp_path):
    pytest.importorskip("dask.distributed")
    script = tmp_path / "no_guard.py"
    script.write_text(textwrap.dedent(f"""
        from sim.experiment import run_experiment
        run_experiment({SPEC!r}, out={str(tmp_path / 'out')!r}, executor="dask", workers=1)
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "if __name__ ==" in last and "line 3" in last
    assert len(done.stderr.splitlines()) < 15 and not (tmp_path / "out").exists()


def test_running_zero_days_returns_the_table_so_far():
    from sim.model import EcosystemModel

    model = EcosystemModel("city", seed=1, overrides={"population.customers": 300})
    assert model.run(0).empty
    three = model.run(3)
    pd.testing.assert_frame_equal(model.run(0), three)
