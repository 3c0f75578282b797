"""Promotions: spend-X-save-Y (满减), cashback, vouchers, top-up gifts, points,
credit-card instalments and lotteries, paid for payments with the bank app.

While it runs (its window, until its budget is spent), a promotion

1. pulls installs by what it is worth: a targeted customer without the app
   installs with extra probability per day
   ``promotion_response_per_yuan x V_i x g_i`` (scenario key
   ``adoption.promotion_response_per_yuan``), V_i the yuan per 30 days they
   expect from it where they really pay (``customer_value``, computed once at
   attach), g_i their digital affinity. There is no advertising term: an
   offer worth nothing pulls no one;
2. lowers the price of the bank app in its chains for eligible payers: the
   perceived fraction of the amount saved enters the channel logit;
3. pays out on eligible bank-app payments, up to ``per_user_cap_yuan`` per
   payer per ``period_days``, within the budget. A lottery is perceived as
   probability x min(prize, cap left) x ``lottery_overweight`` / amount and pays
   min(prize, cap left) on a win, so with no overweight the expected payout is
   what payers perceive.

The payout rules of each type are in :mod:`sim.strategies.promotion_value`.

Bonus hunters (the hidden abuser trait) in the targeted segments farm a
promotion only where they can pay with the bank app in one of its chains
(``can_farm``: their own school or canteen accepts it, or some payee of an open
chain they pay in does) and only if what they can claim per period
(``hunter_worth``) is at least ``hunter_min_claim_yuan``: then they install at
``abuser_uptake_per_day``, claim once per period by the type's rule (the cap
for cashback, points, spend_save, voucher; instalment with a credit card; the
gift once; a lottery's wins over ``hunter_draws_per_period`` fake payments),
and go dormant (no bank-app habit). Every claim passes the active risk controls
(risk_control.py); a refused claimant is blocked for the rest of the
promotion, so a wrongly refused genuine customer is lost to it.

When a payout finds the budget exhausted the promotion ends (event ``ended``,
detail ``budget``): its pull, its perceived saving and its payouts stop.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import NON_NEGATIVE, Interval, Options
from sim.scenarios.catalog import BANK_APP
from sim.strategies.base import register
from sim.strategies.campaign import Campaign, within_cap
from sim.strategies.params import CHAIN_LIST, PROB, REQUIRED, Param
from sim.strategies.promotion_value import (
    PROMOTION_TYPES,
    can_farm,
    customer_value,
    hunter_claims,
    hunter_worth,
    payout,
    perceived_fraction,
)

__all__ = ["Promotion", "PROMOTION_TYPES"]


@register
class Promotion(Campaign):
    kind = "promotion"
    parameters = {
        "type": Param(str, Options(PROMOTION_TYPES), REQUIRED, "kind of promotion"),
        "chains": Param(list, CHAIN_LIST, None, "chains where it applies (default all)"),
        "segments": Param(list, None, None, "segments it targets (default all)"),
        "per_user_cap_yuan": Param(float, NON_NEGATIVE, 100.0, "payout cap per payer per period"),
        "period_days": Param(int, Interval(1, None), 30, "length of a cap period"),
        "threshold_yuan": Param(float, NON_NEGATIVE, 50.0, "minimum spend (spend_save, voucher, "
                                "instalment)"),
        "discount_yuan": Param(float, NON_NEGATIVE, 10.0, "saving (spend_save, voucher, "
                               "topup_gift)"),
        "rate": Param(float, PROB, 0.05, "cashback rate, points earned, instalment benefit"),
        "probability": Param(float, PROB, 0.01, "chance a payment wins (lottery)"),
        "prize_yuan": Param(float, NON_NEGATIVE, 500.0, "lottery prize"),
        "points_value": Param(float, PROB, 0.5, "what a yuan of points is worth to a payer"),
        "redemption_rate": Param(float, PROB, 0.6, "share of points redeemed (the bank's cost)"),
        "lottery_overweight": Param(float, NON_NEGATIVE, 3.0,
                                    "how much payers overweight a small chance of a prize"),
        "abuser_uptake_per_day": Param(float, PROB, 0.05, "install probability per day of "
                                       "targeted bonus hunters, if worth their while"),
        "hunter_min_claim_yuan": Param(float, NON_NEGATIVE, 5.0, "least a bonus hunter must "
                                       "expect to claim per period to farm it"),
        "hunter_draws_per_period": Param(int, Interval(0, None), 30, "fake payments a bonus "
                                         "hunter makes per period to play a lottery"),
    }

    def validate(self) -> None:
        if math.isinf(self.per_user_cap_yuan):
            raise self.error("per_user_cap_yuan", self.per_user_cap_yuan,
                             "a finite number of yuan >= 0 (bonus hunters claim the cap)")

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        pop = model.customers
        n = pop.n
        self.eligible_ = self.segment_mask()
        self.chain_ok_ = self.chain_mask()
        self.claimed_ = np.zeros(n)        # yuan paid to each customer this period
        self.farmed_ = np.zeros(n, bool)   # bonus hunters who claimed this period
        self.blocked_ = np.zeros(n, bool)  # refused by risk control: out of the promotion
        self.gifted_ = np.zeros(n, bool)   # topup_gift received
        self.rng_ = self.stream()
        self.value_ = customer_value(self, model)  # V_i, yuan per 30 days
        self.hunter_worth_ = hunter_worth(self, pop)  # yuan per period
        # bonus hunters for whom it is worth their while; whether they can farm it
        # depends on the day's acceptance (_farmers)
        self.hunters_ = np.flatnonzero(pop.abuser & self.eligible_
                                       & (self.hunter_worth_ >= self.hunter_min_claim_yuan))
        self.farmers_ = (-1, self.hunters_[:0])  # (day, hunters who can farm that day)
        response = model.params.adoption.promotion_response_per_yuan
        self.pull_ = np.where(pop.abuser, 0.0, response * self.value_ * pop.digital_affinity)

    # ------------------------------------------------------------------ hooks
    def adoption_push(self, day: int) -> np.ndarray | None:
        if not self.running(day):
            return None
        push = np.where(self.eligible_ & ~self.blocked_, self.pull_, 0.0)
        farmers = self._farmers(day)
        push[farmers[~self.blocked_[farmers]]] = self.abuser_uptake_per_day
        return push

    def before_payments(self, day: int) -> None:
        if not self.running(day):
            return
        if (day - self.start_day) % self.period_days == 0:
            self.claimed_[:] = 0.0
            self.farmed_[:] = False
        self._abuse(day)

    def saving(self, day: int, payments) -> np.ndarray | None:
        if not self.running(day):
            return None
        ok = self.eligible_events(payments)
        if not ok.any():
            return None
        out = np.zeros(payments.size, np.float32)
        room = self.per_user_cap_yuan - self.claimed_[payments.payer[ok]]
        out[ok] = perceived_fraction(self, payments.amount[ok], room)
        return out

    def after_payments(self, day: int, payments) -> None:
        if not self.running(day):
            return
        ok = self.eligible_events(payments) & (payments.channel == BANK_APP)
        self.forget_events()
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return
        payer = payments.payer[idx]
        amount = payout(self, payments.amount[idx], self.per_user_cap_yuan - self.claimed_[payer],
                        self.rng_)
        if self.type == "topup_gift":
            first = np.zeros(idx.size, bool)
            first[np.unique(payer, return_index=True)[1]] = True
            amount = np.where(first, amount, 0.0)
        amount = within_cap(payer, amount, self.per_user_cap_yuan - self.claimed_[payer])
        claim = amount > 0
        payer, amount = payer[claim], amount[claim]
        approved = self.model_.screen_claims(day, np.zeros(payer.size, bool))
        self.blocked_[payer[~approved]] = True
        payer, amount = payer[approved], amount[approved]
        paid = self.afford(amount * self.scale, day)
        payer, amount = payer[paid], amount[paid]
        self.spend(day, "payout", float(amount.sum()) * self.scale)
        np.add.at(self.claimed_, payer, amount)
        if self.type == "topup_gift":
            self.gifted_[payer] = True
        self.end_if_spent(day)

    # ---------------------------------------------------------------- helpers
    def compute_eligible(self, payments) -> np.ndarray:
        """Events in its chains by eligible payers with cap room (instalment: card
        holders paying at least the threshold; topup_gift: not yet gifted)."""
        pop = self.model_.customers
        payer_ok = (self.eligible_ & ~self.blocked_ & ~pop.abuser
                    & (self.claimed_ < self.per_user_cap_yuan))  # per customer, then one gather
        if self.type == "instalment":
            payer_ok &= pop.has_credit
        elif self.type == "topup_gift":
            payer_ok &= ~self.gifted_
        ok = self.chain_ok_[payments.chain] & payer_ok[payments.payer]
        if self.type == "instalment":
            ok &= payments.amount >= self.threshold_yuan
        return ok

    def _farmers(self, day: int) -> np.ndarray:
        """Bonus hunters (int ids) who can farm the promotion on ``day`` (see
        :func:`can_farm`), computed once a day for the few hunters only."""
        if self.farmers_[0] != day:
            hunters = self.hunters_
            self.farmers_ = (day, hunters[can_farm(self, self.model_, hunters, day)])
        return self.farmers_[1]

    def _abuse(self, day: int) -> None:
        """Bonus hunters with the app who can farm the promotion and for whom it is
        worth their while claim once per period by the type's rule, then go dormant."""
        pop = self.model_.customers
        hunters = self._farmers(day)
        hunters = hunters[pop.has_app[hunters] & ~self.blocked_[hunters] & ~self.farmed_[hunters]]
        if self.type == "topup_gift":
            hunters = hunters[~self.gifted_[hunters]]
        if hunters.size == 0:
            return
        self.farmed_[hunters] = True
        pop.abandon_app(hunters)
        claim = hunter_claims(self, pop, hunters, self.per_user_cap_yuan - self.claimed_[hunters],
                              self.rng_)
        hunters, claim = hunters[claim > 0], claim[claim > 0]
        approved = self.model_.screen_claims(day, np.ones(hunters.size, bool))
        self.blocked_[hunters[~approved]] = True
        hunters, claim = hunters[approved], claim[approved]
        paid = self.afford(claim * self.scale, day)
        hunters, claim = hunters[paid], claim[paid]
        self.spend(day, "abuse", float(claim.sum()) * self.scale, kind="abuse")
        self.claimed_[hunters] += claim
        if self.type == "topup_gift":
            self.gifted_[hunters] = True
        self.end_if_spent(day)
