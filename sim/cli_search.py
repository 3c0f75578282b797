"""The searching commands: ``sim calibrate`` (fit a city to a branch's data) and ``sim
optimise`` (split a budget). Their parsers are in sim/cli.py; errors and Ctrl-C behave
as there (one line and status 2; status 130 with what was kept).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["cmd_calibrate", "cmd_optimise"]

log = logging.getLogger("sim")


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a calibration file; print the best fit, the fit per target and identifiability."""
    from sim.calibration import calibrate, load_calibration
    from sim.cli import interrupted
    from sim.results import safe_name

    spec = load_calibration(args.file, args.trials)
    out = Path(args.out) if args.out else Path("results") / safe_name(spec.name)
    log.info("%s: %d trials x %d seeds, %d days -> %s", spec.name, spec.trials,
             spec.seeds_per_trial, spec.days, out)
    try:
        result = calibrate(spec, out=out, executor=args.executor, workers=args.workers,
                           scheduler=args.scheduler, quiet=args.quiet, fresh=args.fresh)
    except KeyboardInterrupt:
        return interrupted(f"the finished runs kept in {out}/cells")
    print(f"best fit (loss {result.best_loss:.4g} over {len(result.fit)} targets): "
          + ", ".join(f"{k} = {v:.4g}" for k, v in result.best.items()))
    for row in result.fit.itertuples(index=False):
        print(f"  {row.target:45s} observed {row.observed:>12,.1f}  model {row.model_mean:>12,.1f}"
              f"  z {row.z:+.2f}")
    for row in result.identifiability.itertuples(index=False):
        point = "" if row.identifiability == "not informed" else f"best {row.best:.4g}, "
        print(f"  {row.parameter:40s} {row.identifiability:16s} {point}"
              f"indistinguishable {row.set_low:.4g}-{row.set_high:.4g} "
              f"({row.share_of_bounds:.0%} of the bounds)")
    print(f"calibrated scenario: {result.scenario_path}; report: {out}/report.html")
    return 0


def cmd_optimise(args: argparse.Namespace) -> int:
    """Search and select a budget split; print the choice, write best.toml and the report."""
    from sim.cli import _overrides, interrupted
    from sim.optimisation import load_optimisation, optimise
    from sim.optimisation.report import choice_lines
    from sim.results import safe_name

    spec = load_optimisation(args.file, _overrides(args.set))
    out = Path(args.out) if args.out else Path("results") / safe_name(spec.experiment.name)
    log.info("%s: %d trials x %d replications, %d days -> %s", spec.experiment.name,
             spec.search["trials"], spec.search["replications"], spec.experiment.days, out)
    try:
        result = optimise(spec, out=out, executor=args.executor, workers=args.workers,
                          scheduler=args.scheduler, quiet=args.quiet, fresh=args.fresh)
    except KeyboardInterrupt:
        return interrupted(f"the finished runs kept in {out}/replications.parquet")
    print("\n".join(choice_lines(result)))
    print(f"{result.runs:,} model runs ({result.new_runs:,} now), {result.seconds:,.0f} s; "
          f"ready experiment: {out}/best.toml; report: {out}/report.html")
    return 0
