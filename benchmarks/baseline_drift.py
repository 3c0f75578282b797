"""How far the no-strategy city drifts: % change of the main stocks from day 30 to
the last day, per seed, and the two calibration anchors per seed (JSON on stdout).

    .venv/bin/python benchmarks/baseline_drift.py --customers 100000 --days 730 --seeds 0-4

Day 30, not day 0, is the start: the monthly-active count needs a month of
payments to mean what it says. One model at a time (the machine is shared).
docs/VALIDATION.md, "Baseline stability", records what this printed.
"""

from __future__ import annotations

import argparse
import json
import time

from sim import EcosystemModel

__all__ = ["STOCKS", "drift", "main"]

STOCKS = ("app_users", "app_mau", "accounts", "debit_cards", "credit_cards", "retail_deposits",
          "corporate_deposits", "merchants_on_bank")
START_DAY = 30


def drift(kpis, start: int = START_DAY) -> dict[str, float]:
    """% change of each stock of :data:`STOCKS` from day ``start`` to the last day; the %
    change of its mean over the second half of the run against the first; and the anchors
    over days ``start``..end: Alipay's share of Alipay + WeChat volume and the mean of
    monthly-active / app users."""
    first, last = kpis.iloc[start], kpis.iloc[-1]
    out = {k: round(100.0 * (last[k] / first[k] - 1.0), 2) if first[k] else None
           for k in STOCKS}
    half = len(kpis) // 2  # yearly means: seasonal bills and 90-day floats average out
    early, later = kpis[list(STOCKS)].iloc[:half].mean(), kpis[list(STOCKS)].iloc[half:].mean()
    out["second_half_vs_first"] = {k: round(100.0 * (later[k] / early[k] - 1.0), 2)
                                   if early[k] else None for k in STOCKS}
    late = kpis.iloc[start:]
    alipay, wechat = late.volume_alipay.sum(), late.volume_wechat.sum()
    out["alipay_share"] = round(float(alipay / (alipay + wechat)), 4)
    out["mau_ratio"] = round(float((late.app_mau / late.app_users).mean()), 4)
    out["mau_ratio_day0"] = round(float(kpis.app_mau.iloc[0] / kpis.app_users.iloc[0]), 4)
    out["mau_ratio_day30"] = round(float(first.app_mau / first.app_users), 4)
    return out


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,3,7")
    ap.add_argument("--scenario", default="city")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a scenario override (repeatable), e.g. adoption.external_rate=0")
    args = ap.parse_args(argv)
    over = {"population.customers": args.customers}
    for item in args.set:
        key, value = item.split("=", 1)
        over[key] = json.loads(value) if value[:1] in "-0123456789[{tf" else value
    result = {"scenario": args.scenario, "customers": args.customers, "days": args.days,
              "start_day": START_DAY, "overrides": over, "seeds": {}}
    for seed in _seeds(args.seeds):
        t0 = time.perf_counter()
        kpis = EcosystemModel(args.scenario, seed=seed, overrides=over).run(args.days)
        result["seeds"][seed] = {**drift(kpis), "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
