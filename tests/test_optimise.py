"""sim optimise: shares, Kim-Nelson selection, file validation, best.toml, and a case with
a known answer (one lever that cannot move the objective, one that can)."""

from __future__ import annotations

import math
import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.config import ConfigError
from sim.experiment.spec import load_experiment
from sim.optimisation import run as run_module
from sim.optimisation.bestfile import toml_value
from sim.optimisation.run import optimise
from sim.optimisation.search import shares
from sim.optimisation.selection import kim_nelson, kn_constants
from sim.optimisation.spec import load_optimisation

# business_district's spend-and-save promotion saturates near 3,800 yuan in this city and
# adds ~40 monthly-active users; real_estate (one merchant, almost no payers) adds none.
MATTERS, IDLE = "promotion business_district", "promotion real_estate"


def _file(**changes) -> dict:
    data = {"name": "known", "scenario": "city", "days": 40, "seed": 3,
            "overrides": {"population.customers": 2000},
            "optimise": {"budget": 4000, "objective": "app_mau", "levers": [
                {"strategy": {"kind": "promotion", "type": "spend_save",
                              "chains": ["real_estate"], "start_day": 5}, "share": [0.0, 1.0]},
                {"strategy": {"kind": "promotion", "type": "spend_save",
                              "chains": ["business_district"], "start_day": 5},
                 "share": [0.0, 1.0]}]},
            "search": {"trials": 6, "replications": 2, "batch": 3, "startup": 3},
            "selection": {"indifference": 5, "top": 2, "initial": 2, "max_replications": 4,
                          "fresh": 3}}
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        table = data
        for key in path:
            table = table[int(key)] if isinstance(table, list) else table[key]
        if isinstance(table, list):
            table[int(last)] = value
        elif value is None:
            del table[last]
        else:
            table[last] = value
    return data


def test_shares_above_one_are_scaled_down_above_their_lower_bounds():
    np.testing.assert_allclose(shares([0.2, 0.3], [0.0, 0.0]), [0.2, 0.3])  # rest unspent
    np.testing.assert_allclose(shares([0.9, 0.6], [0.0, 0.0]), [0.6, 0.4])
    # lows 0.2 and 0.1: the 0.5 and 0.6 above them shrink to 0.7 in total, 7/11 each
    np.testing.assert_allclose(shares([0.7, 0.7], [0.2, 0.1]), [0.2 + 0.5 * 0.7 / 1.1,
                                                                0.1 + 0.6 * 0.7 / 1.1])


def test_kn_constants_match_kim_nelson_2001():
    eta, h2 = kn_constants(k=4, alpha=0.05, n0=10)
    assert eta == pytest.approx(0.5 * ((2 * 0.05 / 3) ** (-2 / 9) - 1))
    assert h2 == pytest.approx(2 * eta * 9) and h2 == pytest.approx(10.164, abs=0.001)


def _normal_systems(means, sd, seed):
    rng = np.random.default_rng(seed)
    draws: dict[int, np.ndarray] = {}

    def sample(systems, r):
        if r not in draws:
            draws[r] = rng.normal(means, sd)
        return draws[r][systems]
    return sample


def test_kn_picks_a_clear_best_by_elimination():
    result = kim_nelson(_normal_systems([0.0, 0.0, 0.0, 1.0], 0.3, 1), 4, alpha=0.05,
                        delta=0.5, n0=5, n_max=100)
    assert result.chosen == 3 and result.guaranteed and result.pcs == 0.95
    assert result.ended in ("elimination", "first stage")


def test_kn_meets_its_probability_in_the_slippage_configuration():
    """Best better by exactly delta (the hardest case the guarantee covers): the
    share of 400 macro-replications that pick it is at least 1 - alpha."""
    delta, hits = 1.0, 0
    for seed in range(400):
        result = kim_nelson(_normal_systems([delta, 0.0, 0.0], 2.0, seed), 3, alpha=0.1,
                            delta=delta, n0=5, n_max=10_000)
        hits += result.chosen == 0
    assert hits / 400 >= 0.9 - 0.03  # 0.9 within ~2 binomial s.e.


