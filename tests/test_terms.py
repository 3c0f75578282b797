"""Terms with an owner and a lifecycle; commitments honoured (issue 13, faults 1-2).

Small populations (20,000 customers or fewer), paired seeds.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim import EcosystemModel
from sim.agents.merchants import annuity
from sim.agents.terms import EXCLUSIVE, LOCK, NOBODY, OFFER, WAIVER, Terms
from sim.scenarios.catalog import CHAINS

CITY = {"population.customers": 20_000}
WAIVER_SPEC = {"kind": "fee_waiver", "chain": "business_district", "merchants": 150,
               "start_day": 10, "duration_days": 60, "budget": 2e6}
CAMPUS = {"kind": "exclusive_channel", "chain": "education", "institutions": 5,
          "start_day": 5, "development_cost_yuan": 200_000, "budget": 1_000_000}


def model_with(strategies, seed=0, overrides=CITY):
    return EcosystemModel("city", seed=seed, overrides=overrides, strategies=strategies)


def owned_by(model, strategy) -> np.ndarray:
    """Terms of each kind the strategy still owns (kinds x payees)."""
    return model.merchants.terms.owner == strategy.owner_


def events_of(model, event):
    ev = model.events
    return ev[ev.event == event]


# ------------------------------------------------------------------ the table
def test_an_accepted_offer_is_consumed_and_never_seen_again():
    log = []
    terms = Terms(5)
    me = terms.register(lambda *row: log.append(row))
    terms.offer(me, np.array([0, 1, 2]), day=0, rate=1.0, until=90, subsidy=300.0)
    terms.accept(np.array([1, 3]), day=10)  # 3 had no offer: nothing to consume
    assert terms.owner[OFFER].tolist() == [me, NOBODY, me, NOBODY, NOBODY]
    assert terms.held(WAIVER, 10, me).tolist() == [False, True, False, False, False]
    assert terms.until[LOCK, 1] == 90 and terms.waiver_rate[1] == 1.0
    terms.end(me, 40, "window")            # the waiver ends early; payee 1 is free
    terms.left(np.array([1]), 50)
    assert not terms.held(OFFER, 50).any() and not (terms.owner == me).any()
    assert terms.reinstated[1] == 1.0      # felt at payee 1's next review
    assert [(d, e, n) for d, e, n, _ in log] == [
        (0, "offered", 3), (10, "joined", 1), (40, "withdrawn", 2), (40, "ended", 1),
        (50, "left", 1)]


def test_terms_expire_on_their_day_with_one_event_per_owner():
    log = []
    terms = Terms(4)
    a = terms.register(lambda *row: log.append(("a",) + row))
    b = terms.register(lambda *row: log.append(("b",) + row))
    terms.sign(a, np.array([0, 1]), day=0, until=30, exclusive=True)
    terms.sign(b, np.array([2]), day=0, until=60)
    terms.expire(29)
    assert terms.held(EXCLUSIVE, 29).tolist() == [True, True, False, False]
    terms.expire(30)
    assert not terms.held(EXCLUSIVE, 30).any() and (terms.owner[LOCK] == b).sum() == 1
    assert ("a", 30, "ended", 2, "lock-in") in log and not any(r[0] == "b" and
                                                               r[2] == "ended" for r in log)


def test_the_annuity_values_every_month_left_discounted():
    assert annuity(np.array([0.0, -1.0]), 0.01).tolist() == [0.0, 0.0]
    assert annuity(np.array([12.0]), 0.0)[0] == 12.0
    twelve = annuity(np.array([12.0]), 0.01)[0]
    assert twelve == pytest.approx((1 - 1.01**-12) / 0.01) and 11.2 < twelve < 11.3


# ------------------------------------------------------------------ fee waiver
def test_no_term_outlives_its_window_and_no_merchant_joins_twice():
    model = model_with([WAIVER_SPEC], seed=1)
    waiver = model.strategies[0]
    end = waiver.end_day
    ever_joined = np.zeros(model.merchants.n, bool)
    for day in range(end + 120):
        model.run(1)
        terms = model.merchants.terms
        joined_now = terms.owned(WAIVER, waiver.owner_)
        assert not (joined_now & terms.held(OFFER, day)).any()  # joining consumed the offer
        ever_joined |= joined_now
        if day >= end:
            assert not owned_by(model, waiver).any(), day
    joined = events_of(model, "joined")["count"].sum()
    left = events_of(model, "left")["count"].sum()
    assert joined == ever_joined.sum() >= 10    # each merchant joined once: no second offer
    assert 0 < left <= joined                   # some went back once the waiver ended
    ended = events_of(model, "ended")
    assert ended[["day", "count", "detail"]].values.tolist() == [[end, joined, "window"]]
    assert (events_of(model, "left").day > end).all()  # locked in until then
    assert events_of(model, "withdrawn")["count"].sum() == 150 - joined


def test_an_exhausted_budget_ends_every_waiver_and_offer_that_day():
    model = model_with([{**WAIVER_SPEC, "budget": 3_000.0}], seed=2)
    waiver = model.strategies[0]
    model.run(WAIVER_SPEC["start_day"] + 60)
    day = int(events_of(model, "budget_exhausted").day.iloc[0])
    assert not owned_by(model, waiver).any()
    ended = events_of(model, "ended")
    assert ended.day.tolist() == [day] and ended.detail.tolist() == ["budget"]
    assert events_of(model, "withdrawn").day.tolist() == [day]
    assert waiver.spent_ == pytest.approx(3_000.0)


def test_a_waiver_is_offered_only_to_the_merchants_its_budget_can_pay():
    """A budget of 0 offers nothing and says so (before: a merchant joined an unfunded
    waiver); a budget of 10 switching subsidies (300 yuan each) offers 10 merchants."""
    for budget, offered in ((0.0, 0), (3_000.0, 10)):
        model = model_with([{**WAIVER_SPEC, "budget": budget}], seed=2)
        model.run(WAIVER_SPEC["start_day"] + 20)
        assert events_of(model, "offered")["count"].sum() == offered
        assert model.strategies[0].spent_ <= budget + 1e-9
        if budget == 0:
            assert events_of(model, "joined").empty
            assert len(events_of(model, "budget_exhausted")) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_longer_waiver_recruits_more_in_its_first_months(seed):
    """Paired seeds: the same offer for 90 or 365 days, merchants joined by day start+90."""
    start = WAIVER_SPEC["start_day"]
    joined = {}
    for days in (90, 365):
        model = model_with([{**WAIVER_SPEC, "duration_days": days}], seed=seed)
        model.run(start + 90)
        joined[days] = events_of(model, "joined")["count"].sum()
    assert joined[365] >= 1.5 * joined[90] + 10, joined


# ------------------------------------------------------------------ exclusive channel
def test_a_contract_signed_within_budget_keeps_exclusivity_until_its_lock_in_ends():
    """Budget = institutions x development cost: every counter fee is owed beyond it
    (over_budget), and exclusivity lasts its whole lock-in (no backlash allowed)."""
    lock_in = 120
    spec = {**CAMPUS, "lock_in_days": lock_in, "backlash_tolerance": 1.0}
    model = model_with([spec], seed=3)
    campus = model.strategies[0]
    exclusive = []
    for day in range(spec["start_day"] + lock_in + 5):
        model.run(1)
        exclusive.append(int(model.merchants.terms.held(EXCLUSIVE, day, campus.owner_).sum()))
    start = spec["start_day"]
    assert campus.signed_.size == 5
    assert set(exclusive[start:start + lock_in]) == {5} and exclusive[start + lock_in] == 0
    assert not owned_by(model, campus).any()
    ended = events_of(model, "ended")
    assert ended[["day", "count", "detail"]].values.tolist() == [[start + lock_in, 5, "lock-in"]]
    assert counter_cost(model) > 0
    assert campus.spent_ == pytest.approx(1_000_000 + counter_cost(model))
    assert len(events_of(model, "over_budget")) == 1
    assert events_of(model, "cancelled_backlash").empty


def test_budget_beyond_the_development_fees_changes_nothing():
    """Invariance: once the contracts are paid for, more budget buys nothing (the old
    rule ended exclusivity the day a counter fee found the budget spent)."""
    runs = []
    for budget in (1_000_000, 1_200_000):
        model = model_with([{**CAMPUS, "budget": budget}], seed=5)
        runs.append((model.run(90), model.events))
    (exact, exact_events), (more, more_events) = runs
    assert exact.equals(more)
    assert (set(exact_events.event) - set(more_events.event)) == {"over_budget"}
    assert (exact_events.event == "cancelled_backlash").any()  # ended by backlash


def counter_cost(model) -> float:
    return -model.ledger.query("cause == 'exclusive_channel:counter_service'").amount.sum()


def test_backlash_counts_complaining_payers_not_counter_payments():
    model = model_with([{**CAMPUS, "institutions": 1, "budget": 200_000}], seed=0,
                       overrides={"population.customers": 3000})
    campus = model.strategies[0]
    day = CAMPUS["start_day"] + 1
    model.run(day)                               # signed on start_day
    school = int(campus.signed_[0])
    members = model.customers.members[CHAINS.index("education")]
    payers = members.customers[members.home == school]
    campus.complainers_[:] = 0                   # forget the real day's complaints
    campus.complained_[:] = False
    campus._params["backlash_tolerance"] = 1.5 / campus.payers_[school]  # threshold 1.5
    before = campus.spent_

    def at_counter(*who):
        return SimpleNamespace(payer=np.array(who), payee=np.full(len(who), school),
                               fallback=np.ones(len(who), bool))

    campus.after_payments(day, at_counter(payers[0], payers[0], payers[0]))
    assert campus.complainers_[school] == 1      # three counter payments, one complainer
    assert model.merchants.terms.held(EXCLUSIVE, day + 1, campus.owner_)[school]
    campus.after_payments(day, at_counter(payers[0], payers[1]))
    assert campus.complainers_[school] == 2
    assert not model.merchants.terms.held(EXCLUSIVE, day + 1)[school]
    assert model.merchants.terms.held(LOCK, day + 1, campus.owner_)[school]  # stays locked in
    cancelled = events_of(model, "cancelled_backlash")
    assert cancelled[["day", "count"]].values.tolist() == [[day, 1]]
    assert campus.spent_ - before == pytest.approx(5 * 10.0)  # every counter payment paid


# ------------------------------------------------------------------ aggregated QR
def test_aggregated_qr_contracts_lapse_when_its_budget_runs_out():
    spec = {"kind": "aggregated_qr", "chain": "wholesale_market", "merchants": 40,
            "start_day": 5, "budget": 6_000.0}
    model = model_with([spec], seed=4)
    qr = model.strategies[0]
    model.run(60)
    day = int(events_of(model, "budget_exhausted").day.iloc[0])
    signed = events_of(model, "signed")["count"].sum()
    assert signed == qr.signed_.size > 0
    assert not owned_by(model, qr).any()
    ended = events_of(model, "ended")
    assert ended[["day", "count", "detail"]].values.tolist() == [[day, signed, "budget"]]
    assert np.all(model.merchants.bank_fee_rate[qr.signed_[
        model.merchants.on_bank()[qr.signed_]]] == spec.get("fee_rate", 0.0025))
