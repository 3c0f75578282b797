"""Experiments that never lie about what ran (issue 15): one validation for every cell,
no NaN or infinity, names that never become paths, one line and status 2 for every
user error, sizes that fit, strict JSON, integer parameters in sensitivity sweeps."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import ConfigError
from sim.cli import main
from sim.experiment import load_experiment, load_results, run_experiment
from sim.experiment.sensitivity import analyze
from sim.strategies import make_strategies

TINY = {"population.customers": 400}
PROMO = {"kind": "promotion", "type": "cashback", "rate": 0.05, "start_day": 1,
         "duration_days": 5, "budget": 20_000}
SPEC = {"name": "hard", "scenario": "city", "days": 6, "replications": 1, "seed": 2,
        "overrides": TINY, "variants": [{"name": "baseline"}, {"name": "promo",
                                                               "strategies": [PROMO]}]}


def with_sweep(method: str, parameters: dict, **extra) -> dict:
    return {**SPEC, "sweep": {"method": method, "parameters": parameters, **extra}}


# --- item 5: validation builds every cell's real scenario and strategies --------------
@pytest.mark.parametrize("parameters, field", [
    ({"adoption.imitation_rate": [0.001, 5.0]}, "adoption.imitation_rate"),    # a range
    ({"population.customers": [400, 0]}, "population.customers"),               # a size
    ({"bank.float_days": [30.0, 0.5]}, "bank.float_days"),                      # a floor
    # each value alone is fine; together they break the scenario's cross-field rule
    ({"adoption.external_rate": [0.001, 0.5], "adoption.imitation_rate": [0.0, 0.9]},
     "adoption.external_rate"),
])
def test_validation_builds_every_sweep_cell_with_the_models_checks(parameters, field):
    with pytest.raises(ConfigError) as err:
        load_experiment(with_sweep("grid", parameters))
    assert err.value.field == field and "sweep point" in err.value.allowed


def test_a_sweep_combination_valid_everywhere_passes():
    spec = load_experiment(with_sweep("grid", {"adoption.imitation_rate": [0.0, 0.001],
                                               "strategies[0].rate": [0.01, 0.1]}))
    assert len(spec.cells()) == 4 * 2


# --- item 6: NaN and infinity are not numbers a run can use ---------------------------
@pytest.mark.parametrize("params, field", [
    ({"budget": -math.inf}, "budget"), ({"budget": math.nan}, "budget"),
    ({"rate": math.inf}, "rate"), ({"rate": math.nan}, "rate"),
    ({"per_user_cap_yuan": math.inf}, "per_user_cap_yuan"),
])
def test_strategy_parameters_refuse_nan_and_infinity(params, field):
    with pytest.raises(ConfigError) as err:
        make_strategies([{**PROMO, **params}])
    assert err.value.field == f"strategies[0].{field}" and "finite" in err.value.allowed


def test_an_infinite_budget_still_means_unlimited():
    assert make_strategies([{**PROMO, "budget": math.inf}])[0].budget == math.inf


@pytest.mark.parametrize("key", ["bank.float_days", "adoption.imitation_rate",
                                 "chains.education.rate_per_day"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_scenario_values_refuse_nan_and_infinity(key, value):
    with pytest.raises(ConfigError) as err:
        load_experiment({**SPEC, "overrides": {**TINY, key: value}})
    assert err.value.field == key and "finite" in err.value.allowed


# --- item 7: names never become paths ------------------------------------------------
EVIL_NAMES = ["../../escaped", "/tmp/absolute", "a/b", "nul\x00byte", "ctrl\x1b[31m\n",
              "校园独家" * 20, "..", "$x^2$ \\frac{1}{2} $"]


def test_any_names_write_only_under_out_and_stay_as_given(tmp_path):
    out = tmp_path / "deep" / "out"
    spec = {**SPEC, "name": "../../../experiment", "days": 3, "variants": [
        {"name": "baseline"}, *({"name": n, "strategies": [PROMO]} for n in EVIL_NAMES)]}
    res = run_experiment(spec, out=out, executor="serial")
    assert list(dict.fromkeys(res.kpis.variant)) == ["baseline", *EVIL_NAMES]
    everything = [p for p in tmp_path.rglob("*")]
    assert all(out in p.parents or p == out or p in out.parents for p in everything)
    for path in (out / "cells").iterdir():
        assert len(path.name.encode()) <= 100 and path.name.isascii()
        assert all(c.isalnum() or c in "._-" for c in path.name)
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/absolute").exists()


def test_the_default_folder_of_any_experiment_name_is_under_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "e.toml"
    path.write_text('name = "../../outside"\ndays = 2\nreplications = 1\n'
                    '[overrides]\n"population.customers" = 300\n[[variants]]\nname = "b"\n',
                    encoding="utf-8")
    assert main(["run", str(path), "--executor", "serial", "--quiet"]) == 0
    made = [p for p in (tmp_path / "results").iterdir()]
    assert len(made) == 1 and (made[0] / "manifest.json").exists()
    assert not (tmp_path.parent / "outside").exists()


# --- item 9: user strings in figures are plain text ----------------------------------
def test_a_report_with_mathtext_in_names_builds(tmp_path):
    from sim.report import write_report

    spec = {**SPEC, "name": "$cost$ of \\alpha", "days": 8, "replications": 2, "variants": [
        {"name": "base $"}, {"name": "$\\frac{a}{b}$ ^_ {", "strategies": [PROMO]}]}
    run_experiment(spec, out=tmp_path / "o", executor="serial")
    html = write_report(tmp_path / "o").read_text(encoding="utf-8")
    assert "$\\frac{a}{b}$ ^_ {" in html


# --- item 10: every user error is one line and status 2 ------------------------------
def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


GOOD = 'name = "x"\ndays = 2\nreplications = 1\n[overrides]\n"population.customers" = 300\n' \
       '[[variants]]\nname = "b"\n[[variants]]\nname = "p"\n[[variants.strategies]]\n' \
       'kind = "promotion"\ntype = "cashback"\nrate = 0.05\nbudget = 100.0\n'


def _cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    folder = tmp / "a_folder.toml"
    folder.mkdir()
    afile = _write(tmp / "afile", "x")
    good = _write(tmp / "good.toml", GOOD)
    single = tmp / "single"
    main(["run", "--days", "2", "--quiet", "--set", "population.customers=300",
          "--out", str(single)])
    corrupt = tmp / "corrupt"
    corrupt.mkdir()
    _write(corrupt / "manifest.json", '{"kind": "experiment", "spec": ')
    deep = "overrides." + ".".join(["a"] * 3000) + " = 1\n"
    return {
        "experiment is a folder": (["validate", str(folder)], "experiment"),
        "scenario is a folder": (["run", "--scenario", str(folder), "--days", "2",
                                  "--out", str(tmp / "o1")], "scenario"),
        "experiment not UTF-8": (["validate", str(_write(tmp / "bin.toml",
                                                          b"name = \"\xff\xfe\"\n"))],
                                 "experiment"),
        "scenario not UTF-8": (["run", "--scenario", str(_write(tmp / "s.toml", b"\xff\x00")),
                                "--days", "2", "--out", str(tmp / "o2")], "scenario"),
        "sweep.variants a number": (["validate", str(_write(
            tmp / "sv.toml", GOOD + '[sweep]\nvariants = 5\n[sweep.parameters]\n'
            '"strategies[0].rate" = [0.01, 0.02]\n'))], "sweep.variants"),
        "negative strategy index": (["validate", str(_write(
            tmp / "neg.toml", GOOD + '[sweep]\n[sweep.parameters]\n'
            '"strategies[-1].rate" = [0.01, 0.02]\n'))], "sweep.parameters.strategies[-1].rate"),
        "3,000-level dotted key": (["validate", str(_write(tmp / "deep.toml",
                                                            GOOD.replace("[overrides]\n", "")
                                                            .replace("[[variants]]", deep
                                                                     + "[[variants]]", 1)))],
                                   "experiment"),
        "--days 0, single run": (["run", "--days", "0", "--out", str(tmp / "o3")], "--days"),
        "--days 0, experiment": (["run", str(good), "--days", "0", "--out", str(tmp / "o4")],
                                 "days"),
        "--out is a file": (["run", str(good), "--out", str(afile)], "out"),
        "--out under a file": (["run", str(good), "--out", str(afile / "sub")], "out"),
        "--workers 0": (["run", str(good), "--workers", "0", "--out", str(tmp / "o5")],
                        "workers"),
        "report on a single run": (["report", str(single)], "results folder"),
        "report on a corrupt folder": (["report", str(corrupt)], "results folder"),
        "report on an empty folder": (["report", str(tmp / "o6")], "results folder"),
        "experiment run over a single run": (["run", str(good), "--out", str(single)], "out"),
        "a misused option": (["run", str(good), "--days", "many"], "sim run"),
    }


def test_every_user_error_is_one_line_and_status_2(tmp_path, capsys):
    cases = _cases(tmp_path)
    capsys.readouterr()
    for what, (argv, field) in cases.items():
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = exc.code
        err = capsys.readouterr().err.strip()
        assert rc == 2, (what, rc, err)
        assert len(err.splitlines()) == 1 and "Traceback" not in err, (what, err)
        assert err.startswith(f"error: {field}") or f"error: {field}:" in err, (what, err)
    for made in ("o1", "o2", "o3", "o4", "o5", "o6"):
        assert not (tmp_path / made).exists(), made  # nothing created before refusing


# --- item 11: sizes that cannot fit are refused, fast, with an estimate ----------------
@pytest.mark.parametrize("patch", [
    {"replications": 10**7},
    {"days": 10**9},
    {"overrides": {"population.customers": 10**11}},
    {"sweep": {"method": "sobol", "samples": 10**9,
               "parameters": {"adoption.imitation_rate": [0.0, 0.001]}}},
])
def test_sizes_that_cannot_fit_are_refused_with_an_estimate(patch):
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_experiment({**SPEC, **patch})
    assert time.perf_counter() - start < 5
    assert err.value.field == "size" and "core-" in err.value.allowed


# --- item 13: the manifest is strict JSON --------------------------------------------
def _strict(text: str):
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_manifests_are_strict_json_and_give_back_what_ran(tmp_path):
    spec = {**SPEC, "seed": 2**53 - 1, "variants": [
        {"name": "baseline"}, {"name": "unlimited", "strategies": [{**PROMO, "budget": math.inf}]}]}
    ran = run_experiment(spec, out=tmp_path / "e", executor="serial")
    manifest = _strict((tmp_path / "e" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 2**53 - 1
    read = load_results(tmp_path / "e")
    assert read.spec.variants[1].strategies[0]["budget"] == math.inf
    pd.testing.assert_frame_equal(read.kpis, ran.kpis)
    assert main(["run", "--days", "2", "--quiet", "--seed", str(2**60), "--set",
                 "population.customers=300", "--out", str(tmp_path / "s")]) == 0
    single = _strict((tmp_path / "s" / "manifest.json").read_text(encoding="utf-8"))
    assert single["seed"] == str(2**60)  # beyond 2**53: a string, every digit kept
    assert single["strategies"] == []


def test_experiment_seeds_beyond_2_to_the_53_are_refused():
    with pytest.raises(ConfigError) as err:
        load_experiment({**SPEC, "seed": 2**53})
    assert err.value.field == "seed"


# --- item 4: integer parameters in Morris and Sobol ----------------------------------
@pytest.mark.parametrize("method, bounds", [("morris", [1, 1.4]), ("morris", [0, 10]),
                                            ("sobol", [2.2, 2.4])])
def test_integer_bounds_that_cannot_be_sampled_are_refused_in_one_line(method, bounds):
    with pytest.raises(ConfigError) as err:
        load_experiment(with_sweep(method, {"strategies[0].start_day": bounds}, samples=2))
    assert err.value.field == "sweep.parameters.strategies[0].start_day"


def test_integer_morris_levels_are_exact_and_effects_unbiased():
    spec = load_experiment({**with_sweep("morris", {"strategies[0].start_day": [0, 9],
                                                    "strategies[0].rate": [0.0, 0.3]},
                                         samples=6), "days": 10})  # every start in the horizon
    points = pd.DataFrame(spec.points())
    assert set(points["strategies[0].start_day"]) <= {0, 3, 6, 9}
    # y = 2 * start_day + 10 * rate: every elementary effect is slope x width
    y = (2 * points["strategies[0].start_day"] + 10 * points["strategies[0].rate"]).to_numpy()
    table = analyze(spec.sweep, spec.seed, points.to_numpy(float), y).set_index("parameter")
    assert table.loc["strategies[0].start_day", "mu_star"] == pytest.approx(2 * 9)
    assert table.loc["strategies[0].start_day", "sigma"] == pytest.approx(0, abs=1e-9)
    assert table.loc["strategies[0].rate", "mu_star"] == pytest.approx(10 * 0.3)


def test_integer_sobol_values_weigh_every_integer_alike():
    spec = load_experiment(with_sweep("sobol", {"strategies[0].start_day": [1, 3],
                                                "strategies[0].rate": [0.0, 0.3]},
                                      samples=256))
    days = np.array([p["strategies[0].start_day"] for p in spec.points()])
    shares = np.bincount(days, minlength=4)[1:] / days.size
    assert set(days) == {1, 2, 3}
    np.testing.assert_allclose(shares, 1 / 3, atol=0.03)  # rounding [1, 3] would give 1/4, 1/2
