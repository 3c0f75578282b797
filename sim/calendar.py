"""One clock: a simpy Environment owns time, one unit = one day.

A tick process calls the model's day function once a day. The tick is
scheduled with a priority *after* every ordinary simpy event of the same day,
so whatever a process does "on day t" (a bill window opens, a campaign starts,
a platform reacts) is in place before day t is simulated. ``env.now`` is the
day being simulated (``model.day``); Mesa's ``model.steps`` counts calls of
``model.step()`` and is incremented by Mesa before each day runs.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import simpy
from simpy.events import NORMAL, Event

__all__ = ["Clock", "LATE"]

LATE = NORMAL + 1  # processed after URGENT (0) and NORMAL (1) events of the same time


class _LateTimeout(Event):
    """A timeout processed after all ordinary events scheduled for the same time."""

    def __init__(self, env: simpy.Environment, delay: float):
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, LATE, delay)


class Clock:
    """The simulation calendar.

    Parameters
    ----------
    step : callable
        Called once per day, after all other events of that day.
    """

    def __init__(self, step: Callable[[], None]):
        self.env = simpy.Environment()
        self._step = step
        self.env.process(self._tick())

    @property
    def today(self) -> int:
        return int(self.env.now)

    def _tick(self) -> Generator:
        yield _LateTimeout(self.env, 0)
        while True:
            self._step()
            yield _LateTimeout(self.env, 1)

    def process(self, generator: Generator) -> simpy.Process:
        """Start a simpy process (billing cycle, campaign window, counter-move)."""
        return self.env.process(generator)

    def run(self, days: int) -> None:
        """Advance ``days`` days from now (each day's step included; none for 0)."""
        if days > 0:
            self.env.run(until=self.env.now + days)
