"""Uncertain parameters (issue 18): the [uncertainty] block, its draws, robustness,
regret and PRIM scenario discovery."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import ConfigError
from sim.cli import main
from sim.experiment import load_experiment, run_experiment
from sim.experiment.discovery import MIN_DRAWS, discover
from sim.experiment.robustness import robustness
from sim.experiment.uncertainty import parse_uncertainty
from sim.scenarios import scenario_data, scenario_uncertainty

SMALL = {"population.customers": 1000}
PROMO = {"kind": "promotion", "type": "cashback", "rate": 0.05, "start_day": 2,
         "duration_days": 6, "budget": 50_000}
SPEC = {"name": "unc", "scenario": "city", "days": 8, "replications": 2, "seed": 5,
        "overrides": SMALL,
        "variants": [{"name": "baseline"}, {"name": "promo", "strategies": [PROMO]},
                     {"name": "referral", "strategies": [{"kind": "referral", "budget": 9_000}]}]}
WALLET = {"dist": "uniform", "low": 0.05, "high": 0.35}


def _block(**params) -> dict:
    return parse_uncertainty(params, "city", scenario_data("city"), [])


def test_lhs_puts_one_draw_in_each_stratum_and_each_parameter_has_its_own_stream():
    unc = _block(**{"bank.wallet_share_base": WALLET,
                    "merchants.review_interval_days": {"dist": "uniform", "low": 30,
                                                       "high": 120}})
    d = unc.draws(20, seed=3)
    strata = np.floor((d["bank.wallet_share_base"] - 0.05) / 0.3 * 20).astype(int)
    assert sorted(strata) == list(range(20))                  # Latin hypercube
    assert d["merchants.review_interval_days"].dtype == np.int64  # integer key: rounded
    assert d["merchants.review_interval_days"].between(30, 120).all()
    pd.testing.assert_frame_equal(d, unc.draws(20, seed=3))   # same seed, same draws
    alone = _block(**{"bank.wallet_share_base": WALLET}).draws(20, seed=3)
    np.testing.assert_array_equal(alone["bank.wallet_share_base"], d["bank.wallet_share_base"])
    assert not d.equals(unc.draws(20, seed=4))


def test_each_distribution_draws_its_known_quantiles():
    unc = parse_uncertainty({
        "design": "random",
        "adoption.need_rate": {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.6},
        "bank.wallet_share_base": {"dist": "normal", "mean": 0.2, "sd": 0.1, "low": 0.15,
                                   "high": 0.5},
        "adoption.uninstall_rate_per_day": {"dist": "lognormal", "median": 0.002,
                                            "sigma": 0.4},
        "social.kind": {"dist": "choice", "values": ["small_world", "complete"],
                        "p": [0.75, 0.25]}}, "city", scenario_data("city"), [])
    d = unc.draws(4000, seed=1)
    assert d["adoption.need_rate"].mean() == pytest.approx(0.3, abs=0.005)  # (a + c + b) / 3
    truncated = stats.truncnorm(-0.5, 3.0, loc=0.2, scale=0.1)
    assert d["bank.wallet_share_base"].min() >= 0.15
    assert d["bank.wallet_share_base"].mean() == pytest.approx(truncated.mean(), abs=0.003)
    assert d["adoption.uninstall_rate_per_day"].median() == pytest.approx(0.002, rel=0.03)
    assert (d["social.kind"] == "complete").mean() == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize("block, field, words", [
    ({"bank.wallet_share_base": {"dist": "beta", "a": 1}},
     "uncertainty.bank.wallet_share_base.dist", "one of 'uniform'"),
    ({"bank.wallet_share_base": {"dist": "uniform", "low": 0.3, "high": 0.1}},
     "uncertainty.bank.wallet_share_base.low", "< high = 0.1"),
    ({"bank.wallet_shar_base": WALLET}, "uncertainty.bank.wallet_shar_base",
     "did you mean bank.wallet_share_base"),
    ({"adoption.need_rate": {"dist": "triangular", "low": 0.1, "mode": 0.6, "high": 0.3}},
     "uncertainty.adoption.need_rate.mode", "in [low, high]"),
    ({"social.kind": {"dist": "choice", "values": []}}, "uncertainty.social.kind.values",
     "non-empty list"),
    ({"social.kind": {"dist": "uniform", "low": 0, "high": 1}}, "uncertainty.social.kind.dist",
     "'choice'"),
    ({"bank.wallet_share_base": {"dist": "normal", "mean": 0.2, "sd": 0.5}},
     "bank.wallet_share_base", "draw of [uncertainty]"),
    ({"strategies[0].nope": WALLET}, "uncertainty.strategies[0].nope", "declares"),
    ({"design": "sobol", "bank.wallet_share_base": WALLET}, "uncertainty.design", "'lhs'"),
    ({}, "uncertainty", "at least one parameter"),
])
def test_bad_blocks_are_named_in_one_line(block, field, words):
    with pytest.raises(ConfigError) as err:
        load_experiment({**SPEC, "uncertainty": block})
    assert err.value.field == field and words in str(err.value)
    assert "\n" not in str(err.value)


def test_a_bad_block_exits_2_before_anything_runs(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n[[variants]]\nname = "baseline"\n[uncertainty]\n'
                    '"bank.wallet_share_base" = { dist = "uniform", low = 0.4, high = 0.1 }\n',
                    encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "uncertainty.bank.wallet_share_base.low" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_every_variant_and_sweep_point_shares_each_replications_draw():
    spec = load_experiment({**SPEC, "replications": 5,
                            "sweep": {"parameters": {"adoption.need_rate": [0.2, 0.4]}},
                            "uncertainty": {"bank.wallet_share_base": WALLET,
                                            "strategies[0].rate": {"dist": "uniform",
                                                                   "low": 0.01, "high": 0.1}}})
    draws = spec.draws()
    assert spec.uncertainty.variants == {"strategies[0].rate": ("promo",)}  # referral lacks it
    cells = spec.cells()
    assert len(cells) == 3 * 2 * 5
    for cell in cells:
        row = draws.loc[cell.replication]
        assert cell.draw == row.to_dict()
        assert cell.overrides["bank.wallet_share_base"] == row["bank.wallet_share_base"]
        if cell.variant == "promo":
            assert cell.strategies[0]["rate"] == row["strategies[0].rate"]
        if cell.variant == "referral":
            assert "rate" not in cell.strategies[0]
    seeds = {(c.replication, c.seed) for c in cells}
    assert len(seeds) == 5                                     # common random numbers too


def test_without_a_block_nothing_changes(tmp_path):
    spec = load_experiment(SPEC)
    assert spec.uncertainty is None and "uncertainty" not in spec.source
    assert all(cell.draw == {} for cell in spec.cells())
    # the scenario's own [uncertainty] is not part of its content digest (nor of the model)
    assert "uncertainty" not in scenario_data("city") and scenario_uncertainty("city")
    digest = hashlib.sha256(json.dumps(scenario_data("city"), sort_keys=True,
                                       default=str).encode()).hexdigest()
    assert spec.scenario_sha256 == digest
    table = {k: v for k, v in spec.source.items() if k != "report"}
    assert spec.hash == hashlib.sha256(json.dumps([table, digest], default=str).encode()
                                       ).hexdigest()[:16]
    plain = run_experiment({**SPEC, "replications": 1}, out=tmp_path / "plain",
                           executor="serial")
    assert plain.robustness.empty and plain.discovery.empty
    assert not (tmp_path / "plain" / "robustness.csv").exists()
    assert "draws" not in json.loads((tmp_path / "plain" / "manifest.json").read_text())
    # a block whose only value is the default runs the very same model
    same = run_experiment({**SPEC, "replications": 1, "uncertainty": {
        "bank.wallet_share_base": {"dist": "choice", "values": [0.3]}}},
        out=tmp_path / "same", executor="serial")
    extra = [c for c in same.kpis.columns if c not in plain.kpis.columns]
    assert extra == ["bank.wallet_share_base"] and (same.kpis[extra[0]] == 0.3).all()
    pd.testing.assert_frame_equal(same.kpis[plain.kpis.columns], plain.kpis)


def _synthetic(n: int, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draws of three parameters and horizon values of a lever that beats the baseline
    exactly while bank.wallet_share_base > 0.18, by 100 app users per 0.01 above."""
    unc = _block(**{"bank.wallet_share_base": WALLET,
                    "adoption.need_rate": {"dist": "triangular", "low": 0.1, "mode": 0.3,
                                           "high": 0.5},
                    "social.kind": {"dist": "choice", "values": ["small_world", "complete"]}})
    draws = unc.draws(n, seed)
    w = draws["bank.wallet_share_base"].to_numpy()
    rows = [pd.DataFrame({"point": 0, "variant": v, "replication": range(n),
                          "app_mau": 10_000.0 + (w - 0.18) * 10_000 * k,
                          "net_contribution": -k * 1.0})
            for v, k in (("baseline", 0.0), ("lever", 1.0), ("steady", 0.2))]
    return pd.concat(rows, ignore_index=True), draws


