"""Ranking variants with honest uncertainty: paired differences between every two
variants, Holm's correction, and the probability of being best by bootstrap.

For each sweep point and headline KPI, with X_vr the horizon value of variant v in
replication r (replications share random numbers, so differences are paired):

* every pair (a, b), a declared before b: D_r = X_ar - X_br, its mean, 95 %
  t-interval and two-sided paired t-test p-value, t = mean(D) / (s_D / sqrt(R))
  with R - 1 degrees of freedom (p = 0 when s_D = 0 and mean(D) != 0, 1 when
  both are 0);
* Holm's step-down correction over the K(K-1)/2 pairs of that point and KPI
  (family-wise error rate 5 %): with p_(1) <= ... <= p_(m),
  p~_(i) = min(1, max_{j<=i} (m - j + 1) p_(j));
* ``p_best``: the share of B paired bootstrap resamples of replications
  (:mod:`sim.experiment.bootstrap`) in which the variant has the best mean (ties
  share the resample equally). It estimates the probability that the variant's
  expected value is the best, given these replications; it is *not* the share of
  single replications in which the variant came first.

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure.
*Scandinavian Journal of Statistics* 6(2), 65-70.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiment.bootstrap import resample_weights
from sim.metrics import KPI_BY_NAME

__all__ = ["ALPHA", "POWER", "holm", "paired_test", "pairwise", "p_best",
           "replications_needed", "rank"]

ALPHA = 0.05   # two-sided, family-wise over the pairs of one point and KPI
POWER = 0.80   # for the replications a separation would need


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (same order as ``p``); NaN entries are left out of the
    family and stay NaN.

    Parameters
    ----------
    p : array_like, shape (m,)
        Raw p-values.

    Returns
    -------
    ndarray, shape (m,)
        p~_(i) = min(1, max_{j<=i} (m - j + 1) p_(j)) over the sorted finite p.
    """
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def paired_test(d: np.ndarray) -> dict[str, float]:
    """Mean, 95 % t-interval, SD and two-sided paired t-test p-value of differences
    ``d`` (shape (R,)); NaN interval and p for R < 2."""
    d = np.asarray(d, float)
    mean = float(d.mean())
    if d.size < 2:
        return {"diff": mean, "ci_low": math.nan, "ci_high": math.nan, "sd": math.nan,
                "p_value": math.nan}
    sd = float(d.std(ddof=1))
    se = sd / math.sqrt(d.size)
    if se == 0:
        p = 1.0 if mean == 0 else 0.0
    else:
        p = float(2 * stats.t.sf(abs(mean) / se, d.size - 1))
    half = float(stats.t.ppf(0.975, d.size - 1)) * se
    return {"diff": mean, "ci_low": mean - half, "ci_high": mean + half, "sd": sd,
            "p_value": p}


def pairwise(values: pd.DataFrame) -> pd.DataFrame:
    """Every pair of columns of ``values`` (replications x variants, one KPI):
    a, b, the paired difference a - b with :func:`paired_test`, and ``p_holm``."""
    names = list(values.columns)
    rows = [{"variant_a": a, "variant_b": b,
             **paired_test(values[a].to_numpy() - values[b].to_numpy())}
            for i, a in enumerate(names) for b in names[i + 1:]]
    out = pd.DataFrame(rows, columns=["variant_a", "variant_b", "diff", "ci_low", "ci_high",
                                      "sd", "p_value"])
    out["p_holm"] = holm(out["p_value"].to_numpy())
    return out


def p_best(values: np.ndarray, weights: np.ndarray, sign: float = 1.0) -> np.ndarray:
    """Share of paired bootstrap resamples in which each column has the best mean.

    Parameters
    ----------
    values : ndarray, shape (R, K)
        Horizon values, one column per candidate, rows paired replications.
    weights : ndarray, shape (B, R)
        :func:`sim.experiment.bootstrap.resample_weights`.
    sign : float
        +1 if higher is better, -1 if lower is.

    Returns
    -------
    ndarray, shape (K,)
        Sums to 1; tied candidates share a resample equally.
    """
    means = sign * (weights @ np.asarray(values, float))
    top = means.max(axis=1, keepdims=True)
    scale = np.maximum(np.abs(top), 1.0)
    best = means >= top - 1e-9 * scale
    return (best / best.sum(axis=1, keepdims=True)).mean(axis=0)


