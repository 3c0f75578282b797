"""Services in the bank app at institutions the bank serves: repair requests
and access control bundled with a property firm's fee payment (物业报修, 智慧门禁).

Each payee of an institutional chain (the property firms of ``property``) that
a lever wins for the bank (the pilot and the rollout of an aggregated-QR lever,
a fee waiver's joiners: a payee under the terms it agreed to, not one that
switched on its own), from ``start_day`` on (list this lever after them to
deploy on the day they join), gets the services for ``deploy_cost_yuan`` once,
as the budget allows (largest first; a payee it cannot pay for is recorded once
as ``unserved`` and is not served); they run while the firm stays with the
bank, for ``running_cost_yuan_per_day`` per firm, until the window closes or a
day's running cost finds the budget spent (event ``ended``, count: payees,
detail ``budget``).
A firm that leaves the bank (its terms end and it moves back) loses them, and
regains them without a second deployment if it returns.

The residents of a served firm (payers whose home payee it is):

1. with the app in use (installed, not abandoned) use a service with it on a
   day with probability ``uses_per_day``: a use of the app (its day of last use,
   so the monthly-active count and dormancy), not a payment (no habit, no volume);
2. without the app install it with extra probability ``p_install_per_day`` a day
   (through the adoption push; an account is opened first if needed, one a
   strategy brought: its deposits follow the bank-app habit).
"""

from __future__ import annotations

import numpy as np

from sim.agents.terms import NOBODY
from sim.config import NON_NEGATIVE
from sim.scenarios.catalog import CHAINS
from sim.strategies.base import register
from sim.strategies.campaign import Campaign
from sim.strategies.params import CHAIN, PROB, Param

__all__ = ["AppServices"]


@register
class AppServices(Campaign):
    kind = "app_services"
    chain_kind = "institutional"
    parameters = {
        "chain": Param(str, CHAIN, "property", "institutional chain whose payees get them"),
        "deploy_cost_yuan": Param(float, NON_NEGATIVE, 50_000.0,
                                  "one-off per payee: gate readers, repair desk, integration"),
        "running_cost_yuan_per_day": Param(float, NON_NEGATIVE, 20.0,
                                           "running the services at one payee"),
        "uses_per_day": Param(float, PROB, 0.3, "P(a resident with the app uses a service "
                              "with it on a day)"),
        "p_install_per_day": Param(float, PROB, 0.001, "P(a resident without the app "
                                   "installs it for the services on a day)"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        book, pop = model.merchants, model.customers
        members = pop.members[CHAINS.index(self.chain)]
        self.in_chain_ = book.chain == CHAINS.index(self.chain)
        self.deployed_ = np.zeros(book.n, bool)
        self.unserved_ = np.zeros(book.n, bool)  # won, but the budget could not serve
        self.residents_ = members.customers[members.home >= 0]  # int ids, ascending
        self.home_ = members.home[members.home >= 0]
        self.live_ = np.zeros(book.n, bool)  # deployed and with the bank today

    def adoption_push(self, day: int) -> np.ndarray | None:
        if not self.running(day):
            return None
        pop = self.model_.customers
        pulled = self.residents_[self.live_[self.home_] & ~pop.has_app[self.residents_]]
        if pulled.size == 0:
            return None
        push = np.zeros(pop.n)
        push[pulled] = self.p_install_per_day
        return push

    def before_payments(self, day: int) -> None:
        if day == self.end_day:
            self._stop(day, "window")
        if not self.running(day):
            return
        self._deploy(day)
        if not self._pay_running(day):
            return
        pop = self.model_.customers
        u = self.stream(day).random(self.residents_.size)
        ids = self.residents_
        use = (self.live_[self.home_] & pop.has_app[ids] & ~pop.abandoned[ids]
               & (u < self.uses_per_day))
        pop.last_app_use[ids[use]] = day

    def _deploy(self, day: int) -> None:
        """Payees of the chain a lever won for the bank (with the bank under terms they
        agreed to) get the services, as many as the budget pays for (largest first); a
        deployed one that left the bank is served again if it returns."""
        book = self.model_.merchants
        on_bank = book.on_bank()
        won = on_bank & (book.terms.last_owner != NOBODY)
        new = np.flatnonzero(self.in_chain_ & won & ~self.deployed_ & ~self.unserved_)
        if new.size:
            new = new[np.argsort(-book.weight[new], kind="stable")]
            paid = self.affordable(self.deploy_cost_yuan, new.size)
            self.unserved_[new[paid:]] = True
            if paid < new.size:
                self.event(day, "unserved", new.size - paid)
            new = new[:paid]
            self.spend(day, "deployment", new.size * self.deploy_cost_yuan)
            self.deployed_[new] = True
            if new.size:
                self.event(day, "deployed", new.size)
        self.live_ = self.deployed_ & on_bank

    def _pay_running(self, day: int) -> bool:
        """Pay the day's running cost of the live payees; when the budget cannot, pay
        what is left and end the services (False)."""
        cost = int(self.live_.sum()) * self.running_cost_yuan_per_day
        short = cost > self.remaining + 1e-9
        if short:
            self.note_exhausted(day)
        self.spend(day, "running", cost)
        if short:
            self.ended_ = day
            self._stop(day, "budget")
        return not short

    def _stop(self, day: int, why: str) -> None:
        """The services stop at every payee (event ``ended``, count: payees)."""
        live = int(self.live_.sum())
        if live:
            self.event(day, "ended", live, why)
        self.live_[:] = False
