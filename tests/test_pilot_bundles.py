"""The rest of the article's pilots 4 and 5: the ETC credit-card fuel discount
(``card_discount``) and repairs and access control in the app at property firms
(``app_services``), each against its equation (docs/MODEL.md, "Strategies").
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import ConfigError, EcosystemModel
from sim.scenarios.catalog import CARD, CHAINS
from sim.strategies import AggregatedQR, AppServices, CardDiscount, Strategy

CITY = {"population.customers": 100_000, "population.agents": 4000}  # 25 real per agent


class Spy(Strategy):
    """Keeps each day's payments and who held a credit card as they paid (test only)."""

    kind = "spy"

    def attach(self, model, label):
        super().attach(model, label)
        self.days_ = []

    def before_payments(self, day):
        self.used_today_ = self.model_.customers.last_app_use == day  # before any payment

    def after_payments(self, day, payments):
        pop = self.model_.customers
        self.days_.append({"payer": payments.payer.copy(), "payee": payments.payee.copy(),
                           "channel": payments.channel.copy(), "amount": payments.amount.copy(),
                           "credit": pop.has_credit.copy(), "used": self.used_today_})


def card_model(days=40, overrides=None, **params):
    lever = CardDiscount(**{"stations": 8, "start_day": 5, "budget": 1e9, **params})
    spy = Spy()
    model = EcosystemModel("city", seed=11, overrides={**CITY, **(overrides or {})},
                           strategies=[lever, spy])
    model.run(days)
    return model, lever, spy


def test_the_discount_is_rate_times_cardholders_card_payments_at_the_partners():
    model, lever, spy = card_model(rate=0.05, per_user_cap_yuan=1e9)
    partners = np.flatnonzero(lever.partner_)
    assert partners.size == 8 and (model.merchants.chain[partners]
                                   == CHAINS.index("transport")).all()
    due = others = 0.0
    for d in spy.days_[5:]:
        at = np.isin(d["payee"], partners) & (d["channel"] == CARD)
        due += 0.05 * d["amount"][at & d["credit"][d["payer"]]].sum()
        others += d["amount"][at & ~d["credit"][d["payer"]]].sum()
    assert due > 0 and others > 0  # non-holders paid by card there too, and got nothing
    ledger = model.ledger.groupby("cause")["amount"].sum()
    assert ledger["card_discount:discounts"] == pytest.approx(-due * model.customers.scale,
                                                              rel=1e-9)
    assert ledger["card_discount:stations"] == pytest.approx(-8 * 10_000.0)


def test_the_cap_bounds_what_each_cardholder_gets_in_a_period():
    cap = 1.0
    model, lever, spy = card_model(days=35, per_user_cap_yuan=cap, period_days=30)
    partners = np.flatnonzero(lever.partner_)
    owed = np.zeros(model.customers.n)  # uncapped, first period: days 5 to 34
    for d in spy.days_[5:35]:
        at = (np.isin(d["payee"], partners) & (d["channel"] == CARD)
              & d["credit"][d["payer"]])
        np.add.at(owed, d["payer"][at], 0.05 * d["amount"][at])
    assert (owed > cap).sum() > 5  # the cap binds for some
    assert lever.claimed_.max() <= cap + 1e-9
    np.testing.assert_allclose(lever.claimed_, np.minimum(owed, cap), atol=1e-9)


def test_the_discount_moves_the_banks_cardholders_to_the_card_at_partners_only():
    shares = {}
    for rate in (0.0, 0.3):
        _, lever, spy = card_model(days=25, rate=rate)
        partners = np.flatnonzero(lever.partner_)
        card = {True: [0, 0], False: [0, 0]}
        for d in spy.days_[5:]:
            at = np.isin(d["payee"], partners)
            holder = d["credit"][d["payer"]]
            for who in (True, False):
                mine = at & (holder == who)
                card[who][0] += (d["channel"][mine] == CARD).sum()
                card[who][1] += mine.sum()
        shares[rate] = {who: c / n for who, (c, n) in card.items()}
    # beta_price x s x 0.3 multiplies the card's odds: a large rise for holders only
    assert shares[0.3][True] > shares[0.0][True] + 0.1
    assert shares[0.3][False] == pytest.approx(shares[0.0][False], abs=0.02)