@pytest.fixture
def few_shuffles(monkeypatch):
    """19 shuffles per box instead of 49: the smallest p-value is then 0.05, still
    within ALPHA, at 2/5 of the time."""
    import sim.experiment.discovery as discovery

    monkeypatch.setattr(discovery, "PERMUTATIONS", 19)


@pytest.mark.slow  # ema_workbench's first import: 5-10 s
def test_prim_bounds_the_one_parameter_the_advantage_hinges_on(few_shuffles):
    values, draws = _synthetic(60)
    order = ["baseline", "lever", "steady"]
    boxes, scores = discover(values, draws, "baseline", order, ("app_mau",), seed=0)
    lever = boxes[(boxes.variant == "lever") & (boxes.question == "beats_baseline")]
    assert list(lever.parameter) == ["bank.wallet_share_base"]  # the others stay free
    assert lever.low.iloc[0] == pytest.approx(0.18, abs=0.015) and np.isnan(lever.high.iloc[0])
    assert lever.coverage.iloc[0] >= 0.9 and lever.density.iloc[0] >= 0.9
    assert lever.p_value.iloc[0] == pytest.approx(1 / 20)  # no shuffle comes close
    s = scores[(scores.variant == "lever") & (scores.question == "beats_baseline")]
    assert s.set_index("parameter").score.idxmax() == "bank.wallet_share_base"
    w = draws["bank.wallet_share_base"]
    table = robustness(values, "baseline", order, ("app_mau",)).set_index("variant")
    # lever is best above 0.18, the baseline below: regret of lever = 10,000 (0.18 - w)+
    assert table.loc["lever", "share_beats_baseline"] == pytest.approx((w > 0.18).mean())
    assert table.loc["lever", "mean_regret"] == pytest.approx(
        (10_000 * (0.18 - w).clip(lower=0)).mean())
    assert table.loc["lever", "max_regret"] == pytest.approx(10_000 * (0.18 - w.min()))
    assert table.loc["steady", "share_best"] == 0.0
    assert np.isnan(table.loc["baseline", "share_beats_baseline"])
    assert table.loc["lever", "rank_mean"] == 1 and table.loc["steady", "rank_minimax_regret"] == 2


