"""Local worker processes that survive losing a worker: one forked process per cell.

Each cell runs in its own child process and sends its outcome back through a pipe.
The parent waits on the pipes: a pipe that closes without an outcome is a lost
worker (killed by the out-of-memory killer, SIGKILL, a crash in compiled code).
That cell is run once more; lost again, it is recorded as failed, with how its
worker ended, and the others go on. Nothing waits on a process that is gone, so
a lost worker never hangs the run.

On Ctrl-C (KeyboardInterrupt) or any error in the parent, every child is
terminated (then killed after a grace period) before the exception goes on;
children ignore SIGINT themselves, so the terminal's Ctrl-C reaches only the
parent. On Linux a child also dies with its parent (``PR_SET_PDEATHSIG``), so
killing the main process leaves no orphan workers.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any

__all__ = ["run_processes", "RETRIES", "GRACE_SECONDS"]

log = logging.getLogger(__name__)

RETRIES = 1          # runs of a cell whose worker was lost, after the first
GRACE_SECONDS = 2.0  # from SIGTERM to SIGKILL when stopping workers


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent ends; exit if it already has."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pipe's EOF ends it later
        pass
    if os.getppid() != parent:
        os._exit(1)


def _child(guarded: Callable, fn: Callable, cell: Any, threads: int, conn, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops its workers
    _die_with_parent(parent)
    outcome = guarded(fn, cell, threads)
    try:
        conn.send(outcome)
    except Exception:  # an outcome that does not pickle
        conn.send((None, traceback.format_exc()))
    conn.close()


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def run_processes(guarded: Callable, fn: Callable, cells: Sequence[Any], on_done: Callable,
                  workers: int, threads: int, context) -> None:
    """``on_done(cell, result, error)`` for every cell, run as ``guarded(fn, cell,
    threads)`` in at most ``workers`` child processes at a time (module docstring)."""
    pending = deque(cells)
    lost: dict[int, int] = {}           # index into cells -> times its worker was lost
    index = {id(c): i for i, c in enumerate(cells)}
    running: dict[Any, tuple[Any, Any]] = {}  # pipe -> (process, cell)
    try:
        while pending or running:
            while pending and len(running) < workers:
                cell = pending.popleft()
                receive, send = context.Pipe(duplex=False)
                proc = context.Process(target=_child, daemon=True, args=(
                    guarded, fn, cell, threads, send, os.getpid()))
                proc.start()
                send.close()  # the child holds the only writing end: EOF when it ends
                running[receive] = (proc, cell)
            for conn in wait(list(running)):
                proc, cell = running.pop(conn)
                try:
                    outcome = conn.recv()
                except (EOFError, OSError):
                    outcome = None
                conn.close()
                proc.join()
                if outcome is not None:
                    on_done(cell, *outcome)
                    continue
                i = index[id(cell)]
                lost[i] = lost.get(i, 0) + 1
                how = _how_it_ended(proc.exitcode)
                if lost[i] <= RETRIES:
                    log.warning("a worker was lost (%s); running its cell again", how)
                    pending.appendleft(cell)
                else:
                    on_done(cell, None, f"WorkerLost: the process running this cell ended "
                            f"without a result {lost[i]} times ({how}; often the "
                            "out-of-memory killer)\n")
    finally:
        _stop([proc for proc, _ in running.values()])


def _stop(procs: list) -> None:
    """Terminate the children, kill those still alive after the grace period, reap all."""
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
