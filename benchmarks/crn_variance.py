"""How much common random numbers narrow the paired confidence intervals.

Runs one experiment twice, with common random numbers (replication r of every
variant shares its seed) and with independent seeds per variant, and writes
benchmarks/results/crn.json with each variant's 95 % CI width of the paired
difference per KPI and the ratio CRN / independent (< 1 means narrower).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from sim.experiment import run_experiment

KPIS = ("app_mau", "accounts", "retail_deposits", "merchants_on_bank", "net_contribution")
SPEC = {
    "name": "crn", "days": 120, "replications": 10, "seed": 11,
    "overrides": {"population.customers": 20_000},
    "variants": [
        {"name": "baseline"},
        {"name": "dining-promotion", "strategies": [
            {"kind": "promotion", "type": "spend_save", "chains": ["business_district"],
             "start_day": 30, "duration_days": 60, "budget": 500_000}]},
        {"name": "fee-waiver", "strategies": [
            {"kind": "fee_waiver", "merchants": 300, "start_day": 10, "duration_days": 90,
             "budget": 500_000}]},
    ],
}


def widths(crn: bool) -> dict:
    with tempfile.TemporaryDirectory() as out:
        res = run_experiment({**SPEC, "crn": crn}, out=out, executor="processes")
    s = res.summary[res.summary.variant != "baseline"]
    return {f"{r.variant}/{r.kpi}": r.diff_ci_high - r.diff_ci_low
            for r in s.itertuples() if r.kpi in KPIS}


def main() -> None:
    paired, independent = widths(True), widths(False)
    ratio = {k: paired[k] / independent[k] if independent[k] else None for k in paired}
    out = Path(__file__).parent / "results" / "crn.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"spec": SPEC, "ci_width_crn": paired,
                               "ci_width_independent": independent, "ratio": ratio}, indent=2))
    for k, r in ratio.items():
        print(f"{k:40s} CI width CRN / independent = {r:.3f}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
