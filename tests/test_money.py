"""The bank's money: deposits that follow use, accounts that close and cost, acquiring
fees net of their legs, impossible parameters refused, installs counted on every path,
and a ledger that adds up (docs/MODEL.md, steps 6, 8, 9 and 12)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import EcosystemModel
from sim.config import ConfigError
from sim.payments import Payments
from sim.scenarios import load_scenario
from sim.scenarios.catalog import ACQ_BANK, ACQ_WECHAT, ALIPAY, BANK_APP, CARD, CASH, WECHAT

N = {"population.customers": 20_000}
NO_ADOPTION = {**N, "adoption.external_rate": 0.0, "adoption.imitation_rate": 0.0}


def _open_new(model: EcosystemModel, k: int, seed: int) -> np.ndarray:
    """k customers without an account open one and install the app before day 0."""
    pop = model.customers
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(np.flatnonzero(~pop.has_account), k, replace=False))
    pop.open_accounts(ids, 0, 1.0, rng)
    pop.install_apps(ids, 0)
    pop.take_counts()  # what happens before day 0 is not a day's flow
    return ids


def test_new_accounts_bring_deposits_only_with_use():
    """A never-using holder (a hunter who abandoned the app) brings nothing after 90 days;
    an active new user's share of wallet follows their app habit, day by day exactly
    s_t = s_(t-1) + ((base e + gain h_t) - s_(t-1)) / days, e = h for a new account."""
    model = EcosystemModel("city", seed=1, overrides=NO_ADOPTION)
    pop, b = model.customers, model.params.bank
    idle = _open_new(model, 1000, seed=2)
    pop.abandon_app(idle)
    active = _open_new(model, 1000, seed=3)
    pop.habit[active] *= 0.5
    pop.habit[active, BANK_APP] += 0.5  # they start as keen app users
    established = np.flatnonzero(pop.has_account & (pop.account_day < 0))
    share = pop.wallet_share.copy()
    habit_sum = np.zeros(active.size)
    for _ in range(90):
        model.run(1)
        h = pop.habit[:, BANK_APP]
        e = np.where(pop.account_day < 0, np.float32(1.0), h)
        target = (np.float32(b.wallet_share_base) * e + np.float32(b.wallet_share_gain) * h)
        target = target * pop.has_account
        share += (target - share) / np.float32(b.wallet_share_days)
        np.testing.assert_allclose(pop.wallet_share, share, rtol=1e-5, atol=1e-7)
        share = pop.wallet_share.copy()
        habit_sum += pop.habit[active, BANK_APP]
    assert pop.wallet_share[idle].max() == 0.0  # no use, no deposits
    # Those who used the app more hold more: compare the halves by their mean habit.
    by_use = np.argsort(habit_sum)
    low, high = share[active[by_use[:500]]].mean(), share[active[by_use[500:]]].mean()
    assert 0.01 < low and 1.5 * low < high < 0.7
    # The share lags its moving target (a 90-day relaxation): below it, not far below.
    mean_target = (b.wallet_share_base + b.wallet_share_gain) * habit_sum.mean() / 90
    assert 0.4 * mean_target < share[active].mean() < mean_target
    # Established holders keep at least the base share.
    assert pop.wallet_share[established].min() >= 0.99 * b.wallet_share_base
    # The KPI of deposits in new accounts is the sum over them.
    kpis = model.kpis
    new = np.flatnonzero(pop.account_day >= 0)
    expected = float((pop.wallet[new].astype(float) * pop.wallet_share[new]).sum())
    assert kpis["retail_deposits_new_accounts"].iloc[-1] == pytest.approx(expected, rel=1e-6)


def test_dormant_new_accounts_close_at_the_documented_rate():
    """Unused since opening: none closes before dormant_after_days, then each closes at
    account_close_rate_per_day (with its debit card, its deposits and its app); accounts
    held at day 0 never close this way."""
    rate = 0.01
    model = EcosystemModel("city", seed=4, overrides={
        **NO_ADOPTION, "bank.account_close_rate_per_day": rate})
    pop = model.customers
    dormant = model.params.adoption.dormant_after_days
    ids = _open_new(model, 4000, seed=5)
    pop.abandon_app(ids)
    established = pop.has_account & (pop.account_day < 0)
    n_established = int(established.sum())
    kpis = model.run(dormant)
    assert pop.has_account[ids].all() and kpis["closed_accounts"].sum() == 0
    extra = 60
    kpis = model.run(extra)
    closed = ids[~pop.has_account[ids]]
    expected = 1.0 - (1.0 - np.float32(rate)) ** extra
    sd = np.sqrt(expected * (1 - expected) / ids.size)
    assert abs(closed.size / ids.size - expected) < 4 * sd
    assert kpis["closed_accounts"].sum() == closed.size
    assert not pop.has_debit[closed].any() and not pop.has_app[closed].any()
    assert (pop.wallet_share[closed] == 0).all()
    assert int((pop.has_account & established).sum()) == n_established


def _one_day(model: EcosystemModel, payee: list[int], channel: list[int],
             amount: list[float]) -> Payments:
    k = len(payee)
    pay = Payments(np.zeros(k, np.int64), model.merchants.chain[payee].astype(np.int8),
                   np.array(payee, np.int64), np.array(amount), np.zeros(k, bool))
    pay.channel = np.array(channel, np.int8)
    pay.tally(model.merchants.n)
    return pay


def test_no_fee_on_cash_and_wallet_fees_net_of_their_leg():
    """Hand calculation on one day's tally: a bank-acquired payee paid only in cash earns
    the bank nothing; one paid by every channel earns f x non-cash receipts and costs
    l_w x wallet + l_c x card; a platform's payee earns the bank nothing."""
    model = EcosystemModel("city", seed=0, overrides={"population.customers": 2000})
    book, b = model.merchants, model.params.bank
    cash_only, mixed, rival = 0, 1, 2
    book.acquirer[[cash_only, mixed]] = ACQ_BANK
    book.acquirer[rival] = ACQ_WECHAT
    pay = _one_day(model, [cash_only, cash_only, mixed, mixed, mixed, mixed, mixed, rival],
                   [CASH, CASH, CASH, WECHAT, ALIPAY, CARD, BANK_APP, WECHAT],
                   [500.0, 300.0, 1000.0, 200.0, 100.0, 400.0, 50.0, 800.0])
    acq = model.bank.acquiring(pay)
    assert acq.fee[cash_only] == 0.0 and acq.leg_cost[cash_only] == 0.0
    f = book.bank_fee_rate[mixed]
    # card interchange and network fees are passed through to the merchant on top
    fee = f * (200 + 100 + 400 + 50) + b.card_leg_cost_rate * 400
    assert acq.income[mixed] == pytest.approx(fee)
    assert acq.fee[mixed] == pytest.approx(f * 750)  # the bank's own fee: what a waiver waives
    leg = b.wallet_leg_cost_rate * (200 + 100) + b.card_leg_cost_rate * 400
    assert acq.leg_cost[mixed] == pytest.approx(leg)
    assert acq.margin[mixed] == pytest.approx(f * 750 - b.wallet_leg_cost_rate * 300)
    assert acq.fee[rival] == 0.0 and acq.leg_cost[rival] == 0.0
    assert acq.income.sum() == pytest.approx(fee) and acq.leg_cost.sum() == pytest.approx(leg)
    model.bank.settle(0, pay)
    ledger = model.ledger_book
    assert ledger.cause_total("acquiring_fee") == pytest.approx(fee)
    assert ledger.cause_total("acquiring_leg_cost") == pytest.approx(-leg)
    assert ledger.day_total(0, "operating") == pytest.approx(-leg)


