"""The customer rules, vectorized: the default engine of EcosystemModel.

An engine carries out the customer-level verbs of a day (peer exposure,
adoption, payments and channel choice, habits, app ageing, deposits) on the
CustomerPopulation arrays. ``sim/agents/reference.py`` implements the same
verbs one ``mesa.Agent`` at a time; both read and write the same state, so
KPIs, strategies and the ledger are shared code.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.memory import keep_freed_memory
from sim.metrics import MAU_WINDOW_DAYS
from sim.payments import PaymentDraw, Payments, Saving, choose_channels
from sim.scenarios.catalog import BANK_APP, CASH

__all__ = ["VectorizedEngine"]


class VectorizedEngine:
    """Customer rules as masks and index arrays over the whole population."""

    name = "vectorized"

    def __init__(self, model):
        self.model = model
        self.pop = model.customers
        self.params = model.params
        self.payments = PaymentDraw(self.pop, model.merchants, model.world.chains)
        kernels.load()
        keep_freed_memory()  # each day's arrays reuse the last day's pages (sim/memory.py)

    def peer_share(self) -> np.ndarray:
        """Share of each customer's contacts who have the app."""
        return self.pop.peer_share()

    def adopt(self, day: int, peer_share: np.ndarray, push: np.ndarray | None,
              rng: np.random.Generator) -> np.ndarray:
        """Install with p_i = p * digital_i + q * x_i + push_i; returns the adopters."""
        a = self.params.adoption
        organic = a.external_rate * self.pop.digital_affinity + a.imitation_rate * peer_share
        return self.pop.adopt(day, organic, push, self.params.bank.p_debit_card, rng)

    def draw(self, day: int, rng: np.random.Generator) -> Payments:
        billing = self.model.billing
        return self.payments.draw(billing.rate, billing.due(day), rng)

    def choose(self, pay: Payments, accepts: np.ndarray, peer_share: np.ndarray,
               asc: np.ndarray, saving: Saving | None, rng: np.random.Generator
               ) -> np.ndarray:
        ch = self.params.channels
        return choose_channels(pay, self.pop, accepts, self.model.merchants.chain, peer_share,
                               asc, ch.beta_habit, ch.beta_peer, ch.beta_price, saving, rng)

    def record(self, day: int, pay: Payments) -> None:
        self.pop.record_payments(day, pay.payer, pay.channel,
                                 self.params.channels.habit_learning_rate, pay.in_order)

    def resolve_stuck(self, day: int, pay: Payments, rng: np.random.Generator) -> None:
        """Payers facing a payee that accepts only the bank app, without the app (or
        having abandoned it), install it with probability ``adoption.need_rate``
        (opening an account if needed) and pay with it; the others pay in cash at a
        branch counter (``pay.fallback``)."""
        stuck = np.flatnonzero(pay.stuck)
        pay.fallback = np.zeros(pay.size, bool)
        if stuck.size == 0:
            return
        params = self.model.params
        adopt = rng.random(stuck.size) < params.adoption.need_rate
        pop = self.pop
        adopters = np.unique(pay.payer[stuck[adopt]])
        pop.open_accounts(adopters, day, params.bank.p_debit_card, rng)
        pop.abandoned[adopters] = False  # a bank-only payee makes even a hunter use the app
        pop.install_apps(adopters, day)
        pay.channel[stuck[adopt]] = BANK_APP
        pay.channel[stuck[~adopt]] = CASH
        pay.fallback[stuck[~adopt]] = True

    def end_day(self, day: int, pay: Payments, streams) -> None:
        """After the money moved: habits and last use learn from the day's payments,
        apps and accounts age, shares of wallet relax."""
        self.record(day, pay)
        self.age(day, streams)
        self.deposits()

    def age(self, day: int, streams) -> None:
        """Dormant apps are uninstalled, dormant accounts a strategy brought closed;
        monthly-active users are cross-sold credit cards; accounts, apps and cards exit
        at the steady baseline's rates."""
        a, b = self.params.adoption, self.params.bank
        self.pop.uninstall_dormant(day, a.dormant_after_days, a.uninstall_rate_per_day,
                                   streams.daily("customers.dormancy", day))
        self.pop.close_dormant_accounts(day, a.dormant_after_days, b.account_close_rate_per_day,
                                        streams.daily("customers.closure", day))
        self.pop.cross_sell_credit(day, MAU_WINDOW_DAYS, b.credit_card_rate_per_day,
                                   streams.daily("customers.cross_sell", day))
        self.pop.churn(day, streams.daily("customers.churn", day))

    def deposits(self) -> None:
        b = self.params.bank
        self.pop.update_wallet_share(b.wallet_share_base, b.wallet_share_gain,
                                     b.wallet_share_days)
