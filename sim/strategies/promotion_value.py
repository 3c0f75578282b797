"""What a promotion is worth: each type's payout rule, per payment and per customer.

Three readings of one rule, kept side by side so they cannot drift apart:

- :func:`perceived_fraction`: the fraction of an eligible amount a payer
  expects to save by paying with the bank app (the ``d`` of the channel logit);
- :func:`payout`: the yuan the bank pays on an eligible bank-app payment;
- :func:`customer_value`: V_i, the yuan per 30 days a customer without the
  app expects from the promotion where they really pay (what pulls installs);

and, for bonus hunters, :func:`hunter_worth` (what a promotion is worth to
someone farming it with fake payments) and :func:`hunter_claims` (what they
take in a period). ``promo`` is a :class:`~sim.strategies.promotion.Promotion`;
its parameters are read as attributes. Equations: docs/MODEL.md, "promotion".
"""

from __future__ import annotations

import math

import numpy as np

from sim.scenarios.catalog import BANK_APP, CHAINS

__all__ = ["PROMOTION_TYPES", "FARMED", "can_farm", "perceived_fraction", "payout",
           "per_payment_value", "customer_value", "bill_rate", "hunter_worth", "hunter_claims",
           "MONTH_DAYS"]

PROMOTION_TYPES = ("spend_save", "cashback", "voucher", "topup_gift", "points", "instalment",
                   "lottery")
# Types a bonus hunter farms up to the cap with fake payments (instalment: card holders only).
FARMED = ("spend_save", "cashback", "voucher", "points", "instalment")
MONTH_DAYS = 30.0  # V_i is expressed per 30 days, whatever the cap period


