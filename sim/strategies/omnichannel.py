"""Omni-channel payment: the bank's payment in its app, mini-program, official
account, POS and kiosks.

On ``start_day`` (if the budget covers ``setup_cost_yuan``) the payees of the
chosen chains that did not accept the bank's payment start to, with
probability ``coverage``, and paying the bank's way gets easier everywhere in
those chains: the bank app's utility rises by ``friction_reduction``. While it
runs it costs ``running_cost_yuan_per_day``; when the window ends or the
budget runs out, the friction reduction stops (the deployed acceptance stays).
"""

from __future__ import annotations

from sim.config import NON_NEGATIVE
from sim.scenarios.catalog import BANK_APP
from sim.strategies.base import Strategy, register
from sim.strategies.params import CHAIN_LIST, PROB, Param

__all__ = ["Omnichannel"]


@register
class Omnichannel(Strategy):
    kind = "omnichannel"
    parameters = {
        "chains": Param(list, CHAIN_LIST, None, "chains where it is deployed (default all)"),
        "setup_cost_yuan": Param(float, NON_NEGATIVE, 500_000.0, "one-off build cost"),
        "running_cost_yuan_per_day": Param(float, NON_NEGATIVE, 1_000.0, "operating cost"),
        "friction_reduction": Param(float, NON_NEGATIVE, 0.5, "utility added to the bank app"),
        "coverage": Param(float, PROB, 0.8, "share of non-accepting payees that start to"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.chains_ = self.chain_mask()
        self.live_ = False

    def before_payments(self, day: int) -> None:
        if day == self.start_day and self.remaining >= self.setup_cost_yuan:
            self.spend(day, "setup", self.setup_cost_yuan)
            book = self.model_.merchants
            rng = self.stream()
            new = self.chains_[book.chain] & ~book.accepts_base[:, BANK_APP]
            new &= rng.random(book.n) < self.coverage
            book.accepts_base[new, BANK_APP] = True
            self._set_live(True)
        if self.live_ and (day >= self.end_day or self.spend(
                day, "running", self.running_cost_yuan_per_day)
                < self.running_cost_yuan_per_day - 1e-9):
            self._set_live(False)

    def _set_live(self, live: bool) -> None:
        if live != self.live_:
            sign = 1.0 if live else -1.0
            self.model_.utility_shift[self.chains_, BANK_APP] += sign * self.friction_reduction
            self.live_ = live
