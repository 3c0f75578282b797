"""Run an experiment: every cell on an executor, written as it finishes.

``run_experiment("experiments/demo.toml", out="results/demo")`` returns a
:class:`Results` with ``.kpis``, ``.summary``, ``.cost`` and ``.compare(kpi)``.
A rerun with the same ``out`` skips the cells already written. With an
``[uncertainty]`` block it also has ``.robustness`` and ``.discovery``
(sim/experiment/robustness.py, sim/experiment/discovery.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import ConfigError
from sim.experiment.analysis import cost_effectiveness, horizon_values, paired, summarize
from sim.experiment.executors import check_executor, execute
from sim.experiment.ranking import rank
from sim.experiment.spec import Cell, ExperimentSpec, load_experiment
from sim.experiment.store import ResultsStore
from sim.results import (
    atomic_write_bytes,
    atomic_write_parquet,
    locked,
    read_manifest,
    safe_name,
)

__all__ = ["run_experiment", "run_cell", "Results", "load_results"]

log = logging.getLogger(__name__)

HEADLINE_KPIS = ("app_mau", "accounts", "debit_cards", "retail_deposits", "corporate_deposits",
                 "merchants_on_bank", "fee_income", "strategy_spend", "net_contribution")


def run_cell(job: tuple[Cell, str, int]) -> tuple[pd.DataFrame, ...]:
    """Simulate one cell; returns its KPI table, ledger, end-of-run ecosystem
    state (model.ecosystem_state) and strategy events (model.events), each
    tagged with the cell's keys; the KPI table also has a column per uncertain
    parameter holding the cell's draw (``Cell.draw``)."""
    from sim.model import EcosystemModel

    cell, scenario, days = job
    model = EcosystemModel(scenario, seed=cell.seed, overrides=cell.overrides,
                           strategies=cell.strategies)
    kpis = model.run(days).reset_index()
    ledger = model.ledger
    state = model.ecosystem_state()
    events = model.events
    for frame in (kpis, ledger, state, events):
        frame.insert(0, "replication", cell.replication)
        frame.insert(0, "point", cell.point)
        frame.insert(0, "variant", cell.variant)
    for key, value in cell.draw.items():
        kpis[key] = value
    return kpis, ledger, state, events


@dataclass
class Results:
    """What an experiment produced (read back from its folder)."""

    spec: ExperimentSpec
    out: Path
    kpis: pd.DataFrame
    ledger: pd.DataFrame
    state: pd.DataFrame
    events: pd.DataFrame
    summary: pd.DataFrame
    cost: pd.DataFrame
    failed: dict[str, str]
    ranking: pd.DataFrame  # headline KPIs: rank, p_best (sim/experiment/ranking.py)
    pairs: pd.DataFrame    # every two variants: paired difference, Holm-adjusted p
    # [uncertainty] only (empty without): sim/experiment/robustness.py, discovery.py
    robustness: pd.DataFrame = field(default_factory=pd.DataFrame)
    discovery: pd.DataFrame = field(default_factory=pd.DataFrame)
    feature_scores: pd.DataFrame = field(default_factory=pd.DataFrame)

    def compare(self, kpi: str) -> pd.DataFrame:
        """Paired per-replication comparison of ``kpi`` (horizon value) with the baseline."""
        return paired(horizon_values(self.kpis), self.spec.baseline, kpi)


def run_experiment(spec_or_path: ExperimentSpec | str | Path | dict, out: str | Path | None = None,
                   executor: str = "processes", workers: int | None = None,
                   scheduler: str | None = None, quiet: bool = True,
                   overrides: dict[str, Any] | None = None, days: int | None = None,
                   replications: int | None = None, fresh: bool = False) -> Results:
    """Run every unfinished cell of an experiment and write its tables under ``out``.

    Parameters
    ----------
    spec_or_path : ExperimentSpec, path or dict
        The experiment (see :func:`sim.experiment.spec.load_experiment`).
    out : path, optional
        Results folder, default ``results/<name>``.
    executor : {"serial", "processes", "dask"}
        Where cells run; ``workers`` processes (default: the machine's cores);
        ``scheduler`` a Dask address (default: a local cluster).
    quiet : bool
        No progress bar.
    fresh : bool
        Delete what a previous run wrote in ``out`` first (another experiment's
        results, or this one's from other code), instead of refusing the folder.

    Raises
    ------
    ConfigError
        An invalid experiment, executor or worker count, or an ``out`` that is not a
        writable folder, holds other results (without ``fresh``) or is being written
        by another run (its lock is held). Nothing is created before these checks.
    KeyboardInterrupt
        On Ctrl-C, once the workers are stopped; finished cells are kept.
    """
    spec = (spec_or_path if isinstance(spec_or_path, ExperimentSpec)
            else load_experiment(spec_or_path, overrides, days, replications))
    check_executor(executor, workers)
    out = Path(out) if out is not None else Path("results") / safe_name(spec.name)
    with locked(out):
        return _run(spec, out, executor, workers, scheduler, quiet, fresh)


