"""Billing calendars of institutions, as simpy processes.

- ``periodic`` (monthly utility and property bills, semester school fees): a
  bill is issued every ``period_days`` starting on ``first_day``. Each payer
  of the chain pays it exactly once, on a day drawn uniformly in the
  ``window_days`` after issue.
- ``random`` (fines, fees on demand): bills arrive at ``rate_per_day`` per
  payer, a Poisson process the daily payment draw realises.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from sim.scenarios.catalog import CHAINS
from sim.scenarios.schema import Scenario

__all__ = ["BillBook"]


class BillBook:
    """Open bills per chain and the random-bill rates, driven by simpy processes."""

    def __init__(self, scenario: Scenario, member_counts: list[int], clock, rng_for_day):
        self.rate = np.zeros(len(CHAINS))            # random bills per payer per day
        self._open: list[dict[int, np.ndarray]] = [{} for _ in CHAINS]  # issue day -> pay days
        self._counts = member_counts
        self._rng_for_day = rng_for_day
        for c, name in enumerate(CHAINS):
            bill = scenario.chains[name].bill
            if bill.kind == "periodic":
                clock.process(self._periodic(clock, c, bill.first_day, bill.period_days,
                                             bill.window_days))
            elif bill.kind == "random":
                self.rate[c] = bill.rate_per_day

    def _periodic(self, clock, c: int, first_day: int, period: int,
                  window: int) -> Generator:
        env = clock.env
        yield env.timeout(first_day)
        while True:
            rng = self._rng_for_day(f"billing.{CHAINS[c]}", clock.today)
            pay_day = clock.today + rng.integers(0, window, size=self._counts[c])
            issued = clock.today
            self._open[c][issued] = pay_day.astype(np.int32)
            yield env.timeout(window)
            del self._open[c][issued]
            yield env.timeout(period - window)

    def due(self, day: int) -> list[np.ndarray]:
        """Member positions, per chain, whose periodic bill is paid on ``day``."""
        out = []
        for bills in self._open:
            parts = [np.flatnonzero(pay_day == day) for pay_day in bills.values()]
            out.append(np.concatenate(parts) if parts else np.zeros(0, np.int64))
        return out
