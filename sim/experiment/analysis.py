"""From cell KPIs to answers: means, paired differences, cost-effectiveness.

Horizon value of a KPI in one cell: its level on the last day (stocks) or its
total over the horizon (flows). For variant v and replication r (within a
sweep point) the paired difference is D_r = X_vr - X_br against the baseline
b; with R replications,

    mean(D) +/- t(0.975, R-1) * s_D / sqrt(R)

is its 95 % confidence interval (paired t). ``p_better`` is the share of
replications in which the variant beats the baseline (higher, or lower for
costs). Under common random numbers the pairs share their randomness, which
narrows the interval (docs/EXPERIMENTS.md measures by how much).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import KPI_BY_NAME, KPI_NAMES

__all__ = ["horizon_values", "summarize", "cost_effectiveness", "paired", "t_interval"]

KEYS = ["point", "variant", "replication"]


def t_interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95 % t-interval of a sample (NaN bounds for fewer than 2 values)."""
    x = np.asarray(x, float)
    mean = float(x.mean()) if x.size else float("nan")
    if x.size < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return mean, mean - half, mean + half


def horizon_values(kpis: pd.DataFrame) -> pd.DataFrame:
    """One row per cell, one column per KPI: last level (stocks) or total (flows)."""
    grouped = kpis.sort_values("day").groupby(KEYS, sort=False)
    stocks = [k for k in KPI_NAMES if KPI_BY_NAME[k].kind == "stock"]
    flows = [k for k in KPI_NAMES if KPI_BY_NAME[k].kind == "flow"]
    out = pd.concat([grouped[stocks].last(), grouped[flows].sum()], axis=1)
    return out[list(KPI_NAMES)].reset_index()


def paired(values: pd.DataFrame, baseline: str, kpi: str) -> pd.DataFrame:
    """Per replication: the variant's value, the baseline's, and their difference."""
    base = values[values.variant == baseline][["point", "replication", kpi]]
    merged = values[["point", "variant", "replication", kpi]].merge(
        base, on=["point", "replication"], suffixes=("", "_baseline"))
    merged = merged.rename(columns={kpi: "value", f"{kpi}_baseline": "baseline"})
    merged["diff"] = merged["value"] - merged["baseline"]
    return merged


def summarize(kpis: pd.DataFrame, baseline: str, variant_order: list[str]) -> pd.DataFrame:
    """One row per (point, variant, KPI): level and paired comparison with the baseline."""
    values = horizon_values(kpis)
    rows = []
    for kpi in KPI_NAMES:
        sign = -1.0 if KPI_BY_NAME[kpi].better == "lower" else 1.0
        pairs = paired(values, baseline, kpi)
        for (point, variant), g in pairs.groupby(["point", "variant"], sort=False):
            mean, lo, hi = t_interval(g["value"])
            d, d_lo, d_hi = t_interval(g["diff"])
            base_mean = g["baseline"].mean()
            rows.append({
                "point": point, "variant": variant, "kpi": kpi,
                "unit": KPI_BY_NAME[kpi].unit, "replications": len(g),
                "mean": mean, "ci_low": lo, "ci_high": hi,
                "diff": d, "diff_ci_low": d_lo, "diff_ci_high": d_hi,
                "lift": d / abs(base_mean) if base_mean else float("nan"),
                "p_better": float((sign * g["diff"] > 0).mean()),
            })
    out = pd.DataFrame(rows)
    order = {v: i for i, v in enumerate(variant_order)}
    return out.sort_values(["point", "variant", "kpi"], key=lambda s: s.map(order)
                           if s.name == "variant" else s, kind="stable").reset_index(drop=True)


def cost_effectiveness(kpis: pd.DataFrame, baseline: str, variant_order: list[str]
                       ) -> pd.DataFrame:
    """Per (point, variant): incremental spend and net contribution, ROI, payback day,
    cost per incremental monthly-active user (means over paired replications)."""
    values = horizon_values(kpis)
    spend = paired(values, baseline, "strategy_spend")
    net = paired(values, baseline, "net_contribution")
    mau = paired(values, baseline, "app_mau")
    daily = kpis[["point", "variant", "replication", "day", "net_contribution"]]
    base_daily = daily[daily.variant == baseline].drop(columns="variant")
    both = daily.merge(base_daily, on=["point", "replication", "day"], suffixes=("", "_b"))
    both["d"] = both["net_contribution"] - both["net_contribution_b"]
    rows = []
    for (point, variant), g in spend.groupby(["point", "variant"], sort=False):
        sel = (net.point == point) & (net.variant == variant)
        d_spend, s_lo, s_hi = t_interval(g["diff"])
        d_net, n_lo, n_hi = t_interval(net.loc[sel, "diff"])
        d_mau, _, _ = t_interval(mau.loc[(mau.point == point) & (mau.variant == variant), "diff"])
        path = (both[(both.point == point) & (both.variant == variant)]
                .groupby("day")["d"].mean().sort_index().cumsum())
        rows.append({
            "point": point, "variant": variant,
            "incremental_spend": d_spend, "spend_ci_low": s_lo, "spend_ci_high": s_hi,
            "incremental_net_contribution": d_net, "net_ci_low": n_lo, "net_ci_high": n_hi,
            "incremental_app_mau": d_mau,
            "roi": d_net / d_spend if d_spend > 0 else float("nan"),
            "payback_day": _payback_day(path) if d_spend > 0 else float("nan"),
            "cost_per_incremental_active_user": d_spend / d_mau if d_spend > 0 and d_mau > 0
            else float("nan"),
        })
    out = pd.DataFrame(rows)
    order = {v: i for i, v in enumerate(variant_order)}
    return out.sort_values(["point", "variant"], key=lambda s: s.map(order)
                           if s.name == "variant" else s, kind="stable").reset_index(drop=True)


def _payback_day(cumulative: pd.Series) -> float:
    """First day from which the mean cumulative incremental net contribution stays >= 0,
    after having been negative; NaN if it never recovers within the horizon."""
    below = cumulative < 0
    if not below.any():
        return float("nan") if cumulative.iloc[-1] <= 0 else float(cumulative.index[0])
    last_negative = cumulative.index[below.to_numpy()][-1]
    after = cumulative.index[cumulative.index > last_negative]
    return float(after[0]) if len(after) else float("nan")
