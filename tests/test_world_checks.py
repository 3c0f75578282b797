"""Validation against the world: what a strategy names (institutions, merchants) are
the city's real payees, as many as ``payee_counts`` gives, never more."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim import ConfigError, EcosystemModel
from sim.agents.merchants import payee_counts
from sim.cli import main
from sim.scenarios import load_scenario
from sim.scenarios.catalog import CHAINS
from sim.strategies import STRATEGY_KINDS

CITY = {"population.customers": 3000}
# A valid table per kind that counts payees (besides the count): each such kind is here.
BASE = {"exclusive_channel": {"start_day": 1},
        "fee_waiver": {"start_day": 1, "duration_days": 30},
        "aggregated_qr": {"start_day": 1}, "auto_debit": {"start_day": 1},
        "presale_escrow": {"start_day": 1}, "card_discount": {"start_day": 1}}
COUNTED = [(kind, field, chain) for kind, cls in sorted(STRATEGY_KINDS.items())
           for field, chain in cls.payee_count_params.items()]


def available(kind: str, chain_param: str, overrides=CITY) -> tuple[str, int]:
    """The default chain of ``kind`` and its number of payees in the city."""
    chain = STRATEGY_KINDS[kind].parameters[chain_param].default
    return chain, int(payee_counts(load_scenario("city", overrides))[CHAINS.index(chain)])


def test_payee_counts_are_the_citys_and_the_model_draws_them():
    """n_c = max(1, round(payees_per_100k * customers / 100,000)); 20,000 customers."""
    sc = load_scenario("city", {"population.customers": 20_000})
    counts = dict(zip(CHAINS, payee_counts(sc).tolist(), strict=True))
    assert counts["education"] == 8 and counts["healthcare"] == 3
    assert counts["utilities"] == 1            # 0.6 rounds to 1
    assert counts["business_district"] == 300 and counts["wholesale_market"] == 80
    model = EcosystemModel("city", seed=0, overrides=CITY)
    np.testing.assert_array_equal(np.diff(model.merchants.chain_start),
                                  payee_counts(model.params))


def test_payee_counts_do_not_change_with_the_sample():
    whole = payee_counts(load_scenario("city", {"population.customers": 200_000}))
    for agents in (2_000, 20_000, 200_000):
        sc = load_scenario("city", {"population.customers": 200_000,
                                    "population.agents": agents})
        np.testing.assert_array_equal(payee_counts(sc), whole)
    assert whole[CHAINS.index("business_district")] == 3000
    model = EcosystemModel("city", seed=0, overrides={"population.customers": 200_000,
                                                      "population.agents": 2_000})
    np.testing.assert_array_equal(np.diff(model.merchants.chain_start), whole)


def test_every_count_parameter_is_declared():
    """A parameter named like a payee count is checked against the world."""
    for kind, cls in STRATEGY_KINDS.items():
        for name in cls.parameters:
            if name in ("institutions", "merchants"):
                assert name in cls.payee_count_params, (kind, name)
                assert kind in BASE, kind


@pytest.mark.parametrize("kind, field, chain_param", COUNTED)
def test_more_payees_than_the_chain_has_is_refused(kind, field, chain_param):
    chain, n = available(kind, chain_param)
    spec = {"kind": kind, **BASE[kind], field: n + 1}
    with pytest.raises(ConfigError) as err:
        EcosystemModel("city", seed=0, overrides=CITY, strategies=[spec])
    assert err.value.field == f"strategies[0].{field}"
    assert err.value.value == n + 1
    message = str(err.value)
    assert f"at most {n} " in message and f"chain {chain}" in message
    assert "3,000 customers" in message and "\n" not in message


@pytest.mark.parametrize("kind, field, chain_param", COUNTED)
def test_exactly_the_chains_payees_runs(kind, field, chain_param):
    _, n = available(kind, chain_param)
    model = EcosystemModel("city", seed=0, overrides=CITY,
                           strategies=[{"kind": kind, **BASE[kind], field: n}])
    kpis = model.run(5)
    assert len(kpis) == 5
    assert "started" in set(model.events.event)


def test_typed_strategy_is_checked_when_attached():
    from sim.strategies import ExclusiveChannel

    _, n = available("exclusive_channel", "chain")
    with pytest.raises(ConfigError, match=rf"exclusive_channel\.institutions: must be at most "
                                          rf"{n} \(the institutions of chain education"):
        EcosystemModel("city", seed=0, overrides=CITY,
                       strategies=[ExclusiveChannel(institutions=n + 1, start_day=1)])


def test_a_wider_city_has_more_payees_to_name():
    """The same 12 hospitals: refused in a 20,000-customer city (3), valid in 100,000 (15)."""
    hospitals = STRATEGY_KINDS["exclusive_channel"](_path="s", chain="healthcare",
                                                    institutions=12)
    with pytest.raises(ConfigError, match="at most 3 .* 20,000 customers"):
        hospitals.check_world(load_scenario("city", {"population.customers": 20_000}))
    hospitals.check_world(load_scenario("city"), days=365)


EXPERIMENT = """# Question: a test
name = "counts"
scenario = "city"
days = 10
replications = 1
seed = 1

