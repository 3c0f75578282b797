"""Signed auto-debit agreements (无感停车, 无感加油): pay without stopping.

On ``start_day`` the bank equips the ``sites`` largest payees of its chain
(car parks and fuel stations of ``transport``) with plate-recognition
auto-debit, as many as the budget pays ``site_cost_yuan`` for: each is moved
to the bank and locked in (a term of the merchant book, sim/agents/terms.py)
for the window (``signed``), and accepts the bank's payment. From then on,
each day, a payer of the chain who can sign (a bank account and the app in
use) and has not signed does so with probability ``p_sign_per_day``, as long
as the budget pays the sign-up gift ``gift_yuan`` (booked per real payer:
a simulated signer stands for ``scale`` of them).

The agreement is a contract with the payer: while it holds, every payment a
signed payer makes at an equipped site goes through the bank (channel
``bank_app``, the bank's own rail), whatever the payer would have chosen,
with or without the app at hand; it counts as a use of the bank's channel
(habit, last use). Routing happens after the day's channel choice, before any
lever reads the day's payments (``route_payments``: a promotion or a card
discount sees the routed channels, wherever it is listed). Agreements end when
the window closes (``ended``, count: real payers), as do the sites' lock-ins
(``ended``, detail ``window``); an agreement also ends when its payer closes the
bank account it debits (``ended``, detail ``account closed``).
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, Interval
from sim.scenarios.catalog import BANK_APP, CHAINS
from sim.strategies.base import Strategy, register
from sim.strategies.params import CHAIN, PROB, REQUIRED, Param

__all__ = ["AutoDebit"]


@register
class AutoDebit(Strategy):
    kind = "auto_debit"
    payee_count_params = {"sites": "chain"}
    parameters = {
        "chain": Param(str, CHAIN, "transport", "chain of the sites (car parks, fuel stations)"),
        "sites": Param(int, Interval(1, None), REQUIRED, "payees equipped with auto-debit"),
        "site_cost_yuan": Param(float, NON_NEGATIVE, 30_000.0,
                                "one-off equipment and integration per site"),
        "p_sign_per_day": Param(float, PROB, 0.005,
                                "P(an eligible payer of the chain signs today)"),
        "gift_yuan": Param(float, NON_NEGATIVE, 10.0, "sign-up gift per agreement"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        c = CHAINS.index(self.chain)
        self.chain_index_ = c
        self.owner_ = model.merchants.terms.register(self.event)
        self.is_site_ = np.zeros(model.merchants.n, bool)
        members = np.zeros(model.customers.n, bool)
        members[model.customers.members[c].customers] = True
        self.member_ = members
        self.signed_ = np.zeros(model.customers.n, bool)  # agreement holds
        self.routed_ = 0                                  # payments moved to the bank
        self.signing_ = False

    def before_payments(self, day: int) -> None:
        if day == self.start_day:
            self._equip(day)
        elif day == self.end_day:
            self._end(day)
        if self.signing_ and self.active(day):
            self._sign_payers(day)

    def _equip(self, day: int) -> None:
        """Equip the largest sites the budget pays for; they join the bank."""
        book = self.model_.merchants
        wanted = self.affordable(self.site_cost_yuan, self.sites)
        if wanted < self.sites:
            self.note_exhausted(day)
        ids = self.largest_payees(self.chain_index_, wanted, np.ones(book.n, bool))
        if ids.size == 0:
            return
        self.spend(day, "sites", ids.size * self.site_cost_yuan)
        book.accepts_base[ids, BANK_APP] = True
        book.move_to_bank(ids)
        book.terms.sign(self.owner_, ids, day, self.end_day)
        self.is_site_[ids] = True
        self.signing_ = True

    def _sign_payers(self, day: int) -> None:
        """Eligible payers sign with ``p_sign_per_day`` while the gifts are paid."""
        pop = self.model_.customers
        can = self.member_ & pop.has_account & pop.has_app & ~pop.abandoned & ~self.signed_
        rng = self.stream(day)
        new = np.flatnonzero(can & (rng.random(pop.n) < self.p_sign_per_day))
        gift = self.gift_yuan * self.scale
        paid = self.affordable(gift, new.size)
        if paid < new.size:
            self.note_exhausted(day)
            self.signing_ = False
        new = new[:paid]
        self.spend(day, "gifts", new.size * gift)
        self.signed_[new] = True

    def route_payments(self, day: int, payments) -> None:
        """Route signed payers' payments at the sites through the bank; an agreement
        whose payer has closed the bank account it debits has ended."""
        closed = self.signed_ & ~self.model_.customers.has_account
        if closed.any():
            self.signed_[closed] = False
            self.event(day, "ended", round(int(closed.sum()) * self.scale), "account closed")
        if not self.signed_.any():
            return
        bound = (self.is_site_[payments.payee] & self.signed_[payments.payer]
                 & (payments.channel != BANK_APP))
        if not bound.any():
            return
        payments.channel[bound] = BANK_APP
        payments.fallback[bound] = False
        payments.tally(self.model_.merchants.n, self.scale)
        self.routed_ += int(bound.sum())

    def _end(self, day: int) -> None:
        """The window closes: agreements and the sites' lock-ins end."""
        agreements = int(self.signed_.sum())
        if agreements:
            self.event(day, "ended", round(agreements * self.scale), "agreements")
        self.signed_[:] = False
        self.signing_ = False
        self.model_.merchants.terms.end(self.owner_, day, "window")

    @property
    def agreements(self) -> int:
        """Agreements holding now, at the city's scale (real payers)."""
        return round(int(self.signed_.sum()) * self.scale)
