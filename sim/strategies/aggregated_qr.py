"""Aggregated QR (聚合码) in specialised wholesale markets.

From ``start_day`` the bank approaches ``rollout_per_day`` of the chain's
largest payees not on bank acquiring each day, until ``merchants`` have
signed. Each signs with probability ``p_accept``; the bank installs a code
(``device_cost_yuan``) that accepts the bank app, WeChat Pay, Alipay and
UnionPay cards and settles to the bank at ``fee_rate``, under a contract of
``contract_days``. Every signed stall costs ``running_cost_yuan_per_day``.
Receipts settle to the bank: fee income and corporate deposits. When the
budget runs out, rollout stops and the contracts lapse (the stalls may leave
at their next review).
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, Interval
from sim.scenarios.catalog import ACQ_BANK, CHAINS
from sim.strategies.base import CHAIN, PROB, REQUIRED, Param, Strategy, register

__all__ = ["AggregatedQR"]


@register
class AggregatedQR(Strategy):
    kind = "aggregated_qr"
    parameters = {
        "chain": Param(str, CHAIN, "wholesale_market", "chain of the stalls"),
        "merchants": Param(int, Interval(1, None), REQUIRED, "stalls to sign"),
        "rollout_per_day": Param(int, Interval(1, None), 5, "stalls approached per day"),
        "p_accept": Param(float, PROB, 0.6, "P(an approached stall signs)"),
        "device_cost_yuan": Param(float, NON_NEGATIVE, 300.0, "one-off cost per stall"),
        "running_cost_yuan_per_day": Param(float, NON_NEGATIVE, 0.5, "per signed stall"),
        "fee_rate": Param(float, Interval(0.0, 0.05), 0.0025, "the bank's fee on these stalls"),
        "contract_days": Param(int, Interval(1, None), 365, "stalls stay at least this long"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.signed_ = np.zeros(0, np.int64)
        self.approached_ = np.zeros(model.merchants.n, bool)
        self.stopped_ = False

    def before_payments(self, day: int) -> None:
        if not self.active(day) or self.stopped_:
            return
        book = self.model_.merchants
        if self.signed_.size:
            running = self.signed_.size * self.running_cost_yuan_per_day
            if self.spend(day, "running", running) < running - 1e-9:
                self._stop(day)
                return
        if self.signed_.size >= self.merchants:
            return
        eligible = (book.acquirer != ACQ_BANK) & ~self.approached_
        visit = self.largest_payees(CHAINS.index(self.chain), self.rollout_per_day, eligible)
        self.approached_[visit] = True
        rng = self.stream(day)
        sign = visit[rng.random(visit.size) < self.p_accept]
        sign = sign[: self.merchants - self.signed_.size]
        if self.remaining < self.device_cost_yuan:
            self._stop(day)
            return
        sign = sign[: self.affordable(self.device_cost_yuan, sign.size)]
        self.spend(day, "devices", sign.size * self.device_cost_yuan)
        book.previous_acquirer[sign] = book.acquirer[sign]
        book.acquirer[sign] = ACQ_BANK
        book.bank_fee_rate[sign] = self.fee_rate
        book.locked_until[sign] = day + self.contract_days
        self.signed_ = np.concatenate([self.signed_, sign])

    def _stop(self, day: int) -> None:
        self.stopped_ = True
        book = self.model_.merchants
        book.locked_until[self.signed_] = np.minimum(book.locked_until[self.signed_], day)