def test_kn_with_one_candidate_promises_nothing():
    result = kim_nelson(_normal_systems([0.0], 1.0, 0), 1, alpha=0.05, delta=1.0, n0=2,
                        n_max=4)
    assert result.chosen == 0 and result.ended == "single candidate"
    assert math.isnan(result.pcs) and not result.guaranteed


def test_kn_capped_says_the_guarantee_does_not_hold():
    result = kim_nelson(_normal_systems([0.0, 0.0], 1.0, 2), 2, alpha=0.05, delta=0.01,
                        n0=3, n_max=6)
    assert result.ended == "cap" and not result.guaranteed
    assert result.replications == [6, 6] and 0.0 <= result.pcs < 0.95


@pytest.mark.parametrize("changes, field", [
    ({"optimise__levers__0__share": [0.6, 1.0], "optimise__levers__1__share": [0.5, 1.0]},
     "optimise.levers[*].share"),
    ({"optimise__objective": "profit"}, "optimise.objective"),
    ({"optimise__levers__0__strategy": None}, "optimise.levers[0].strategy"),
    ({"optimise__levers__0__share": None}, "optimise.levers[0].share"),
    ({"optimise__levers__0__strategy__budget": 5}, "optimise.levers[0].strategy.budget"),
    ({"optimise__levers__0__strategy__kind": "bribe"}, "optimise.levers[0].strategy[0].kind"),
    ({"optimise__levers__0__strategy__colour": 1}, "optimise.levers[0].strategy[0].colour"),
    ({"optimise__levers__0__params": {"type": [1, 2]}}, "optimise.levers[0].params.type"),
    ({"optimise__constraints": ["app_mau => 3"]}, "optimise.constraints[0]"),
    ({"optimise__constraints": ["happiness >= 3"]}, "optimise.constraints[0]"),
    ({"variants": [{"name": "x"}]}, "variants"),
    ({"uncertainty": {"population.customers": {"low": 1, "high": 2}}}, "uncertainty"),
    ({"selection__indifference": None}, "selection.indifference"),
    ({"selection__top": 1}, "selection.top"),  # one candidate: nothing to select
    ({"selection__top": 7}, "selection.top"),  # more than the 6 trials
    ({"search__startup": 7}, "search.startup"),
    ({"optimise__budget": 1}, "optimise.budget"),  # floor(share x 1) = 0 for every lever
])
def test_bad_files_fail_in_one_line_before_anything_runs(changes, field):
    with pytest.raises(ConfigError) as err:
        load_optimisation(_file(**changes))
    assert err.value.field == field
    assert "\n" not in str(err.value)


def test_defaults_of_top_and_startup_shrink_to_the_trials_and_2_yuan_are_enough():
    spec = load_optimisation(_file(search={"trials": 3}, selection__top=None,
                                   optimise__budget=2, optimise__levers__0__share=[0.0, 0.5]))
    assert spec.selection["top"] == 3 and spec.search["startup"] == 3
    assert spec.budget == 2  # lever 1 gets 1 yuan from share 0.5 up


def test_single_lever_references_fund_that_lever_alone():
    spec = load_optimisation(_file())
    chosen = {"budgets": [1000.0, 3000.0], "strategies": (), "params": {}}
    refs = run_module._references(spec, chosen)
    assert refs["equal split"][0] == [2000.0, 2000.0] and len(refs["equal split"][1]) == 2
    for label, chain in ((IDLE, "real_estate"), (MATTERS, "business_district")):
        budgets, strategies = refs[f"only {label}"]
        assert sorted(budgets) == [0.0, 4000.0]  # 0 yuan: left out, not run empty
        assert [(s["chains"], s["budget"]) for s in strategies] == [([chain], 4000.0)]


def test_best_toml_seed_avoids_every_seed_run():
    from sim.experiment.spec import replication_seed
    from sim.optimisation.bestfile import out_of_sample_seed

    first, k = out_of_sample_seed(31, 10, set())
    assert k == 0 and first != 31
    taken = {replication_seed(first, 4)}  # pretend the optimisation ran one of its seeds
    second, k = out_of_sample_seed(31, 10, taken)
    assert k == 1 and taken.isdisjoint(replication_seed(second, r) for r in range(10))


