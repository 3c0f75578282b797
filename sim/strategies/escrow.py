"""Presale escrow (商品房预售资金监管): the bank supervises developers' presale funds.

On ``start_day`` the housing bureau designates the bank as supervising bank
of the ``developers`` largest payees of ``chain`` (real_estate: developers'
sales offices; another chain for other supervised prepaid funds, e.g. a
training school's fees), as many as the budget pays a special POS for
(``pos_cost_yuan`` each): they are moved to the bank and locked in (a term of
the merchant book, sim/agents/terms.py) until the window closes (``signed``).
Every yuan their buyers pay, on any channel (the special POS, a transfer, a
wallet), is collected into a supervised escrow account at the bank, and is
released to the developer as construction reaches its milestones, modelled
as a release rate of ``1 / escrow_days`` of the balance per day (the mean
yuan stays ``escrow_days``). For a supervised developer j with sales
collected ``r_j(t)`` (yuan, city scale) the escrow balance is

    E_j(t) = E_j(t - 1) - E_j(t - 1) / D + r_j(t),    D = ``escrow_days``,

the balance rule every bank payee follows (:meth:`MerchantBook.settle`) with
``float_days`` set to D; so, summed over the supervised developers,
E(t) = E(start) + collected - released, to the yuan (``collected_``,
``released_``). Escrow balances are corporate deposits. The daily report to
the housing bureau costs ``reporting_cost_yuan_per_day``, an obligation of
the designation booked with :meth:`Strategy.commit` (paid even beyond the
budget). When the window closes supervision ends (``ended``, detail
``window``): the developers' balances drain at their chain's usual
``float_days`` and the developers may leave at their next review.
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, Interval
from sim.scenarios.catalog import CHAINS
from sim.strategies.base import Strategy, register
from sim.strategies.params import CHAIN, REQUIRED, Param

__all__ = ["PresaleEscrow"]


@register
class PresaleEscrow(Strategy):
    kind = "presale_escrow"
    payee_count_params = {"developers": "chain"}
    parameters = {
        "chain": Param(str, CHAIN, "real_estate", "chain of the supervised payees"),
        "developers": Param(int, Interval(1, None), REQUIRED,
                            "developers whose presale funds the bank supervises"),
        "pos_cost_yuan": Param(float, NON_NEGATIVE, 5_000.0,
                               "one-off special POS at a developer's sales office"),
        "reporting_cost_yuan_per_day": Param(float, NON_NEGATIVE, 100.0,
                                             "data link reporting to the housing bureau"),
        "escrow_days": Param(float, Interval(1, None), 365.0,
                             "mean days a yuan stays in escrow before its milestone release"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.owner_ = model.merchants.terms.register(self.event)
        self.supervised_ = np.zeros(0, np.int64)
        self.usual_float_days_ = np.zeros(0)
        self.opening_ = 0.0    # escrow balance of the supervised developers at signing, yuan
        self.collected_ = 0.0  # presale funds collected into escrow since, yuan
        self.released_ = 0.0   # released on milestones since, yuan
        self.live_ = False

    def before_payments(self, day: int) -> None:
        if day == self.start_day:
            self._designate(day)
        elif day == self.end_day and self.live_:
            self._end(day)
        if self.live_:
            self.commit(day, "reporting", self.reporting_cost_yuan_per_day)

    def _designate(self, day: int) -> None:
        """Take on the largest developers the budget pays a POS for."""
        book = self.model_.merchants
        wanted = self.affordable(self.pos_cost_yuan, self.developers)
        if wanted < self.developers:
            self.note_exhausted(day)
        ids = self.largest_payees(CHAINS.index(self.chain), wanted, np.ones(book.n, bool))
        if ids.size == 0:
            return
        self.spend(day, "pos", ids.size * self.pos_cost_yuan)
        book.move_to_bank(ids)
        book.terms.sign(self.owner_, ids, day, self.end_day)
        self.supervised_ = ids
        self.usual_float_days_ = book.float_days[ids].copy()
        book.float_days[ids] = self.escrow_days
        self.opening_ = float(book.balance[ids].sum())
        self.live_ = True

    def _end(self, day: int) -> None:
        """Supervision ends: balances drain at the usual pace; the lock-ins end."""
        book = self.model_.merchants
        book.float_days[self.supervised_] = self.usual_float_days_
        book.terms.end(self.owner_, day, "window")
        self.live_ = False

    def after_payments(self, day: int, payments) -> None:
        """Count today's collections and releases (settlement, later today, moves them:
        b <- b (1 - 1/D) + r)."""
        if not self.live_:
            return
        book = self.model_.merchants
        ids = self.supervised_
        self.released_ += float((book.balance[ids] / book.float_days[ids]).sum())
        self.collected_ += float(payments.receipts[ids].sum())

    @property
    def escrow_balance(self) -> float:
        """What the supervised developers hold at the bank now (yuan), = opening
        + collected - released while supervision runs."""
        return float(self.model_.merchants.balance[self.supervised_].sum())
