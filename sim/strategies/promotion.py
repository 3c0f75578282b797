"""Promotions: spend-X-save-Y (满减), cashback, vouchers, top-up gifts, points,
credit-card instalments and lotteries, paid for payments with the bank app.

While active, a promotion (1) is advertised: targeted customers without the
app install it with extra probability ``adoption_push_per_day``; (2) lowers
the price of the bank app in its chains for eligible payers: the perceived
fraction of the amount saved enters the channel logit (docs/MODEL.md); (3)
pays out on eligible bank-app payments, up to ``per_user_cap_yuan`` per
payer per ``period_days``, within the budget.

Bonus hunters (the hidden abuser trait) in the targeted segments install the
app at ``abuser_uptake_per_day`` during the promotion, claim their whole cap
with fake transactions, and go dormant (no bank-app habit): they inflate
acquisition and lower retention. Every claim passes the active risk controls
(risk_control.py); a refused claimant is blocked for the rest of the
promotion, so a wrongly refused genuine customer is lost to it.

Perceived saving per type (fraction of amount a, on eligible events):
spend_save and voucher: discount / a if a >= threshold; cashback: rate;
topup_gift: discount / a on a payer's first bank-app payment; points:
rate * points_value; instalment (credit-card holders, a >= threshold): rate;
lottery: probability * prize * lottery_overweight / a. Cost per paid event:
the same saving, except points (rate * redemption_rate * a) and lottery
(prize with probability ``probability``).
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, Interval, Options
from sim.scenarios.catalog import BANK_APP
from sim.strategies.base import CHAIN_LIST, PROB, REQUIRED, Param, Strategy, register

__all__ = ["Promotion", "PROMOTION_TYPES"]

PROMOTION_TYPES = ("spend_save", "cashback", "voucher", "topup_gift", "points", "instalment",
                   "lottery")


@register
class Promotion(Strategy):
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
        "adoption_push_per_day": Param(float, PROB, 0.0005, "extra install probability per day "
                                       "for targeted customers (advertising)"),
        "abuser_uptake_per_day": Param(float, PROB, 0.05, "install probability per day of "
                                       "targeted bonus hunters"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        n = model.customers.n
        self.eligible_ = self.segment_mask()
        self.chain_ok_ = self.chain_mask()
        self.claimed_ = np.zeros(n)
        self.blocked_ = np.zeros(n, bool)
        self.gifted_ = np.zeros(n, bool)
        self.rng_ = self.stream()
        self.n_paid_ = 0

    # ------------------------------------------------------------------ hooks
    def adoption_push(self, day: int) -> np.ndarray | None:
        if not self.active(day):
            return None
        pop = self.model_.customers
        push = np.where(pop.abuser, self.abuser_uptake_per_day, self.adoption_push_per_day)
        return np.where(self.eligible_ & ~self.blocked_, push, 0.0)

    def before_payments(self, day: int) -> None:
        if self.active(day) and (day - self.start_day) % self.period_days == 0:
            self.claimed_[:] = 0.0
        if self.active(day):
            self._abuse(day)

    def saving(self, day: int, payments) -> np.ndarray | None:
        if not self.active(day):
            return None
        ok = self._eligible_events(payments)
        if not ok.any():
            return None
        out = np.zeros(payments.size, np.float32)
        out[ok] = self._perceived(payments, ok)
        return out

    def after_payments(self, day: int, payments) -> None:
        if not self.active(day):
            return
        ok = self._eligible_events(payments) & (payments.channel == BANK_APP)
        self._eligible_cache = None
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return
        payout = self._cost(payments, idx)
        payer = payments.payer[idx]
        if self.type == "topup_gift":
            first = np.zeros(idx.size, bool)
            _, where = np.unique(payer, return_index=True)
            first[where] = True
            payout = np.where(first, payout, 0.0)
        payout = self._apply_cap(payer, payout)
        claim = payout > 0
        idx, payer, payout = idx[claim], payer[claim], payout[claim]
        approved = self.model_.screen_claims(day, np.zeros(idx.size, bool))
        self.blocked_[payer[~approved]] = True
        payer, payout = payer[approved], payout[approved]
        paid = self.afford(payout)
        payer, payout = payer[paid], payout[paid]
        self.spend(day, "payout", float(payout.sum()))
        np.add.at(self.claimed_, payer, payout)
        if self.type == "topup_gift":
            self.gifted_[payer] = True
        self.n_paid_ += int(payer.size)

    # ---------------------------------------------------------------- helpers
    def _eligible_events(self, payments) -> np.ndarray:
        """Events a payout could go to (computed once per day's payments)."""
        cache = getattr(self, "_eligible_cache", None)
        if cache is not None and cache[0] is payments:
            return cache[1]
        ok = self._compute_eligible(payments)
        self._eligible_cache = (payments, ok)
        return ok

    def _compute_eligible(self, payments) -> np.ndarray:
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

    def _perceived(self, payments, ok: np.ndarray) -> np.ndarray:
        """Fraction of each eligible amount the payer expects to save."""
        a = payments.amount[ok]
        t = self.type
        if t in ("spend_save", "voucher"):
            return np.where(a >= self.threshold_yuan, self.discount_yuan / a, 0.0)
        if t == "cashback" or t == "instalment":
            return np.full(a.size, self.rate)
        if t == "topup_gift":
            return self.discount_yuan / a
        if t == "points":
            return np.full(a.size, self.rate * self.points_value)
        return self.probability * self.prize_yuan * self.lottery_overweight / a  # lottery

    def _cost(self, payments, idx: np.ndarray) -> np.ndarray:
        """Yuan the bank pays on each paid event."""
        a = payments.amount[idx]
        t = self.type
        if t in ("spend_save", "voucher"):
            return np.where(a >= self.threshold_yuan, np.minimum(self.discount_yuan, a), 0.0)
        if t == "cashback" or t == "instalment":
            return self.rate * a
        if t == "topup_gift":
            return np.full(a.size, self.discount_yuan)
        if t == "points":
            return self.rate * self.redemption_rate * a
        wins = self.rng_.random(a.size) < self.probability  # lottery
        return np.where(wins, self.prize_yuan, 0.0)

    def _apply_cap(self, payer: np.ndarray, payout: np.ndarray) -> np.ndarray:
        """Scale each payer's payouts today so their period total stays within the cap."""
        room = np.maximum(self.per_user_cap_yuan - self.claimed_[payer], 0.0)
        uniq, inv = np.unique(payer, return_inverse=True)
        total = np.bincount(inv, weights=payout, minlength=uniq.size)[inv]
        scale = np.divide(room, total, out=np.ones(payer.size), where=total > room)
        return payout * np.minimum(scale, 1.0)

    def _abuse(self, day: int) -> None:
        """Bonus hunters with the app claim their whole remaining cap, then go dormant."""
        pop = self.model_.customers
        hunters = np.flatnonzero(pop.abuser & pop.has_app & self.eligible_ & ~self.blocked_
                                 & (self.claimed_ < self.per_user_cap_yuan))
        if hunters.size == 0:
            return
        claim = self.per_user_cap_yuan - self.claimed_[hunters]
        approved = self.model_.screen_claims(day, np.ones(hunters.size, bool))
        self.blocked_[hunters[~approved]] = True
        hunters, claim = hunters[approved], claim[approved]
        paid = self.afford(claim)
        hunters, claim = hunters[paid], claim[paid]
        self.spend(day, "abuse", float(claim.sum()), kind="abuse")
        self.claimed_[hunters] += claim
        pop.abandon_app(hunters)
