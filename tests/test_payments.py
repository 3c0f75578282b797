"""The compiled payment kernels against what they must compute: Poisson counts,
rate-proportional chains and payees, logit shares, habit smoothing, tallies."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim import EcosystemModel
from sim import kernels as K
from sim.agents.merchants import alias_table
from sim.scenarios.catalog import BANK_APP, CARD, CHAINS, CHANNELS

from .conftest import SMALL


def test_each_kernel_is_compiled_once_for_the_types_the_model_passes():
    """kernels.load() warms exactly the specialisations a run uses: a second one
    would mean a dtype or memory layout drifted (and a compile inside the run)."""
    kinds = [{"kind": "promotion", "type": "cashback", "start_day": 1, "duration_days": 5},
             {"kind": "exclusive_channel", "institutions": 1, "start_day": 1}]
    EcosystemModel("city", seed=1, overrides=SMALL, strategies=kinds).run(8)
    for kernel in (K.poisson_by_inversion, K.payers_of, K.fill_events, K.own_weights,
                   K.choose_logit, K.count_channels, K.learn_habits, K.tally,
                   K.adopters, K.dormant_uninstalls, K.cross_sell, K.relax_wallet_share,
                   K.retail_deposits, K.census):
        assert len(kernel.signatures) == 1, kernel.__name__


def test_fast_exp_is_as_accurate_as_numpys_float32_exp():
    x = np.linspace(-87.0, 88.0, 1_000_001, dtype=np.float32)
    habit = x.reshape(-1, 1)
    own = np.empty_like(habit)
    K.own_weights(habit, np.zeros(x.size, np.float32), np.ones(x.size, bool), np.float32(1.0),
                  np.float32(0.0), np.float32(100.0), 0, own)
    exact = np.exp(x.astype(np.float64))
    assert np.max(np.abs(own[:, 0] - exact) / exact) < 1.5e-7
    big = np.array([[-1e4], [1e4]], np.float32)  # clamped to the float32 range of exp
    K.own_weights(big, np.zeros(2, np.float32), np.ones(2, bool), np.float32(1.0),
                  np.float32(0.0), np.float32(1e5), 0, own[:2])
    assert 0 < own[0, 0] < 1e-37 and np.isfinite(own[1, 0]) and own[1, 0] > 1e38


def test_own_weights_are_the_exponentiated_habit_and_peer_terms():
    rng = np.random.default_rng(9)
    n = 1000
    habit = rng.dirichlet(np.ones(len(CHANNELS)), n).astype(np.float32)
    peer = rng.random(n, dtype=np.float32)
    usable = rng.random(n) < 0.5
    own = np.empty_like(habit)
    K.own_weights(habit, peer, usable, np.float32(2.0), np.float32(1.5), np.float32(25.0),
                  BANK_APP, own)
    expected = np.exp(2.0 * habit.astype(np.float64))
    expected[:, BANK_APP] *= np.exp(1.5 * peer) * usable
    np.testing.assert_allclose(own, expected, rtol=5e-7)


def test_census_counts_what_the_kpis_define():
    rng = np.random.default_rng(10)
    n, day = 5000, 120
    has_app = rng.random(n) < 0.4
    last_use = rng.integers(-200, day + 1, n).astype(np.int32)
    install = np.where(rng.random(n) < 0.5, rng.integers(-1, day + 1, n), -10**6).astype(np.int32)
    account, debit, credit = (rng.random(n) < p for p in (0.6, 0.4, 0.1))
    counts = dict(zip(K.CENSUS, K.census(has_app, last_use, install, account, debit, credit,
                                        day, 30, 90), strict=True))
    active = has_app & (day - last_use < 30)
    matured = (install >= 0) & (install <= day - 90)
    assert counts == {"acquired_users": (install >= 0).sum(), "acquired_90d_ago": matured.sum(),
                      "retained_90d": (matured & active).sum(), "app_users": has_app.sum(),
                      "app_mau": active.sum(), "app_dau": (last_use == day).sum(),
                      "accounts": account.sum(), "debit_cards": debit.sum(),
                      "credit_cards": credit.sum()}


def test_poisson_inversion_is_the_poisson_quantile():
    rng = np.random.default_rng(0)
    lam = rng.uniform(0.0, 30.0, 20_000)
    bits = rng.bit_generator.random_raw(lam.size)
    counts = np.empty(lam.size, np.int32)
    K.poisson_by_inversion(lam, np.exp(-lam), bits, counts)
    u = (bits >> np.uint64(11)) * (1.0 / 2**53)
    expected = stats.poisson.ppf(u, lam)
    # Floating-point sums of the CDF may differ from scipy's by one at a boundary.
    assert np.mean(counts == expected) > 0.999
    assert np.abs(counts - expected).max() <= 1


@pytest.fixture(scope="module")
def drawn_days():
    """A 3,000-customer city's payment draw, 200 days of the same state."""
    model = EcosystemModel("city", seed=11, overrides=SMALL)
    draw = model.engine.payments
    no_bills_due = [np.zeros(0, np.int64)] * len(CHAINS)
    days = [draw.draw(model.billing.rate, no_bills_due, np.random.default_rng(d))
            for d in range(200)]
    return model, days


