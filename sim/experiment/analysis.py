"""From cell KPIs to answers: means, paired differences, cost-effectiveness.

Horizon value of a KPI in one cell: its level on the last day (stocks) or its
total over the horizon (flows). For variant v and replication r (within a
sweep point) the paired difference is D_r = X_vr - X_br against the baseline
b; with R replications,

    mean(D) +/- t(0.975, R-1) * s_D / sqrt(R)

is its 95 % confidence interval (paired t). ``share_better`` is the share of
replications in which the variant beats the baseline (higher, or lower for
costs): a description of the replications, not a probability (the
probability of being best is :mod:`sim.experiment.ranking`'s ``p_best``).
Under common random numbers the pairs share their randomness, which narrows
the interval (docs/EXPERIMENTS.md measures by how much).

Ratios (ROI, cost per incremental unit) and the payback day are not means, so
their 95 % intervals come from the paired bootstrap over replications
(:mod:`sim.experiment.bootstrap`, percentile intervals).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiment.bootstrap import payback_days, percentile_interval, resample_weights
from sim.experiment.spec import DEFAULT_HEADLINE
from sim.metrics import KPI_BY_NAME, KPI_NAMES

__all__ = ["horizon_values", "summarize", "cost_effectiveness", "paired", "t_interval",
           "per_unit_kpis"]

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
                "share_better": float((sign * g["diff"] > 0).mean()),
            })
    out = pd.DataFrame(rows)
    order = {v: i for i, v in enumerate(variant_order)}
    return out.sort_values(["point", "variant", "kpi"], key=lambda s: s.map(order)
                           if s.name == "variant" else s, kind="stable").reset_index(drop=True)


def per_unit_kpis(headline: tuple[str, ...]) -> list[str]:
    """Headline KPIs with a cost per incremental unit: all but net contribution
    (its ratio to spend is the ROI) and strategy spend itself."""
    return [k for k in headline if k not in ("net_contribution", "strategy_spend")]


def _paired_wide(values: pd.DataFrame, baseline: str, columns: list[str]) -> pd.DataFrame:
    """Per (point, variant, replication), sorted so: ``columns`` minus the baseline's in
    the same point and replication (rows without a baseline left out). Sorted, so the
    bootstrap weights (one column per replication) meet replications in their order
    whatever order the cells were read in."""
    own = values.set_index(KEYS)[columns]
    base = values[values.variant == baseline].set_index(["point", "replication"])[columns]
    diff = own.to_numpy(float) - base.reindex(own.index.droplevel("variant")).to_numpy(float)
    return pd.DataFrame(diff, index=own.index, columns=columns).dropna().sort_index()


def cost_effectiveness(kpis: pd.DataFrame, baseline: str, variant_order: list[str],
                       headline: tuple[str, ...] = DEFAULT_HEADLINE, seed: int = 0
                       ) -> pd.DataFrame:
    """Per (point, variant): incremental spend and net contribution, ROI, payback day
    and the cost per incremental unit of each headline KPI, with 95 % intervals.

    Parameters
    ----------
    kpis : DataFrame
        Daily KPIs of every cell (point, variant, replication, day, KPI columns).
    baseline, variant_order : the baseline variant, the variants in declared order.
    headline : tuple of str
        KPIs that get ``incremental_<kpi>`` and ``cost_per_<kpi>`` columns
        (:func:`per_unit_kpis`).
    seed : int
        Experiment seed, for the bootstrap resamples.

    Returns
    -------
    DataFrame
        ``incremental_spend`` and ``incremental_net_contribution`` (yuan, mean of the
        paired differences, t-intervals); ``roi`` = net / spend; ``payback_day``: first
        day from which the mean cumulative incremental net contribution stays >= 0
        (NaN: not within the horizon); ``cost_per_<kpi>`` = spend / gain in yuan per
        unit, the gain signed so that an improvement is positive (NaN without spend or
        gain). ROI, payback and cost per unit have ``_ci_low`` / ``_ci_high``: paired
        bootstrap percentile intervals (an infinite bound: in some resamples it never
        pays back, or gains nothing).
    """
    values = horizon_values(kpis)
    units = per_unit_kpis(headline)
    wide = _paired_wide(values, baseline, ["strategy_spend", "net_contribution", *units])
    daily = kpis.pivot_table(index=KEYS, columns="day", values="net_contribution",
                             aggfunc="first")
    paths = _paired_wide(daily.reset_index(), baseline, list(daily.columns))
    days = np.asarray(daily.columns, float)
    rows = []
    for (point, variant), g in wide.groupby(level=["point", "variant"], sort=False):
        weights = resample_weights(len(g), seed)
        spend, net = g["strategy_spend"].to_numpy(), g["net_contribution"].to_numpy()
        d_spend, s_lo, s_hi = t_interval(spend)
        d_net, n_lo, n_hi = t_interval(net)
        b_spend, b_net = weights @ spend, weights @ net
        row = {"point": point, "variant": variant,
               "incremental_spend": d_spend, "spend_ci_low": s_lo, "spend_ci_high": s_hi,
               "incremental_net_contribution": d_net, "net_ci_low": n_lo, "net_ci_high": n_hi}
        spending = d_spend > 0
        roi = np.where(b_spend > 0, b_net / np.where(b_spend > 0, b_spend, 1.0), np.nan)
        row["roi"] = d_net / d_spend if spending else np.nan
        row["roi_ci_low"], row["roi_ci_high"] = (percentile_interval(roi) if spending
                                                 else (np.nan, np.nan))
        cum = np.cumsum(paths.loc[g.index].to_numpy(), axis=1)
        payback = payback_days(cum.mean(axis=0), days)[0]
        row["payback_day"] = payback if spending and np.isfinite(payback) else np.nan
        row["payback_ci_low"], row["payback_ci_high"] = (
            percentile_interval(payback_days(weights @ cum, days)) if spending
            else (np.nan, np.nan))
        for kpi in units:
            sign = -1.0 if KPI_BY_NAME[kpi].better == "lower" else 1.0
            gain = sign * g[kpi].to_numpy()
            row[f"incremental_{kpi}"] = float(g[kpi].mean())
            row[f"cost_per_{kpi}"] = (d_spend / gain.mean() if spending and gain.mean() > 0
                                      else np.nan)
            b_gain = weights @ gain
            per_unit = np.where(b_spend <= 0, np.nan, np.where(
                b_gain > 0, b_spend / np.where(b_gain > 0, b_gain, 1.0), np.inf))
            row[f"cost_per_{kpi}_ci_low"], row[f"cost_per_{kpi}_ci_high"] = (
                percentile_interval(per_unit) if spending else (np.nan, np.nan))
        rows.append(row)
    out = pd.DataFrame(rows)
    order = {v: i for i, v in enumerate(variant_order)}
    return out.sort_values(["point", "variant"], key=lambda s: s.map(order)
                           if s.name == "variant" else s, kind="stable").reset_index(drop=True)