@pytest.mark.slow
def test_one_uncertain_parameter_gets_its_box_and_its_score(few_shuffles):
    """With a single parameter the extra trees still split on it (a third of one
    parameter rounds to none: it crashed after every cell had run)."""
    values, draws = _synthetic(40)
    draws = draws[["bank.wallet_share_base"]]
    values = values[values.variant != "steady"]
    boxes, scores = discover(values, draws, "baseline", ["baseline", "lever"], ("app_mau",), 0)
    beats = boxes[boxes.question == "beats_baseline"]
    assert list(beats.parameter) == ["bank.wallet_share_base"] and beats.status.iloc[0] == "box"
    assert scores.score.tolist() == [1.0, 1.0]  # beats the baseline; is best


@pytest.mark.slow
def test_a_box_fitted_to_noise_is_reported_as_chance(few_shuffles):
    """A lever that wins in a coin-flip half of the draws, whatever the parameters: PRIM
    still finds a box, which shuffled answers match (p > ALPHA): no ranges reported."""
    values, draws = _synthetic(40)
    coin = np.random.default_rng(5).random(40) < 0.5
    noise = values[values.variant == "baseline"].assign(variant="noise")
    noise["app_mau"] += np.where(coin, 1.0, -1.0)
    values = pd.concat([values[values.variant == "baseline"], noise], ignore_index=True)
    boxes, _ = discover(values, draws, "baseline", ["baseline", "noise"], ("app_mau",), 0)
    assert list(boxes.status) == ["chance", "chance"]  # beats the baseline; is best
    assert (boxes.p_value > 0.05).all() and boxes.parameter.isna().all()
    assert (boxes.coverage * boxes.density > 0.3).all()  # a box that looks like something


