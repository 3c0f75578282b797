"""Report build time for a large experiment: 10 variants x 20 replications x 365 days.

The report's cost depends on rows (variants x replications x days), not on
customers, so the experiment is simulated small (1,000 agents of a 100,000-customer
city) once, then ``write_report`` is timed ``--repeats`` times. Writes
benchmarks/results/report.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sim.experiment import run_experiment
from sim.report import write_report

KINDS = [
    {"kind": "promotion", "type": "cashback", "start_day": 30, "duration_days": 60},
    {"kind": "promotion", "type": "spend_save", "start_day": 30, "duration_days": 60},
    {"kind": "promotion", "type": "lottery", "start_day": 30, "duration_days": 60},
    {"kind": "referral", "start_day": 30, "duration_days": 90},
    {"kind": "fee_waiver", "merchants": 20, "start_day": 10, "duration_days": 90},
    {"kind": "aggregated_qr", "merchants": 5, "start_day": 10},
    {"kind": "exclusive_channel", "institutions": 1, "start_day": 30},
    {"kind": "omnichannel", "start_day": 10},
    {"kind": "promotion", "type": "points", "start_day": 30, "duration_days": 60},
]
SPEC = {"name": "bench-report", "days": 365, "replications": 20, "seed": 3,
        "overrides": {"population.customers": 100_000, "population.agents": 1000},
        "variants": [{"name": "baseline"}] + [{"name": f"v{i + 1}-{s['kind']}", "strategies": [s]}
                                              for i, s in enumerate(KINDS)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--executor", choices=("serial", "processes"), default="processes",
                        help="where the cells are simulated (the report is built in this "
                             "process either way)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sim-bench-report-") as folder:
        t = time.perf_counter()
        res = run_experiment(SPEC, out=folder, executor=args.executor)
        simulate = time.perf_counter() - t
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            write_report(folder)
            times.append(time.perf_counter() - t)
    result = {"variants": 10, "replications": 20, "days": 365, "kpi_rows": len(res.kpis),
              "executor": args.executor, "simulate_s": simulate, "report_s": times,
              "report_s_median": statistics.median(times)}
    out = Path(__file__).parent / "results" / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"report of {len(res.kpis):,} KPI rows built in {result['report_s_median']:.1f} s "
          f"(median of {args.repeats}); wrote {out}")


if __name__ == "__main__":
    main()