def perceived_fraction(promo, amount: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Fraction of each eligible amount (yuan) the payer expects to save.

    ``room`` is the payer's cap left this period (yuan): a lottery prize is
    worth at most that much to them, as it is to the bank.
    """
    t = promo.type
    if t in ("spend_save", "voucher"):
        return np.where(amount >= promo.threshold_yuan, promo.discount_yuan / amount, 0.0)
    if t in ("cashback", "instalment"):
        return np.full(amount.size, promo.rate)
    if t == "topup_gift":
        return promo.discount_yuan / amount
    if t == "points":
        return np.full(amount.size, promo.rate * promo.points_value)
    prize = np.minimum(promo.prize_yuan, room)  # lottery
    return promo.probability * prize * promo.lottery_overweight / amount


def payout(promo, amount: np.ndarray, room: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Yuan the bank pays on each eligible bank-app payment (before the period cap
    is shared among a payer's payments of the day). A lottery payment wins with
    ``probability`` and is paid min(prize, room)."""
    t = promo.type
    if t in ("spend_save", "voucher"):
        return np.where(amount >= promo.threshold_yuan, np.minimum(promo.discount_yuan, amount),
                        0.0)
    if t in ("cashback", "instalment"):
        return promo.rate * amount
    if t == "topup_gift":
        return np.full(amount.size, promo.discount_yuan)
    if t == "points":
        return promo.rate * promo.redemption_rate * amount
    wins = rng.random(amount.size) < promo.probability  # lottery
    return np.where(wins, np.minimum(promo.prize_yuan, room), 0.0)


def _tail(mean: float, sigma: float, x: float, power: int) -> float:
    """E[A^power ; A >= x] / mean^power for A lognormal with this mean and sigma
    (power 0: P(A >= x); power 1: the share of the mean above x)."""
    if x <= 0:
        return 1.0
    if sigma == 0:
        return float(mean >= x)
    mu = math.log(mean) - sigma**2 / 2
    z = (mu + power * sigma**2 - math.log(x)) / sigma
    return 0.5 * math.erfc(-z / math.sqrt(2))


def per_payment_value(promo, mean: float, sigma: float) -> float:
    """Expected perceived yuan of one eligible payment whose amount is lognormal
    (``mean`` yuan, log-sd ``sigma``), with the whole cap as room (0 for
    topup_gift, valued per customer in :func:`customer_value`)."""
    t = promo.type
    if t in ("spend_save", "voucher"):
        return promo.discount_yuan * _tail(mean, sigma, promo.threshold_yuan, 0)
    if t == "cashback":
        return promo.rate * mean
    if t == "instalment":
        return promo.rate * mean * _tail(mean, sigma, promo.threshold_yuan, 1)
    if t == "points":
        return promo.rate * promo.points_value * mean
    if t == "lottery":
        return (promo.probability * min(promo.prize_yuan, promo.per_user_cap_yuan)
                * promo.lottery_overweight)
    return 0.0


def bill_rate(bill) -> float:
    """Bills per payer per day: random bills at their rate, periodic ones once a period."""
    if bill.kind == "random":
        return bill.rate_per_day
    if bill.kind == "periodic":
        return 1.0 / bill.period_days
    return 0.0


def customer_value(promo, model) -> np.ndarray:
    """V_i: yuan per 30 days each customer expects from the promotion (float64, N).

    Over the promotion's chains the customer pays in, expected eligible
    payments per period n_ic = P a_ic (r_c rel_s + b_c) (P = ``period_days``,
    r_c everyday rate, rel_s the segment's activity, b_c the bill rate, a_ic
    the chance the payee accepts the bank app: the customer's own payee in an
    institutional chain, the traffic-weighted share otherwise), each worth its
    expected perceived yuan (:func:`per_payment_value`); topup_gift is worth
    ``discount`` x P(at least one eligible payment), instalment only to credit-card
    holders. The sum is capped at ``per_user_cap_yuan`` and scaled by 30 / P.
    """
    pop, book, chains = model.customers, model.merchants, model.params.chains
    accepts = book.accepts(model.day)[BANK_APP]
    value = np.zeros(pop.n)
    count = np.zeros(pop.n)
    period = promo.period_days
    for c, name in enumerate(CHAINS):
        members = pop.members[c]
        if not promo.chain_ok_[c] or members.customers.size == 0:
            continue
        chain = chains[name]
        ids = members.customers
        if chain.institutional:
            accept = accepts[members.home].astype(float)
        else:
            lo, hi = book.chain_start[c], book.chain_start[c + 1]
            w = book.weight[lo:hi]
            accept = float((w * accepts[lo:hi]).sum() / w.sum())
        everyday = period * accept * chain.rate_per_day * pop.activity[pop.segment[ids]]
        bills = period * accept * bill_rate(chain.bill)
        count[ids] += everyday + bills
        value[ids] += (everyday * per_payment_value(promo, chain.amount_mean_yuan,
                                                    chain.amount_sigma)
                       + bills * per_payment_value(promo, chain.bill.amount_mean_yuan,
                                                   chain.bill.amount_sigma))
    if promo.type == "topup_gift":
        value = promo.discount_yuan * -np.expm1(-count)
    elif promo.type == "instalment":
        value = np.where(pop.has_credit, value, 0.0)
    return np.minimum(value, promo.per_user_cap_yuan) * (MONTH_DAYS / period)


def hunter_worth(promo, pop) -> np.ndarray:
    """Yuan a bonus hunter expects to claim per period (float64, N): the cap for
    the types they farm (instalment: with a credit card), the gift for
    topup_gift, ``hunter_draws_per_period`` x probability x min(prize, cap) for a
    lottery (at most the cap)."""
    cap = promo.per_user_cap_yuan
    if promo.type == "instalment":
        return np.where(pop.has_credit, cap, 0.0)
    if promo.type in FARMED:
        return np.full(pop.n, cap)
    if promo.type == "topup_gift":
        return np.full(pop.n, min(promo.discount_yuan, cap))
    expected = promo.hunter_draws_per_period * promo.probability * min(promo.prize_yuan, cap)
    return np.full(pop.n, min(expected, cap))


def can_farm(promo, model, who: np.ndarray, day: int) -> np.ndarray:
    """Which of customers ``who`` (int ids) can make a bank-app payment the promotion
    pays on ``day`` (bool, ``who.size``): members of one of its chains whose own payee
    accepts the bank app (institutional chains: a school, a canteen), or who pay in an
    open chain where some payee accepts it. A bonus hunter farms only where this holds:
    fake payments still need a payee that takes the app, so a one-canteen pilot is
    farmed only by that canteen's payers, not by every hunter in the city."""
    pop, book = model.customers, model.merchants
    accepts = book.accepts(day)[BANK_APP]
    ok = np.zeros(who.size, bool)
    for c, name in enumerate(CHAINS):
        members = pop.members[c]
        if not promo.chain_ok_[c] or members.customers.size == 0:
            continue
        pos = np.minimum(np.searchsorted(members.customers, who), members.customers.size - 1)
        member = members.customers[pos] == who
        if model.params.chains[name].institutional:
            home = members.home[pos]
            ok |= member & (home >= 0) & accepts[np.maximum(home, 0)]
        elif accepts[book.chain_start[c]:book.chain_start[c + 1]].any():
            ok |= member
    return ok


def hunter_claims(promo, pop, hunters: np.ndarray, room: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Yuan each of ``hunters`` claims this period with fake payments, given their
    cap ``room`` (yuan): all of it for farmed types (instalment: card holders),
    the gift for topup_gift, and for a lottery min(W x prize, room) with
    W ~ Binomial(``hunter_draws_per_period``, probability) wins."""
    if promo.type == "instalment":
        return np.where(pop.has_credit[hunters], room, 0.0)
    if promo.type in FARMED:
        return room
    if promo.type == "topup_gift":
        return np.minimum(promo.discount_yuan, room)
    wins = rng.binomial(promo.hunter_draws_per_period, promo.probability, size=hunters.size)
    return np.minimum(wins * promo.prize_yuan, room)