def _run(spec: ExperimentSpec, out: Path, executor: str, workers: int | None,
         scheduler: str | None, quiet: bool, fresh: bool) -> Results:
    store = ResultsStore(out, spec, fresh=fresh)
    cells = spec.cells()
    todo = [c for c in cells if not store.is_done(c)]
    store.write_manifest(cells)
    if len(todo) < len(cells):
        log.info("%s: %d of %d cells already done, running %d", out, len(cells) - len(todo),
                 len(cells), len(todo))
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread in a process that forks workers
    bar = tqdm(total=len(todo), desc=spec.name, unit="cell", disable=quiet)

    def on_done(cell: Cell, result, error: str | None) -> None:
        if error is None:
            store.save(cell, *result)
        else:
            store.save_error(cell, error)
            log.error("cell %s failed: %s", cell.id, error.strip().splitlines()[-1])
        store.write_manifest(cells)
        bar.update(1)

    if executor == "processes":
        import sim.model  # noqa: F401  (imported once here, not in every forked worker)
    try:
        jobs = [(c, spec.scenario, spec.days) for c in todo]
        execute(run_cell, jobs, lambda job, res, err: on_done(job[0], res, err),
                executor=executor, workers=workers, scheduler=scheduler)
    finally:
        bar.close()
    return _finish(spec, out, store, cells)


def _finish(spec: ExperimentSpec, out: Path, store: ResultsStore, cells: list[Cell],
            write: bool = True) -> Results:
    """Analyse the finished cells; with ``write``, store the experiment's tables.

    Reading results back (``write=False``) computes the same tables and writes
    nothing: a results folder is never changed by reading it."""
    kpis, ledger, state, events = store.load(cells)
    failed = {k: v for k, v in store.status.items() if v.startswith("error")}
    order = [v.name for v in spec.variants]
    summary = cost = sensitivity = ranking = pairs = pd.DataFrame()
    robust = boxes = scores = pd.DataFrame()
    if not kpis.empty and kpis["variant"].eq(spec.baseline).any():
        summary = summarize(kpis, spec.baseline, order)
        cost = cost_effectiveness(kpis, spec.baseline, order, spec.headline, spec.seed)
        ranking, pairs = rank(horizon_values(kpis), spec.headline, order, spec.seed)
        if spec.sweep is not None and spec.sweep.method in ("morris", "sobol") and not failed:
            sensitivity = _sensitivity(spec, kpis)
        if spec.uncertainty is not None:
            robust, boxes, scores = _robustness(spec, kpis, order)
    if write and not kpis.empty:
        for name, frame in (("kpis", kpis), ("ledger", ledger), ("state", state),
                            ("events", events)):
            atomic_write_parquet(out / f"{name}.parquet", frame)
        if not summary.empty:
            atomic_write_parquet(out / "summary.parquet", summary)
            atomic_write_bytes(out / "summary.csv", summary.to_csv(index=False).encode())
            atomic_write_bytes(out / "cost_effectiveness.csv", cost.to_csv(index=False).encode())
            atomic_write_bytes(out / "ranking.csv", ranking.to_csv(index=False).encode())
            atomic_write_bytes(out / "ranking_pairs.csv", pairs.to_csv(index=False).encode())
        if not sensitivity.empty:
            atomic_write_bytes(out / "sensitivity.csv", sensitivity.to_csv(index=False).encode())
        if not robust.empty:
            for name, frame in (("robustness", robust), ("discovery", boxes),
                                ("feature_scores", scores)):
                atomic_write_bytes(out / f"{name}.csv", frame.to_csv(index=False).encode())
    return Results(spec, out, kpis, ledger, state, events, summary, cost, failed, ranking,
                   pairs, robust, boxes, scores)


def _robustness(spec: ExperimentSpec, kpis: pd.DataFrame,
                order: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Robustness, PRIM boxes and feature scores of the headline KPIs across the draws."""
    from sim.experiment.discovery import discover
    from sim.experiment.robustness import robustness

    values = horizon_values(kpis)
    boxes, scores = discover(values, spec.draws(), spec.baseline, order, spec.headline,
                             spec.seed, spec.uncertainty.variants)
    return robustness(values, spec.baseline, order, spec.headline), boxes, scores


def _sensitivity(spec: ExperimentSpec, kpis: pd.DataFrame) -> pd.DataFrame:
    """Morris / Sobol indices of each headline KPI's paired difference, per swept variant
    (points in the order the sweep declared its parameters: the order SALib sampled)."""
    from sim.experiment.sensitivity import analyze

    values = horizon_values(kpis)
    points = pd.DataFrame(spec.points()).to_numpy(float)
    frames = []
    for variant in spec.sweep.variants:
        if variant == spec.baseline:
            continue
        for kpi in HEADLINE_KPIS:
            d = paired(values, spec.baseline, kpi)
            y = d[d.variant == variant].groupby("point")["diff"].mean().sort_index().to_numpy()
            table = analyze(spec.sweep, spec.seed, points, y)
            table.insert(0, "kpi", kpi)
            table.insert(0, "variant", variant)
            frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_results(out: str | Path) -> Results:
    """Read an experiment's results folder back (no simulation, nothing written).

    Raises
    ------
    ConfigError
        ``out`` is not an experiment's results folder: no or a corrupt manifest, a
        single run's folder, or an unreadable cell file."""
    out = Path(out)
    manifest = read_manifest(out, "results folder")
    if manifest["kind"] != "experiment":
        raise ConfigError("results folder", str(out), "an experiment's results (it holds a "
                          "single run: read its kpis.parquet, or run an experiment file)")
    if not isinstance(manifest.get("spec"), dict):
        raise ConfigError("results folder", str(out), "a manifest.json with the spec")
    spec = load_experiment(manifest["spec"])
    store = ResultsStore(out, spec, read_only=True)
    return _finish(spec, out, store, spec.cells(), write=False)
