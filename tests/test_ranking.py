"""The ranking's statistics recomputed independently on small constructed tables:
paired t-tests, Holm's correction, P(best) by paired bootstrap, replications needed,
bootstrap intervals of ROI, payback day and cost per unit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiment.analysis import cost_effectiveness
from sim.experiment.bootstrap import payback_days, percentile_interval, resample_weights
from sim.experiment.ranking import holm, p_best, pairwise, rank, replications_needed
from sim.metrics import KPI_NAMES


def test_holm_matches_a_hand_computation():
    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> 0.06
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # capped at 1; NaN (one replication) left out of the family: m = 2 here
    assert holm([0.6, math.nan, 0.2]) == pytest.approx([0.6, math.nan, 0.4], nan_ok=True)
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


# 3 variants x 4 replications, paired by row (replication)
TABLE = pd.DataFrame({"a": [10.0, 12.0, 11.0, 13.0],
                      "b": [8.0, 11.0, 9.0, 12.0],
                      "c": [10.0, 12.5, 10.5, 13.5]}, index=pd.Index(range(4), name="replication"))


def test_pairwise_table_and_its_holm_correction_recomputed_by_hand():
    out = pairwise(TABLE).set_index(["variant_a", "variant_b"])
    assert list(out.index) == [("a", "b"), ("a", "c"), ("b", "c")]
    # a - b = [2, 1, 2, 1]: mean 1.5, sd 0.57735, t = 1.5 / (0.57735 / 2) = 5.196, 3 df
    ab = out.loc[("a", "b")]
    assert ab["diff"] == pytest.approx(1.5)
    assert ab["sd"] == pytest.approx(math.sqrt(1 / 3))
    assert ab["p_value"] == pytest.approx(2 * stats.t.sf(1.5 / (math.sqrt(1 / 3) / 2), 3))
    raw = {pair: stats.ttest_rel(TABLE[pair[0]], TABLE[pair[1]]).pvalue for pair in out.index}
    assert out["p_value"].to_dict() == pytest.approx(raw)
    # Holm by hand: sort the three raw p-values, multiply by 3, 2, 1, running max, cap 1
    order = sorted(raw, key=raw.get)
    running, expected = 0.0, {}
    for k, pair in enumerate(order):
        running = max(running, (3 - k) * raw[pair])
        expected[pair] = min(1.0, running)
    assert out["p_holm"].to_dict() == pytest.approx(expected)
    half = stats.t.ppf(0.975, 3) * ab["sd"] / 2
    assert (ab["ci_low"], ab["ci_high"]) == pytest.approx((1.5 - half, 1.5 + half))


def test_a_constant_difference_is_certain_and_identical_variants_are_not_separated():
    t = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 2.0], "z": [1.0, 2.0, 3.0]})
    out = pairwise(t).set_index(["variant_a", "variant_b"])
    assert out.loc[("x", "y"), "p_value"] == 0.0 and out.loc[("x", "z"), "p_value"] == 1.0


def test_p_best_is_a_bootstrap_probability_not_a_share_of_replications():
    # a beats b in only 2 of 4 replications, but by 10 when it wins and loses by 1
    # otherwise: its mean is ahead unless no winning replication is drawn
    values = np.array([[10.0, 0.0], [0.0, 1.0], [10.0, 0.0], [0.0, 1.0]])
    w = resample_weights(4, seed=7)
    share = p_best(values, w)
    assert (values[:, 0] > values[:, 1]).mean() == 0.5
    # exact: P(mean of 4 draws of {+10, -1} > 0) = 1 - P(no +10 drawn) = 1 - 0.5**4
    assert share[0] == pytest.approx(1 - 0.5 ** 4, abs=0.02)
    assert share.sum() == pytest.approx(1.0)
    # identical candidates share every resample; lower-is-better flips the winner
    tied = p_best(np.array([[1.0, 1.0, 0.0]] * 3), resample_weights(3, 1))
    assert tied == pytest.approx([0.5, 0.5, 0.0])
    assert p_best(values, w, sign=-1.0)[1] == pytest.approx(share[0], abs=1e-12)


def test_resamples_are_seeded_and_rows_are_weights():
    w = resample_weights(5, seed=3, n_resamples=100)
    assert w.shape == (100, 5) and np.allclose(w.sum(axis=1), 1.0)
    assert np.allclose(w * 5, np.round(w * 5))  # counts / R
    assert np.array_equal(w, resample_weights(5, seed=3, n_resamples=100))
    assert not np.array_equal(w, resample_weights(5, seed=4, n_resamples=100))


def test_replications_needed_matches_the_textbook_paired_t_sample_size():
    # sd 100, difference 10, 5 % two-sided, 80 % power: normal formula 784.9, t 787
    assert replications_needed(100.0, 10.0) == 787
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert 0 <= replications_needed(100.0, 10.0) - (z * 10) ** 2 < 5
    # more pairs, stricter level: Bonferroni's first Holm step (alpha / 6)
    assert replications_needed(100.0, 10.0, pairs=6) > 787
    n = replications_needed(9.07, 40.7, pairs=6)
    level = 0.05 / 12
    power = [stats.nct.sf(stats.t.ppf(1 - level, k - 1), k - 1, 40.7 * math.sqrt(k) / 9.07)
             for k in (n - 1, n)]
    assert power[0] < 0.8 <= power[1]
    assert replications_needed(5.0, 0.0) == math.inf and replications_needed(0.0, 1.0) == 2


def test_payback_days_and_percentile_intervals_by_hand():
    days = np.arange(5)
    paths = np.array([[-5, -3, 1, -1, 2],    # negative last on day 3 -> pays back on 4
                      [-5, -3, -1, -1, -2],  # never recovers -> inf
                      [1, 2, 3, 4, 5],       # never negative, ends above 0 -> day 0
                      [0, 0, 0, 0, 0]], float)
    assert list(payback_days(paths, days)) == [4.0, math.inf, 0.0, math.inf]
    # 100 values (the NaN left out): ranks floor(0.025 * 99) = 2 and ceil(0.975 * 99) = 97
    assert percentile_interval(np.r_[np.arange(100.0), np.nan]) == (2.0, 97.0)
    lo, hi = percentile_interval(np.r_[np.arange(97.0), [np.inf] * 3])
    assert lo == 2.0 and hi == math.inf
    assert all(math.isnan(x) for x in percentile_interval(np.array([np.nan])))


def _kpis(spend: dict[str, list[float]], gain: dict[str, list[float]], days: int = 4
          ) -> pd.DataFrame:
    """Daily KPIs of 2 variants x R replications: spend and debit cards as given per
    replication (spend on day 0, cards a stock reached on day 0); net = -spend."""
    rows = []
    for variant in spend:
        for r, (s, g) in enumerate(zip(spend[variant], gain[variant], strict=True)):
            for day in range(days):
                row = dict.fromkeys(KPI_NAMES, 0.0)
                row.update(point=0, variant=variant, replication=r, day=day,
                           debit_cards=100.0 + g, strategy_spend=s if day == 0 else 0.0,
                           net_contribution=(-s if day == 0 else 0.0) + 1.0)
                rows.append(row)
    return pd.DataFrame(rows)


def test_cost_per_unit_and_its_bootstrap_interval():
    kpis = _kpis({"base": [0, 0, 0, 0], "v": [100, 120, 80, 100]},
                 {"base": [0, 0, 0, 0], "v": [10, 10, 5, 5]})
    c = cost_effectiveness(kpis, "base", ["base", "v"], ("debit_cards",), seed=1)
    row = c.set_index("variant").loc["v"]
    assert row["incremental_debit_cards"] == pytest.approx(7.5)
    assert row["cost_per_debit_cards"] == pytest.approx(100 / 7.5)
    # every resample's ratio lies between the extreme replications' ratios (8 to 24)
    assert 8 <= row["cost_per_debit_cards_ci_low"] <= 100 / 7.5 <= row[
        "cost_per_debit_cards_ci_high"] <= 24
    assert row["roi"] == pytest.approx(-1.0) and row["roi_ci_low"] == pytest.approx(-1.0)
    assert math.isnan(row["payback_day"]) and row["payback_ci_high"] == math.inf
    again = cost_effectiveness(kpis, "base", ["base", "v"], ("debit_cards",), seed=1)
    pd.testing.assert_frame_equal(c, again)


def test_rank_orders_variants_and_quotes_the_holm_p_of_each_gap():
    values = TABLE.reset_index().melt(id_vars="replication", var_name="variant",
                                      value_name="app_mau")
    values["point"] = 0
    ranking, pairs = rank(values, ("app_mau",), ["a", "b", "c"], seed=0)
    assert list(ranking.variant) == ["c", "a", "b"] and list(ranking["rank"]) == [1, 2, 3]
    p = pairs.set_index(["variant_a", "variant_b"])["p_holm"]
    r = ranking.set_index("variant")
    assert r.loc["a", "p_holm_vs_best"] == p[("a", "c")]
    assert r.loc["b", "p_holm_vs_best"] == p[("b", "c")]
    assert math.isnan(r.loc["c", "p_holm_vs_best"]) and r["p_best"].sum() == pytest.approx(1)
    assert r.loc["a", "diff_vs_best"] == pytest.approx(11.5 - 11.625)
