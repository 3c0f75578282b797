"""What a verdict says must be what the numbers support."""

from __future__ import annotations

import math

import pytest

from sim import ConfigError
from sim.experiment import load_experiment, run_experiment
from sim.report.verdicts import _separated, money, verdicts

SMALL = {"population.customers": 6000}


def test_money_never_prints_minus_zero():
    assert money(-0.0) == "0 yuan" and money(-0.2) == "0 yuan" and money(-1500) == "-1.5 K yuan"


def test_an_interval_across_zero_is_not_separated():
    assert not _separated({"diff_ci_low": -5.0, "diff_ci_high": 3.0})
    assert _separated({"diff_ci_low": 1.0, "diff_ci_high": 3.0})
    assert _separated({"diff_ci_low": math.nan, "diff_ci_high": math.nan})


def test_verdicts_say_where_the_money_went_and_date_payback_only_when_supported(tmp_path):
    spec = {"name": "vd", "scenario": "city", "days": 40, "replications": 2, "seed": 1,
            "overrides": SMALL,
            "variants": [{"name": "baseline"},
                         {"name": "tiny", "strategies": [
                             {"kind": "promotion", "type": "spend_save", "start_day": 5,
                              "threshold_yuan": 50.0, "discount_yuan": 10.0,
                              "budget": 3000.0}]}]}
    res = run_experiment(spec, out=tmp_path / "vd", executor="serial")
    (line,) = verdicts(res)
    ledger = res.ledger[(res.ledger.variant == "tiny")
                        & res.ledger.cause.str.startswith("promotion:")]
    abuse = -ledger[ledger.kind == "abuse"].amount.sum()
    spent = -ledger.amount.sum()
    assert abuse > 0
    assert f"{abuse / spent:.0%} of it to bonus hunters" in line
    net = res.summary.query("variant == 'tiny' and kpi == 'net_contribution'").iloc[0]
    if not _separated(net):
        assert "pays back on day" not in line and "payback cannot be dated" in line


@pytest.mark.parametrize("strategy, field", [
    ({"kind": "promotion", "type": "cashback", "start_day": 50}, "start_day"),
    ({"kind": "promotion", "type": "cashback", "chains": []}, "chains"),
    ({"kind": "exclusive_channel", "chain": "business_district", "institutions": 2}, "chain"),
])
def test_validation_refuses_levers_that_could_not_act(strategy, field):
    spec = {"name": "bad", "days": 40, "variants": [{"name": "baseline"},
                                                    {"name": "v", "strategies": [strategy]}]}
    with pytest.raises(ConfigError) as err:
        load_experiment(spec)
    assert err.value.field == f"variants[1].strategies[0].{field}"
