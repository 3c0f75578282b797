"""Fee waiver (traffic first, 流量优先): waive acquiring fees for merchants that
switch their payment entry (e.g. a WeChat official account's) to the bank.

On ``start_day`` the chain's ``merchants`` largest payees not acquired by the
bank are offered (a term of the merchant book, sim/agents/terms.py):
``waiver_rate`` of the bank's fee waived until the strategy's window ends,
plus a one-off ``switching_subsidy_yuan``. Each weighs the offer at its next
acquirer review by what it is worth over the months of waiver left,
discounted (merchants.py), so a longer waiver recruits more. A merchant that
joins consumes its offer: it becomes a waiver and a lock-in until the window
ends, and the subsidy is paid the next morning. When the waiver ends the
merchant feels the reinstated fee at its next review and some switch back
(``left``).

The waived fee is booked daily as this strategy's cost: the waived share of
the bank's own fee on the payee's receipts that day, its rate times the
non-cash receipts (:meth:`Bank.acquiring <sim.agents.bank.Bank.acquiring>`:
no fee on cash; card fees passed through are not the bank's to waive), the
same fee the merchant weighs when it reviews the offer; the wallet and card
legs stay the bank's cost.
When the window closes, or a day's waived fees or subsidies exceed what is
left of the budget, every term it owns ends that day: waivers and lock-ins
end (``ended``, detail ``window`` or ``budget``) and open offers are
withdrawn for everyone (``withdrawn``).
"""
from __future__ import annotations

import numpy as np

from sim.agents.terms import WAIVER
from sim.config import NON_NEGATIVE, Interval
from sim.scenarios.catalog import ACQ_BANK, CHAINS
from sim.strategies.base import Strategy, register
from sim.strategies.params import CHAIN, PROB, REQUIRED, Param

__all__ = ["FeeWaiver"]


@register
class FeeWaiver(Strategy):
    kind = "fee_waiver"
    payee_count_params = {"merchants": "chain"}
    parameters = {
        "chain": Param(str, CHAIN, "business_district", "chain of the merchants"),
        "merchants": Param(int, Interval(1, None), REQUIRED, "merchants offered the waiver"),
        "waiver_rate": Param(float, PROB, 1.0, "share of the bank's fee waived"),
        "switching_subsidy_yuan": Param(float, NON_NEGATIVE, 300.0,
                                        "one-off payment to a merchant that switches"),
        # required here (a waiver without an end has no value to a merchant's review)
        "duration_days": Param(int, Interval(1, None), REQUIRED, "days fees are waived"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.owner_ = model.merchants.terms.register(self.event)
        self.subsidised_ = np.zeros(model.merchants.n, bool)
        self.ended_ = False

    def before_payments(self, day: int) -> None:
        book = self.model_.merchants
        if day == self.start_day and not self.ended_:
            # offered to as many as the budget can pay a switching subsidy for; an
            # unfunded waiver (budget 0) is not offered at all
            count = self.affordable(self.switching_subsidy_yuan, self.merchants)
            if self.remaining <= 0:
                count = 0
                self.note_exhausted(day)
            targets = self.largest_payees(CHAINS.index(self.chain), count,
                                          book.acquirer != ACQ_BANK)
            book.terms.offer(self.owner_, targets, day, self.waiver_rate, self.end_day,
                             self.switching_subsidy_yuan)
        self._pay_subsidies(day)
        if day == self.end_day:
            self._end(day, "window")

    def _pay_subsidies(self, day: int) -> None:
        """Pay the merchants that joined since yesterday (their waiver started);
        a subsidy the budget cannot pay in full ends every term (``budget``)."""
        book = self.model_.merchants
        joined = np.flatnonzero(book.terms.owned(WAIVER, self.owner_) & ~self.subsidised_)
        self.subsidised_[joined] = True
        owed = joined.size * self.switching_subsidy_yuan
        if owed > 0 and self.spend(day, "switching_subsidy", owed) < owed - 1e-9:
            self._end(day, "budget")

    def after_payments(self, day: int, payments) -> None:
        book = self.model_.merchants
        waived = book.terms.waived_share(day, self.owner_)
        if not waived.any():
            return
        cost = float((self.model_.bank.acquiring(payments).fee * waived).sum())
        if cost > 0 and self.spend(day, "fee_waived", cost) < cost - 1e-9:
            self._end(day, "budget")

    def _end(self, day: int, why: str) -> None:
        """Every term this strategy owns ends: waivers and lock-ins, open offers."""
        if not self.ended_:
            self.ended_ = True
            self.model_.merchants.terms.end(self.owner_, day, why)

