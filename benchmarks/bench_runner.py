"""Experiment throughput: cells per second with 1 and with 2 worker processes.

Runs the same 8-cell experiment (20,000 customers x 120 days) with
``--workers 1`` and ``--workers 2`` in one session, ``--repeats`` times each,
alternating, and writes benchmarks/results/runner.json with the medians and
their ratio (the speed-up).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sim.experiment import run_experiment

SPEC = {
    "name": "bench-runner", "days": 120, "replications": 4, "seed": 1,
    "overrides": {"population.customers": 20_000},
    "variants": [{"name": "baseline"},
                 {"name": "promo", "strategies": [{"kind": "promotion", "type": "cashback",
                                                   "start_day": 10, "duration_days": 60}]}],
}


def once(workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        run_experiment(SPEC, out=out, executor="processes", workers=workers)
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "runner.json"))
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in (1, 2):
            times[workers].append(once(workers))
    cells = 2 * SPEC["replications"]
    med = {w: statistics.median(t) for w, t in times.items()}
    result = {"cells": cells, "customers": 20_000, "days": SPEC["days"], "seconds": times,
              "median_s": med, "cells_per_s": {w: cells / s for w, s in med.items()},
              "speedup_2_vs_1": med[1] / med[2]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"1 worker {med[1]:.1f} s, 2 workers {med[2]:.1f} s (medians of {args.repeats}): "
          f"speed-up {result['speedup_2_vs_1']:.2f}x; wrote {args.out}")


if __name__ == "__main__":
    main()
