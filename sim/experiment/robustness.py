"""Robustness of each variant across the draws of the uncertain parameters.

With ``[uncertainty]`` replication r of every variant runs with the same draw of the
uncertain parameters (and the same random streams), so for each draw the variants
can be compared directly. Per variant and headline KPI:

- ``share_beats_baseline``: the share of draws in which it beats the baseline;
- ``share_best``: the share in which it is the best variant (ties share the draw);
- ``mean_regret`` / ``max_regret``: its regret averaged and at its worst over the
  draws, in the KPI's unit;
- ranks by mean value, by expected (mean) regret and by min-max regret.

Notes
-----
Regret of variant v in draw r on a KPI with sign s (+1 higher is better, -1 lower):
``regret_vr = max_w (s x_wr) - s x_vr >= 0``, the shortfall from the best variant in
the same draw (Savage 1951). The min-max regret ranking orders variants by
``max_r regret_vr``, the expected-regret ranking by ``mean_r regret_vr``; a variant
that is never far behind ranks well on both even when another has the best mean.
Each draw is one replication, so regret also carries the replication's Monte Carlo
noise: with many draws it averages out of ``mean_regret`` but not of ``max_regret``.

References
----------
Savage, L. J. (1951). The theory of statistical decision. JASA 46(253), 55-67.
Lempert, R. J., Popper, S. W. & Bankes, S. C. (2003). Shaping the Next One Hundred
Years. RAND MR-1626 (regret-based robustness across many plausible futures).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.metrics import KPI_BY_NAME

__all__ = ["robustness", "COLUMNS", "outcomes"]

COLUMNS = ["point", "variant", "kpi", "share_beats_baseline", "share_best", "mean_regret",
           "max_regret", "rank_mean", "rank_expected_regret", "rank_minimax_regret", "draws"]


def outcomes(wide: pd.DataFrame, baseline: str, kpi: str) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                   pd.DataFrame]:
    """Per draw and variant: beats the baseline, is best (a tie: each tied is), regret.

    Parameters
    ----------
    wide : DataFrame, shape (draws, variants)
        Horizon values of ``kpi``, one row per replication (draw), one column per variant.
    baseline : str
        Its column.
    kpi : str
        For its direction (sim/metrics.py ``better``).

    Returns
    -------
    beats, best : DataFrame of bool, shape (draws, variants)
    regret : DataFrame of float, shape (draws, variants), >= 0, in the KPI's unit
    """
    sign = -1.0 if KPI_BY_NAME[kpi].better == "lower" else 1.0
    signed = sign * wide
    top = signed.max(axis=1)
    tol = 1e-9 * np.maximum(top.abs(), 1.0)
    best = signed.ge(top - tol, axis=0)
    beats = signed.gt(signed[baseline], axis=0)
    regret = (-signed).add(top, axis=0).clip(lower=0.0)
    return beats, best, regret


def robustness(values: pd.DataFrame, baseline: str, order: list[str],
               kpis: tuple[str, ...]) -> pd.DataFrame:
    """The robustness table.

    Parameters
    ----------
    values : DataFrame
        :func:`sim.experiment.analysis.horizon_values` (point, variant, replication, a
        column per KPI). Only draws every variant of the point finished are used.
    baseline : str
    order : list of str
        The variants in declared order (the table's order).
    kpis : tuple of str
        The KPIs judged (the experiment's headline).

    Returns
    -------
    DataFrame
        :data:`COLUMNS`: point, variant, kpi, share_beats_baseline (NaN for the
        baseline), share_best (a tied draw counts for each tied variant), mean_regret,
        max_regret (KPI's unit), rank_mean, rank_expected_regret, rank_minimax_regret
        (1 = best; ties share the rank), draws.
    """
    rows = []
    for point, g in values.groupby("point", sort=True):
        present = [v for v in order if v in set(g.variant)]
        if baseline not in present:
            continue
        for kpi in kpis:
            wide = g.pivot(index="replication", columns="variant", values=kpi)[present].dropna()
            if wide.empty:
                continue
            beats, best, regret = outcomes(wide, baseline, kpi)
            sign = -1.0 if KPI_BY_NAME[kpi].better == "lower" else 1.0
            table = pd.DataFrame({
                "point": point, "variant": present, "kpi": kpi,
                "share_beats_baseline": beats.mean().to_numpy(),
                "share_best": best.mean().to_numpy(),
                "mean_regret": regret.mean().to_numpy(),
                "max_regret": regret.max().to_numpy(),
                "rank_mean": (sign * wide.mean()).rank(ascending=False, method="min").to_numpy(),
                "rank_expected_regret": regret.mean().rank(method="min").to_numpy(),
                "rank_minimax_regret": regret.max().rank(method="min").to_numpy(),
                "draws": len(wide)})
            table.loc[table.variant == baseline, "share_beats_baseline"] = np.nan
            rows.append(table)
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(rows, ignore_index=True)
    for col in ("rank_mean", "rank_expected_regret", "rank_minimax_regret"):
        out[col] = out[col].astype(int)
    return out[COLUMNS]
