"""The results folder of an experiment: one atomic file per finished cell.

Layout of OUT::

    .lock                     held by the run writing OUT (sim/results.py, ``locked``)
    manifest.json             spec, spec hash, seed, versions, status of every cell, and
                              each replication's [uncertainty] draw (``draws``)
    cells/<cell>.kpis.parquet     written last: its presence means the cell is done
    cells/<cell>.ledger.parquet
    cells/<cell>.state.parquet    who carries each chain's flow at the end
    cells/<cell>.events.parquet   strategy events (sim/events.py)
    cells/<cell>.error.txt        a cell that raised, with its traceback
    kpis.parquet, ledger.parquet, summary.csv/.parquet, cost_effectiveness.csv, ...

``<cell>`` is the variant's name made safe (:func:`sim.results.safe_name`), the
point and the replication. A variant no swept value touches is stored once per
replication, as point 0 (``Cell.points``); reading repeats its rows under every
point, so the tables read as if it had run at each. A rerun with the same OUT
skips finished cells, so a run killed at any moment (SIGKILL included) resumes
with nothing lost or duplicated. A folder holding another experiment's results (a
different spec hash, which covers the scenario file's content), results written
by different simulator code (a different code hash), or a single run, is refused
rather than mixed, with a message saying to add ``--fresh`` (delete those
results) or choose another folder. Reading
results back for a report runs nothing, so it skips those checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.config import ConfigError
from sim.experiment.spec import Cell, ExperimentSpec
from sim.results import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_parquet,
    check_not_foreign,
    clear_outputs,
    code_hash,
    package_versions,
    read_manifest,
)

__all__ = ["ResultsStore"]

_FRESH = "add --fresh to delete its results and start again, or choose another --out"


class ResultsStore:
    """Cells of one experiment in OUT. To write, hold OUT's lock (``locked``) first:
    the manifest is checked, and with ``fresh`` the previous results deleted, here."""

    def __init__(self, out: Path, spec: ExperimentSpec, read_only: bool = False,
                 fresh: bool = False):
        self.out = Path(out)
        self.spec = spec
        self.code = code_hash()
        self.cells_dir = self.out / "cells"
        self.status: dict[str, str] = {}
        if read_only:
            self.status = read_manifest(self.out).get("cells", {})
            return
        check_not_foreign(self.out)
        if fresh:
            clear_outputs(self.out)
        elif (self.out / "manifest.json").exists():
            self.status = self._check(self.out)
        self.cells_dir.mkdir(parents=True, exist_ok=True)

    def _check(self, out: Path) -> dict[str, str]:
        """The status of a folder this run may resume; ConfigError saying what to do if
        it holds something else."""
        try:
            old = read_manifest(out)
        except ConfigError as exc:
            raise ConfigError("out", str(out), f"{exc.allowed}: {_FRESH}") from None
        if old.get("kind") != "experiment":
            raise ConfigError("out", str(out), f"a folder for this experiment (it holds a "
                              f"single run: {_FRESH})")
        if old.get("spec_hash") != self.spec.hash:
            raise ConfigError("out", str(out), "an empty folder or one holding this "
                              f"experiment's results (it holds spec {old.get('spec_hash')}, "
                              f"this is {self.spec.hash}; the spec covers the file, the "
                              f"overrides and the scenario's content: {_FRESH})")
        if old.get("code_hash") != self.code:
            raise ConfigError("out", str(out), "a folder written by this version of the "
                              f"simulator (it was written by code {old.get('code_hash')}, "
                              f"this is {self.code}: {_FRESH})")
        return dict(old.get("cells", {}))

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
            "scenario_sha256": self.spec.scenario_sha256,
            "code_hash": self.code,
            "seed": self.spec.seed,
            "versions": package_versions(),
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "cells": self.status,
            **({"draws": self.spec.draws().reset_index().to_dict("records")}
               if self.spec.uncertainty is not None else {}),
        })

    def load(self, cells: list[Cell]) -> tuple[pd.DataFrame, ...]:
        """All finished cells' KPIs, ledgers, states and events, ordered by point, then
        in the experiment's cell order; a cell standing for several points
        (``Cell.points``) is repeated under each. ConfigError naming a cell file that
        cannot be read."""
        done = [c for c in cells if self.is_done(c)]
        if not done:
            return pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
        return tuple(self._concat(done, what) for what in ("kpis", "ledger", "state", "events"))

    def _concat(self, done: list[Cell], what: str) -> pd.DataFrame:
        if all(len(c.points) == 1 for c in done):
            return pd.concat([self._read(c, what) for c in done], ignore_index=True)
        frames = []
        for cell in done:
            frame = self._read(cell, what)
            frames += [frame.assign(point=p) for p in cell.points]
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values("point", kind="stable", ignore_index=True)

    def _read(self, cell: Cell, what: str) -> pd.DataFrame:
        path = self._path(cell, what)
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as exc:  # pyarrow's errors are both
            raise ConfigError("out", str(path), "a readable cell file (delete the cell's "
                              f"files and rerun to compute it again; {type(exc).__name__})"
                              ) from None
