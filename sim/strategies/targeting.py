"""Targeting (用户画像, persona-based offers): reach only high-value customers.

Wraps a promotion or referral (``of``: the wrapped lever's whole table, with
its own ``kind``, window and budget) so that only customers whose
predicted-value score is in the top ``top_share`` are eligible. The window
and the budget belong to the wrapped lever: ``start_day``, ``duration_days``
and ``budget`` on the wrapper itself are refused, since they would not act. The
score is the retail deposits the bank would hold if the customer made it
their everyday channel, times their digital affinity (propensity to respond):

    score_i = W_i * (wallet_share_base + wallet_share_gain) * g_i

W_i is the customer's deposit wallet and g_i the segment's digital affinity.
The hidden abuser trait is not in the score: the bank cannot see it.
"""

from __future__ import annotations

import numpy as np

from sim.strategies.base import Strategy, register
from sim.strategies.params import COMMON, PROB, REQUIRED, Param

__all__ = ["Targeting"]

WRAPPABLE = ("promotion", "referral")


@register
class Targeting(Strategy):
    kind = "targeting"
    parameters = {
        "of": Param(dict, None, REQUIRED, "the promotion or referral to target"),
        "top_share": Param(float, PROB, 0.3, "share of customers reached, by score"),
    }

    def validate(self) -> None:
        from sim.strategies.base import make_strategies

        if self.of.get("kind") not in WRAPPABLE:
            raise self.error("of.kind", self.of.get("kind"), "one of 'promotion', 'referral'")
        for key in ("start_day", "duration_days", "budget"):
            if self._params[key] != COMMON[key].default:
                raise self.error(key, self._params[key],
                                 f"not set on the wrapper: give {key} inside 'of' (the "
                                 "wrapped lever owns the window and the budget)")
        self.inner_ = make_strategies([self.of], path=f"{self._path}.of")[0]
        self._params["start_day"] = self.inner_.start_day
        self._params["duration_days"] = self.inner_.duration_days

    def check_world(self, scenario, days: int | None = None) -> None:
        self.inner_.check_world(scenario, days)

    def attach(self, model, label: str) -> None:
        self.model_ = model
        self.label_ = label
        self.inner_.stream_name_ = self.__dict__.get("stream_name_", f"strategy.{self.kind}")
        self.inner_.attach(model, label)
        pop = model.customers
        b = model.params.bank
        score = pop.wallet * (b.wallet_share_base + b.wallet_share_gain) * pop.digital_affinity
        cutoff = np.quantile(score, 1.0 - self.top_share) if self.top_share > 0 else np.inf
        self.reached_ = score >= cutoff
        self.inner_.eligible_ &= self.reached_

    @property
    def spent_(self) -> float:
        """The wrapped strategy holds the budget and the money."""
        return self.inner_.spent_

    def adoption_push(self, day):
        return self.inner_.adoption_push(day)

    def before_payments(self, day):
        self.inner_.before_payments(day)

    def saving(self, day, payments):
        return self.inner_.saving(day, payments)

    def after_payments(self, day, payments):
        self.inner_.after_payments(day, payments)

    def screen(self, day, abusive):
        return self.inner_.screen(day, abusive)