@pytest.mark.slow
def test_prim_keeps_to_the_parameters_a_variant_has_and_to_enough_cases(monkeypatch):
    """An integer strategy target (PRIM pastes midpoints: it crashed on int64) that only
    'steady' has stays out of lever's beats-baseline box, though it is in the draws;
    a variant that wins in 3 of 60 draws gets no box ('too few true draws')."""
    values, draws = _synthetic(60)
    draws["strategies[0].start_day"] = np.arange(60, dtype=np.int64) % 37 + 1
    rare = values[values.variant == "baseline"].assign(variant="rare")
    rare.loc[rare.replication < 3, "app_mau"] += 1.0
    values = pd.concat([values, rare], ignore_index=True)
    order = ["baseline", "lever", "steady", "rare"]
    import sim.experiment.discovery as discovery  # which parameters, not whether: no shuffles

    monkeypatch.setattr(discovery, "box_p_value", lambda *args: 0.0)
    boxes, _ = discover(values, draws, "baseline", order, ("app_mau",), seed=0,
                        applies={"strategies[0].start_day": ("steady",)})
    beats = boxes[boxes.question == "beats_baseline"].set_index("variant")
    assert list(beats.loc[["lever"], "parameter"]) == ["bank.wallet_share_base"]
    assert beats.loc["rare", "status"] == "too few true draws"
    assert "strategies[0].start_day" not in set(beats.loc[["lever"], "parameter"])


def test_too_few_draws_say_so_instead_of_a_box():
    values, draws = _synthetic(MIN_DRAWS - 1)
    boxes, scores = discover(values, draws, "baseline", ["baseline", "lever"], ("app_mau",), 0)
    assert set(boxes.status) == {"too few draws"} and scores.empty


@pytest.mark.slow
def test_a_run_writes_robustness_discovery_and_the_report_says_it(tmp_path, capsys):
    path = tmp_path / "unc.toml"
    path.write_text("""
name = "unc"
days = 6
replications = 30
seed = 2
[overrides]
"population.customers" = 1000
[report]
headline = ["app_mau"]
[[variants]]
name = "baseline"
[[variants]]
name = "promo"
[[variants.strategies]]
kind = "promotion"
type = "cashback"
rate = 0.05
start_day = 1
duration_days = 5
budget = 50000
[uncertainty]
from_scenario = true
"strategies[0].rate" = { dist = "uniform", low = 0.0, high = 0.1 }
""", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    console = capsys.readouterr().out
    line = next(x for x in console.splitlines() if x.startswith("promo across 30 draws"))
    assert "of 6 uncertain parameters" in line
    for name in ("robustness", "discovery", "feature_scores"):
        assert (out / f"{name}.csv").exists()
    table = pd.read_csv(out / "robustness.csv")
    assert list(table.columns[1:10]) == [
        "variant", "kpi", "share_beats_baseline", "share_best", "mean_regret", "max_regret",
        "rank_mean", "rank_expected_regret", "rank_minimax_regret"]
    kpis = pd.read_parquet(out / "kpis.parquet")
    last = kpis[kpis.day == kpis.day.max()].pivot(index="replication", columns="variant",
                                                  values="strategies[0].rate")
    assert (last["promo"] == last["baseline"]).all()          # both rows carry draw r
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["draws"]) == 30
    assert line.split(";")[0] in Path(out / "report.html").read_text(encoding="utf-8")
