"""The results folder of an experiment: one atomic file per finished cell.

Layout of OUT::

    manifest.json             spec, spec hash, seed, versions, status of every cell
    cells/<cell>.kpis.parquet     written last: its presence means the cell is done
    cells/<cell>.ledger.parquet
    cells/<cell>.state.parquet    who carries each chain's flow at the end
    cells/<cell>.events.parquet   strategy events (sim/events.py)
    cells/<cell>.error.txt        a cell that raised, with its traceback
    kpis.parquet, ledger.parquet, summary.csv/.parquet, cost_effectiveness.csv, ...

A rerun with the same OUT skips finished cells, so a run killed at any moment
(SIGKILL included) resumes with nothing lost or duplicated. A folder holding
another experiment's results (a different spec hash), or results written by
different simulator code (a different code hash), is refused rather than mixed.
Reading results back for a report does not run anything, so it skips the code check.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.config import ConfigError
from sim.experiment.spec import Cell, ExperimentSpec
from sim.results import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_parquet,
    code_hash,
    package_versions,
)

__all__ = ["ResultsStore"]


class ResultsStore:
    def __init__(self, out: Path, spec: ExperimentSpec, resume_check: bool = True,
                 read_only: bool = False):
        self.out = Path(out)
        self.spec = spec
        self.code = code_hash()
        self.cells_dir = self.out / "cells"
        manifest = self.out / "manifest.json"
        if manifest.exists():
            old = json.loads(manifest.read_text())
            if old.get("spec_hash") != spec.hash:
                raise ConfigError("out", str(self.out), "an empty folder or one holding this "
                                  f"experiment's results (it holds spec {old.get('spec_hash')}, "
                                  f"this is {spec.hash})")
            if resume_check and old.get("code_hash") != self.code:
                raise ConfigError("out", str(self.out), "a folder written by this version of "
                                  f"the simulator (it was written by code {old.get('code_hash')}, "
                                  f"this is {self.code}): delete it or choose another --out")
            self.status = old.get("cells", {})
        else:
            self.status = {}
        if not read_only:
            self.cells_dir.mkdir(parents=True, exist_ok=True)

    def is_done(self, cell: Cell) -> bool:
        return self._path(cell, "kpis").exists()

    def _path(self, cell: Cell, what: str) -> Path:
        return self.cells_dir / f"{cell.id}.{what}.parquet"

    def save(self, cell: Cell, kpis: pd.DataFrame, ledger: pd.DataFrame,
             state: pd.DataFrame, events: pd.DataFrame) -> None:
        """Write a finished cell: ledger, state and events first, KPIs last (they mark
        it done)."""
        atomic_write_parquet(self._path(cell, "ledger"), ledger)
        atomic_write_parquet(self._path(cell, "state"), state)
        atomic_write_parquet(self._path(cell, "events"), events)
        atomic_write_parquet(self._path(cell, "kpis"), kpis)
        (self.cells_dir / f"{cell.id}.error.txt").unlink(missing_ok=True)
        self.status[cell.id] = "done"

    def save_error(self, cell: Cell, text: str) -> None:
        atomic_write_bytes(self.cells_dir / f"{cell.id}.error.txt", text.encode())
        self.status[cell.id] = "error: " + text.strip().splitlines()[-1][:300]

    def write_manifest(self, cells: list[Cell]) -> None:
        for cell in cells:
            if self.is_done(cell):
                self.status[cell.id] = "done"
            self.status.setdefault(cell.id, "pending")
        atomic_write_json(self.out / "manifest.json", {
            "kind": "experiment",
            "name": self.spec.name,
            "spec": self.spec.source,
            "spec_hash": self.spec.hash,
            "code_hash": self.code,
            "seed": self.spec.seed,
            "versions": package_versions(),
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "cells": self.status,
        })

    def load(self, cells: list[Cell]) -> tuple[pd.DataFrame, ...]:
        """All finished cells' KPIs, ledgers, states and events, in the experiment's
        cell order."""
        done = [c for c in cells if self.is_done(c)]
        if not done:
            return pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
        return tuple(pd.concat([pd.read_parquet(self._path(c, what)) for c in done],
                               ignore_index=True)
                     for what in ("kpis", "ledger", "state", "events"))