def test_credit_cards_come_at_response_times_value_a_day():
    response, days = 0.002, 30
    model, lever, _ = card_model(days=6, overrides={
        "adoption.promotion_response_per_yuan": response})
    # V_i by hand on the day the partners are signed
    book, pop, chain = model.merchants, model.customers, model.params.chains["transport"]
    c = CHAINS.index("transport")
    lo, hi = book.chain_start[c], book.chain_start[c + 1]
    w = book.weight[np.flatnonzero(lever.partner_)].sum() / book.weight[lo:hi].sum()
    ids = pop.members[c].customers
    spend = 30 * w * chain.rate_per_day * pop.activity[pop.segment[ids]] * chain.amount_mean_yuan
    np.testing.assert_allclose(lever.value_[ids], np.minimum(0.05 * spend, 50.0))
    assert w > 0.05 and lever.value_[np.setdiff1d(np.arange(pop.n), ids)].max() == 0.0
    # cards over the next 30 days: sum of 1 - (1 - p_i)^30 over who could take one
    can = ids[pop.has_account[ids] & ~pop.has_credit[ids]]
    expected = (1 - (1 - response * lever.value_[can]) ** days).sum()
    before = lever.issued_
    model.run(days)
    issued = lever.issued_ - before
    assert expected > 100
    assert issued == pytest.approx(expected, rel=0.15)
    recorded = model.events.query("event == 'issued'")["count"].sum()  # day by day
    assert recorded == pytest.approx(lever.issued_ * pop.scale, abs=len(model.events))
    ledger = model.ledger.groupby("cause")["amount"].sum()
    assert ledger["card_discount:cards"] == pytest.approx(-100.0 * lever.issued_ * pop.scale)


def test_a_spent_budget_ends_the_offer():
    model, lever, spy = card_model(days=40, budget=8 * 10_000.0 + 500.0)
    assert lever.spent_ <= 8 * 10_000.0 + 500.0 + 1e-6 and lever.ended_ is not None
    ended = lever.ended_
    assert model.kpis["strategy_spend"].iloc[ended + 1:].sum() == 0.0
    assert (model.events.query("event == 'ended'")["detail"] == "budget").any()


def test_without_a_discount_the_partners_are_paid_as_before_to_the_byte():
    """Partners keep their acceptance: rate 0 at no station cost is the baseline."""
    base = EcosystemModel("city", seed=11, overrides=CITY).run(30)
    lever = CardDiscount(stations=8, start_day=5, rate=0.0, station_cost_yuan=0.0)
    model = EcosystemModel("city", seed=11, overrides=CITY, strategies=[lever])
    assert base.equals(model.run(30)) and lever.partner_.sum() == 8


def test_a_budget_short_of_the_stations_signs_fewer_and_the_offer_goes_on():
    model, lever, _ = card_model(days=40, stations=3, station_cost_yuan=100_000.0,
                                 budget=250_000.0)
    signed = model.events.query("event == 'signed'").iloc[0]
    assert signed["count"] == 2 and signed.detail == "2 of 3: the budget paid for no more"
    ledger = model.ledger.groupby("cause")["amount"].sum()
    assert ledger["card_discount:stations"] == -200_000.0
    assert ledger["card_discount:discounts"] < 0 and lever.ended_ is None


def test_the_discount_reads_the_payments_after_auto_debit_routed_them():
    """Listed before or after auto-debit, the discount is paid on the same card payments:
    routing is its own step, before any lever reads the day's payments; the partners,
    chosen by their own card terminals, do not depend on the sites moved that morning."""
    paid = []
    for order in (0, 1):
        levers = [CardDiscount(stations=8, start_day=5, rate=0.2, budget=1e9),
                  {"kind": "auto_debit", "sites": 8, "start_day": 5, "p_sign_per_day": 0.05}]
        model = EcosystemModel("city", seed=2, overrides=CITY,
                               strategies=levers if order == 0 else levers[::-1])
        model.run(40)
        paid.append(model.ledger.groupby("cause")["amount"].sum()["card_discount:discounts"])
    assert paid[0] < -1000 and paid[0] == paid[1]


def test_a_card_discount_needs_an_open_chain():
    with pytest.raises(ConfigError, match="chain.*an open chain"):
        EcosystemModel("city", seed=1, overrides=CITY,
                       strategies=[CardDiscount(chain="education", stations=1)])


# ------------------------------------------------------------------- app services
def services_model(days=40, firms=20, extra=(), **params):
    qr = AggregatedQR(chain="property", merchants=firms, p_accept=1.0, start_day=5,
                      budget=1e9)
    services = AppServices(**{"start_day": 5, "budget": 1e9, **params})
    spy = Spy()
    model = EcosystemModel("city", seed=12, overrides=CITY,
                           strategies=[qr, services, *extra, spy])
    model.run(days)
    return model, services, spy


def _served_residents(model, services):
    return services.residents_[services.deployed_[services.home_]]


def test_residents_with_the_app_use_a_service_at_uses_per_day():
    model, services, spy = services_model(uses_per_day=0.3, p_install_per_day=0.0)
    pop = model.customers
    served = _served_residents(model, services)
    assert services.deployed_.sum() == 20 and served.size > 300
    used = users = 0
    for d in spy.days_[10:]:  # the spy reads last use before any payment of the day
        used += d["used"][served].sum()
        users += (pop.has_app[served] & ~pop.abandoned[served]).sum()
    assert used / users == pytest.approx(0.3, abs=0.03)
    # everyone served with the app is monthly-active; residents elsewhere are not all
    active = pop.app_active(model.day, 30)
    assert active[served][pop.has_app[served] & ~pop.abandoned[served]].all()
    ledger = model.ledger.groupby("cause")["amount"].sum()
    assert ledger["app_services:deployment"] == pytest.approx(-20 * 50_000.0)
    deployed = model.events.query("strategy == 'app_services' and event == 'deployed'")
    firm_days = (deployed["count"] * (40 - deployed["day"])).sum()  # the firms join in turn
    assert ledger["app_services:running"] == pytest.approx(-20.0 * firm_days)


