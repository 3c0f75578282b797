"""Calibrate the city to a branch's observed KPIs and past pilots (``sim calibrate``).

``calibrate("experiments/calibration/branch.toml", out="results/branch")`` searches
the unknown parameters with Optuna (:mod:`sim.calibration.search`), scores each trial
against the targets (:mod:`sim.calibration.fit`) and writes, under ``out``::

    cells/<key>.parquet   every run, written as it finishes (a rerun resumes)
    trials.csv            every trial: values, loss, per-seed losses, residual z per target
    fit.csv               per target: observed, best fit's mean and 95 % band, z
    identifiability.csv   per parameter: best, indistinguishable range, verdict
    calibrated.toml       the scenario with the best fit and its [uncertainty] (output.py)
    report.html           targets against the fitted paths, fit, identifiability, trials
    calibration.json      the checked file, the best trial, what was written

File format and the worked example: docs/CALIBRATION.md, "Calibrating to your branch".
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.fit import fit_table, identifiability, indistinguishable, trials_table
from sim.calibration.search import Trial, probe_bounds, run_search
from sim.calibration.spec import CalibrationSpec, load_calibration
from sim.config import ConfigError
from sim.experiment.executors import check_executor
from sim.results import atomic_write_bytes, atomic_write_json, locked, package_versions, safe_name

__all__ = ["calibrate", "Calibration", "load_calibration", "CalibrationSpec"]

log = logging.getLogger(__name__)

OUTPUTS = ("cells", "trials.csv", "fit.csv", "identifiability.csv", "calibrated.toml",
           "report.html", "calibration.json")


@dataclass
class Calibration:
    """What a calibration found: every trial, the best, the fit per target, the
    identifiability per parameter and where the calibrated scenario was written."""

    spec: CalibrationSpec
    out: Path
    trials: pd.DataFrame
    fit: pd.DataFrame
    identifiability: pd.DataFrame
    best: dict[str, float | int]
    best_loss: float
    threshold: float
    scenario_path: Path


def calibrate(source: str | Path | dict | CalibrationSpec, out: str | Path | None = None,
              executor: str = "processes", workers: int | None = None,
              scheduler: str | None = None, quiet: bool = True, trials: int | None = None,
              report: bool = True, fresh: bool = False) -> Calibration:
    """Fit a calibration file's parameters to its targets; write the results under ``out``.

    Parameters
    ----------
    source : path, dict or CalibrationSpec
        The calibration file (:func:`sim.calibration.spec.load_calibration`).
    out : path, optional
        Results folder, default ``results/<name>``. A rerun of the same calibration
        (same :attr:`CalibrationSpec.hash`) resumes: runs already stored are read, not
        run again. A folder holding another calibration's results is refused.
    executor : {"serial", "processes", "dask"}
        Where runs go; ``workers`` processes, ``scheduler`` a Dask address.
    quiet : bool
        No progress bar.
    trials : int, optional
        Replaces ``search.trials``.
    report : bool
        Write report.html.
    fresh : bool
        Delete the folder's previous calibration results (``OUTPUTS``) first.

    Returns
    -------
    Calibration

    Raises
    ------
    ConfigError
        An invalid file, executor or worker count, or an ``out`` that is not a writable
        folder, holds an experiment's or an optimisation's results, holds another
        calibration's (without ``fresh``) or is locked by another run; nothing runs
        before these checks.
    KeyboardInterrupt
        On Ctrl-C, once the workers are stopped; finished runs are kept.
    """
    spec = source if isinstance(source, CalibrationSpec) else load_calibration(source, trials)
    check_executor(executor, workers)
    out = Path(out) if out is not None else Path("results") / safe_name(spec.name)
    with locked(out):
        _prepare(spec, out, fresh)
        from tqdm import tqdm

        tqdm.monitor_interval = 0
        bar = tqdm(total=spec.trials, desc=spec.name, unit="trial", disable=quiet)

        def on_trial(trial: Trial) -> None:
            bar.update(1)
            losses = [t for t in [trial.loss] if np.isfinite(t)]
            if losses:
                bar.set_postfix(loss=f"{losses[0]:.3g}", refresh=False)

        if executor == "processes":
            import sim.model  # noqa: F401  (imported once, not in every forked worker)
        try:
            found = run_search(spec, out, executor, workers, scheduler, on_trial)
            best = found[int(np.nanargmin([t.loss for t in found]))] if any(
                np.isfinite(t.loss) for t in found) else None
            if best is not None:
                found += probe_bounds(spec, out, best.params, len(found), executor, workers,
                                      scheduler)
        finally:
            bar.close()
        return _finish(spec, out, found, report)


def _prepare(spec: CalibrationSpec, out: Path, fresh: bool) -> None:
    """Refuse a folder of other results; delete this folder's calibration with ``fresh``;
    stamp it with the calibration's hash (so that a rerun resumes only the same file)."""
    if (out / "manifest.json").exists() or (out / "optimise.json").exists():
        raise ConfigError("out", str(out), "a folder for a calibration (it holds an "
                          "experiment's, a run's or an optimisation's results: choose "
                          "another --out)")
    stamp = out / "calibration.json"
    if fresh:
        for name in OUTPUTS:
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    elif stamp.exists() or (out / "cells").exists():
        held = json.loads(stamp.read_text(encoding="utf-8")).get("hash") if stamp.exists() \
            else None
        if held != spec.hash:
            raise ConfigError("out", str(out), f"a folder of this calibration (it holds "
                              f"another calibration's results, hash {held}, this file's is "
                              f"{spec.hash}: add --fresh to delete them, or choose another --out)")
    atomic_write_json(stamp, {"kind": "calibration", "name": spec.name, "hash": spec.hash})


def _finish(spec: CalibrationSpec, out: Path, found: list[Trial], report: bool) -> Calibration:
    from sim.calibration.output import write_calibrated

    losses = np.array([t.loss for t in found])
    if not np.isfinite(losses).any():
        raise RuntimeError(f"every trial failed; see {out}/cells/*.error.txt")
    keep, threshold = indistinguishable(spec, found)
    best = found[int(np.nanargmin(losses))]
    table = trials_table(spec, found, keep)
    fit = fit_table(spec, best)
    ident = identifiability(spec, found, keep)
    for name, frame in (("trials", table), ("fit", fit), ("identifiability", ident)):
        atomic_write_bytes(out / f"{name}.csv", frame.to_csv(index=False).encode())
    path = write_calibrated(spec, out, best.params, ident)
    result = Calibration(spec, out, table, fit, ident, dict(best.params), best.loss, threshold,
                         path)
    if report:
        from sim.calibration.report import write_calibration_report

        write_calibration_report(result, best)
    atomic_write_json(out / "calibration.json", {
        "kind": "calibration", "name": spec.name, "hash": spec.hash, "scenario": spec.scenario,
        "days": spec.days, "seed": spec.seed, "trials": spec.trials,
        "seeds_per_trial": spec.seeds_per_trial, "batch": spec.batch,
        "overrides": spec.overrides,
        "parameters": [vars(p) for p in spec.parameters],
        "best": {"trial": best.number, "loss": best.loss, **best.params},
        "threshold": threshold,
        "versions": package_versions(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds")})
    return result
