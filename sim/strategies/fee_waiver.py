"""Fee waiver (traffic first, 流量优先): waive acquiring fees for merchants that
switch their payment entry (e.g. a WeChat official account's) to the bank.

On ``start_day`` the chain's ``merchants`` largest payees not acquired by the
bank get an offer: ``waiver_rate`` of the bank's fee waived until the
strategy's window ends, plus a one-off ``switching_subsidy_yuan``. They weigh
it at their next acquirer review (merchants.py: the first month's saving and
the subsidy enter the switching utility). A merchant that switches is locked
in until the waiver ends; when it ends it feels the reinstated fee at its next
review and some switch back. Waived fees are booked daily as this strategy's
cost (the model books the gross fee as income), subsidies when paid. When the
budget runs out, the waivers end that day.
"""

from __future__ import annotations

import numpy as np

from sim.agents.customers import NEVER
from sim.config import NON_NEGATIVE, Interval
from sim.scenarios.catalog import ACQ_BANK, CHAINS
from sim.strategies.base import CHAIN, PROB, REQUIRED, Param, Strategy, register

__all__ = ["FeeWaiver"]


@register
class FeeWaiver(Strategy):
    kind = "fee_waiver"
    parameters = {
        "chain": Param(str, CHAIN, "business_district", "chain of the merchants"),
        "merchants": Param(int, Interval(1, None), REQUIRED, "merchants offered the waiver"),
        "waiver_rate": Param(float, PROB, 1.0, "share of the bank's fee waived"),
        "switching_subsidy_yuan": Param(float, NON_NEGATIVE, 300.0,
                                        "one-off payment to a merchant that switches"),
    }

    def validate(self) -> None:
        if self.duration_days >= 10**8:
            raise self.error("duration_days", None, "given (how long fees are waived)")

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.targets_ = np.zeros(0, np.int64)
        self.subsidised_ = np.zeros(model.merchants.n, bool)
        self.owner_id_ = model.strategies.index(self) if self in model.strategies else 0

    def before_payments(self, day: int) -> None:
        book = self.model_.merchants
        if day == self.start_day:
            targets = self.largest_payees(CHAINS.index(self.chain), self.merchants,
                                          book.acquirer != ACQ_BANK)
            book.offer_waiver_rate[targets] = self.waiver_rate
            book.offer_waiver_until[targets] = self.end_day
            book.offer_subsidy[targets] = self.switching_subsidy_yuan
            book.waiver_owner[targets] = self.owner_id_
            self.targets_ = targets
        if day == self.end_day:
            self._withdraw_offers()
        joined = self.targets_[(book.acquirer[self.targets_] == ACQ_BANK)
                               & ~self.subsidised_[self.targets_]]
        if joined.size and self.switching_subsidy_yuan > 0:
            paid = self.spend(day, "switching_subsidy", joined.size * self.switching_subsidy_yuan)
            joined = joined[: int(round(paid / self.switching_subsidy_yuan))]
        self.subsidised_[joined] = True

    def after_payments(self, day: int, payments) -> None:
        book = self.model_.merchants
        if self.targets_.size == 0:
            return
        waived = book.waived_share(day) * (book.waiver_owner == self.owner_id_)
        cost = float((payments.receipts * book.bank_fee_rate * waived)[book.on_bank()].sum())
        if cost > 0 and self.spend(day, "fee_waived", cost) < cost - 1e-9:
            active = self.targets_[book.waiver_until[self.targets_] > day + 1]
            book.waiver_until[active] = day + 1
            self._withdraw_offers()

    def _withdraw_offers(self) -> None:
        book = self.model_.merchants
        open_ = self.targets_[book.acquirer[self.targets_] != ACQ_BANK]
        book.offer_waiver_rate[open_] = 0.0
        book.offer_subsidy[open_] = 0.0
        book.offer_waiver_until[open_] = NEVER
