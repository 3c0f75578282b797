"""Exclusive channel (smart campus, 排他性): institutions make the bank app the
only way to pay them.

On ``start_day`` the bank approaches the chain's largest institutions not yet
on such a contract, largest first. Each accepts with probability
``1 - exp(-development_cost_yuan / acceptance_scale_yuan)`` (the software the
bank pays for is the offer); the bank stops approaching once ``institutions``
have accepted or once the budget cannot pay another development fee (to the
technology partner), so it signs only contracts it can pay for (``signed``;
approached institutions that refused are ``declined``). A signed institution
is moved to the bank and holds two terms of the merchant book
(sim/agents/terms.py) until ``start_day + lock_in_days``: exclusivity (it
accepts only the bank app) and a lock-in (it cannot leave).

A signed contract is honoured. Its payers who lack the app either install it
(``adoption.need_rate``) or pay at a branch counter; each counter payment
costs ``counter_cost_yuan``, an obligation booked with
:meth:`Strategy.commit`: paid even beyond the budget (``over_budget``), never
a reason to end the contract. A payer who had to pay at the counter
complains once, however often it pays there: when an institution's distinct
complainers exceed ``backlash_tolerance`` of its payers, it cancels
exclusivity (``cancelled_backlash``) and stays with the bank under its
lock-in. At the lock-in's end the terms end (``ended``, detail ``lock-in``);
if the strategy's window closes first, they end then (``window``).
"""

from __future__ import annotations

import numpy as np

from sim.agents.terms import EXCLUSIVE
from sim.config import NON_NEGATIVE, POSITIVE, Interval
from sim.scenarios.catalog import CHAINS
from sim.strategies.base import Strategy, register
from sim.strategies.params import CHAIN, PROB, REQUIRED, Param

__all__ = ["ExclusiveChannel"]


@register
class ExclusiveChannel(Strategy):
    kind = "exclusive_channel"
    chain_kind = "institutional"
    payee_count_params = {"institutions": "chain"}
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
                                    "share of its payers complaining at which an "
                                    "institution cancels"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        c = CHAINS.index(self.chain)
        self.chain_index_ = c
        self.owner_ = model.merchants.terms.register(self.event)
        self.signed_ = np.zeros(0, np.int64)
        members = model.customers.members[c]
        self.payers_ = np.bincount(members.home, minlength=model.merchants.n)
        self.complainers_ = np.zeros(model.merchants.n, np.int64)
        self.complained_ = np.zeros(model.customers.n, bool)  # paid at one of our counters
        self.rng_ = self.stream()

    def before_payments(self, day: int) -> None:
        if day == self.start_day:
            self._sign(day)
        elif day == self.end_day:
            self.model_.merchants.terms.end(self.owner_, day, "window")

    def _sign(self, day: int) -> None:
        """Approach the largest free institutions until enough have signed."""
        book = self.model_.merchants
        free = ~book.terms.held(EXCLUSIVE, day)
        candidates = self.largest_payees(self.chain_index_, book.n, free)
        p = 1.0 - np.exp(-self.development_cost_yuan / self.acceptance_scale_yuan)
        accepts = self.rng_.random(candidates.size) < p
        wanted = self.affordable(self.development_cost_yuan, self.institutions)
        accepted = np.flatnonzero(accepts)[:wanted]
        if wanted == 0:
            approached = 0
        elif accepted.size == wanted:
            approached = int(accepted[-1]) + 1  # stop at the last one needed
        else:
            approached = candidates.size
        signed = candidates[accepted]
        if approached > signed.size:
            self.event(day, "declined", approached - signed.size)
        cost = self.spend(day, "development", signed.size * self.development_cost_yuan)
        self.model_.partner.revenue += cost
        book.move_to_bank(signed)
        book.terms.sign(self.owner_, signed, day, day + self.lock_in_days, exclusive=True)
        self.signed_ = signed

    def after_payments(self, day: int, payments) -> None:
        if self.signed_.size == 0:
            return
        book = self.model_.merchants
        counter = np.flatnonzero(payments.fallback)
        counter = counter[np.isin(payments.payee[counter], self.signed_)]
        if counter.size == 0:
            return
        self.commit(day, "counter_service", counter.size * self.counter_cost_yuan * self.scale)
        payer = payments.payer[counter]
        payer, first = np.unique(payer, return_index=True)
        new = ~self.complained_[payer]
        self.complained_[payer[new]] = True
        self.complainers_ += np.bincount(payments.payee[counter[first[new]]], minlength=book.n)
        live = self.signed_[book.terms.held(EXCLUSIVE, day + 1, self.owner_)[self.signed_]]
        angry = live[self.complainers_[live] > self.backlash_tolerance * self.payers_[live]]
        if angry.size:
            book.terms.end(self.owner_, day, "backlash", kinds=(EXCLUSIVE,), ids=angry,
                           event="cancelled_backlash")
