"""Tables the figures draw: per-day means and confidence bands, spend by cause."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import KPI_BY_NAME

__all__ = ["daily_band", "daily_diff_band", "spend_by_cause", "channel_shares", "add_bank_share",
           "feasible_range"]

CHANNEL_COLUMNS = ["volume_bank_app", "volume_wechat", "volume_alipay", "volume_card",
                   "volume_cash"]


def add_bank_share(kpis: pd.DataFrame, window: int = 7) -> pd.DataFrame:
    """Add ``bank_channel_share``: the bank app's share of payment volume over the last
    ``window`` days of each run (bills make single days lumpy)."""
    keys = ["variant", "point", "replication"]
    ordered = kpis.sort_values(keys + ["day"])
    rolled = (ordered.groupby(keys, sort=False)[CHANNEL_COLUMNS]
              .rolling(window, min_periods=1).sum().reset_index(level=keys, drop=True))
    total = rolled.sum(axis=1)
    share = np.where(total > 0, rolled["volume_bank_app"] / total.where(total > 0, 1), 0.0)
    return ordered.assign(bank_channel_share=share)


def feasible_range(column: str) -> tuple[float, float]:
    """Values ``column`` can take: shares in [0, 1]; stocks and counts (every KPI not
    in yuan, and stocks in yuan such as deposits) at least 0; yuan flows (net
    contribution can be negative) unbounded."""
    if column.endswith("_share"):
        return 0.0, 1.0
    meta = KPI_BY_NAME.get(column)
    if meta is not None and (meta.kind == "stock" or meta.unit != "yuan"):
        return 0.0, np.inf
    return -np.inf, np.inf


def _band(g: pd.DataFrame, column: str,
          bounds: tuple[float, float] = (-np.inf, np.inf)) -> pd.DataFrame:
    """Day-by-day mean and t-interval over replications, the interval clipped to
    ``bounds`` (a t-interval on few replications can reach values no run can have)."""
    agg = g.groupby("day")[column].agg(["mean", "std", "count"])
    t = stats.t.ppf(0.975, np.maximum(agg["count"] - 1, 1))
    half = np.where(agg["count"] > 1, t * agg["std"] / np.sqrt(agg["count"]), 0.0)
    return pd.DataFrame({"mean": agg["mean"], "low": (agg["mean"] - half).clip(*bounds),
                         "high": (agg["mean"] + half).clip(*bounds)})


def daily_band(kpis: pd.DataFrame, column: str, point: int = 0,
               bounds: tuple[float, float] = (-np.inf, np.inf)) -> dict[str, pd.DataFrame]:
    """Per variant: the day-by-day mean of ``column`` over replications with its 95 % band,
    clipped to ``bounds`` (see :func:`feasible_range`)."""
    sel = kpis[kpis.point == point]
    return {v: _band(g, column, bounds) for v, g in sel.groupby("variant", sort=False)}


def daily_diff_band(kpis: pd.DataFrame, column: str, baseline: str, cumulative: bool = False,
                    point: int = 0) -> dict[str, pd.DataFrame]:
    """Per non-baseline variant: paired daily difference from the baseline, mean and band."""
    sel = kpis[kpis.point == point][["variant", "replication", "day", column]]
    base = sel[sel.variant == baseline].drop(columns="variant")
    both = sel[sel.variant != baseline].merge(base, on=["replication", "day"],
                                              suffixes=("", "_b"))
    both["d"] = both[column] - both[f"{column}_b"]
    if cumulative:
        both = both.sort_values("day")
        both["d"] = both.groupby(["variant", "replication"])["d"].cumsum()
    return {v: _band(g, "d") for v, g in both.groupby("variant", sort=False)}


def spend_by_cause(ledger: pd.DataFrame, point: int = 0) -> pd.DataFrame:
    """Mean spend per replication by variant (rows) and cause (columns), yuan > 0."""
    sel = ledger[(ledger.point == point) & ledger.kind.isin(["strategy", "abuse"])]
    if sel.empty:
        return pd.DataFrame()
    reps = ledger[ledger.point == point].groupby("variant")["replication"].nunique()
    total = -sel.groupby(["variant", "cause"])["amount"].sum().unstack(fill_value=0.0)
    return total.div(reps.reindex(total.index), axis=0)


def channel_shares(kpis: pd.DataFrame, variant: str, point: int = 0,
                   window: int = 7) -> pd.DataFrame:
    """Share of volume by channel per day (mean over replications, 7-day rolling)."""
    sel = kpis[(kpis.point == point) & (kpis.variant == variant)]
    vol = sel.groupby("day")[CHANNEL_COLUMNS].mean().rolling(window, min_periods=1).mean()
    return vol.div(vol.sum(axis=1), axis=0).fillna(0.0)
