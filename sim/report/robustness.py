"""The robustness section: how each verdict fares across the uncertain parameters.

One line per non-baseline variant on the first headline KPI, the same on the console
(``sim run``) and in the report, for example::

    lottery across 40 draws of 5 uncertain parameters: beats baseline on monthly
    active app users in 62 % of draws and is best in 30 %; regret 1,234 on average
    (rank 2 of 9), 5,600 at worst (rank 3 of 9); beats baseline only while
    bank.wallet_share_base >= 0.183 (coverage 0.90, density 0.85).

The numbers come from ``Results.robustness`` and ``Results.discovery``
(sim/experiment/robustness.py, sim/experiment/discovery.py); without
``[uncertainty]`` there is no line and no section.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.experiment.discovery import MIN_CASES, MIN_DRAWS
from sim.report.blocks import SIGNIFICANT, Section, Table, Text
from sim.report.i18n import current, header, kpi_words
from sim.report.verdicts import amount

__all__ = ["robustness_lines", "robustness_section"]

# key: (English, Chinese)
_WORDS = {
    "head": ("{variant}{where} across {n} draws of {k} uncertain parameters: beats {baseline} on "
             "{kpi} in {beats:.0%} of draws and is best in {best:.0%}; regret {mean} on average "
             "(rank {r_mean} of {m}), {max} at worst (rank {r_max} of {m})",
             "{variant}{where}（{k} 个不确定参数的 {n} 次抽样）：在 {kpi} 上优于{baseline}的抽样占 "
             "{beats:.0%}，为最佳的占 {best:.0%}；平均遗憾 {mean}（第 {r_mean}/{m} 名），最大遗憾 "
             "{max}（第 {r_max}/{m} 名）"),
    "box": ("; beats {baseline} {how} while {box} (coverage {coverage:.2f}, density "
            "{density:.2f}; a box fitted to {true} winning draws of {n}, permutation p = "
            "{p:.2f})",
            "；{how}在 {box} 时优于{baseline}（覆盖率 {coverage:.2f}，密度 {density:.2f}；"
            "由 {n} 次抽样中的 {true} 次优胜拟合，置换检验 p = {p:.2f}）"),
    "chance": ("; when it does looks like chance: PRIM's best box (coverage {coverage:.2f}, "
               "density {density:.2f}) is matched by boxes fitted to the same answers "
               "shuffled across the draws (permutation p = {p:.2f})",
               "；何时优于看起来是偶然：PRIM 的最佳区间（覆盖率 {coverage:.2f}，密度 "
               "{density:.2f}）在打乱各次抽样的结果后同样能拟合出来（置换检验 p = {p:.2f}）"),
    "only": ("only", "仅"), "mostly": ("mostly", "主要"),
    "always": ("; it does so in every draw", "；每次抽样都是如此"),
    "never": ("", ""),
    "no range": ("; no range of the uncertain parameters explains when it does (PRIM "
                 "restricts none)", "；没有哪个参数区间能解释何时优于（PRIM 未限定任何参数）"),
    "too few draws": ("; too few draws ({n} < {min}) to find where the verdict changes: run "
                      ">= {min} replications", "；抽样太少（{n} < {min}），无法找出结论改变的区间："
                      "请至少运行 {min} 次重复"),
    "too few true draws": ("; it wins in too few draws (fewer than {cases}) to say where",
                           "；优胜的抽样太少（少于 {cases} 次），无法给出区间"),
    "too few false draws": ("; it loses in too few draws (fewer than {cases}) to say where",
                            "；失利的抽样太少（少于 {cases} 次），无法给出区间"),
    "and": (" and ", " 且 "),
    "sec": ("Robustness across uncertain parameters", "不确定参数下的稳健性"),
    "about": ("Replication r of every variant ran with the same draw r of the uncertain "
              "parameters ([uncertainty]). Regret is the shortfall from the best variant in the "
              "same draw; ranks by mean value, expected regret and min-max regret. The boxes "
              "(PRIM) are the parameter ranges in which the variant beats the baseline, or is "
              "best, each shown only if boxes fitted to the answers shuffled across the draws "
              "rarely do as well (permutation p <= 0.05); feature scores (extra trees) say "
              "which parameters matter.",
              "每个方案的第 r 次重复使用相同的第 r 次不确定参数抽样（[uncertainty]）。遗憾是与同一"
              "抽样中最佳方案的差距；按均值、期望遗憾和最大遗憾分别排名。区间（PRIM）是方案优于"
              "基准或为最佳时的参数范围，仅当打乱抽样结果后拟合的区间很少能同样好时才列出"
              "（置换检验 p <= 0.05）；特征得分（极端随机树）说明哪些参数重要。"),
}


def _w(key: str, **fields) -> str:
    return _WORDS[key][0 if current() == "en" else 1].format(**fields)


def _box_words(rows: pd.DataFrame) -> str:
    """The restricted parameters of one box in words: "x >= 0.183 and y in [0.1, 0.2]"."""
    parts = []
    for r in rows.itertuples():
        if isinstance(r.values, str) and r.values:
            parts.append(f"{r.parameter} in {{{r.values}}}")
        elif math.isnan(r.high):
            parts.append(f"{r.parameter} >= {r.low:.3g}")
        elif math.isnan(r.low):
            parts.append(f"{r.parameter} <= {r.high:.3g}")
        else:
            parts.append(f"{r.parameter} in [{r.low:.3g}, {r.high:.3g}]")
    return _w("and").join(parts)


def robustness_lines(results) -> list[str]:
    """One robustness line per non-baseline variant and sweep point on the first headline
    KPI (none without ``[uncertainty]``)."""
    table, boxes = results.robustness, results.discovery
    if table is None or table.empty:
        return []
    spec = results.spec
    kpi, labels = spec.headline[0], spec.point_labels()
    n_params = len(spec.uncertainty.parameters)
    lines = []
    for point, g in table[table.kpi == kpi].groupby("point", sort=True):
        m = len(g)
        where = f" ({labels[point]})" if labels[point] else ""
        for r in g.itertuples():
            if r.variant == spec.baseline:
                continue
            text = _w("head", variant=r.variant, where=where, n=r.draws, k=n_params,
                      baseline=spec.baseline, kpi=kpi_words(kpi), beats=r.share_beats_baseline,
                      best=r.share_best, mean=amount(kpi, r.mean_regret), max=amount(kpi,
                      r.max_regret), r_mean=r.rank_expected_regret, r_max=r.rank_minimax_regret,
                      m=m)
            rows = boxes[(boxes.point == point) & (boxes.variant == r.variant)
                         & (boxes.kpi == kpi) & (boxes.question == "beats_baseline")]
            status = rows.status.iloc[0] if len(rows) else "never"
            if status == "box":
                first = rows.iloc[0]
                how = _w("only" if min(first.coverage, first.density) >= 0.8 else "mostly")
                text += _w("box", baseline=spec.baseline, how=how, box=_box_words(rows),
                           coverage=first.coverage, density=first.density, n=r.draws,
                           true=round(first.share_true * r.draws), p=first.p_value)
            elif status == "chance":
                first = rows.iloc[0]
                text += _w(status, coverage=first.coverage, density=first.density,
                           p=first.p_value)
            else:
                text += _w(status, n=r.draws, min=MIN_DRAWS, cases=MIN_CASES)
            lines.append(text + ".")
    return lines


def robustness_section(results) -> Section | None:
    """The report's section: the lines, the robustness table and the PRIM boxes (None
    without ``[uncertainty]``)."""
    lines = robustness_lines(results)
    if not lines:
        return None
    table = results.robustness.rename(columns=header)
    boxes = results.discovery[results.discovery.status == "box"].drop(columns="status")
    blocks = [Text(_w("about")), *(Text(line, "verdict") for line in lines),
              Table(table, SIGNIFICANT)]
    if not boxes.empty:
        blocks.append(Table(boxes.rename(columns=header), SIGNIFICANT))
    return _w("sec"), blocks
