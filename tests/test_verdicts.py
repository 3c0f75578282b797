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
        assert "Pays back on day" not in line and "Payback cannot be dated" in line


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


def test_budget_facts_say_when_a_lever_ended_before_its_window_closed():
    """Constructed events: 2 replications whose promotion ran out of budget on days 12
    and 14 (median 13) with its window open to day 65; contracts owed past the budget."""
    from types import SimpleNamespace

    import pandas as pd

    from sim.report.verdicts import _event_notes

    events = pd.DataFrame({
        "replication": [0, 0, 1, 1, 1], "day": [12, 12, 14, 14, 20],
        "event": ["budget_exhausted", "ended", "budget_exhausted", "ended", "over_budget"],
        "detail": ["budget 50 yuan", "budget", "budget 50 yuan", "budget", ""],
        "count": [1, 1, 1, 1, 1]})
    lever = SimpleNamespace(end_day=65)
    text = _event_notes(events, 2, lever, days=90)
    assert text == (", budget exhausted on day 13 (median; 2 of 2 replications), so it ended "
                    "52 days before its window was to close on day 65, costs owed under signed "
                    "contracts went beyond the budget from day 20 (1 of 2 replications)")
    closed = pd.DataFrame({"replication": [0], "day": [65], "event": ["window_closed"],
                           "detail": ["spent 40 yuan"], "count": [1]})
    assert _event_notes(closed, 1, lever, days=90) == ", its window closed on day 65"
    assert _event_notes(closed, 1, lever, days=60) == ""
    open_window = SimpleNamespace(end_day=10**9)  # the default: open to the end of the run
    assert _event_notes(events.iloc[:4], 2, open_window, days=90) == (
        ", budget exhausted on day 13 (median; 2 of 2 replications), so it ended 77 days "
        "before the run's end on day 90")


def test_counter_moves_the_baseline_also_saw_are_not_credited_to_the_lever():
    """Constructed events: in replication 0 the platforms answered in tourism with no
    strategy too; only the lever's own answer (transport, replication 1; healthcare,
    replication 0) is its doing."""
    from types import SimpleNamespace

    import pandas as pd

    from sim.report.verdicts import _answers_to_the_lever

    def moves(variant, rows):
        return pd.DataFrame([{"variant": variant, "point": 0, "replication": r, "day": d,
                              "strategy": platform, "event": "counter_move", "detail": chain,
                              "count": 1} for r, d, platform, chain in rows])

    base = moves("baseline", [(0, 35, "wechat_pay", "tourism"), (0, 50, "alipay", "tourism")])
    lever = moves("promo", [(0, 33, "wechat_pay", "tourism"), (0, 50, "alipay", "tourism"),
                            (0, 60, "alipay", "healthcare"), (1, 40, "wechat_pay", "transport"),
                            (1, 41, "wechat_pay", "tourism")])
    results = SimpleNamespace(spec=SimpleNamespace(baseline="baseline"),
                              events=pd.concat([base, lever], ignore_index=True))
    own = _answers_to_the_lever(results, lever, point=0)
    assert sorted(zip(own.replication, own.detail, strict=True)) == [
        (0, "healthcare"), (1, "tourism"), (1, "transport")]
    assert _answers_to_the_lever(results, lever.iloc[:2], point=0).empty
