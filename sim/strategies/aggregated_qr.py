"""Aggregated QR (聚合码) in specialised wholesale markets.

From ``start_day`` the bank approaches ``rollout_per_day`` of the chain's
largest payees not on bank acquiring each day, until ``merchants`` have
signed. Each signs with probability ``p_accept`` (``signed``; the others
``declined``); the bank installs a code (``device_cost_yuan``) that accepts
the bank app, WeChat Pay, Alipay and UnionPay cards, moves the stall to the
bank at ``fee_rate`` and signs a lock-in of ``contract_days`` (a term of the
merchant book, sim/agents/terms.py). Every signed stall that still
settles with the bank costs ``running_cost_yuan_per_day`` (one that left no longer
uses the code). Receipts settle to the bank: fee income and
corporate deposits. A lock-in ends at its term (``ended``, detail
``lock-in``); when the budget cannot pay a day's running costs or another
device, rollout stops and every lock-in still running lapses (``ended``,
detail ``budget``), as they do when the window closes (``window``): the stalls
may then leave at their next review (``left``).
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, Interval
from sim.scenarios.catalog import ACQ_BANK, CHAINS
from sim.strategies.base import Strategy, register
from sim.strategies.params import CHAIN, PROB, REQUIRED, Param

__all__ = ["AggregatedQR"]


@register
class AggregatedQR(Strategy):
    kind = "aggregated_qr"
    payee_count_params = {"merchants": "chain"}
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
        self.owner_ = model.merchants.terms.register(self.event)
        self.signed_ = np.zeros(0, np.int64)
        self.approached_ = np.zeros(model.merchants.n, bool)
        self.stopped_ = False

    def before_payments(self, day: int) -> None:
        if day == self.end_day:
            self._stop(day, "window")
        if not self.active(day) or self.stopped_:
            return
        book = self.model_.merchants
        in_use = int((book.acquirer[self.signed_] == ACQ_BANK).sum())
        if in_use:
            running = in_use * self.running_cost_yuan_per_day
            if self.spend(day, "running", running) < running - 1e-9:
                self._stop(day, "budget")
                return
        if self.signed_.size >= self.merchants:
            return
        eligible = (book.acquirer != ACQ_BANK) & ~self.approached_
        visit = self.largest_payees(CHAINS.index(self.chain), self.rollout_per_day, eligible)
        self.approached_[visit] = True
        rng = self.stream(day)
        sign = visit[rng.random(visit.size) < self.p_accept]
        if visit.size > sign.size:
            self.event(day, "declined", visit.size - sign.size)
        sign = sign[: self.merchants - self.signed_.size]
        if self.remaining < self.device_cost_yuan:
            self.note_exhausted(day)
            self._stop(day, "budget")
            return
        sign = sign[: self.affordable(self.device_cost_yuan, sign.size)]
        self.spend(day, "devices", sign.size * self.device_cost_yuan)
        book.move_to_bank(sign, self.fee_rate)
        book.terms.sign(self.owner_, sign, day, day + self.contract_days)
        self.signed_ = np.concatenate([self.signed_, sign])

    def _stop(self, day: int, why: str) -> None:
        """Rollout stops; every lock-in still running lapses."""
        if not self.stopped_:
            self.stopped_ = True
            self.model_.merchants.terms.end(self.owner_, day, why)