def test_fee_income_leaves_out_cash_in_a_run(baseline_run):
    """In a run the fee is the rate times the non-cash receipts of bank payees, the legs
    are at most the wallet/card rates on them, and servicing is accounts x cost / 365."""
    model, kpis = baseline_run
    b = model.params.bank
    # the bank's rate on every non-cash receipt, plus the card pass-through on cards
    volume = kpis["volume_bank_acquired"]
    assert (kpis["fee_income"] >= b.acquiring_fee_rate * volume * (1 - 1e-12)).all()
    assert (kpis["fee_income"]
            <= (b.acquiring_fee_rate + b.card_leg_cost_rate) * volume * (1 + 1e-12)).all()
    top = max(b.wallet_leg_cost_rate, b.card_leg_cost_rate)
    assert (kpis["acquiring_cost"] > 0).all()
    assert (kpis["acquiring_cost"] <= top * kpis["volume_bank_acquired"] + 1e-9).all()
    np.testing.assert_allclose(kpis["account_cost"],
                               kpis["accounts"] * b.account_cost_yuan_per_year / 365, rtol=1e-12)


@pytest.mark.parametrize("overrides, field", [
    ({"bank.float_days": 0.5}, "bank.float_days"),
    ({"bank.institution_float_days": 0.9}, "bank.institution_float_days"),
    ({"bank.wallet_share_days": 0.5}, "bank.wallet_share_days"),
    ({"bank.wallet_share_base": 0.7}, "bank.wallet_share_base"),
    ({"bank.wallet_share_base": 0.5, "bank.wallet_share_gain": 0.6}, "bank.wallet_share_base"),
    ({"adoption.external_rate": 0.9}, "adoption.external_rate"),
])
def test_impossible_combinations_are_refused_in_one_line(overrides, field):
    with pytest.raises(ConfigError) as err:
        load_scenario("city", overrides)
    assert err.value.field == field
    message = str(err.value)
    assert message.startswith(f"{field}: must be ") and "\n" not in message