def test_cli_reports_a_bad_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('days = 40\n[optimise]\nbudget = 1000\nobjective = "profit"\n'
                   '[selection]\nindifference = 5\n')
    assert main(["optimise", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: optimise.objective:") and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_toml_values_read_back():
    value = {"a": 1, "b": 2.5, "c": "x \"y\" 中", "d": [1, 2], "e": True, "f": math.inf,
             "g": {"h": "i"}}
    text = "\n".join(f"{k} = {toml_value(v)}" for k, v in value.items())
    assert tomllib.loads(text) == value


def test_the_example_file_validates():
    spec = load_optimisation("experiments/budget_split_optimise.toml",
                             {"population.agents": 2000})
    assert [lv.label for lv in spec.levers] == [
        "exclusive_channel education", "fee_waiver business_district",
        "promotion business_district"]
    assert spec.budget == 2_000_000 and spec.maximise


@pytest.mark.slow
def test_budget_goes_where_it_matters_and_a_rerun_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "code_hash", lambda: "pinned")  # about runs, not code
    out = tmp_path / "opt"
    result = optimise(_file(), out=out, executor="serial")
    share = dict(zip([lv.label for lv in result.spec.levers], result.chosen["share"],
                     strict=True))
    assert share[MATTERS] > 0.6 and share[MATTERS] > 2 * share[IDLE]
    assert result.kn.chosen == 0 or result.candidates[result.kn.chosen] == result.chosen["trial"]
    fresh = result.fresh.set_index("allocation")
    assert fresh.loc[f"only {IDLE}", "lift"] == pytest.approx(0.0, abs=2.0)  # cannot move it
    assert fresh.loc["chosen", "lift"] > 15 and fresh.loc[f"only {MATTERS}", "lift"] > 15
    assert fresh.loc[f"only {IDLE}", "chosen_minus"] > 15
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 6 and {"objective", "se", "feasible"} <= set(trials.columns)
    assert (out / "report.html").stat().st_size > 10_000
    budgets = pd.read_csv(out / "fresh.csv").set_index("allocation")[
        [f"budget_{lb}" for lb in (IDLE, MATTERS)]]
    assert (budgets.loc[f"only {MATTERS}"] > 0).tolist() == [False, True]  # one strategy
    best = load_experiment(out / "best.toml")  # a ready experiment
    assert [v.name for v in best.variants] == ["baseline", "chosen"]
    assert sum(s["budget"] for s in best.variants[1].strategies) <= 4000
    # an out-of-sample check: none of its model seeds was run by the optimisation
    ran = set(pd.read_parquet(out / "replications.parquet")["seed"].astype(int))
    assert len(best.cells()) == 2 * 3 and ran.isdisjoint(c.seed for c in best.cells())
    # a rerun reads every run back and writes the same bytes
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    again = optimise(_file(), out=copy, executor="serial")
    assert again.new_runs == 0 and again.runs == result.runs
    for name in ("best.toml", "trials.csv", "fresh.csv", "replications.parquet"):
        assert (copy / name).read_bytes() == (out / name).read_bytes(), name
    with pytest.raises(ConfigError, match="another file's runs"):  # before anything runs
        optimise(_file(seed=4), out=copy, executor="serial")


def test_partial_dependence_recovers_a_known_surface():
    from sim.optimisation.figures import partial_dependence

    s = np.random.default_rng(0).uniform(0, 0.5, size=(40, 2))
    y = 3 + 10 * s[:, 0] - 8 * s[:, 0] ** 2 + 2 * s[:, 1]  # additive: PD_0 is the curve
    grid = np.array([0.0, 0.25, 0.5])
    expected = 3 + 10 * grid - 8 * grid**2 + 2 * s[:, 1].mean()
    np.testing.assert_allclose(partial_dependence(s, y, 0, grid), expected, atol=1e-9)
    assert partial_dependence(s[:11], y[:11], 0, grid) is None  # 6 coefficients: needs 12