[overrides]
"population.customers" = 3000

[[variants]]
name = "baseline"

[[variants]]
name = "waiver"
[[variants.strategies]]
kind = "fee_waiver"
chain = "business_district"
merchants = {merchants}
start_day = 2
duration_days = 5
"""


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_experiment_naming_too_many_merchants_exits_2_with_one_line(tmp_path, capsys):
    _, n = available("fee_waiver", "chain")  # 45 merchants at 3,000 customers
    path = tmp_path / "counts.toml"
    path.write_text(EXPERIMENT.format(merchants=n + 1), encoding="utf-8")
    for argv in (["validate", str(path)],
                 ["run", str(path), "--executor", "serial", "--quiet",
                  "--out", str(tmp_path / "out")]):
        assert main(argv) == 2
        line = one_error_line(capsys)
        assert line.startswith("error: variants[1].strategies[0].merchants: must be at most "
                               f"{n} (the merchants of chain business_district")
        assert line.endswith(f"got {n + 1}")
    assert not (tmp_path / "out").exists()


def test_a_sweep_point_over_the_count_is_named(tmp_path, capsys):
    _, n = available("fee_waiver", "chain")
    path = tmp_path / "sweep.toml"
    path.write_text(EXPERIMENT.format(merchants=10)
                    + f"\n[sweep]\nparameters = {{\"strategies[0].merchants\" = [10, {n + 5}]}}\n",
                    encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    line = one_error_line(capsys)
    assert f"at most {n} " in line and "sweep point 1" in line


def test_an_experiment_at_exactly_the_count_validates_and_runs(tmp_path, capsys):
    _, n = available("fee_waiver", "chain")
    path = tmp_path / "counts.toml"
    path.write_text(EXPERIMENT.format(merchants=n), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "--executor", "serial", "--quiet",
                 "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "summary.csv").exists()


# ------------------------------------------------------------------ sim scenarios --chains
def chain_rows(capsys, *argv) -> dict[str, list[str]]:
    assert main(["scenarios", "city", "--chains", *argv]) == 0
    out = capsys.readouterr().out
    return {line.split()[0]: line.split() for line in out.splitlines()
            if line.split() and line.split()[0] in CHAINS}


def test_chains_shows_the_citys_counts_and_follows_set(capsys):
    rows = chain_rows(capsys)
    counts = payee_counts(load_scenario("city"))
    assert [int(rows[c][2].replace(",", "")) for c in CHAINS] == counts.tolist()
    assert rows["business_district"][2] == "1,500" and rows["utilities"][2] == "3"
    big = chain_rows(capsys, "--set", "population.customers=1000000")
    assert big["business_district"][2] == "15,000" and big["utilities"][2] == "30"
    sampled = chain_rows(capsys, "--set", "population.customers=1000000",
                         "--set", "population.agents=50000")
    assert sampled == big                       # the sample does not change the city


def test_chains_shows_the_amounts_billed(capsys):
    rows = chain_rows(capsys)
    # utilities: no everyday payments, a periodic bill of 180 yuan every 30 days
    assert rows["utilities"][5:11] == ["0", "-", "periodic", "180", "every", "30"]
    # education: everyday 40 yuan (canteen), and a 2,000-yuan term bill every 182 days
    assert rows["education"][6:9] == ["40", "periodic", "2,000"]
    assert rows["healthcare"][7:9] == ["none", "-"]
    doubled = chain_rows(capsys, "--set", "chains.utilities.bill.amount_mean_yuan=360")
    assert doubled["utilities"][8] == "360"


def test_scenarios_list_honours_set(capsys):
    assert main(["scenarios", "--set", "population.customers=5000"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^city\s+5,000 customers", out, re.M)
    assert main(["scenarios", "city", "--chains", "--set", "population.customerz=5"]) == 2
    assert "population.customerz" in one_error_line(capsys)


def test_a_wrong_chain_is_named_before_its_count():
    with pytest.raises(ConfigError) as err:
        EcosystemModel("city", seed=0, overrides=CITY, strategies=[
            {"kind": "exclusive_channel", "chain": "business_district", "institutions": 500}])
    assert err.value.field == "strategies[0].chain"
