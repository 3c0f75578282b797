"""The search: Optuna's TPE proposes parameter values, the city is run at them.

A *trial* is one set of parameter values. It runs the scenario (overrides plus the
values) for ``spec.days`` on each of ``seeds_per_trial`` seeds, the same seeds for
every trial (common random numbers: :func:`sim.experiment.spec.replication_seed`,
replications 0..S-1 of the calibration's seed), and each pilot's strategies on the
same seeds. Its loss is computed from those runs (:mod:`sim.calibration.fit`).

Trials are asked in batches of ``spec.batch`` (``study.ask``), their runs go to an
executor (:func:`sim.experiment.executors.execute`: serial, processes or Dask) and
the losses are told back in trial order (``study.tell``), so the sampler sees the
same history whatever the executor: the same seed gives the same trials, bytes for
bytes. Inside a batch TPE's *constant liar* (on by default in Optuna 5) treats the
batch's unfinished trials as bad, so a batch does not propose one point four times.

Each run is stored as it finishes, as ``OUT/cells/<key>.parquet`` (the KPI table,
written atomically), ``<key>`` a digest of everything that determines it: scenario
content, overrides and values, strategies, seed, horizon, simulator code. A rerun
replays the search (a seeded sampler told the same losses asks the same values) and
finds its runs on disk, so a search killed at any moment resumes with nothing lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.fit import observe, trial_loss
from sim.calibration.spec import CalibrationSpec, Parameter
from sim.experiment.executors import execute
from sim.experiment.spec import replication_seed
from sim.results import atomic_write_bytes, atomic_write_parquet, code_hash

__all__ = ["Run", "Trial", "run_search", "probe_bounds", "evaluate", "trial_runs", "load_run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """One model run of a trial: ``pilot`` None for the no-strategy run."""

    key: str
    scenario: str
    overrides: dict[str, Any]
    strategies: list[dict[str, Any]]
    seed: int
    days: int
    replication: int
    pilot: int | None


@dataclass
class Trial:
    """A finished trial: its values, per-seed target values ``y`` (seeds x targets),
    the loss of the seed mean and each seed's own loss (:func:`sim.calibration.fit.trial_loss`),
    its runs; ``error`` the last line of a run that raised (loss NaN)."""

    number: int
    params: dict[str, float | int]
    y: np.ndarray
    loss: float
    seed_losses: np.ndarray
    runs: list[Run]
    error: str = ""


def run_cell(run: Run) -> pd.DataFrame:
    """Simulate one run; its KPI table (days x KPIs)."""
    from sim.model import EcosystemModel

    model = EcosystemModel(run.scenario, seed=run.seed, overrides=run.overrides,
                           strategies=run.strategies)
    return model.run(run.days)


def _key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def trial_runs(spec: CalibrationSpec, params: dict[str, Any], code: str) -> list[Run]:
    """The runs of a trial: per seed the no-strategy run, then each pilot's."""
    scenario_values = {p.name: params[p.name] for p in spec.parameters if p.pilot is None}
    overrides = {**spec.overrides, **scenario_values}
    runs = []
    for r in range(spec.seeds_per_trial):
        seed = replication_seed(spec.seed, r)
        for pilot in [None, *range(len(spec.pilots))]:
            strategies = [] if pilot is None else _pilot_strategies(spec, pilot, params)
            key = _key(spec.scenario_sha256, overrides, strategies, seed, spec.days, code)
            runs.append(Run(key, spec.scenario, overrides, strategies, seed, spec.days, r,
                            pilot))
    return runs


def _pilot_strategies(spec: CalibrationSpec, pilot: int, params: dict[str, Any]) -> list[dict]:
    strategies = [dict(s) for s in spec.pilots[pilot].strategies]
    for p in spec.parameters:
        where = p.pilot
        if where is not None and where[0] == pilot:
            strategies[where[1]][where[2]] = params[p.name]
    return strategies


def load_run(out: Path, key: str) -> pd.DataFrame:
    return pd.read_parquet(Path(out) / "cells" / f"{key}.parquet")


def _distributions(parameters: list[Parameter]) -> dict:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {p.name: IntDistribution(int(p.low), int(p.high), log=p.log) if p.integer
            else FloatDistribution(p.low, p.high, log=p.log) for p in parameters}


