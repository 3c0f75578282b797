"""A steady baseline: with no strategy the city stays where it starts.

The day-0 state is drawn from the stationary state of the drawn world (habits at
their fixed point, days since last app use from their stationary law) and exits
balance entries (accounts close, apps go, credit cards lapse at solved rates);
docs/MODEL.md, "A steady baseline"; docs/VALIDATION.md, "Baseline stability".
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.baseline_drift import STOCKS, drift
from sim import EcosystemModel
from sim.agents.steady import Exits, app_share, idle_days, stationary_habits
from sim.metrics import MAU_WINDOW_DAYS
from sim.scenarios.catalog import BANK_APP

REAL_CITY = {"population.customers": 1_000_000, "population.agents": 20_000}
SMALL = {"population.customers": 20_000}

# The documented band (docs/VALIDATION.md): % change of each stock's mean over days
# 365-729 against days 0-364, per seed. Customer stocks are set by the customers'
# rules alone; the merchants' stocks move with which payees switch acquirer (a
# stochastic equilibrium: a few large institutions hold much of the float).
BAND = {"app_users": 4.0, "app_mau": 4.0, "accounts": 4.0, "debit_cards": 4.0,
        "credit_cards": 4.0, "retail_deposits": 4.0, "merchants_on_bank": 5.0,
        "corporate_deposits": 12.0}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_no_strategy_city_stays_inside_its_band(seed):
    """730 days, no strategy: every stock within its band, and no opening transient of
    the monthly-active share (day 0 against days 30-729)."""
    kpis = EcosystemModel("city", seed=seed, overrides=REAL_CITY).run(730)
    d = drift(kpis)
    for name in STOCKS:
        assert abs(d["second_half_vs_first"][name]) <= BAND[name], (name, d)
    assert abs(d["mau_ratio_day0"] - d["mau_ratio"]) <= 0.03, d


def test_exits_balance_the_day0_entries():
    """The solved rates make day 0's expected exits equal its expected organic entries:
    accounts opened by adopters per segment, app installs, credit cards sold."""
    model = EcosystemModel("city", seed=2, overrides=SMALL)
    pop, sc = model.customers, model.params
    a, b, x = sc.adoption, sc.bank, pop.exits
    organic = a.external_rate * pop.digital_affinity + a.imitation_rate * pop.peer_share()
    for s in range(pop.n_segments):
        seg = pop.segment == s
        opened = organic[seg & ~pop.has_account & ~pop.has_app].sum()
        assert x.p_close[s] * (seg & pop.has_account).sum() == pytest.approx(opened, rel=1e-5)
    dormant = (pop.has_app & (-pop.last_app_use >= a.dormant_after_days)).sum()
    apps_lost = (x.p_uninstall * pop.has_app.sum() + a.uninstall_rate_per_day * dormant
                 + (x.p_close[pop.segment] * pop.has_app).sum())
    assert apps_lost == pytest.approx(organic[~pop.has_app].sum(), rel=1e-5)
    active = pop.app_active(-1, MAU_WINDOW_DAYS) & pop.has_account & ~pop.has_credit
    cards_lost = x.p_lapse * pop.has_credit.sum() + (x.p_close[pop.segment] * pop.has_credit).sum()
    assert cards_lost == pytest.approx(b.credit_card_rate_per_day * active.sum(), rel=1e-5)
    # Magnitudes (city defaults): about 5-15 % of accounts a year, cards 5-20 %.
    holders = np.bincount(pop.segment[pop.has_account], minlength=pop.n_segments)
    assert 0.05 < 365 * np.average(x.p_close, weights=holders) < 0.15
    assert 0.05 < 365 * x.p_lapse < 0.2


def test_without_steady_market_nothing_exits():
    """``market.steady = false`` (the bass scenario): no exit rates, so the Bass
    recurrence holds unchanged (tests/test_validation.py)."""
    model = EcosystemModel("bass", seed=0, overrides={"population.customers": 2000})
    assert model.customers.exits.p_close.size == 0
    model.run(5)
    assert model.kpis.closed_accounts.sum() == 0 and model.kpis.uninstalls.sum() == 0


def test_churn_closes_uninstalls_and_lapses_at_its_rates():
    """Competing risks of one uniform a day, each at its rate; a closure takes the cards,
    the deposits and the app with the account; counted as closed accounts and
    uninstalls."""
    model = EcosystemModel("city", seed=3, overrides={**SMALL, "adoption.external_rate": 0.0,
                                                      "adoption.imitation_rate": 0.0})
    pop = model.customers
    p_close, p_uninstall, p_lapse = 0.004, 0.006, 0.008
    pop.exits = Exits(np.full(pop.n_segments, p_close), p_uninstall, p_lapse)
    holders, users, cards = pop.has_account.copy(), pop.has_app.copy(), pop.has_credit.copy()
    days = 50
    rng = np.random.default_rng(9)
    counted = {"closed_accounts": 0, "uninstalls": 0}
    for day in range(days):
        pop.churn(day, rng)
        today = pop.take_counts()
        counted = {k: counted[k] + today[k] for k in counted}
    closed = holders & ~pop.has_account
    expect_closed = 1 - (1 - p_close) ** days
    assert closed.sum() / holders.sum() == pytest.approx(expect_closed, rel=0.1)
    assert counted["closed_accounts"] == closed.sum()
    assert not (pop.has_debit | pop.has_credit | pop.has_app)[closed].any()
    assert (pop.wallet_share[closed] == 0).all()
    stayed = users & ~closed  # their apps went only by uninstalls
    expect_uninstalled = 1 - (1 - p_uninstall / (1 - p_close)) ** days
    gone = (stayed & ~pop.has_app).sum() / stayed.sum()
    assert gone == pytest.approx(expect_uninstalled, rel=0.1)
    assert counted["uninstalls"] == (users & ~pop.has_app).sum()
    lapsed = cards & ~closed & ~pop.has_credit
    expect_lapsed = 1 - (1 - p_lapse / (1 - p_close)) ** days
    assert lapsed.sum() / (cards & ~closed).sum() == pytest.approx(expect_lapsed, rel=0.15)


def test_habits_start_at_their_fixed_point():
    """h* = s(h*) (the map contracts), and the drawn habits hold still: the mean bank-app
    habit of app users and the monthly-active share do not drift in the first 120 days."""
    model = EcosystemModel("city", seed=5, overrides=SMALL)
    pop, sc = model.customers, model.params
    peer = pop.peer_share().astype(float)
    h = stationary_habits(sc, pop, model.merchants, peer)
    np.testing.assert_allclose(h.sum(axis=1), 1.0, atol=1e-9)
    share, pays = app_share(h, sc, pop, model.merchants, peer)
    assert np.abs(share - h[:, BANK_APP])[pays > 0].max() < 2e-3
    assert (h[~pop.has_app, BANK_APP] == 0).all()
    start = pop.habit[pop.has_app, BANK_APP].mean()
    kpis = model.run(120)
    later = pop.habit[pop.has_app, BANK_APP].mean()
    assert later == pytest.approx(start, rel=0.06)
    ratio = (kpis.app_mau / kpis.app_users).to_numpy()
    assert abs(ratio[:10].mean() - ratio[60:].mean()) < 0.02


def test_idle_days_follow_their_stationary_law():
    """Mean gap and dormant share against the exact law P(G = g) ~ pi q^(g-1) (1-u)^max(0, g-T)."""
    rng = np.random.default_rng(0)
    g = np.arange(1, 100_001)
    for pi in (0.3, 0.02, 0.002, 1e-6):
        w = pi * (1 - pi) ** (g - 1) * (1 - 0.002) ** np.maximum(0, g - 90)
        w /= w.sum()
        draw = idle_days(np.full(100_000, pi), 90, 0.002, rng)
        sd = np.sqrt((w * g**2).sum() - (w * g).sum() ** 2) / np.sqrt(draw.size)
        assert abs(draw.mean() - (w * g).sum()) < 4 * sd + 1e-9
        assert abs((draw >= 90).mean() - w[89:].sum()) < 0.005


def test_organic_adopters_open_established_accounts():
    """An adopter who came on their own opens an established account (its deposits follow
    the established rule); one a strategy pushed, an account that fills only with use."""
    model = EcosystemModel("city", seed=6, overrides=SMALL)
    pop = model.customers
    none = ~pop.has_account & ~pop.has_app
    zeros, ones = np.zeros(pop.n, np.float32), np.ones(pop.n, np.float32)
    own = pop.adopt(0, np.where(none, ones, zeros), None, 1.0, np.random.default_rng(1))
    assert own.size == none.sum() and pop.established[own].all()
    model = EcosystemModel("city", seed=6, overrides=SMALL)
    pop = model.customers
    pushed = pop.adopt(0, zeros, np.where(none, ones, zeros), 1.0, np.random.default_rng(1))
    assert pushed.size == none.sum() and not pop.established[pushed].any()
