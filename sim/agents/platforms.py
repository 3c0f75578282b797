"""Third parties: payment platforms (WeChat Pay, Alipay) and technology partners.

A platform earns its merchant fee on the volume it acquires. When the focal
bank's share of a chain's payment volume (a 7-day moving average) passes the
platform's ``counter_threshold``, the platform answers after
``counter_delay_days`` with a counter-subsidy: for ``counter_duration_days``
its payers in that chain save ``counter_discount`` of each amount, which
enters their channel choice as a price term. The subsidy is the platform's
money, not the bank's. Each counter-move is a simpy process.
"""

from __future__ import annotations

from collections.abc import Generator

import mesa
import numpy as np

from sim.scenarios.catalog import CHAINS
from sim.scenarios.schema import Platform as PlatformParams

__all__ = ["PaymentPlatform", "TechPartner"]


class PaymentPlatform(mesa.Agent):
    """A third-party payment platform (a ``mesa.Agent``)."""

    def __init__(self, model: mesa.Model, name: str, channel: int, acquirer: int,
                 params: PlatformParams):
        super().__init__(model)
        self.name = name
        self.channel = channel
        self.acquirer = acquirer
        self.params = params
        self.fee_revenue = 0.0       # yuan earned from merchants it acquires
        self.subsidy_spent = 0.0     # yuan paid to payers in counter-moves
        self.counter_moves: list[tuple[str, int, int]] = []  # (chain, start day, end day)
        self._busy = np.zeros(len(CHAINS), bool)  # a counter-move pending or running

    def observe(self, day: int, bank_share: np.ndarray) -> None:
        """React to the bank's share of each chain's volume (called once a day)."""
        p = self.params
        if not p.counter_enabled:
            return
        for c in np.flatnonzero((bank_share > p.counter_threshold) & ~self._busy):
            self._busy[c] = True
            self.model.clock.process(self._counter_move(int(c)))

    def _counter_move(self, chain: int) -> Generator:
        p = self.params
        env = self.model.clock.env
        yield env.timeout(p.counter_delay_days)
        start = int(env.now)
        self.model.price_discount[chain, self.channel] += p.counter_discount
        yield env.timeout(p.counter_duration_days)
        self.model.price_discount[chain, self.channel] -= p.counter_discount
        self.counter_moves.append((CHAINS[chain], start, int(env.now)))
        self._busy[chain] = False


class TechPartner(mesa.Agent):
    """A technology partner that builds scenario software (smart campus, canteen)
    for the bank and is paid a development fee per institution."""

    def __init__(self, model: mesa.Model, name: str = "tech_partner"):
        super().__init__(model)
        self.name = name
        self.revenue = 0.0  # yuan received from the bank