def run_search(spec: CalibrationSpec, out: Path, executor: str = "serial",
               workers: int | None = None, scheduler: str | None = None,
               on_trial: Callable[[Trial], None] | None = None) -> list[Trial]:
    """Run ``spec.trials`` trials (those already on disk are read, not run again).

    Parameters
    ----------
    spec : CalibrationSpec
        The checked calibration (:func:`sim.calibration.spec.load_calibration`).
    out : Path
        Folder holding ``cells/``; the caller holds its lock.
    executor, workers, scheduler
        Where runs go (:func:`sim.experiment.executors.execute`).
    on_trial : callable, optional
        Called with each finished trial, in trial order (progress, tables).

    Returns
    -------
    list of Trial
        In trial order.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C; the runs finished so far are kept.

    Notes
    -----
    TPE (Bergstra et al. 2011), Optuna's ``TPESampler(seed, multivariate=True,
    constant_liar=True)``: the first ``min(10, trials)`` trials are drawn at random
    (its ``n_startup_trials``), later ones where the density of good trials over bad
    ones is highest; multivariate so that correlated parameters are proposed together.

    References
    ----------
    Bergstra, Bardenet, Bengio & Kegl (2011), Algorithms for hyper-parameter
    optimization, NeurIPS. Akiba et al. (2019), Optuna, KDD.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=spec.seed, multivariate=True, constant_liar=True,
                                         n_startup_trials=min(10, spec.trials))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    dists = _distributions(spec.parameters)
    code = code_hash()
    finished: list[Trial] = []
    while len(finished) < spec.trials:
        asked = [study.ask(dists) for _ in range(min(spec.batch, spec.trials - len(finished)))]
        trials = evaluate(spec, out, [(t.number, t.params) for t in asked], code, executor,
                          workers, scheduler)
        for t, trial in zip(asked, trials, strict=True):
            if np.isfinite(trial.loss):
                study.tell(t, trial.loss)
            else:
                study.tell(t, state=optuna.trial.TrialState.FAIL)
            finished.append(trial)
            if on_trial is not None:
                on_trial(trial)
    return finished


def probe_bounds(spec: CalibrationSpec, out: Path, best: dict[str, Any], first: int,
                 executor: str = "serial", workers: int | None = None,
                 scheduler: str | None = None) -> list[Trial]:
    """Two more trials per parameter: the best values with that parameter at its lower,
    then its upper bound (numbered from ``first``). A parameter both of whose probes
    fit as well as the best (:func:`sim.calibration.fit.indistinguishable`) is not
    informed by the targets anywhere within its bounds."""
    batch = []
    for p in spec.parameters:
        for value in (p.low, p.high):
            batch.append((first + len(batch),
                          {**best, p.name: int(value) if p.integer else value}))
    return evaluate(spec, out, batch, code_hash(), executor, workers, scheduler)


def evaluate(spec: CalibrationSpec, out: Path, batch: list[tuple[int, dict[str, Any]]],
             code: str, executor: str = "serial", workers: int | None = None,
             scheduler: str | None = None) -> list[Trial]:
    """Run the trials ``batch`` ((number, values) pairs) whose runs are not on disk yet
    and score them all, in order."""
    cells = Path(out) / "cells"
    cells.mkdir(parents=True, exist_ok=True)
    errors: dict[str, str] = {}
    runs = [trial_runs(spec, params, code) for _n, params in batch]
    todo = list({r.key: r for rs in runs for r in rs
                 if not (cells / f"{r.key}.parquet").exists()}.values())

    def on_done(run: Run, frame: pd.DataFrame | None, error: str | None) -> None:
        if error is None:
            atomic_write_parquet(cells / f"{run.key}.parquet", frame)
        else:
            errors[run.key] = error.strip().splitlines()[-1]
            atomic_write_bytes(cells / f"{run.key}.error.txt", error.encode())
            log.error("a run of the calibration failed: %s", errors[run.key])

    execute(run_cell, todo, on_done, executor=executor, workers=workers, scheduler=scheduler)
    return [_evaluate(spec, out, n, params, trial_runs_, errors)
            for (n, params), trial_runs_ in zip(batch, runs, strict=True)]


def _evaluate(spec: CalibrationSpec, out: Path, number: int, params: dict, runs: list[Run],
              errors: dict[str, str]) -> Trial:
    failed = [errors[r.key] for r in runs if r.key in errors]
    n_targets = len(spec.all_targets)
    if failed:
        nan = np.full(spec.seeds_per_trial, np.nan)
        return Trial(number, params, np.full((spec.seeds_per_trial, n_targets), np.nan),
                     float("nan"), nan, runs, failed[0])
    y = np.empty((spec.seeds_per_trial, n_targets))
    for r in range(spec.seeds_per_trial):
        mine = [run for run in runs if run.replication == r]
        base = load_run(out, mine[0].key)
        pilots = [load_run(out, run.key) for run in mine[1:]]
        y[r] = observe(spec, base, pilots)
    loss, seed_losses = trial_loss(spec, y)
    return Trial(number, params, y, loss, seed_losses, runs)
