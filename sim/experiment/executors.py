"""Where cells run: in this process, in local worker processes, or on Dask.

Each executor calls ``fn(cell)`` for every cell and hands each outcome to
``on_done(cell, result, error)`` in this process, as soon as it finishes.
A cell that raises is reported with its traceback and the others go on.
Results do not depend on the executor: every cell carries its own seed.
Worker processes share the machine's cores: each runs its kernels on its
share of them (sim/parallel.py), which changes no result.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from sim import parallel
from sim.config import ConfigError, Options

__all__ = ["EXECUTORS", "execute"]

EXECUTORS = ("serial", "processes", "dask")


def _guarded(fn: Callable, cell: Any, threads: int | None = None) -> tuple[Any, str | None]:
    if threads is not None:  # in a worker process
        parallel.set_threads(threads)
    try:
        return fn(cell), None
    except Exception:  # a failing cell is recorded, not fatal
        return None, traceback.format_exc()


def execute(fn: Callable, cells: Sequence[Any], on_done: Callable, executor: str = "processes",
            workers: int | None = None, scheduler: str | None = None) -> None:
    """Run ``fn`` on every cell with the chosen executor (see module docstring)."""
    if executor not in EXECUTORS:
        raise ConfigError("executor", executor, Options(EXECUTORS).describe())
    if workers is not None and workers < 1:
        raise ConfigError("workers", workers, "an integer >= 1")
    workers = workers or parallel.cores()
    if executor == "serial" or not cells:
        for cell in cells:
            on_done(cell, *_guarded(fn, cell))
    elif executor == "processes":
        n_workers = min(workers, len(cells))
        share = max(1, parallel.cores() // n_workers)
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=_process_context()) as pool:
            futures = {pool.submit(_guarded, fn, cell, share): cell for cell in cells}
            for future in as_completed(futures):
                on_done(futures[future], *future.result())
    else:
        _execute_dask(fn, cells, on_done, workers, scheduler)


def _process_context():
    """``fork`` where available: workers only need ``fn``, and unlike ``spawn`` (which
    Mesa's batchrunner makes the global default on import) it does not re-import the
    caller's ``__main__`` (a script without a main guard, or code typed at a prompt)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _execute_dask(fn, cells, on_done, workers: int, scheduler: str | None) -> None:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ConfigError("executor", "dask", "installed first: pip install -e .[distributed]"
                          ) from None
    cluster = None
    share = 1  # a remote cluster's workers may share their machines' cores
    if scheduler:
        client = Client(scheduler)
    else:
        share = max(1, parallel.cores() // workers)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {client.submit(_guarded, fn, cell, share, pure=False): cell for cell in cells}
        for future in dask_completed(list(futures)):
            on_done(futures[future], *future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
