"""Where cells run: in this process, in local worker processes, or on Dask.

Each executor calls ``fn(cell)`` for every cell and hands each outcome to
``on_done(cell, result, error)`` in this process, as soon as it finishes.
A cell that raises is reported with its traceback and the others go on; a
worker process that is lost is replaced and its cell run again, then recorded
as failed (sim/experiment/pool.py; Dask retries on its own). Results do not
depend on the executor: every cell carries its own seed. Worker processes
share the machine's cores: each runs its kernels on its share of them
(sim/parallel.py), which changes no result.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from sim import parallel
from sim.config import ConfigError, Options
from sim.experiment.pool import run_processes

__all__ = ["EXECUTORS", "execute", "check_executor"]

EXECUTORS = ("serial", "processes", "dask")


def _guarded(fn: Callable, cell: Any, threads: int | None = None) -> tuple[Any, str | None]:
    if threads is not None:  # in a worker process
        parallel.set_threads(threads)
    try:
        return fn(cell), None
    except Exception:  # a failing cell is recorded, not fatal
        return None, traceback.format_exc()


def check_executor(executor: str, workers: int | None) -> None:
    """ConfigError for an unknown executor, a worker count below 1, or the dask
    executor started at a script's top level (see :func:`_check_main_guard`)."""
    if executor not in EXECUTORS:
        raise ConfigError("executor", executor, Options(EXECUTORS).describe())
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ConfigError("workers", workers, "an integer >= 1")
    if executor == "dask":
        _check_main_guard()


def execute(fn: Callable, cells: Sequence[Any], on_done: Callable, executor: str = "processes",
            workers: int | None = None, scheduler: str | None = None) -> None:
    """Run ``fn`` on every cell with the chosen executor (see module docstring)."""
    check_executor(executor, workers)
    workers = workers or parallel.cores()
    if executor == "serial" or not cells:
        for cell in cells:
            on_done(cell, *_guarded(fn, cell))
    elif executor == "processes":
        n_workers = min(workers, len(cells))
        share = max(1, parallel.cores() // n_workers)
        run_processes(_guarded, fn, cells, on_done, n_workers, share, _process_context())
    else:
        _execute_dask(fn, cells, on_done, workers, scheduler)


def _process_context():
    """``fork`` where available: workers only need ``fn`` and what this process has
    imported, and unlike ``spawn`` (which Mesa's batchrunner makes the global default
    on import) it does not re-import the caller's ``__main__`` (a script without a main
    guard, or code typed at a prompt)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _check_main_guard() -> None:
    """Dask's local workers start by re-importing the calling script: a script that
    starts the dask executor at its top level, not under ``if __name__ ==
    "__main__":``, would start it again in every worker. Refuse that in one line."""
    import ast
    import sys

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None:
        return  # a prompt or notebook: nothing is re-imported
    frame = sys._getframe()  # find the script's top-level line now running
    while frame is not None and not (frame.f_globals is main.__dict__
                                     and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return
    for node in tree.body:
        if (isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
                and node.lineno <= frame.f_lineno <= (node.end_lineno or node.lineno)):
            return
    raise ConfigError("executor", "dask", "started under `if __name__ == \"__main__\":` in "
                      f"a script ({path} starts it at its top level, line {frame.f_lineno}; "
                      "dask's workers re-import the script), or use --executor processes")


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