def test_possible_edges_are_accepted():
    sc = load_scenario("city", {"bank.float_days": 1, "bank.wallet_share_base": 0.6,
                                "bank.wallet_share_gain": 0.4})
    assert sc.bank.float_days == 1.0


def test_every_install_is_counted():
    """Adoption, need (an exclusive school) and referral all install: the day's change in
    app users is new_app_users - uninstalls, and in accounts new - closed, every day."""
    variants = {
        "adoption": [],
        "need": [{"kind": "exclusive_channel", "institutions": 3, "start_day": 5,
                  "budget": 2e6}],
        "referral": [{"kind": "referral", "start_day": 5, "duration_days": 60,
                      "invite_rate_per_day": 0.05, "accept_prob": 0.5}],
    }
    installs = {}
    for name, kinds in variants.items():
        model = EcosystemModel("city", seed=6, overrides=N, strategies=kinds)
        pop = model.customers
        users0, accounts0 = int(pop.has_app.sum()), int(pop.has_account.sum())
        k = model.run(100)
        users = np.concatenate([[users0], k["app_users"].to_numpy()])
        accounts = np.concatenate([[accounts0], k["accounts"].to_numpy()])
        np.testing.assert_array_equal(np.diff(users), k["new_app_users"] - k["uninstalls"])
        np.testing.assert_array_equal(np.diff(accounts), k["new_accounts"] - k["closed_accounts"])
        installs[name] = int(k["new_app_users"].sum())
    # 20k customers, 100 days: about 250 organic installs; the need path adds some 550,
    # referral some 2,600, and both show in the count.
    assert installs["adoption"] > 100
    assert installs["need"] > installs["adoption"] + 200
    assert installs["referral"] > installs["adoption"] + 1000


def test_ledger_adds_up_to_net_contribution():
    """Money conservation, operating costs included: sum of the ledger = sum of the
    daily net contribution, and each kind's KPI is its ledger entries."""
    kinds = [{"kind": "promotion", "type": "cashback", "start_day": 2, "duration_days": 30,
              "budget": 50_000},
             {"kind": "aggregated_qr", "chain": "wholesale_market", "merchants": 20,
              "start_day": 3}]
    model = EcosystemModel("city", seed=8, overrides=N, strategies=kinds)
    kpis = model.run(45)
    ledger = model.ledger
    assert {"income", "operating", "strategy"} <= set(ledger.kind)
    assert ledger["amount"].sum() == pytest.approx(kpis["net_contribution"].sum(), rel=1e-12)
    by_day = ledger.groupby("day")["amount"].sum()
    np.testing.assert_allclose(by_day.to_numpy(), kpis["net_contribution"].to_numpy(),
                               rtol=1e-12)
    operating = ledger[ledger.kind == "operating"].groupby("cause")["amount"].sum()
    assert operating["acquiring_leg_cost"] == pytest.approx(-kpis["acquiring_cost"].sum())
    assert operating["account_servicing"] == pytest.approx(-kpis["account_cost"].sum())


def test_reference_engine_follows_the_same_account_rules():
    """The one-agent-per-customer engine closes dormant new accounts at the same rate,
    keeps never-used ones empty and counts every install and uninstall."""
    rate = 0.05
    model = EcosystemModel("city", seed=4, engine="reference", overrides={
        **NO_ADOPTION, "population.customers": 600, "bank.account_close_rate_per_day": rate})
    pop = model.customers
    ids = _open_new(model, 200, seed=5)
    pop.abandon_app(ids)
    users0 = int(pop.has_app.sum())
    kpis = model.run(model.params.adoption.dormant_after_days)
    assert pop.has_account[ids].all() and (pop.wallet_share[ids] == 0).all()
    kpis = model.run(30)
    closed = ids[~pop.has_account[ids]]
    expected = 1.0 - (1.0 - rate) ** 30
    assert abs(closed.size / ids.size - expected) < 4 * np.sqrt(expected * (1 - expected) / 200)
    assert not pop.has_debit[closed].any() and not pop.has_app[closed].any()
    users = np.concatenate([[users0], model.kpis["app_users"].to_numpy()])
    np.testing.assert_array_equal(np.diff(users),
                                  model.kpis["new_app_users"] - model.kpis["uninstalls"])
    assert kpis["closed_accounts"].sum() == closed.size
