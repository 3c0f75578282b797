"""Risk control against promotion abuse (data-driven screening of claims).

While active, every promotion or referral claim is screened at
``cost_per_claim_yuan``. A bonus hunter's claim is stopped with probability
``strength``; a genuine customer's claim is wrongly refused with probability
``strength * false_positive_rate``. A refused promotion claimant is blocked
for the rest of the promotion; a refused referee (screened before the
install) does not install the app nor open an account, and neither party is
rewarded. Stronger screening saves abuse losses and loses genuine customers:
the trade-off the article asks banks to manage. When the budget cannot pay
for screening, claims pass unscreened.
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE
from sim.strategies.base import Strategy, register
from sim.strategies.params import PROB, REQUIRED, Param

__all__ = ["RiskControl"]


@register
class RiskControl(Strategy):
    kind = "risk_control"
    parameters = {
        "strength": Param(float, PROB, REQUIRED, "share of abusive claims stopped"),
        "false_positive_rate": Param(float, PROB, 0.05,
                                     "genuine claims refused at full strength"),
        "cost_per_claim_yuan": Param(float, NON_NEGATIVE, 0.05, "screening cost"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.rng_ = self.stream()
        self.stopped_ = 0
        self.refused_genuine_ = 0

    def screen(self, day: int, abusive: np.ndarray) -> np.ndarray:
        """Approved mask for claims; ``abusive`` is the truth the screen tries to see."""
        cost = abusive.size * self.cost_per_claim_yuan * self.scale
        if self.spend(day, "screening", cost) < cost - 1e-9:
            return np.ones(abusive.size, bool)
        u = self.rng_.random(abusive.size)
        refuse = np.where(abusive, u < self.strength,
                          u < self.strength * self.false_positive_rate)
        self.stopped_ += int((refuse & abusive).sum())
        self.refused_genuine_ += int((refuse & ~abusive).sum())
        return ~refuse
