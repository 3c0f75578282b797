"""The ranking in words: which variant is best for the first headline KPI, or that
the data cannot separate the top ones and roughly how many replications would;
in a sweep, which point is best.

Numbers come from :mod:`sim.experiment.ranking` (Holm-adjusted paired tests,
``p_best`` by paired bootstrap); the sentence quotes them and nothing else.
"""

from __future__ import annotations

import math

import numpy as np

from sim.experiment.analysis import horizon_values
from sim.experiment.bootstrap import resample_weights
from sim.experiment.ranking import ALPHA, POWER, p_best, replications_needed
from sim.metrics import KPI_BY_NAME
from sim.report.i18n import kpi_label, kpi_words, t
from sim.report.verdicts import amount

FEW = 10  # below this many replications a bootstrap share is overconfident (Efron 1993)

__all__ = ["ranking_sentence", "best_point", "best_point_sentence", "ranking_lines",
           "top_sentences", "graph_choice"]


def _names(names: list[str], limit: int = 4) -> str:
    if len(names) > limit:
        return t("r.others", names=t("r.list").join(names[:limit]), n=len(names) - limit)
    return t("r.and", names=t("r.list").join(names[:-1]), last=names[-1])


def ranking_sentence(results, point: int = 0) -> str:
    """Best variant for the first headline KPI at ``point``, or the variants the data
    cannot separate from it (Holm-adjusted p >= 0.05) with the replications that
    would: n = ((z_0.975 + z_0.80) s_D / d)^2 from the best and the closest
    runner-up's paired difference d and its SD s_D (at least one more than now)."""
    kpi = results.spec.headline[0]
    r = results.ranking
    r = r[(r.point == point) & (r.kpi == kpi)].sort_values("rank", kind="stable")
    if len(r) < 2:
        return ""
    label = results.spec.point_labels()[point]
    where = t("r.where", label=label) if label else ""
    what = kpi_words(kpi)
    best, others = r.iloc[0], r.iloc[1:]
    n_reps = int(best["replications"])
    share = t("r.share", p=best["p_best"])
    if best["replications"] < FEW:
        share += t("r.few", n=int(best["replications"]))
    if n_reps < 2:
        return _sentence(where, t("r.one", variant=best["variant"], what=what))
    tied = others[~others["separated_from_best"]]
    if tied.empty:
        runner = others.iloc[0]
        return _sentence(where, t("r.best", what=what, best=best["variant"],
                                  gap=amount(kpi, abs(runner["diff_vs_best"])),
                                  runner=runner["variant"], p=runner["p_holm_vs_best"],
                                  share=share))
    runner = tied.iloc[0]
    pairs = results.pairs
    pair = pairs[(pairs.point == point) & (pairs.kpi == kpi)
                 & pairs.variant_a.isin([best["variant"], runner["variant"]])
                 & pairs.variant_b.isin([best["variant"], runner["variant"]])].iloc[0]
    m = int(((pairs.point == point) & (pairs.kpi == kpi)).sum())
    n = replications_needed(pair["sd"], runner["diff_vs_best"], m)
    if math.isinf(n):
        more = t("r.identical")
    else:
        level = (t("r.level_pairs", alpha=ALPHA, m=m) if m > 1
                 else t("r.level_two", alpha=ALPHA))
        more = t("r.more", n=max(n, n_reps + 1), now=n_reps, power=POWER, level=level)
    names = _names([best["variant"], *tied["variant"]])
    gap = t("r.gap", best=best["variant"], runner=runner["variant"],
            gap=amount(kpi, abs(runner["diff_vs_best"])), p=runner["p_holm_vs_best"],
            share=share)
    return _sentence(where, t("r.tied", names=names, what=what, gap=gap, more=more))


def _sentence(where: str, text: str) -> str:
    """``where`` ("At budget = 5, " or "") then ``text``, capitalised once."""
    out = where + text
    return out[:1].upper() + out[1:]


