"""Campaigns: levers that run from ``start_day`` until their window closes or
their budget runs out, whichever comes first (promotions, referral rewards).

The window's ``started`` and ``window_closed`` events are recorded for every
lever (:meth:`Strategy.mark_window <sim.strategies.base.Strategy.mark_window>`).
A campaign also records ``ended`` (detail ``"budget"``, count 1: the campaign
itself) on the day a payout finds its budget exhausted, besides the
``budget_exhausted`` the budget itself records. Once ended it does nothing
more: no pull on installs, no perceived saving, no payout, no invitation.
"""

from __future__ import annotations

import numpy as np

from sim.strategies.base import Strategy

__all__ = ["Campaign", "within_cap"]


def within_cap(payer: np.ndarray, amount: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Scale the day's payouts ``amount`` (yuan, one per event of ``payer``) so that
    each payer's total stays within their ``room`` (yuan, per event: the cap left
    this period); a payer within room keeps every payout whole."""
    room = np.maximum(room, 0.0)
    uniq, inv = np.unique(payer, return_inverse=True)
    total = np.bincount(inv, weights=amount, minlength=uniq.size)[inv]
    scale = np.divide(room, total, out=np.ones(payer.size), where=total > room)
    return amount * np.minimum(scale, 1.0)


class Campaign(Strategy):
    """Base of the levers whose whole effect stops when their budget is spent.
    Subclasses set ``eligible_`` (the customers addressed) at attach."""

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.ended_: int | None = None  # the day the budget ended it, if it did

    def eligible_events(self, payments) -> np.ndarray:
        """Mask of the day's events a payout could go to (:meth:`compute_eligible`),
        computed once per day's payments: ``saving`` and ``after_payments`` share it."""
        cache = self.__dict__.get("_eligible_cache")
        if cache is None or cache[0] is not payments:
            cache = self._eligible_cache = (payments, self.compute_eligible(payments))
        return cache[1]

    def forget_events(self) -> None:
        """Drop the day's cached mask (after the payouts, so as not to hold the payments)."""
        self._eligible_cache = None

    def compute_eligible(self, payments) -> np.ndarray:
        """Hook: mask of the events a payout could go to (levers with payouts define it)."""
        raise NotImplementedError

    def running(self, day: int) -> bool:
        """Inside its window and not ended by its budget."""
        return self.active(day) and self.ended_ is None

    def end_if_spent(self, day: int) -> None:
        """End the campaign (event ``ended``, detail ``"budget"``) once its budget
        has run out."""
        if self.exhausted_ and self.ended_ is None:
            self.ended_ = day
            self.event(day, "ended", 1, "budget")
