"""Engine speed and memory: customer-days per second and peak memory.

Writes benchmarks/results/engine.json. Each size runs in a fresh process (so
peak memory is that run's own) ``--repeats`` times; medians are reported.

    python benchmarks/bench_engine.py                 # 100k x 365
    python benchmarks/bench_engine.py --sizes 100000 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from sim import EcosystemModel
n, days, strategies = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
t0 = time.perf_counter()
model = EcosystemModel("city", seed=0, overrides={"population.customers": n}, strategies=strategies)
t1 = time.perf_counter()
model.run(days)
t2 = time.perf_counter()
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"build_s": t1 - t0, "run_s": t2 - t1, "peak_mib": peak_kib / 1024}))
"""


def measure(n: int, days: int, strategies: list, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(days),
                              json.dumps(strategies)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    wall = statistics.median(r["build_s"] + r["run_s"] for r in runs)
    run = statistics.median(r["run_s"] for r in runs)
    return {
        "customers": n, "days": days, "repeats": repeats, "strategies": len(strategies),
        "wall_s_median": wall, "build_s_median": statistics.median(r["build_s"] for r in runs),
        "run_s_median": run,
        "customer_days_per_s": n * days / run,
        "ns_per_customer_day": run / (n * days) * 1e9,
        "peak_mib_max": max(r["peak_mib"] for r in runs),
        "all_runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "engine.json"))
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        r = measure(n, args.days, [], args.repeats)
        results.append(r)
        print(f"{n:>9,} customers x {args.days} days: wall {r['wall_s_median']:.1f} s (median), "
              f"{r['customer_days_per_s']:,.0f} customer-days/s, peak {r['peak_mib_max']:.0f} MiB")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": results},
                              indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
