"""Run a compiled kernel over fixed parts of its range, on up to two threads.

The day's kernels release the GIL (numba ``nogil``), so the parts of one
kernel call can run on two cores at once. The split is fixed: a range is
always cut into the same ``PARTS`` pieces whatever the number of threads, and
each piece computes exactly what the whole loop computes there, so the
results are the same bytes on one thread or two (tested).

One process uses ``threads()`` threads: by default as many as it has cores,
up to ``PARTS``. Experiments that run cells in several worker processes set
it to 1 in each worker, so that workers do not compete for cores
(sim/experiment/executors.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["PARTS", "MIN_PARALLEL", "cores", "parts", "run_parts", "map_parts", "set_threads",
           "threads"]

PARTS = 2  # pieces a range is cut into, whatever the number of threads
# Below this many items (customers or events) the parts run one after the other:
# handing a part to another thread costs some 30 microseconds, more than a small
# part's work (20,000 customers x 60 days took 0.28 s on two threads, 0.21 s on one).
MIN_PARALLEL = 50_000

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads() -> int:
    """Threads a kernel call may use in this process."""
    return _threads if _threads is not None else max(1, min(PARTS, cores()))


def set_threads(n: int | None) -> None:
    """Use ``n`` threads per kernel call (1: run the parts one after another;
    None: the default, one per core up to ``PARTS``)."""
    global _threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        from sim.config import ConfigError

        raise ConfigError("threads", n, "an integer >= 1, or None for one per core")
    _threads = n


def parts(n: int) -> list[tuple[int, int]]:
    """The fixed pieces [lo, hi) of a range of length n."""
    cuts = [n * k // PARTS for k in range(PARTS + 1)]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def run_parts(kernel: Callable, args: Sequence[Sequence[Any]], size: int) -> list[Any]:
    """``kernel(*a)`` for each argument list in ``args``, parts of a range of
    ``size`` items; their results in order (in parallel from MIN_PARALLEL items)."""
    if size < MIN_PARALLEL or threads() == 1 or len(args) == 1:
        return [kernel(*a) for a in args]
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=PARTS - 1, thread_name_prefix="sim-kernel")
    others = [_pool.submit(kernel, *a) for a in args[1:]]
    first = kernel(*args[0])
    return [first] + [f.result() for f in others]


def map_parts(task: Callable, n: int, rng=None) -> list[Any]:
    """``task(a, b)`` for each fixed part [a, b) of range(n), on up to two threads.

    With ``rng`` (a numpy Generator), ``task(stream, a, b)``: part k draws from
    the k-th of ``PARTS`` streams spawned from ``rng``, so the numbers a part
    sees do not depend on the thread count either (numpy draws release the
    GIL, so the parts draw in parallel too).
    """
    if rng is None:
        return run_parts(task, parts(n), n)
    streams = rng.spawn(PARTS)
    return run_parts(task, [(streams[k], a, b) for k, (a, b) in enumerate(parts(n))], n)


def _stop_pool() -> None:
    """Before a fork: end the pool's thread, so that the child starts with one
    thread (forking a multi-threaded process can deadlock) and both sides
    start a new pool when they next need one."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_stop_pool)
