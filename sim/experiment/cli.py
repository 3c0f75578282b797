"""``sim run FILE``: validate, run, summarize, report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sim.experiment.runner import run_experiment
from sim.experiment.spec import load_experiment

__all__ = ["run_experiment_command"]

log = logging.getLogger("sim")


def run_experiment_command(args: argparse.Namespace) -> int:
    """Run the experiment file named on the command line; 0 if every cell succeeded."""
    from sim.cli import _overrides

    spec = load_experiment(args.experiment, _overrides(args.set), args.days, args.replications)
    out = Path(args.out) if args.out else Path("results") / (args.name or spec.name)
    cells = len(spec.cells())
    log.info("%s: %d variants x %d points x %d replications = %d cells, %d days, -> %s",
             spec.name, len(spec.variants), len(spec.points()), spec.replications, cells,
             spec.days, out)
    results = run_experiment(spec, out=out, executor=args.executor, workers=args.workers,
                             scheduler=args.scheduler, quiet=args.quiet)
    if not results.summary.empty:
        from sim.report.verdicts import verdicts

        for line in verdicts(results):
            print(line)
        from sim.report import write_report

        report = write_report(out)
        print(f"report: {report}")
    print(f"results in {out}/ (kpis.parquet, summary.csv, cost_effectiveness.csv, manifest.json)")
    if results.failed:
        print(f"{len(results.failed)} of {cells} cells failed; see {out}/cells/*.error.txt")
        return 1
    return 0