def test_events_come_in_customer_order(drawn_days):
    _, days = drawn_days
    for pay in days[:5]:
        assert np.all(np.diff(pay.payer) >= 0)


def test_counts_per_chain_and_kind_match_the_member_rates(drawn_days):
    model, days = drawn_days
    pop, table = model.customers, model.world.chains
    for c in range(len(CHAINS)):
        seg = pop.segment[pop.members[c].customers]
        for is_bill, rate in ((False, table.rate[c] * pop.activity[seg].sum()),
                              (True, model.billing.rate[c] * seg.size)):
            n = sum(int(((p.chain == c) & (p.is_bill == is_bill)).sum()) for p in days)
            expected = rate * len(days)
            assert abs(n - expected) <= 5 * np.sqrt(expected) + 1, (CHAINS[c], is_bill)


def test_payers_pay_only_in_their_own_chains(drawn_days):
    model, days = drawn_days
    pay = days[0]
    for c in range(len(CHAINS)):
        members = model.customers.members[c].customers
        assert np.isin(pay.payer[pay.chain == c], members).all()


def test_counts_per_customer_are_poisson(drawn_days):
    """Index of dispersion of a customer's daily count is 1 for a Poisson process."""
    model, days = drawn_days
    per_day = np.stack([np.bincount(p.payer, minlength=model.customers.n) for p in days])
    mean, var = per_day.mean(axis=0), per_day.var(axis=0, ddof=1)
    busy = mean > 1.0
    assert busy.sum() > 100
    assert np.median(var[busy] / mean[busy]) == pytest.approx(1.0, abs=0.1)


def test_payees_are_drawn_in_proportion_to_their_weight(drawn_days):
    model, days = drawn_days
    book = model.merchants
    busiest = np.bincount(np.concatenate([p.chain for p in days[:20]]), minlength=len(CHAINS))
    busiest[model.world.chains.institutional] = 0
    c = int(np.argmax(busiest))  # the busiest chain whose payees are drawn
    lo, hi = book.chain_start[c], book.chain_start[c + 1]
    payees = np.concatenate([p.payee[p.chain == c] for p in days])
    assert ((payees >= lo) & (payees < hi)).all()
    observed = np.bincount(payees - lo, minlength=hi - lo)
    expected = book.weight[lo:hi] / book.weight[lo:hi].sum() * payees.size
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(chi2, hi - lo - 1) > 1e-4


def test_institutional_chains_pay_the_home_institution(drawn_days):
    model, days = drawn_days
    pay = days[0]
    for c in np.flatnonzero(model.world.chains.institutional):
        members = model.customers.members[c]
        home = dict(zip(members.customers.tolist(), members.home.tolist(), strict=True))
        ev = np.flatnonzero(pay.chain == c)
        assert all(pay.payee[e] == home[pay.payer[e]] for e in ev)


def test_amounts_are_lognormal_with_the_chain_mean(drawn_days):
    model, days = drawn_days
    table = model.world.chains
    sigma = np.where(table.rate > 0, table.sigma, np.inf)
    c = int(np.argmin(sigma))  # the tightest everyday amounts: the sharpest test
    a = np.concatenate([p.amount[(p.chain == c) & ~p.is_bill] for p in days])
    z = (np.log(a) - table.mu[c]) / table.sigma[c]
    assert stats.kstest(z, "norm").pvalue > 1e-3


def _logit_case(n_events: int, rng):
    n_payers, n_payees = 50, 7
    own = rng.uniform(0.2, 3.0, (n_payers, len(CHANNELS))).astype(np.float32)
    own[::5, BANK_APP] = 0.0  # payers without the app
    accepts = rng.random((len(CHANNELS), n_payees)) < 0.6
    accepts[:, 0] = False  # payee 0 accepts nothing: its payers are stuck
    exp_asc = np.exp(rng.normal(0, 0.5, (len(CHAINS), len(CHANNELS)))).astype(np.float32)
    payee_weight = exp_asc[rng.integers(0, len(CHAINS), n_payees)] * accepts.T
    payer = np.sort(rng.integers(0, n_payers, n_events))
    payee = rng.integers(0, n_payees, n_events)
    return payer, payee, payee_weight, own


