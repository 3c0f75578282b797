"""Strategy events: what each lever did and what happened to its terms, by day.

Every strategy records its milestones through :meth:`Strategy.event
<sim.strategies.base.Strategy.event>`; the model collects them in one
:class:`EventLog`, read as ``model.events``, a tidy table with columns
``day`` (int), ``strategy`` (its ledger label), ``event`` (one of
:data:`EVENTS`), ``count`` (how many payees, customers or terms it concerns)
and ``detail`` (free text, e.g. why a term ended). Experiments store it per
cell and verdicts quote the events that change how a result should be read
(:data:`NOTABLE`).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["EVENTS", "NOTABLE", "EventLog"]

# The vocabulary, one meaning each.
EVENTS: dict[str, str] = {
    "started": "the lever's window opened",
    "offered": "terms offered to payees (count: payees)",
    "signed": "contracts signed (count: payees)",
    "declined": "payees approached that did not sign",
    "joined": "payees that moved to the bank under an offer (count: payees)",
    "left": "payees that left the bank after their terms ended (count: payees)",
    "withdrawn": "open offers withdrawn, unaccepted (count: payees)",
    "issued": "credit cards an offer brought that day (count: customers)",
    "deployed": "app services started at payees (count: payees)",
    "unserved": "payees won that the budget could not serve (count: payees, once each)",
    "ended": "terms ended (count: payees or customers; detail: why)",
    "cancelled_backlash": "exclusivity cancelled by an institution after complaints",
    "budget_exhausted": "the budget ran out: the lever stops spending (detail: the budget)",
    "over_budget": "costs owed under signed contracts went past the budget (first day)",
    "counter_move": "a payment platform answered with a counter-subsidy (detail: chain)",
    "window_closed": "the lever's window closed (detail: budget used)",
}

# Events a verdict must mention: they change how the result should be read.
NOTABLE = ("budget_exhausted", "over_budget", "cancelled_backlash", "counter_move")

COLUMNS = ("day", "strategy", "event", "count", "detail")


class EventLog:
    """Append-only list of (day, strategy, event, count, detail) rows."""

    def __init__(self) -> None:
        self._rows: list[tuple[int, str, str, int, str]] = []

    def record(self, day: int, strategy: str, event: str, count: int = 1,
               detail: str = "") -> None:
        """Append one event; ``event`` must be in :data:`EVENTS` (KeyError otherwise)."""
        if event not in EVENTS:
            raise KeyError(f"unknown strategy event {event!r}; known: {sorted(EVENTS)}")
        self._rows.append((int(day), str(strategy), event, int(count), str(detail)))

    def frame(self) -> pd.DataFrame:
        """The events so far, in the order they happened."""
        df = pd.DataFrame(self._rows, columns=list(COLUMNS))
        return df.astype({"day": "int64", "count": "int64", "strategy": object,
                          "event": object, "detail": object})
