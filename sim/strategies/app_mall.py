"""A mall inside the bank app (the "Life" channel's cross-border e-commerce mall).

On ``start_day`` the bank opens the mall (``setup_cost_yuan``; then
``running_cost_yuan_per_day`` while it is open). It is reachable only
through the bank app: each day every customer of the targeted ``segments``
with the app in use places N_i ~ Poisson(lambda_i) orders,

    lambda_i = orders_per_month / 30 * exp(beta_price * s_i * d),

with basket amounts lognormal (mean ``basket_mean_yuan``, log-sd
``basket_sigma``), s_i the customer's price sensitivity, beta_price the
channel choice's price coefficient (``channels.beta_price``) and d the mall's
discount ``discount_rate`` during its first ``discount_days`` (else 0): a
judgement that shoppers weigh a mall discount as payers weigh a channel
saving. The bank keeps ``goods_margin`` of the sales (income, cause
``<label>:goods_margin``) and pays the discount d * basket from the budget
(``<label>:discount``). An order is a use of the bank app: it updates habit
and last use (:meth:`CustomerPopulation.record_payments`), so buyers count as
monthly-active. Orders are not payments of a chain: they are not in the
volume KPIs, settle nowhere and hold no deposits. When the budget cannot pay
a day's running cost the mall closes (``ended``, detail ``budget``). Discount
and running costs share the budget: on the first day the discount would cost
more than the budget left, it stops (``budget_exhausted``) and that day's
orders are drawn at list prices, so every discount given is paid in full; the
mall then sells at list prices until the budget can no longer pay a day's
running cost. Size the budget for both.
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, POSITIVE, Interval
from sim.scenarios.catalog import BANK_APP
from sim.strategies.base import Strategy, register
from sim.strategies.params import PROB, Param

__all__ = ["AppMall"]

DAYS_PER_MONTH = 30.0


@register
class AppMall(Strategy):
    kind = "app_mall"
    parameters = {
        "segments": Param(list, None, None, "segments who shop there (default all)"),
        "setup_cost_yuan": Param(float, NON_NEGATIVE, 1_000_000.0, "one-off build cost"),
        "running_cost_yuan_per_day": Param(float, NON_NEGATIVE, 1_000.0,
                                           "operation, partner and logistics fees"),
        "orders_per_month": Param(float, NON_NEGATIVE, 0.05,
                                  "orders per app user a month at list prices"),
        "basket_mean_yuan": Param(float, POSITIVE, 300.0, "mean order amount"),
        "basket_sigma": Param(float, Interval(0.0, 3.0), 0.8, "log-sd of order amounts"),
        "goods_margin": Param(float, PROB, 0.10, "share of sales the bank keeps"),
        "discount_rate": Param(float, PROB, 0.0, "share of each basket given as a discount"),
        "discount_days": Param(int, Interval(0, None), 0, "days of discount from start_day"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.shoppers_ = self.segment_mask()
        self.open_ = False
        self.discounting_ = False
        self.sales_ = 0.0   # yuan, city scale
        self.orders_ = 0    # simulated orders

    def before_payments(self, day: int) -> None:
        if day == self.start_day:
            if self.remaining < self.setup_cost_yuan:
                self.note_exhausted(day)
                return
            self.spend(day, "setup", self.setup_cost_yuan)
            self.open_ = True
            self.discounting_ = self.discount_rate > 0 and self.discount_days > 0
        if not self.open_:
            return
        if day >= self.end_day:
            self._close(day, "window")
        elif self.spend(day, "running", self.running_cost_yuan_per_day) < (
                self.running_cost_yuan_per_day - 1e-9):
            self._close(day, "budget")

    def _close(self, day: int, why: str) -> None:
        self.open_ = self.discounting_ = False
        self.event(day, "ended", 1, why)

    def _orders(self, rng: np.random.Generator, d: float) -> tuple[np.ndarray, float]:
        """Today's orders at discount ``d``: the buyer of each (int ids; one per order)
        and the sales in city yuan."""
        pop = self.model_.customers
        shoppers = np.flatnonzero(self.shoppers_ & pop.has_app & ~pop.abandoned)
        lam = self.orders_per_month / DAYS_PER_MONTH * np.exp(
            self.model_.params.channels.beta_price * pop.price_sensitivity[shoppers] * d)
        buyers = np.repeat(shoppers, rng.poisson(lam))
        mu = np.log(self.basket_mean_yuan) - self.basket_sigma ** 2 / 2
        baskets = np.exp(mu + self.basket_sigma * rng.standard_normal(buyers.size))
        return buyers, float(baskets.sum()) * self.scale

    def after_payments(self, day: int, payments) -> None:
        """Today's orders: margin booked, discount paid, app use recorded."""
        if not self.open_:
            return
        if self.discounting_ and day >= self.start_day + self.discount_days:
            self.discounting_ = False
        pop, model = self.model_.customers, self.model_
        rng = self.stream(day)
        buyers, sales = self._orders(rng, self.discount_rate if self.discounting_ else 0.0)
        if self.discounting_:
            discount = self.discount_rate * sales
            if discount > self.remaining + 1e-9:
                self.discounting_ = False          # unaffordable: today at list prices
                self.note_exhausted(day)
                buyers, sales = self._orders(rng, 0.0)
            else:
                self.spend(day, "discount", discount)
        if buyers.size == 0:
            return
        model.ledger_book.book(day, self.cause("goods_margin", "income"),
                               self.goods_margin * sales)
        pop.record_payments(day, buyers, np.full(buyers.size, BANK_APP, np.int8),
                            model.params.channels.habit_learning_rate)
        self.sales_ += sales
        self.orders_ += int(buyers.size)