def test_residents_without_the_app_install_at_p_install_per_day():
    without, _, _ = services_model(days=35, budget=0.0, p_install_per_day=0.0)
    model, services, _ = services_model(days=35, p_install_per_day=0.02, uses_per_day=0.0)
    served = _served_residents(model, services)
    base = without.customers.has_app[served].mean()
    # 30 days of pull at 2 % on top of what happened anyway (the same seed)
    expected = 1 - (1 - base) * (1 - 0.02) ** 30
    assert model.customers.has_app[served].mean() == pytest.approx(expected, abs=0.05)


class MoveBack(Strategy):
    """Moves every bank-acquired property firm back to its acquirer on ``start_day``."""

    kind = "move_back"

    def before_payments(self, day):
        if day == self.start_day:
            book = self.model_.merchants
            self.model_.merchants.move_back(np.flatnonzero(
                book.on_bank() & (book.chain == CHAINS.index("property"))))


def test_firms_the_budget_cannot_serve_are_unserved_and_the_rest_run_until_it_is_spent():
    # 5 deployments, then 10,000 yuan of running costs: 100 a day for 5 firms, past day 60
    model, services, _ = services_model(days=60, budget=5 * 50_000.0 + 10_000.0)
    events = model.events.query("strategy == 'app_services'")
    assert services.deployed_.sum() == 5 and services.live_.sum() == 5
    assert events.query("event == 'unserved'")["count"].sum() == 15  # the other 15 of 20
    assert not (events.event == "budget_exhausted").any() and services.ended_ is None
    # 2,000 yuan of running costs: spent about 20 days after the deployments
    model, services, spy = services_model(days=60, budget=5 * 50_000.0 + 2_000.0,
                                          uses_per_day=1.0)
    ended = model.events.query("strategy == 'app_services' and event == 'ended'")
    assert ended[["count", "detail"]].values.tolist() == [[5, "budget"]]
    assert not services.live_.any() and 20 < services.ended_ < 35
    served = _served_residents(model, services)
    assert not spy.days_[services.ended_ + 1]["used"][served].any()  # the uses stopped
    assert services.spent_ == pytest.approx(5 * 50_000.0 + 2_000.0)


def test_services_stop_when_the_firm_leaves_the_bank_and_when_the_window_closes():
    model, services, spy = services_model(days=40, uses_per_day=1.0, p_install_per_day=0.0,
                                          extra=[MoveBack(start_day=20)])
    served = _served_residents(model, services)
    assert spy.days_[19]["used"][served].any() and not spy.days_[25]["used"][served].any()
    assert not services.live_.any() and services.deployed_.sum() == 20
    model, services, spy = services_model(days=40, uses_per_day=1.0, p_install_per_day=0.0,
                                          duration_days=15)
    served = _served_residents(model, services)
    assert spy.days_[19]["used"][served].any() and not spy.days_[25]["used"][served].any()
    ended = model.events.query("strategy == 'app_services' and event == 'ended'")
    assert ended[["day", "count", "detail"]].values.tolist() == [[20, 20, "window"]]


class MoveIn(Strategy):
    """Moves the 5 largest property firms to the bank on ``start_day`` under no lever's
    terms: as if they had switched on their own."""

    kind = "move_in"

    def before_payments(self, day):
        if day == self.start_day:
            self.model_.merchants.move_to_bank(
                self.largest_payees(CHAINS.index("property"), 5,
                                    np.ones(self.model_.merchants.n, bool)))


def test_services_without_a_firm_won_by_a_lever_change_nothing():
    """Firms with the bank before the run, or that switched on their own, are not served."""
    base = EcosystemModel("city", seed=12, overrides=CITY,
                          strategies=[MoveIn(start_day=3)]).run(30)
    services = AppServices(start_day=5, budget=1e6)
    model = EcosystemModel("city", seed=12, overrides=CITY,
                           strategies=[MoveIn(start_day=3), services])
    assert base.equals(model.run(30)) and not services.deployed_.any()


def test_app_services_need_an_institutional_chain():
    with pytest.raises(ConfigError, match="chain.*an institutional chain"):
        EcosystemModel("city", seed=1, overrides=CITY,
                       strategies=[AppServices(chain="transport")])


def test_the_bundle_levers_give_the_same_bytes_for_the_same_seed():
    levers = [{"kind": "card_discount", "stations": 4, "start_day": 2},
              {"kind": "aggregated_qr", "chain": "property", "merchants": 3, "start_day": 2},
              {"kind": "app_services", "start_day": 2, "p_install_per_day": 0.01}]
    runs = [EcosystemModel("city", seed=9, overrides=CITY, strategies=levers).run(15)
            for _ in range(2)]
    assert runs[0].equals(runs[1])
