"""The bank's money: every yuan of income and cost booked once, by cause.

Amounts are yuan, income positive and cost negative. Each cause has a kind:
``income`` (acquiring fees, net interest, card income), ``operating`` (the
costs of running the business: the wallet and card legs of acquired receipts,
servicing accounts), ``strategy`` (what strategies spend: payouts, waived
fees, development, devices) or ``abuse`` (strategy money that went to bonus
hunters). A day's net contribution is the sum of that day's entries, so the
KPI table and the ledger reconcile exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import ConfigError, Options

__all__ = ["Ledger", "KINDS"]

KINDS = ("income", "operating", "strategy", "abuse")


class Ledger:
    """Day x cause table of amounts, grown as days pass."""

    def __init__(self, capacity_days: int = 366):
        self.causes: list[str] = []
        self.kinds: list[str] = []
        self._index: dict[str, int] = {}
        self._amounts = np.zeros((capacity_days, 0))

    def register(self, cause: str, kind: str) -> int:
        """Declare a cause (idempotent); returns its column."""
        if kind not in KINDS:
            raise ConfigError("ledger.kind", kind, Options(KINDS).describe())
        if cause in self._index:
            return self._index[cause]
        self._index[cause] = len(self.causes)
        self.causes.append(cause)
        self.kinds.append(kind)
        self._amounts = np.hstack([self._amounts, np.zeros((self._amounts.shape[0], 1))])
        return self._index[cause]

    def book(self, day: int, cause: str, amount: float) -> None:
        """Add ``amount`` yuan to ``cause`` on ``day`` (cause must be registered)."""
        if day >= self._amounts.shape[0]:
            grow = max(day + 1, 2 * self._amounts.shape[0]) - self._amounts.shape[0]
            self._amounts = np.vstack([self._amounts, np.zeros((grow, len(self.causes)))])
        self._amounts[day, self._index[cause]] += amount

    def day_total(self, day: int, kind: str | None = None) -> float:
        """Sum of the day's entries, optionally of one kind only."""
        if day >= self._amounts.shape[0]:
            return 0.0
        row = self._amounts[day]
        if kind is None:
            return float(row.sum())
        cols = [i for i, k in enumerate(self.kinds) if k == kind]
        return float(row[cols].sum())

    def cause_total(self, cause: str) -> float:
        return float(self._amounts[:, self._index[cause]].sum()) if cause in self._index else 0.0

    def frame(self, days: int) -> pd.DataFrame:
        """Tidy table: one row per (day, cause) with a non-zero amount.

        Columns ``day`` (int), ``cause`` (str), ``kind`` (str), ``amount`` (yuan).
        """
        amounts = self._amounts[:days]
        day, col = np.nonzero(amounts)
        return pd.DataFrame({
            "day": day.astype(np.int64),
            "cause": pd.Series(np.array(self.causes, dtype=object)[col], dtype=object),
            "kind": pd.Series(np.array(self.kinds, dtype=object)[col], dtype=object),
            "amount": amounts[day, col],
        })
