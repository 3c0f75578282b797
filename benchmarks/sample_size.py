"""Does the answer depend on how many customers we simulate? (docs/VALIDATION.md,
"Sample size").

One city of ``--customers`` customers simulated with each of ``--agents`` samples,
``--seeds`` replications of three variants (doing nothing, an exclusive channel at
3 schools, a fee waiver offered to 300 merchants): per sample size, the mean and
standard error over replications of each KPI's no-strategy horizon value and of
each lever's paired lift, and the wall time. Prints JSON.

    python benchmarks/sample_size.py                        # 200k city: 20k, 50k, 200k agents
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from sim import EcosystemModel
from sim.metrics import horizon_value

KPIS = ("app_users", "app_mau", "accounts", "debit_cards", "retail_deposits",
        "corporate_deposits", "merchants_on_bank", "fee_income", "net_contribution")
LEVERS = {
    "exclusive_3_schools": {"kind": "exclusive_channel", "chain": "education",
                            "institutions": 3, "start_day": 10},
    "fee_waiver_300": {"kind": "fee_waiver", "merchants": 300, "start_day": 10,
                       "duration_days": 90},
}


def summary(rows: np.ndarray) -> dict[str, list[float]]:
    """Mean and standard error of each column (KPI) over replications (rows)."""
    se = rows.std(axis=0, ddof=1) / np.sqrt(len(rows))
    return {k: [float(m), float(s)] for k, m, s in zip(KPIS, rows.mean(axis=0), se, strict=True)}


def run_sample(customers: int, agents: int, seeds: range, days: int) -> dict:
    city = {"population.customers": customers, "population.agents": agents}
    start = time.perf_counter()
    levels, lifts = [], {name: [] for name in LEVERS}
    for seed in seeds:
        base = EcosystemModel("city", seed=seed, overrides=city).run(days)
        level = np.array([horizon_value(base, k) for k in KPIS])
        levels.append(level)
        for name, lever in LEVERS.items():
            kpis = EcosystemModel("city", seed=seed, overrides=city, strategies=[lever]).run(days)
            lifts[name].append(np.array([horizon_value(kpis, k) for k in KPIS]) - level)
    return {"agents": agents, "wall_s": time.perf_counter() - start,
            "level": summary(np.array(levels)),
            "lift": {name: summary(np.array(rows)) for name, rows in lifts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--agents", type=int, nargs="+", default=[20_000, 50_000, 200_000])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    out = {"customers": args.customers, "days": args.days, "seeds": args.seeds,
           "levers": LEVERS, "samples": []}
    for agents in args.agents:
        out["samples"].append(run_sample(args.customers, agents, range(args.seeds), args.days))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
