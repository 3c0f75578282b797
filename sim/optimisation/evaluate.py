"""Model runs of an optimisation: each allocation in replication r, stored as it finishes.

An *evaluation* is one model run: strategies (the allocation) in replication r, with
seed :func:`sim.experiment.spec.replication_seed` (seed, r), the same for every
allocation and for the do-nothing baseline (common random numbers). It keeps the
KPIs' horizon values (:func:`sim.experiment.analysis.horizon_values`). Each is
keyed by a digest of its strategies and seed and appended to
OUT/replications.parquet as it finishes (atomic rewrite), so a rerun with the same
OUT reads finished evaluations back instead of running them again. Runs go to the
experiments' executors (:func:`sim.experiment.executors.execute`); results are put
in request order, so they do not depend on the executor.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment.analysis import horizon_values
from sim.experiment.executors import execute
from sim.experiment.runner import run_cell
from sim.experiment.spec import Cell, ExperimentSpec, replication_seed
from sim.metrics import KPI_NAMES
from sim.results import atomic_write_parquet

__all__ = ["Request", "Evaluator", "PHASES"]

PHASES = ("baseline", "search", "selection", "fresh")  # the order rows are stored in


@dataclass(frozen=True)
class Request:
    """One evaluation wanted: who asks (phase, candidate name, trial number or -1),
    the strategies and the replication."""

    phase: str
    candidate: str
    trial: int
    strategies: tuple[dict[str, Any], ...]
    replication: int


def _run(job: tuple[Cell, str, int]) -> dict[str, float]:
    """One model run (:func:`run_cell`); its KPIs' horizon values."""
    kpis = run_cell(job)[0]
    return horizon_values(kpis).iloc[0][list(KPI_NAMES)].astype(float).to_dict()


class Evaluator:
    """Runs and remembers evaluations under ``out`` (see the module docstring).

    Parameters
    ----------
    experiment : ExperimentSpec
        The world (scenario, overrides, days, seed).
    out : Path
        The optimisation's folder; OUT/replications.parquet is read back if present.
    executor, workers, scheduler : as :func:`sim.experiment.run_experiment`.
    bar : tqdm or None
        Progress bar advanced once per finished run.
    """

    def __init__(self, experiment: ExperimentSpec, out: Path, executor: str = "serial",
                 workers: int | None = None, scheduler: str | None = None, bar=None):
        self.experiment, self.path = experiment, Path(out) / "replications.parquet"
        self.executor, self.workers, self.scheduler, self.bar = (executor, workers,
                                                                  scheduler, bar)
        self.rows: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for row in pd.read_parquet(self.path).to_dict("records"):
                self.rows[row["key"]] = row
        self.runs = 0  # model runs this session (read-back ones not counted)

    def key(self, strategies: tuple[dict[str, Any], ...], replication: int) -> str:
        seed = replication_seed(self.experiment.seed, replication)
        blob = json.dumps([list(strategies), seed], sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def values(self, requests: list[Request]) -> pd.DataFrame:
        """KPI horizon values (one column per KPI) of each request, in order, running
        those not stored first.

        Raises
        ------
        RuntimeError
            A model run failed (its traceback's last line); finished runs are kept.
        KeyboardInterrupt
            On Ctrl-C, once the workers are stopped; finished runs are kept.
        """
        self.run(requests)
        rows = [self.rows[self.key(r.strategies, r.replication)] for r in requests]
        return pd.DataFrame(rows, columns=list(KPI_NAMES)).astype(float)

    def run(self, requests: list[Request]) -> None:
        todo: dict[str, Request] = {}
        for r in requests:
            key = self.key(r.strategies, r.replication)
            if key not in self.rows and key not in todo:
                todo[key] = r
        if not todo:
            return
        exp = self.experiment
        # a cell's variant is its key: how a finished run finds its request
        jobs = [(Cell(key, 0, r.replication, replication_seed(exp.seed, r.replication),
                      exp.overrides, [dict(s) for s in r.strategies], (0,)),
                 exp.scenario, exp.days) for key, r in todo.items()]
        errors = []

        def on_done(job, result, error):
            key = job[0].variant
            r = todo[key]
            if error is not None:
                errors.append(f"{r.candidate} r{r.replication}: "
                              f"{error.strip().splitlines()[-1]}")
                return
            self.rows[key] = {"key": key, "phase": r.phase,
                              "candidate": r.candidate, "trial": r.trial,
                              "replication": r.replication, "seed": job[0].seed, **result}
            self.runs += 1
            self.save()
            if self.bar is not None:
                self.bar.update(1)

        if self.executor == "processes":
            import sim.model  # noqa: F401  (imported once here, not in every forked worker)
        execute(_run, jobs, on_done, executor=self.executor, workers=self.workers,
                scheduler=self.scheduler)
        if errors:
            raise RuntimeError(f"{len(errors)} model run(s) failed, e.g. {errors[0]}")

    def save(self) -> None:
        """Write every stored evaluation, sorted by phase, trial, candidate, replication
        (the same bytes whatever order they finished in)."""
        frame = pd.DataFrame(list(self.rows.values()))
        frame["_phase"] = frame["phase"].map(PHASES.index)
        frame = frame.sort_values(["_phase", "trial", "candidate", "replication", "key"])
        atomic_write_parquet(self.path, frame.drop(columns="_phase").reset_index(drop=True))
