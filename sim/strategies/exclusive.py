"""Exclusive channel (smart campus, 排他性): institutions make the bank app the
only way to pay them.

On ``start_day`` the bank approaches the chain's largest institutions not yet
on such a contract. Each accepts with probability
``1 - exp(-development_cost_yuan / acceptance_scale_yuan)`` (the software the
bank pays for is the offer); the bank signs until ``institutions`` have
accepted or the budget cannot pay another development fee, which goes to the
technology partner. A signed institution is acquired by the bank, accepts only
the bank app for ``lock_in_days`` and cannot leave before then.

Its payers who lack the app either install it (``adoption.need_rate``) or pay
at a branch counter; each counter payment costs ``counter_cost_yuan`` and is a
complaint. When complaints exceed ``backlash_tolerance`` of an institution's
payers it cancels exclusivity (it stays with the bank). When the budget can no
longer pay the counters, the bank ends exclusivity everywhere.
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, POSITIVE, Interval
from sim.scenarios.catalog import ACQ_BANK, CHAINS
from sim.strategies.base import CHAIN, PROB, REQUIRED, Param, Strategy, register

__all__ = ["ExclusiveChannel"]


@register
class ExclusiveChannel(Strategy):
    kind = "exclusive_channel"
    parameters = {
        "chain": Param(str, CHAIN, "education", "chain of the institutions (institutional)"),
        "institutions": Param(int, Interval(1, None), REQUIRED, "contracts to sign"),
        "development_cost_yuan": Param(float, NON_NEGATIVE, 200_000.0,
                                       "software paid to the partner, per institution"),
        "acceptance_scale_yuan": Param(float, POSITIVE, 100_000.0,
                                       "offer at which 63 % of institutions accept"),
        "lock_in_days": Param(int, Interval(1, None), 1095, "length of the contract"),
        "counter_cost_yuan": Param(float, NON_NEGATIVE, 10.0, "cost of one counter payment"),
        "backlash_tolerance": Param(float, PROB, 0.25,
                                    "complaints per payer at which an institution cancels"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        c = CHAINS.index(self.chain)
        if not model.params.chains[self.chain].institutional:
            raise self.error("chain", self.chain, "an institutional chain (payers have one payee)")
        self.chain_index_ = c
        self.signed_ = np.zeros(0, np.int64)
        members = model.customers.members[c]
        self.payers_ = np.bincount(members.home, minlength=model.merchants.n)
        self.complaints_ = np.zeros(model.merchants.n, np.int64)
        self.cancelled_: list[tuple[int, int]] = []  # (payee, day)
        self.rng_ = self.stream()

    def before_payments(self, day: int) -> None:
        if day != self.start_day:
            return
        book = self.model_.merchants
        free = book.exclusive_until <= day
        candidates = self.largest_payees(self.chain_index_, book.n, free)
        p = 1.0 - np.exp(-self.development_cost_yuan / self.acceptance_scale_yuan)
        accepted = candidates[self.rng_.random(candidates.size) < p]
        signed = accepted[: self.affordable(self.development_cost_yuan,
                                            min(self.institutions, accepted.size))]
        cost = self.spend(day, "development", signed.size * self.development_cost_yuan)
        self.model_.partner.revenue += cost
        joining = signed[book.acquirer[signed] != ACQ_BANK]
        book.previous_acquirer[joining] = book.acquirer[joining]
        book.acquirer[signed] = ACQ_BANK
        book.exclusive_until[signed] = day + self.lock_in_days
        book.locked_until[signed] = day + self.lock_in_days
        self.signed_ = signed

    def after_payments(self, day: int, payments) -> None:
        if self.signed_.size == 0:
            return
        book = self.model_.merchants
        at_counter = payments.payee[payments.fallback]
        mine = np.isin(at_counter, self.signed_)
        n_counter = int(mine.sum())
        if n_counter:
            cost = n_counter * self.counter_cost_yuan
            if self.spend(day, "counter_service", cost) < cost - 1e-9:
                book.exclusive_until[self.signed_] = np.minimum(
                    book.exclusive_until[self.signed_], day + 1)
            self.complaints_ += np.bincount(at_counter[mine], minlength=book.n)
        live = self.signed_[book.exclusive_until[self.signed_] > day + 1]
        angry = live[self.complaints_[live] > self.backlash_tolerance * self.payers_[live]]
        for j in angry:
            self.cancelled_.append((int(j), day))
        book.exclusive_until[angry] = day + 1
