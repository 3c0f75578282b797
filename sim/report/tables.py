"""The report's tables as a reader sees them: headline KPIs, cost-effectiveness with
intervals, the ranking; sweep points named by their swept values, columns by the
KPI registry's labels."""

from __future__ import annotations

import math

import pandas as pd

from sim.experiment.analysis import per_unit_kpis
from sim.metrics import KPI_BY_NAME
from sim.report.i18n import header, kpi_label, t, unit

__all__ = ["headline_table", "cost_table", "ranking_table", "pairs_table"]


def _with_point_labels(results, frame: pd.DataFrame) -> pd.DataFrame:
    """``point`` replaced by a ``sweep point`` column of swept values (dropped without a
    sweep); headers in the current language (:func:`sim.report.i18n.header`)."""
    frame = frame.copy()
    if results.spec.sweep is None:
        frame = frame.drop(columns="point")
    else:
        labels = results.spec.point_labels()
        frame.insert(0, "sweep point", [labels[p] for p in frame.pop("point")])
    return frame.rename(columns=header)


def _interval(value: float, lo: float, hi: float, fmt: str = "{:,.0f}") -> str:
    """"2,918 (2,100 to 4,000)"; an infinite bound reads "inf"; empty if undefined."""
    if not math.isfinite(value):
        return ""

    def show(x: float) -> str:
        return fmt.format(x) if math.isfinite(x) else ("inf" if x > 0 else "n/a")

    return f"{fmt.format(value)} ({show(lo)} to {show(hi)})"


def headline_table(results) -> pd.DataFrame:
    """Summary rows of the headline KPIs, in ``[report] headline`` order."""
    s = results.summary
    order = {k: i for i, k in enumerate(results.spec.headline)}
    rows = s[s.kpi.isin(order)].sort_values(["point", "kpi"], key=lambda c: c.map(order)
                                            if c.name == "kpi" else c, kind="stable")
    return _with_point_labels(results, rows)


def cost_table(results) -> pd.DataFrame:
    """Per point and non-baseline variant: spend, net contribution, ROI and payback day
    with their 95 % intervals, and the cost of each headline KPI's incremental unit."""
    c = results.cost
    c = c[c.variant != results.spec.baseline]
    out = pd.DataFrame({"point": c["point"], "variant": c["variant"],
                        "incremental spend (yuan)": c["incremental_spend"],
                        "incremental net contribution (yuan)": c["incremental_net_contribution"]})
    out["ROI (95 % CI)"] = [_interval(r.roi, r.roi_ci_low, r.roi_ci_high, "{:,.2f}")
                            for r in c.itertuples()]
    out["payback day (95 % CI)"] = [
        _interval(r.payback_day, r.payback_ci_low, r.payback_ci_high)
        if r.incremental_spend <= 0 or math.isfinite(r.payback_day) else t("tab.not_within")
        for r in c.itertuples()]
    for kpi in per_unit_kpis(results.spec.headline):
        meta = KPI_BY_NAME[kpi]
        out[t("tab.incremental", label=kpi_label(kpi), unit=unit(meta.unit))] = \
            c[f"incremental_{kpi}"]
        col = f"cost_per_{kpi}"
        out[t("tab.per_unit", label=kpi_label(kpi))] = [
            _interval(v, lo, hi, "{:,.2f}" if meta.unit == "yuan" else "{:,.0f}")
            for v, lo, hi in zip(c[col], c[f"{col}_ci_low"], c[f"{col}_ci_high"], strict=True)]
    return _with_point_labels(results, out)


def ranking_table(results) -> pd.DataFrame:
    """The ranking of every variant on each headline KPI: mean, gap to the best,
    Holm-adjusted p of that gap, probability of being best (paired bootstrap)."""
    r = results.ranking.copy()
    r["kpi"] = [kpi_label(k) for k in r["kpi"]]
    r = r.rename(columns={"diff_vs_best": "difference from the best",
                          "p_holm_vs_best": "Holm-adjusted p vs the best",
                          "separated_from_best": "separated from the best",
                          "p_best": "P(best), paired bootstrap"})
    return _with_point_labels(results, r)


def pairs_table(results) -> pd.DataFrame:
    """Every two variants on each headline KPI: paired difference, its 95 % CI and SD,
    raw and Holm-adjusted p (ranking_pairs.csv, points named by their swept values)."""
    return _with_point_labels(results, results.pairs)
