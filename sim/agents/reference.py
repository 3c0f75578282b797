"""The customer rules written the obvious way: one ``mesa.Agent`` per customer.

Selected with ``EcosystemModel(..., engine="reference")``. Every customer is a
:class:`ReferenceCustomer` registered with the model; each day the engine asks
each agent, in turn, to look at its contacts, decide whether to install the
app, make its payments one by one (Poisson counts per chain, lognormal
amounts, a logit choice over the channels the payee accepts), update its
habit after each payment, age its app and account and move its savings.
Scalar draws, Python loops, no vectorization: the yardstick for speed and a cross-check for
correctness (tests compare the two engines' KPI distributions over seeds).

State lives in the shared CustomerPopulation arrays, each agent reading and
writing its own row, so KPIs, strategies and the ledger are the same code for
both engines. Periodic bills and payee lists come from the same world.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.engine import VectorizedEngine
from sim.metrics import MAU_WINDOW_DAYS
from sim.payments import Payments, Saving
from sim.scenarios.catalog import BANK_APP, CHAINS, CHANNELS

__all__ = ["ReferenceCustomer", "ReferenceEngine"]


class ReferenceCustomer(mesa.Agent):
    """One customer; ``i`` is its row in the population arrays."""

    def __init__(self, model: mesa.Model, i: int, chains: list[tuple[int, int]]):
        super().__init__(model)
        self.i = i
        self.chains = chains  # (chain, position in that chain's member list)

    # -- peers and adoption --------------------------------------------------
    def contact_share(self) -> float:
        pop = self.model.customers
        adj = pop.adjacency
        if adj is None:
            return pop.app_count / pop.n
        contacts = adj.indices[adj.indptr[self.i]:adj.indptr[self.i + 1]]
        if len(contacts) == 0:
            return 0.0
        return sum(1 for j in contacts if pop.has_app[j]) / len(contacts)

    def consider_app(self, day: int, share: float, push: float, rng) -> bool:
        pop, sc = self.model.customers, self.model.params
        i = self.i
        if pop.has_app[i]:
            return False
        organic = (sc.adoption.external_rate * float(pop.digital_affinity[i])
                   + sc.adoption.imitation_rate * share)
        p = organic + push
        if rng.random() >= p:
            return False
        own = push == 0.0 or rng.random() * p < organic  # came on their own
        pop.open_accounts(np.array([i]), day, sc.bank.p_debit_card, rng, established=own)
        return True

    # -- payments --------------------------------------------------------------
    def make_payments(self, day: int, due: list[set], rng, out: list) -> None:
        m = self.model
        pop, table, book = m.customers, m.world.chains, m.merchants
        activity = float(pop.activity[pop.segment[self.i]])
        for c, pos in self.chains:
            n_everyday = rng.poisson(table.rate[c] * activity) if table.rate[c] > 0 else 0
            n_bills = rng.poisson(m.billing.rate[c]) if m.billing.rate[c] > 0 else 0
            n_bills += 1 if pos in due[c] else 0
            for is_bill in [False] * n_everyday + [True] * n_bills:
                if table.institutional[c]:
                    payee = int(pop.members[c].home[pos])
                else:
                    payee = int(book.draw_payees(c, 1, rng)[0])
                mu, sigma = ((table.bill_mu[c], table.bill_sigma[c]) if is_bill
                             else (table.mu[c], table.sigma[c]))
                amount = math.exp(mu + sigma * rng.standard_normal())
                out.append((self.i, c, payee, amount, is_bill))

    def choose(self, chain: int, payee: int, share: float, asc, accepts, saving_row,
               rng) -> int:
        """Logit over the channels the payee accepts; -1 when none is available."""
        pop, ch = self.model.customers, self.model.params.channels
        i = self.i
        weights = []
        for k in range(len(CHANNELS)):
            ok = accepts[k][payee] and (k != BANK_APP or (pop.has_app[i]
                                                          and not pop.abandoned[i]))
            if not ok:
                weights.append(0.0)
                continue
            v = asc[chain][k] + ch.beta_habit * float(pop.habit[i, k])
            if k == BANK_APP:
                v += ch.beta_peer * share
            if saving_row is not None:
                v += ch.beta_price * float(pop.price_sensitivity[i]) * saving_row[k]
            weights.append(math.exp(min(v, 60.0)))
        total = sum(weights)
        if total <= 0:
            return -1
        u = rng.random() * total
        running = 0.0
        for k, w in enumerate(weights):
            running += w
            if u < running:
                return k
        return len(CHANNELS) - 1

    def learn(self, day: int, channels: list[int]) -> None:
        """One exponential-smoothing step of the habit per payment, in order."""
        pop = self.model.customers
        a = self.model.params.channels.habit_learning_rate
        for chosen in channels:
            for k in range(len(CHANNELS)):
                pop.habit[self.i, k] = ((1 - a) * pop.habit[self.i, k]
                                        + (a if k == chosen else 0.0))
            if chosen == BANK_APP:
                pop.last_app_use[self.i] = day

    # -- ageing and savings ---------------------------------------------------------
    def age(self, day: int, rng_dormancy, rng_closure, rng_cross, rng_churn) -> None:
        pop, sc = self.model.customers, self.model.params
        i = self.i
        dormant_after = sc.adoption.dormant_after_days
        if pop.has_app[i] and day - pop.last_app_use[i] >= dormant_after:
            if rng_dormancy.random() < sc.adoption.uninstall_rate_per_day:
                pop.remove_apps(np.array([i]))
        opened = pop.account_day[i]
        if (pop.has_account[i] and not pop.established[i]
                and day - max(pop.last_app_use[i], opened) >= dormant_after
                and rng_closure.random() < sc.bank.account_close_rate_per_day):
            pop.close_accounts(np.array([i]))
        active = pop.has_app[i] and day - pop.last_app_use[i] < MAU_WINDOW_DAYS
        if active and pop.has_account[i] and not pop.has_credit[i]:
            if rng_cross.random() < sc.bank.credit_card_rate_per_day:
                pop.has_credit[i] = True
        self.churn(rng_churn)

    def churn(self, rng) -> None:
        """The steady baseline's exits, competing risks of one day: the account closes,
        else the app goes, else the credit card lapses."""
        pop = self.model.customers
        x, i = pop.exits, self.i
        if x.p_close.size == 0:
            return
        u = rng.random()
        close = float(x.p_close[pop.segment[i]])
        if pop.has_account[i] and u < close:
            pop.close_accounts(np.array([i]))
        elif pop.has_app[i] and close <= u < close + x.p_uninstall:
            pop.remove_apps(np.array([i]))
        elif pop.has_credit[i] and 0 <= u - close - x.p_uninstall < x.p_lapse:
            pop.has_credit[i] = False

    def save(self) -> None:
        """Share of wallet moves toward base x relationship + gain x app habit; the
        relationship is 1 for an established account, the app habit for one a strategy
        brought."""
        pop, b = self.model.customers, self.model.params.bank
        i = self.i
        habit = float(pop.habit[i, BANK_APP])
        relationship = 1.0 if pop.established[i] else habit
        target = (b.wallet_share_base * relationship + b.wallet_share_gain * habit
                  if pop.has_account[i] else 0.0)
        pop.wallet_share[i] += (target - pop.wallet_share[i]) / b.wallet_share_days


class ReferenceEngine:
    """Steps the customer rules agent by agent (same verbs as VectorizedEngine)."""

    name = "reference"

    def __init__(self, model):
        self.model = model
        self.pop = model.customers
        chains: list[list[tuple[int, int]]] = [[] for _ in range(self.pop.n)]
        for c in range(len(CHAINS)):
            for pos, i in enumerate(self.pop.members[c].customers):
                chains[int(i)].append((c, pos))
        self.agents = [ReferenceCustomer(model, i, chains[i]) for i in range(self.pop.n)]

    def peer_share(self) -> np.ndarray:
        return np.array([a.contact_share() for a in self.agents], np.float32)

    def adopt(self, day: int, peer_share: np.ndarray, push: np.ndarray | None, rng
              ) -> np.ndarray:
        new = [a.i for a in self.agents
               if a.consider_app(day, float(peer_share[a.i]),
                                 0.0 if push is None else float(push[a.i]), rng)]
        return self.pop.install_apps(np.array(new, np.int64), day)

    def draw(self, day: int, rng) -> Payments:
        due = [set(d.tolist()) for d in self.model.billing.due(day)]
        events: list = []
        for agent in self.agents:
            agent.make_payments(day, due, rng, events)
        if not events:
            empty = np.zeros(0, np.int64)
            return Payments(empty, empty.astype(np.int8), empty, np.zeros(0), empty.astype(bool))
        payer, chain, payee, amount, is_bill = zip(*events, strict=True)
        return Payments(np.array(payer, np.int64), np.array(chain, np.int8),
                        np.array(payee, np.int64), np.array(amount), np.array(is_bill))

    def choose(self, pay: Payments, accepts: np.ndarray, peer_share: np.ndarray,
               asc: np.ndarray, saving: Saving | None, rng) -> np.ndarray:
        channel = np.zeros(pay.size, np.int8)
        stuck = np.zeros(pay.size, bool)
        acc = accepts.tolist()
        asc_rows = asc.tolist()
        for e in range(pay.size):
            agent, chain = self.agents[int(pay.payer[e])], int(pay.chain[e])
            k = agent.choose(chain, int(pay.payee[e]), float(peer_share[agent.i]), asc_rows, acc,
                             None if saving is None else saving.row(e, chain), rng)
            stuck[e] = k < 0
            channel[e] = max(k, 0)
        pay.channel = channel
        return stuck

    def record(self, day: int, pay: Payments) -> None:
        by_payer: dict[int, list[int]] = {}
        for payer, k in zip(pay.payer.tolist(), pay.channel.tolist(), strict=True):
            by_payer.setdefault(payer, []).append(k)
        for payer, channels in by_payer.items():
            self.agents[payer].learn(day, channels)

    def age(self, day: int, streams) -> None:
        dormancy = streams.daily("customers.dormancy", day)
        closure = streams.daily("customers.closure", day)
        cross = streams.daily("customers.cross_sell", day)
        churn = streams.daily("customers.churn", day)
        for agent in self.agents:
            agent.age(day, dormancy, closure, cross, churn)

    def deposits(self) -> None:
        for agent in self.agents:
            agent.save()

    # The stuck-payer rule and the end of day are the same code for both engines.
    resolve_stuck = VectorizedEngine.resolve_stuck
    end_day = VectorizedEngine.end_day
