"""Experiment throughput with 1 and with 2 worker processes.

Runs the same 8 cells (20,000 customers x 365 days, half of them with a
promotion) through the process executor with ``workers=1`` and ``workers=2``,
``--repeats`` times each, alternating, and reports cells per second. The
executor phase is timed on its own (that is what workers parallelise); the
end-to-end time of ``run_experiment``, which adds the serial analysis of the
finished cells, is reported beside it. Writes benchmarks/results/runner.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sim.experiment import load_experiment, run_experiment
from sim.experiment.executors import execute
from sim.experiment.runner import run_cell

SPEC = {
    "name": "bench-runner", "days": 365, "replications": 4, "seed": 1,
    "overrides": {"population.customers": 20_000},
    "variants": [{"name": "baseline"},
                 {"name": "promo", "strategies": [{"kind": "promotion", "type": "cashback",
                                                   "start_day": 10, "duration_days": 60}]}],
}


def cells_phase(workers: int) -> float:
    spec = load_experiment(SPEC)
    jobs = [(c, spec.scenario, spec.days) for c in spec.cells()]
    done = []
    t = time.perf_counter()
    execute(run_cell, jobs, lambda job, res, err: done.append(err is None),
            executor="processes", workers=workers)
    elapsed = time.perf_counter() - t
    assert all(done) and len(done) == len(jobs)
    return elapsed


def end_to_end(workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        run_experiment(SPEC, out=out, executor="processes", workers=workers)
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "runner.json"))
    args = parser.parse_args()
    phase: dict[int, list[float]] = {1: [], 2: []}
    whole: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in (1, 2):
            phase[workers].append(cells_phase(workers))
            whole[workers].append(end_to_end(workers))
    cells = 2 * SPEC["replications"]
    med = {w: statistics.median(t) for w, t in phase.items()}
    med_whole = {w: statistics.median(t) for w, t in whole.items()}
    result = {"cells": cells, "customers": 20_000, "days": SPEC["days"],
              "cells_phase_s": phase, "end_to_end_s": whole,
              "median_s": med, "median_end_to_end_s": med_whole,
              "cells_per_s": {w: cells / s for w, s in med.items()},
              "speedup_2_vs_1": med[1] / med[2],
              "speedup_2_vs_1_end_to_end": med_whole[1] / med_whole[2]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"cells: 1 worker {med[1]:.1f} s, 2 workers {med[2]:.1f} s: "
          f"{result['speedup_2_vs_1']:.2f}x; end to end (with the serial analysis): "
          f"{med_whole[1]:.1f} s vs {med_whole[2]:.1f} s: "
          f"{result['speedup_2_vs_1_end_to_end']:.2f}x (medians of {args.repeats}); "
          f"wrote {args.out}")


if __name__ == "__main__":
    main()