def test_channel_shares_are_the_logit_probabilities():
    rng = np.random.default_rng(3)
    payer, payee, payee_weight, own = _logit_case(400_000, rng)
    channel, stuck = np.zeros(payer.size, np.int8), np.zeros(payer.size, bool)
    no_offer = np.zeros((0, 1), np.float32)
    K.choose_logit(payer, np.zeros(payer.size, np.int8), payee,
                   rng.bit_generator.random_raw(payer.size), payee_weight, own,
                   no_offer.reshape(0, len(CHANNELS)), no_offer, np.zeros(0, np.int64),
                   no_offer[:, 0], np.float32(25.0), channel, stuck)
    weight = payee_weight[payee] * own[payer]
    total = weight.sum(axis=1)
    np.testing.assert_array_equal(stuck, total <= 0)
    ok = ~stuck
    assert weight[ok, channel[ok]].min() > 0  # never an unavailable channel
    expected = (weight[ok] / total[ok, None]).sum(axis=0)
    observed = np.bincount(channel[ok], minlength=len(CHANNELS))
    np.testing.assert_allclose(observed, expected, rtol=0.01)


@pytest.mark.parametrize(("chain_wide", "with_app", "odds"), [
    (0.1, None, np.e),        # a chain-wide discount on the app alone: exp(10 x 0.1)
    (0.0, 0.1, np.e),         # the same saving offered per event
    (0.05, 0.05, np.e),       # both add up
    (0.5, 0.9, np.exp(10.0)),  # capped at the whole amount: exp(10 x 1)
])
@pytest.mark.parametrize("on", [BANK_APP, CARD])
def test_a_saving_raises_the_odds_by_exp_of_price_times_fraction(chain_wide, with_app, odds, on):
    """On the channel it is offered on (the app for a promotion, the card for a card
    discount), a saving d multiplies the odds by exp(price x d)."""
    rng = np.random.default_rng(4)
    n = 300_000
    payer, payee, chain = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int8)
    own = np.ones((1, len(CHANNELS)), np.float32)
    payee_weight = np.ones((1, len(CHANNELS)), np.float32)
    by_chain = np.zeros((len(CHAINS), len(CHANNELS)), np.float32)
    by_chain[0, on] = chain_wide
    by_event = np.zeros((0 if with_app is None else n, 1), np.float32) + (with_app or 0.0)
    price = np.array([10.0], np.float32)
    channel = np.zeros(n, np.int8)
    K.choose_logit(payer, chain, payee, rng.bit_generator.random_raw(n), payee_weight, own,
                   by_chain, by_event, np.array([on], np.int64), price, np.float32(25.0),
                   channel, np.zeros(n, bool))
    share = np.mean(channel == on)
    assert share == pytest.approx(odds / (odds + len(CHANNELS) - 1), abs=0.005)


def test_habits_move_by_n_smoothing_steps_in_closed_form():
    rng = np.random.default_rng(5)
    n, a = 1000, 0.1
    habit = rng.dirichlet(np.ones(len(CHANNELS)), n).astype(np.float32)
    before = habit.copy()
    payer = np.sort(rng.integers(0, n, 3000))
    channel = rng.integers(0, len(CHANNELS), payer.size).astype(np.int8)
    last_use = np.full(n, -5, np.int32)
    scratch = np.zeros(habit.shape, np.uint16)
    keep = np.float32(1 - a) ** np.arange(64, dtype=np.float32)
    K.count_channels(payer, channel, scratch, last_use, 9, BANK_APP)
    K.learn_habits(habit, scratch, keep)
    counts = np.zeros(habit.shape)
    np.add.at(counts, (payer, channel), 1)
    paid = counts.sum(axis=1)
    kept = (1 - a) ** paid[:, None]
    expected = kept * before + (1 - kept) * counts / np.maximum(paid, 1)[:, None]
    np.testing.assert_allclose(habit, expected, rtol=1e-5, atol=1e-6)
    assert not scratch.any()
    app_payers = np.unique(payer[channel == BANK_APP])
    assert (last_use[app_payers] == 9).all()
    assert (np.delete(last_use, app_payers) == -5).all()


def test_tally_sums_yuan_by_chain_channel_and_payee():
    rng = np.random.default_rng(6)
    e, m = 5000, 40
    chain = rng.integers(0, len(CHAINS), e).astype(np.int8)
    channel = rng.integers(0, len(CHANNELS), e).astype(np.int8)
    payee = rng.integers(0, m, e)
    amount = rng.lognormal(3, 1, e)
    volume, receipts, count = K.tally(chain, channel, payee, amount, len(CHAINS), m)
    expected = np.zeros((len(CHAINS), len(CHANNELS)))
    np.add.at(expected, (chain, channel), amount)
    np.testing.assert_allclose(volume, expected)
    expected_count = np.zeros((len(CHAINS), len(CHANNELS)), np.int64)
    np.add.at(expected_count, (chain, channel), 1)
    np.testing.assert_array_equal(count, expected_count)
    for k in range(len(CHANNELS)):
        on_k = channel == k
        np.testing.assert_allclose(receipts[:, k], np.bincount(payee[on_k], amount[on_k], m))


def test_alias_table_reproduces_the_weights():
    w = np.array([5.0, 1.0, 0.5, 3.5])
    prob, alias = alias_table(w)
    implied = prob.copy()
    np.add.at(implied, alias, 1.0 - prob)
    np.testing.assert_allclose(implied / w.size, w / w.sum())