def replications_needed(sd: float, diff: float, pairs: int = 1, alpha: float = ALPHA,
                        power: float = POWER) -> float:
    """Replications a paired t-test needs to separate a true difference ``diff`` from
    zero with probability ``power``, at level alpha / ``pairs`` (two-sided; Holm's
    first step, a conservative bound for its later ones).

    The normal approximation n0 = ((z_{1-alpha/(2 pairs)} + z_{power}) sd / |diff|)^2
    (e.g. Chow, Shao & Wang 2008, *Sample Size Calculations in Clinical Research*,
    sec. 3.1) is too small for few replications, so the smallest n >= 2 is taken
    (searched from n0 to 1.2 n0 + 30) whose power by the noncentral t distribution
    (noncentrality |diff| sqrt(n) / sd, n - 1 degrees of freedom) reaches ``power``.
    2 when sd is 0; ``inf`` when
    ``diff`` is 0 (nothing to separate) or more than a million would be needed.
    A rough guide: ``sd`` and ``diff`` are themselves estimates."""
    if diff == 0 or not math.isfinite(diff):
        return math.inf
    if sd == 0:
        return 2.0
    level = alpha / (2 * pairs)
    n0 = ((stats.norm.ppf(1 - level) + stats.norm.ppf(power)) * sd / abs(diff)) ** 2
    if n0 > 1_000_000:
        return math.inf
    n = np.arange(max(2, math.floor(n0)), math.ceil(1.2 * n0) + 31)  # t needs n0 + a few
    reached = stats.nct.sf(stats.t.ppf(1 - level, n - 1), n - 1,
                           abs(diff) * np.sqrt(n) / sd) >= power
    return float(n[np.argmax(reached)] if reached.any() else n[-1])


def rank(values: pd.DataFrame, headline: tuple[str, ...], variant_order: list[str],
         seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ranking and pairwise tables of the headline KPIs at every sweep point.

    Parameters
    ----------
    values : DataFrame
        :func:`sim.experiment.analysis.horizon_values` (point, variant, replication,
        one column per KPI). Only replications every variant of the point finished
        are used (pairs stay pairs).
    headline, variant_order : the KPIs ranked, the variants in declared order.
    seed : int
        The experiment seed, for the bootstrap (:func:`resample_weights`).

    Returns
    -------
    ranking : DataFrame
        point, kpi, rank (1 = best mean; ties share the rank), variant, mean,
        diff_vs_best, p_holm_vs_best, separated_from_best (p_holm < ALPHA), p_best,
        replications.
    pairs : DataFrame
        point, kpi, variant_a, variant_b, diff, ci_low, ci_high, sd, p_value, p_holm,
        separated.
    """
    ranking, pairs = [], []
    for point, g in values.groupby("point", sort=True):
        present = [v for v in variant_order if v in set(g.variant)]
        for kpi in headline:
            wide = g.pivot(index="replication", columns="variant", values=kpi)[present]
            wide = wide.dropna()
            if wide.empty:
                continue
            sign = -1.0 if KPI_BY_NAME[kpi].better == "lower" else 1.0
            pair = pairwise(wide)
            pair.insert(0, "kpi", kpi)
            pair.insert(0, "point", point)
            pair["separated"] = pair["p_holm"] < ALPHA
            pairs.append(pair)
            means = wide.mean()
            order = (sign * means).rank(ascending=False, method="min").astype(int)
            best = order.idxmin()
            against = {**{r.variant_b: r.p_holm for r in pair.itertuples() if r.variant_a == best},
                       **{r.variant_a: r.p_holm for r in pair.itertuples() if r.variant_b == best}}
            shares = p_best(wide.to_numpy(), resample_weights(len(wide), seed), sign)
            for v, share in zip(present, shares, strict=True):
                p = against.get(v, math.nan)
                ranking.append({"point": point, "kpi": kpi, "rank": int(order[v]), "variant": v,
                                "mean": float(means[v]),
                                "diff_vs_best": float(means[v] - means[best]),
                                "p_holm_vs_best": p, "separated_from_best": bool(p < ALPHA),
                                "p_best": float(share), "replications": len(wide)})
    rank_cols = ["point", "kpi", "rank", "variant", "mean", "diff_vs_best", "p_holm_vs_best",
                 "separated_from_best", "p_best", "replications"]
    out = pd.DataFrame(ranking, columns=rank_cols)
    out = out.sort_values(["point", "kpi", "rank"], key=lambda s: s.map(
        {k: i for i, k in enumerate(headline)}) if s.name == "kpi" else s, kind="stable")
    return (out.reset_index(drop=True),
            pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame())