def best_point(results, variant: str, kpi: str | None = None) -> tuple[int, float] | None:
    """The sweep point at which ``variant`` improves ``kpi`` (default: the first
    headline KPI) most against the baseline, and the share of paired bootstrap
    resamples in which it is the best point (replication r shares its seed across
    points, so points are paired too); None without a sweep or finished cells."""
    spec = results.spec
    kpi = kpi or spec.headline[0]
    if spec.sweep is None or variant == spec.baseline:
        return None
    values = horizon_values(results.kpis)
    wide = values.pivot_table(index="replication", columns=["variant", "point"], values=kpi)
    if variant not in wide.columns.get_level_values(0):
        return None
    diff = (wide[variant] - wide[spec.baseline].reindex(columns=wide[variant].columns)).dropna()
    if diff.empty:
        return None
    sign = -1.0 if KPI_BY_NAME[kpi].better == "lower" else 1.0
    shares = p_best(diff.to_numpy(), resample_weights(len(diff), spec.seed), sign)
    best = int(np.argmax(sign * diff.mean().to_numpy()))
    return int(diff.columns[best]), float(shares[best])


def best_point_sentence(results) -> list[str]:
    """Per swept variant: "Across the sweep, mix gains most debit cards at budget =
    900,000 (+120 against the baseline; best point in 64 % of paired bootstrap
    resamples)."""
    spec = results.spec
    if spec.sweep is None:
        return []
    kpi, labels, out = spec.headline[0], spec.point_labels(), []
    s = results.summary
    for variant in spec.sweep.variants:
        found = best_point(results, variant, kpi)
        if found is None:
            continue
        point, share = found
        row = s[(s.point == point) & (s.variant == variant) & (s.kpi == kpi)].iloc[0]
        out.append(t("r.best_point", variant=variant, what=kpi_words(kpi), label=labels[point],
                     diff=amount(kpi, row["diff"], True), share=share))
    return out


def top_sentences(results) -> list[str]:
    """What goes above the verdicts: the ranking sentence at each point verdicts speak
    of, then the best point of each swept variant."""
    from sim.report.verdicts import report_points

    lines = [ranking_sentence(results, p) for p in report_points(results)]
    return [line for line in lines if line] + best_point_sentence(results)


def ranking_lines(results, point: int = 0) -> list[str]:
    """The ranking table in a few lines of text, one per headline KPI, for ``sim run``:
    ``debit_cards: 1. promo 1,234 (p_best 97%) | 2. baseline 1,100 (p_best 3%) ...``
    (in Chinese the KPI by its label)."""
    r = results.ranking
    lines = []
    for kpi in results.spec.headline:
        rows = r[(r.point == point) & (r.kpi == kpi)].sort_values("rank", kind="stable")
        if rows.empty:
            continue
        lines.append(t("console.kpi", kpi=kpi, label=kpi_label(kpi)) + " | ".join(
            t("console.rank", rank=row["rank"], variant=row["variant"],
              mean=amount(kpi, row["mean"]), p=row["p_best"]) for _, row in rows.iterrows()))
    return lines


def graph_choice(results) -> tuple[str, int, str] | None:
    """Whose ecosystem the report draws: (variant, sweep point, why in words).

    ``[report] graph_variant`` if the file names one, else the variant with the best
    mean of the first headline KPI in the ranking; in a sweep, at the point where that
    mean is best (the first such point on a tie). None when that variant is not ranked
    (its cells failed)."""
    spec = results.spec
    kpi = spec.headline[0]
    r = results.ranking[results.ranking.kpi == kpi]
    if spec.graph_variant is not None:
        r = r[r.variant == spec.graph_variant]
        why = t("fig.eco_chosen")
    else:
        why = t("fig.eco_best", what=kpi_words(kpi))
    if r.empty:
        return None
    sign = -1.0 if KPI_BY_NAME[kpi].better == "lower" else 1.0
    row = r.loc[(sign * r["mean"]).idxmax()]
    return str(row["variant"]), int(row["point"]), why
