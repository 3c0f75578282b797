"""Engine speed and memory: customer-days per second, peak memory, reference ratio.

Each size runs 365 days with every strategy kind active, in a fresh process
(so peak memory is that run's own), ``--repeats`` times; medians are
reported. In the same session the vectorized and the one-agent-per-customer
reference engine run 20,000 customers x 60 days and their time ratio is
recorded, and a city simulated as a sample (``--sampled``, default 1,000,000
customers with 100,000 agents) is timed against the full run of as many
customers as it simulates. Writes benchmarks/results/engine.json.

    python benchmarks/bench_engine.py                          # 100k, 1M, 1M as 100k
    python benchmarks/bench_engine.py --sizes 10000000 --repeats 1 --no-reference
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
n, days, strategies, engine, agents = (int(sys.argv[1]), int(sys.argv[2]),
                                       json.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
t0 = time.perf_counter()
model = EcosystemModel("city", seed=0, strategies=strategies, engine=engine,
                       overrides={"population.customers": n, "population.agents": agents})
t1 = time.perf_counter()
model.run(days)
t2 = time.perf_counter()
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"build_s": t1 - t0, "run_s": t2 - t1, "peak_mib": peak_kib / 1024}))
"""


EVERY_KIND = [
    {"kind": "exclusive_channel", "institutions": 5, "start_day": 30},
    {"kind": "fee_waiver", "merchants": 300, "start_day": 10, "duration_days": 90},
    {"kind": "promotion", "type": "spend_save", "chains": ["business_district"],
     "start_day": 30, "duration_days": 60},
    {"kind": "referral", "start_day": 10, "duration_days": 90},
    {"kind": "aggregated_qr", "merchants": 60, "start_day": 10},  # of 80 at 20k customers
    {"kind": "omnichannel", "chains": ["utilities"], "start_day": 10},
    {"kind": "targeting", "of": {"kind": "promotion", "type": "lottery", "start_day": 120,
                                 "duration_days": 60}},
    {"kind": "risk_control", "strength": 0.5},
]


def measure(n: int, days: int, strategies: list, repeats: int,
            engine: str = "vectorized", agents: int | None = None) -> dict:
    """Medians of ``repeats`` runs of a city of ``n`` customers simulating ``agents``
    of them (default all)."""
    agents = n if agents is None else agents
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(days),
                              json.dumps(strategies), engine, str(agents)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    wall = statistics.median(r["build_s"] + r["run_s"] for r in runs)
    run = statistics.median(r["run_s"] for r in runs)
    return {
        "customers": n, "agents": agents, "days": days, "repeats": repeats, "engine": engine,
        "strategies": [s["kind"] for s in strategies],
        "wall_s_median": wall, "build_s_median": statistics.median(r["build_s"] for r in runs),
        "run_s_median": run,
        "customer_days_per_s": agents * days / run,  # simulated customers
        "ns_per_customer_day": run / (agents * days) * 1e9,
        "peak_mib_max": max(r["peak_mib"] for r in runs),
        "all_runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--no-reference", action="store_true", help="skip the reference ratio")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sampled", default="1000000:100000",
                        help="CUSTOMERS:AGENTS of a sampled city timed against a full run of "
                             "AGENTS customers ('' to skip)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "engine.json"))
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        r = measure(n, args.days, EVERY_KIND, args.repeats)
        results.append(r)
        print(f"{n:>9,} customers x {args.days} days: wall {r['wall_s_median']:.1f} s (median), "
              f"{r['customer_days_per_s']:,.0f} customer-days/s, peak {r['peak_mib_max']:.0f} MiB")
    if len(results) > 1:
        print(f"cost ratio {results[-1]['customers']:,} / {results[0]['customers']:,} customers: "
              f"{results[-1]['run_s_median'] / results[0]['run_s_median']:.1f}x")
    sampled = None
    if args.sampled:
        city, agents = (int(x) for x in args.sampled.split(":"))
        full = next((r for r in results if r["customers"] == agents), None)
        if full is None:
            full = measure(agents, args.days, EVERY_KIND, args.repeats)
        sample = measure(city, args.days, EVERY_KIND, args.repeats, agents=agents)
        sampled = {"sampled": sample, "full": full,
                   "ratio_run_s": sample["run_s_median"] / full["run_s_median"],
                   "ratio_wall_s": sample["wall_s_median"] / full["wall_s_median"]}
        print(f"{city:,} customers as {agents:,} agents: wall {sample['wall_s_median']:.1f} s, "
              f"{sampled['ratio_wall_s']:.2f}x the wall of {agents:,} customers "
              f"(run {sampled['ratio_run_s']:.2f}x)")
    reference = None
    if not args.no_reference:
        vec = measure(20_000, 60, EVERY_KIND, args.repeats)
        ref = measure(20_000, 60, EVERY_KIND, 1, engine="reference")
        reference = {"vectorized": vec, "reference": ref,
                     "ratio_run_s": ref["run_s_median"] / vec["run_s_median"]}
        print(f"20,000 x 60 days: reference {ref['run_s_median']:.1f} s, vectorized "
              f"{vec['run_s_median']:.2f} s: {reference['ratio_run_s']:.0f}x")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": results,
                               "sampled": sampled, "reference_ratio": reference}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
