"""Promotions pull by what they are worth; payouts, hunters' claims and referral
screening follow each lever's rule (issue 13, faults 3, 6 and 11).

Paired seeds: the same seed with and without a lever, 20,000 customers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import ConfigError, EcosystemModel
from sim.scenarios.catalog import BANK_APP
from sim.strategies.promotion_value import per_payment_value

CITY = {"population.customers": 20_000}
SEEDS = (0, 1, 2)


def run(strategies, seed, days, overrides=CITY):
    model = EcosystemModel("city", seed=seed, overrides=overrides, strategies=strategies)
    return model, model.run(days)


@pytest.fixture(scope="module")
def baselines():
    return {seed: run([], seed, 60)[1] for seed in SEEDS}


def test_a_worthless_offer_moves_almost_nobody(baselines):
    """A 0.01 % chance of 10 yuan on real-estate payments is worth ~1e-6 yuan a month
    to anyone (and 0.03 yuan a period to a hunter, below their 5-yuan threshold).
    Before issue 13 it raised MAU by +377 and spent 33k; now the paired runs must
    agree within 0.05 % of customers (10), and it spends nothing."""
    lottery = {"kind": "promotion", "type": "lottery", "chains": ["real_estate"],
               "probability": 1e-4, "prize_yuan": 10, "start_day": 0, "duration_days": 60}
    for seed in SEEDS:
        model, k = run([lottery], seed, 60)
        b = baselines[seed]
        assert abs(k.app_mau.iloc[-1] - b.app_mau.iloc[-1]) <= 10
        assert abs(k.new_app_users.sum() - b.new_app_users.sum()) <= 10
        assert abs(k.accounts.iloc[-1] - b.accounts.iloc[-1]) <= 10
        assert k.strategy_spend.sum() <= 10.0
        assert k.abuse_loss.sum() == 0.0                      # no hunter bothers
        assert model.strategies[0].value_.max() < 1e-3        # yuan per 30 days


def test_a_promotion_whose_budget_runs_out_sooner_lifts_less(baselines):
    """5 % cashback for 50 days: a 10k budget is gone within days (hunters take their
    caps at once), a 40k one lasts longer; the pull and the saving stop with it."""
    lifts, ends = {}, {}
    for budget in (10_000, 40_000):
        cashback = {"kind": "promotion", "type": "cashback", "rate": 0.05, "start_day": 10,
                    "duration_days": 50, "budget": budget}
        lifts[budget], ends[budget] = [], []
        for seed in SEEDS:
            model, k = run([cashback], seed, 60)
            lifts[budget].append(k.app_mau.iloc[-1] - baselines[seed].app_mau.iloc[-1])
            ev = model.events
            ended = ev[ev.event == "ended"]
            assert len(ended) <= 1 and (ended.detail == "budget").all()
            day = int(ended.day.iloc[0]) if len(ended) else 60
            ends[budget].append(day)
            if len(ended):
                assert day in set(ev[ev.event == "budget_exhausted"].day)
                assert k.strategy_spend.iloc[day + 1:].sum() == 0.0  # nothing after the end
                assert model.strategies[0].adoption_push(day + 1) is None
    assert max(ends[10_000]) < 20 <= min(ends[40_000])
    small, large = np.array(lifts[10_000]), np.array(lifts[40_000])
    assert (small < large).all()
    assert small.mean() < 0.6 * large.mean()
    assert large.mean() > 200


def test_lottery_pays_what_payers_perceive_in_expectation():
    """With no overweight, the perceived saving p x min(prize, cap left) summed over
    the eligible bank-app payments equals the expected payout (a win pays
    min(prize, cap left)). A 5-yuan prize at 20 % under a 25-yuan cap: some 9,000
    wins over two seeds (binomial s.d. about 1 %), many payers reaching the cap;
    measured within 3 %."""
    lottery = {"kind": "promotion", "type": "lottery", "probability": 0.2, "prize_yuan": 5,
               "per_user_cap_yuan": 25, "lottery_overweight": 1.0, "start_day": 0}
    perceived = paid = 0.0
    at_cap = 0
    for seed in (0, 1):
        model = EcosystemModel("city", seed=seed, overrides=CITY, strategies=[lottery])
        promo = model.strategies[0]
        saving, after = promo.saving, promo.after_payments
        seen = {}

        def spy_saving(day, pay, saving=saving, seen=seen):
            seen["s"] = saving(day, pay)
            return seen["s"]

        def spy_after(day, pay, after=after, seen=seen):
            nonlocal perceived
            s = seen.pop("s")
            app = pay.channel == BANK_APP
            perceived += float((s[app].astype(float) * pay.amount[app]).sum())
            after(day, pay)

        promo.saving, promo.after_payments = spy_saving, spy_after
        model.run(60)
        led = model.ledger
        paid += -led[led.cause == "promotion:payout"].amount.sum()
        at_cap += int((promo.claimed_ >= 25).sum())
    assert paid > 40_000 and at_cap > 100            # the cap's room is exercised
    assert paid == pytest.approx(perceived, rel=0.03)


@pytest.mark.parametrize("kind", ["cashback", "spend_save", "voucher", "points", "instalment",
                                  "topup_gift", "lottery"])
def test_bonus_hunters_claim_by_the_type_payout_rule(kind):
    """One 30-day period: hunters farm the cap (instalment: only with a credit card),
    take a top-up gift once, and win a lottery with its probability over their
    30 fake payments: E[min(50 W, 100)] = 14.8 yuan for W ~ Bin(30, 0.01), far
    below the 100-yuan cap."""
    promo = {"kind": "promotion", "type": kind, "prize_yuan": 50, "probability": 0.01,
             "start_day": 0}
    model, k = run([promo], 3, 30)
    p, pop = model.strategies[0], model.customers
    farmed = np.flatnonzero(p.farmed_)
    assert farmed.size > (5 if kind == "instalment" else 100) and pop.abuser[farmed].all()
    claim = p.claimed_[farmed]
    assert k.abuse_loss.sum() == pytest.approx(claim.sum())
    if kind == "instalment":
        assert pop.has_credit[farmed].all() and (claim == 100).all()
        idle = pop.abuser & pop.has_app & ~pop.has_credit
        assert idle.sum() > 20 and not p.farmed_[idle].any()  # nothing to farm without a card
    elif kind == "topup_gift":
        assert (claim == 10).all()
    elif kind == "lottery":
        assert set(np.unique(claim)) <= {0.0, 50.0, 100.0}
        assert 9 < claim.mean() < 21
    else:
        assert (claim == 100).all()


def test_referral_under_risk_control_loses_the_refused_installs():
    """Strength 1: every hunter's referee claim is refused before the install, and
    5 % of genuine ones: refused invitees do not install nor open an account, so
    app users, MAU and accounts are lower than without the screen (paired seed);
    genuine refusals are counted; new_app_users counts referral installs."""
    referral = {"kind": "referral", "start_day": 10, "duration_days": 80, "budget": 500_000}
    screen = {"kind": "risk_control", "strength": 1.0, "start_day": 0}
    base = run([], 4, 90)[1]
    plain_model, plain = run([referral], 4, 90)
    guarded = run([referral, screen], 4, 90)[1]
    assert plain.abuse_loss.sum() > 0 and guarded.abuse_loss.sum() == 0
    assert guarded.claims_refused_genuine.sum() > 0
    for kpi in ("app_users", "accounts", "app_mau"):
        assert guarded[kpi].iloc[-1] < plain[kpi].iloc[-1], kpi
    rewarded = int(plain_model.strategies[0].referrals_.sum())
    lift = plain.new_app_users.sum() - base.new_app_users.sum()
    assert lift == pytest.approx(rewarded, rel=0.15)     # referral installs are counted


def test_per_payment_value_matches_sampled_amounts():
    """The lognormal tail formulas behind V_i, against 400k sampled amounts."""
    rng = np.random.default_rng(0)
    mean, sigma = 55.0, 0.9
    amounts = mean * np.exp(rng.normal(-sigma**2 / 2, sigma, 400_000))
    model = EcosystemModel("city", seed=0, overrides={"population.customers": 500},
                           strategies=[{"kind": "promotion", "type": "spend_save"},
                                       {"kind": "promotion", "type": "instalment",
                                        "threshold_yuan": 80}])
    spend_save, instalment = model.strategies
    assert per_payment_value(spend_save, mean, sigma) == pytest.approx(
        10 * (amounts >= 50).mean(), rel=0.01)
    assert per_payment_value(instalment, mean, sigma) == pytest.approx(
        0.05 * (amounts * (amounts >= 80)).mean(), rel=0.01)


def test_an_infinite_cap_is_refused():
    with pytest.raises(ConfigError) as err:
        EcosystemModel("city", seed=0, overrides={"population.customers": 300},
                       strategies=[{"kind": "promotion", "type": "cashback",
                                    "per_user_cap_yuan": math.inf}])
    assert err.value.field == "strategies[0].per_user_cap_yuan"



@pytest.mark.parametrize("chain", ["supply_chain", "education", "utilities"])
def test_bonus_hunters_farm_only_where_they_can_pay_with_the_app(chain):
    """5 % cashback in one chain. Fake payments still need a payee that takes the bank
    app, so only hunters who pay in the chain farm it: in an open chain (staff
    canteens) its payers, where some canteen accepts the app; in an institutional one
    (schools) those whose own school accepts it; the city's one utility does not take
    the app, so nobody. Each farmer takes the 100-yuan cap. Before this rule every
    hunter in the city with the app farmed any chain's promotion (the canteen pilot
    paid all its discount to hunters)."""
    promo = {"kind": "promotion", "type": "cashback", "chains": [chain], "rate": 0.05,
             "start_day": 0, "duration_days": 30}
    model, k = run([promo], 3, 30)
    promo, pop, book = model.strategies[0], model.customers, model.merchants
    c = list(model.params.chains).index(chain)
    members = pop.members[c]
    accepts = book.accepts(0)[BANK_APP]
    if model.params.chains[chain].institutional:
        reach = members.customers[accepts[np.maximum(members.home, 0)] & (members.home >= 0)]
    else:
        lo, hi = book.chain_start[c], book.chain_start[c + 1]
        reach = members.customers if accepts[lo:hi].any() else members.customers[:0]
    farmed = np.flatnonzero(promo.farmed_)
    assert set(farmed) <= set(reach)                         # nobody farms from elsewhere
    outside = pop.abuser & ~np.isin(np.arange(pop.n), reach)
    assert outside.sum() > 50 and not promo.farmed_[outside].any()
    assert k.abuse_loss.sum() == pytest.approx(100.0 * farmed.size)
    if chain == "utilities":
        assert reach.size == 0 and farmed.size == 0
    else:
        assert farmed.size >= 5                               # the rule does not bar them all
