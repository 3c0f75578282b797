"""CustomerPopulation: every customer as a row of arrays, no object per person.

State per customer (arrays of length N): segment, income, price sensitivity,
digital affinity, hidden abuser trait; focal-bank account, debit card, app,
credit card; day of last app use and of install; share of wallet at the bank;
habit stock per payment channel (N x 5: a customer's five stocks share one
cache line, read and written together by the daily kernels). Chain membership
is stored per chain as ascending customer ids (``ChainMembers``).

Each daily verb works on masks and index arrays (see docs/MODEL.md for the
equations). ``NEVER`` marks "no such day yet".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.steady import NO_EXITS, start_at_steady_state
from sim.kernels import (
    CENSUS,
    adopters,
    census,
    count_channels,
    cross_sell,
    dormant_closures,
    dormant_uninstalls,
    exits,
    learn_habits,
    relax_wallet_share,
    retail_deposits,
)
from sim.parallel import map_parts, run_parts
from sim.scenarios.catalog import BANK_APP, CHAINS, CHANNELS
from sim.scenarios.schema import Scenario

__all__ = ["CustomerPopulation", "ChainMembers", "NEVER"]

NEVER = -(10**6)

# What the population counts as it happens, whichever path caused it (KPIs of the same names).
DAILY_COUNTS = ("new_app_users", "uninstalls", "new_accounts", "closed_accounts")


@dataclass
class ChainMembers:
    """Payers of one chain, in ascending customer id.

    ``home[k]`` is the fixed payee of ``customers[k]`` in an institutional
    chain (-1 otherwise). Bills are addressed by position in this list.
    """

    customers: np.ndarray  # int32 customer ids
    home: np.ndarray       # int32 payee ids, or -1


class CustomerPopulation:
    """All customers of a scenario, as a structure of arrays.

    Build with :meth:`generate`; the model calls the daily verbs in order. The
    simulated customers are a random sample of the city's: each stands for
    ``scale`` real ones, so whatever they do is multiplied by ``scale`` where it
    meets a payee, the bank's ledger or a KPI (docs/MODEL.md, "A city at its true
    scale").
    """

    def __init__(self, n: int, n_segments: int, scale: float = 1.0):
        self.n = n
        self.scale = scale  # real customers each simulated one stands for (customers / agents)
        self.n_segments = n_segments
        self.segment = np.zeros(n, np.int8)
        self.income_month = np.zeros(n, np.float32)     # yuan per month
        self.wallet = np.zeros(n, np.float32)           # deposits across all banks, yuan
        self.price_sensitivity = np.zeros(n, np.float32)
        self.digital_affinity = np.zeros(n, np.float32)
        self.activity = np.zeros(n_segments, np.float64)  # per segment
        self.abuser = np.zeros(n, bool)
        self.has_account = np.zeros(n, bool)
        self.has_debit = np.zeros(n, bool)
        self.has_app = np.zeros(n, bool)
        self.has_credit = np.zeros(n, bool)
        self.abandoned = np.zeros(n, bool)              # has the app but no longer uses it
        self.last_app_use = np.full(n, NEVER, np.int32)
        self.install_day = np.full(n, NEVER, np.int32)
        self.account_day = np.full(n, NEVER, np.int32)
        self.established = np.zeros(n, bool)            # account of a relationship the
        #   customer chose (day-0 and organic accounts), not one a strategy brought
        self.exits = NO_EXITS                           # steady baseline's exit rates
        self.wallet_share = np.zeros(n, np.float32)     # share of wallet at the focal bank
        self.habit = np.zeros((n, len(CHANNELS)), np.float32)  # customer x channel
        self.adjacency = None                           # social ties (None: fully mixed)
        self.degree = np.ones(n, np.float32)
        self.app_contacts = np.zeros(n, np.float32)     # contacts with the app installed
        self.app_count = 0                              # customers with the app installed
        self.members: list[ChainMembers] = []
        self._habit_counts: np.ndarray | None = None    # scratch of record_payments
        self.today = dict.fromkeys(DAILY_COUNTS, 0)     # what changed today (take_counts)

    # ------------------------------------------------------------------ build
    @classmethod
    def generate(cls, scenario: Scenario, rng: np.random.Generator) -> CustomerPopulation:
        """Draw a population for ``scenario`` from the ``world.customers`` stream."""
        n = scenario.population.simulated
        segs = list(scenario.segments.values())
        pop = cls(n, len(segs), scenario.population.scale)
        shares = np.array([s.share for s in segs])
        counts = rng.multinomial(n, shares / shares.sum())
        pop.segment = np.repeat(np.arange(len(segs), dtype=np.int8), counts)
        rng.shuffle(pop.segment)
        seg = pop.segment

        def per_seg(attr: str) -> np.ndarray:
            return np.array([getattr(s, attr) for s in segs], np.float64)[seg]

        sigma = per_seg("income_sigma")
        pop.income_month = (per_seg("income_month_yuan")
                            * np.exp(rng.normal(-sigma**2 / 2, sigma))).astype(np.float32)
        pop.wallet = (pop.income_month * per_seg("wallet_months")).astype(np.float32)
        pop.price_sensitivity = per_seg("price_sensitivity").astype(np.float32)
        pop.digital_affinity = per_seg("digital_affinity").astype(np.float32)
        pop.activity = np.array([s.rel_activity for s in segs])
        pop.abuser = rng.random(n) < per_seg("p_abuser")

        pop.has_account = rng.random(n) < per_seg("p_account")
        pop.account_day[pop.has_account] = -1
        pop.has_debit = pop.has_account & (rng.random(n) < scenario.bank.p_debit_card)
        pop.has_credit = pop.has_account & (rng.random(n) < per_seg("p_credit_card"))
        for chain in CHAINS:
            p_member = np.array([s.chains.get(chain, 0.0) for s in segs])[seg]
            ids = np.flatnonzero(rng.random(n) < p_member).astype(np.int32)
            pop.members.append(ChainMembers(ids, np.full(ids.size, -1, np.int32)))
        pop.established[:] = pop.has_account
        pop._draw_initial_apps(round(scenario.adoption.initial_share * n), rng)
        return pop

    def _draw_initial_apps(self, k: int, rng: np.random.Generator) -> None:
        """Give the app to k account holders, chosen with weight = digital affinity.

        Weighted sampling without replacement by Efraimidis-Spirakis keys
        u ** (1 / w): the k largest keys win (vectorized, O(N)).
        """
        if k <= 0:
            return
        w = np.where(self.has_account, self.digital_affinity, 0.0)
        keys = np.full(self.n, -1.0)
        pos = w > 0
        keys[pos] = rng.random(int(pos.sum())) ** (1.0 / w[pos])
        chosen = np.argpartition(keys, self.n - k)[self.n - k:]
        self.has_app[chosen] = True
        self.install_day[chosen] = -1

    def start_at_steady_state(self, scenario: Scenario, merchants,
                              rng: np.random.Generator) -> None:
        """Draw habits, days since last app use and shares of wallet from the
        stationary state of the drawn world, and solve the steady baseline's exit rates
        (:func:`sim.agents.steady.start_at_steady_state`; call once the payees, homes
        and social ties are in place)."""
        start_at_steady_state(self, scenario, merchants, rng)

    def attach_network(self, adjacency, degree: np.ndarray) -> None:
        """Use these social ties (a symmetric 0/1 CSR matrix, or None for full mixing)
        and count each customer's contacts with the app once; installs and uninstalls
        then update the counts incrementally (:meth:`_apps_changed`)."""
        self.adjacency = adjacency
        self.degree = np.maximum(degree, 1.0).astype(np.float32)
        self.app_count = int(self.has_app.sum())
        if adjacency is not None:
            self.app_contacts = (adjacency @ self.has_app.astype(np.float32)).astype(np.float32)

    def peer_share(self) -> np.ndarray:
        """Share of each customer's contacts who have the app (population share if
        fully mixed), float32."""
        if self.adjacency is None:
            return np.full(self.n, self.app_count / self.n, np.float32)
        return self.app_contacts / self.degree

    def _apps_changed(self, ids: np.ndarray, sign: int) -> None:
        self.app_count += sign * int(ids.size)
        self.today["new_app_users" if sign > 0 else "uninstalls"] += int(ids.size)
        if self.adjacency is not None and ids.size:
            rows = self.adjacency[ids]
            np.add.at(self.app_contacts, rows.indices, np.float32(sign))

    # ------------------------------------------------------------ daily verbs
    def take_counts(self) -> dict[str, int]:
        """Installs, uninstalls, account openings and closures since the last call
        (by every path: adoption, need, referral, dormancy), then zero them."""
        counts, self.today = self.today, dict.fromkeys(DAILY_COUNTS, 0)
        return counts

    def app_active(self, day: int, window_days: int) -> np.ndarray:
        """Installed apps used within the last ``window_days`` days, as of end of ``day``."""
        return self.has_app & (day - self.last_app_use < window_days)

    def open_accounts(self, ids: np.ndarray, day: int, p_debit: float,
                      rng: np.random.Generator, established: np.ndarray | bool = False) -> int:
        """Open focal-bank accounts (with a debit card w.p. ``p_debit``) for ``ids``.

        ``established`` (per id, or one for all) marks accounts the customer chose on
        their own (organic adoption): their deposits follow the established rule.
        Customers who already hold one are skipped. Returns how many opened.
        """
        fresh = ~self.has_account[ids]
        ids = ids[fresh]
        self.has_account[ids] = True
        self.established[ids] = np.broadcast_to(established, fresh.shape)[fresh]
        self.account_day[ids] = day
        self.has_debit[ids] |= rng.random(ids.size) < p_debit
        self.today["new_accounts"] += int(ids.size)
        return int(ids.size)

    def install_apps(self, ids: np.ndarray, day: int) -> np.ndarray:
        """Install the app for ``ids`` (who must hold accounts); returns the new installs,
        counted in the day's ``new_app_users``."""
        ids = ids[~self.has_app[ids]]
        self.has_app[ids] = True
        self.install_day[ids] = day
        self.last_app_use[ids] = day
        self._apps_changed(ids, +1)
        return ids

    def adopt(self, day: int, organic: np.ndarray, push: np.ndarray | None, p_debit: float,
              rng: np.random.Generator) -> np.ndarray:
        """Customers without the app install it with per-customer probability
        ``organic + push`` (``push``: strategies', or None).

        A new adopter without an account opens one first: an established one with
        probability organic / (organic + push) (they came on their own), else one a
        strategy brought. Returns adopter ids.
        """
        p_adopt = (organic if push is None else organic + push).astype(np.float32, copy=False)
        new = np.concatenate(map_parts(
            lambda stream, a, b: adopters(self.has_app[a:b], stream.random(b - a, np.float32),
                                          p_adopt[a:b], a), self.n, rng))
        if push is None:
            own = True
        else:
            own = rng.random(new.size) * p_adopt[new] < organic[new]
        self.open_accounts(new, day, p_debit, rng, established=own)
        return self.install_apps(new, day)

    def record_payments(self, day: int, payer: np.ndarray, channel: np.ndarray,
                        learning_rate: float, in_order: int = 0) -> None:
        """Update habit stocks and last app use from the day's payments.

        A customer who paid n times today with c_k payments on channel k moves
        their habit vector h to (1-a)^n h + (1 - (1-a)^n) c / n: the result of
        n exponential-smoothing steps, order-free (kernel:
        :func:`sim.kernels.count_channels`, :func:`sim.kernels.learn_habits`).
        The first ``in_order`` payments come in ascending payer order: they are
        counted in two parts that share no payer, in parallel; the rest after.
        """
        if self._habit_counts is None:  # all zero between calls
            self._habit_counts = np.zeros(self.habit.shape, np.uint16)
        keep = np.float32(1.0 - learning_rate) ** np.arange(64, dtype=np.float32)
        cut = int(np.searchsorted(payer[:in_order], payer[in_order // 2])) if in_order else 0
        run_parts(count_channels, [(payer[a:b], channel[a:b], self._habit_counts,
                                    self.last_app_use, day, BANK_APP)
                                   for a, b in ((0, cut), (cut, in_order))], in_order)
        count_channels(payer[in_order:], channel[in_order:], self._habit_counts,
                       self.last_app_use, day, BANK_APP)
        map_parts(lambda a, b: learn_habits(self.habit[a:b], self._habit_counts[a:b], keep),
                  self.n)

    def abandon_app(self, ids: np.ndarray) -> None:
        """Bonus hunters who took their reward: the app stays installed, unused."""
        self.abandoned[ids] = True
        self.habit[ids, BANK_APP] = 0.0

    def uninstall_dormant(self, day: int, dormant_after_days: int, rate: float,
                          rng: np.random.Generator) -> int:
        """Dormant apps (unused for ``dormant_after_days``) are removed at ``rate`` per day."""
        gone = np.concatenate(map_parts(
            lambda stream, a, b: dormant_uninstalls(
                self.has_app[a:b], self.last_app_use[a:b], day, dormant_after_days,
                stream.random(b - a, np.float32), np.float32(rate), a), self.n, rng))
        self.remove_apps(gone)
        return int(gone.size)

    def remove_apps(self, ids: np.ndarray) -> None:
        """Uninstall the app of ``ids`` (who have it): no habit of it left; counted in
        the day's ``uninstalls``."""
        self.has_app[ids] = False
        self.abandoned[ids] = False
        self.habit[ids, BANK_APP] = 0.0
        self._apps_changed(ids, -1)

    def close_dormant_accounts(self, day: int, dormant_after_days: int, rate: float,
                               rng: np.random.Generator) -> int:
        """Accounts a strategy brought (opened during the run, not established) whose
        holder has not used the app for ``dormant_after_days`` close at ``rate`` per day
        (:meth:`close_accounts`). Established accounts (held at day 0, or opened by
        organic adoption) close only by :meth:`churn`. Returns how many closed."""
        gone = np.concatenate(map_parts(
            lambda stream, a, b: dormant_closures(
                self.has_account[a:b], self.established[a:b], self.account_day[a:b],
                self.last_app_use[a:b], day,
                dormant_after_days, stream.random(b - a, np.float32), np.float32(rate), a),
            self.n, rng))
        self.close_accounts(gone)
        return int(gone.size)

    def close_accounts(self, ids: np.ndarray) -> None:
        """Close the accounts of ``ids`` (who hold one): the debit and credit cards go
        with it, its deposits leave at once, and a still-installed app is removed (an
        app needs an account). Counted in the day's ``closed_accounts``."""
        self.has_account[ids] = False
        self.established[ids] = False
        self.has_debit[ids] = False
        self.has_credit[ids] = False
        self.wallet_share[ids] = 0.0
        self.remove_apps(ids[self.has_app[ids]])
        self.today["closed_accounts"] += int(ids.size)

    def churn(self, day: int, rng: np.random.Generator) -> tuple[int, int, int]:
        """The steady baseline's exits (``self.exits``): each account holder closes the
        account with p_close of their segment, else each app user uninstalls with
        p_uninstall, else each credit card lapses with p_lapse, one uniform per
        customer (competing risks of one day). Returns (closed, uninstalled, lapsed).
        """
        x = self.exits
        if x.p_close.size == 0:
            return 0, 0, 0
        parts = map_parts(lambda stream, a, b: exits(
            self.has_account[a:b], self.has_app[a:b], self.has_credit[a:b], self.segment[a:b],
            stream.random(b - a, np.float32), x.p_close.astype(np.float32),
            np.float32(x.p_uninstall), np.float32(x.p_lapse), a), self.n, rng)
        close = np.concatenate([p[0] for p in parts])
        uninstall = np.concatenate([p[1] for p in parts])
        self.close_accounts(close)
        self.remove_apps(uninstall)
        return close.size, uninstall.size, sum(p[2] for p in parts)

    def cross_sell_credit(self, day: int, window_days: int, rate: float,
                          rng: np.random.Generator) -> int:
        """Monthly-active app users with an account take a credit card at ``rate`` per day."""
        return sum(map_parts(
            lambda stream, a, b: cross_sell(
                self.has_app[a:b], self.last_app_use[a:b], self.has_account[a:b],
                self.has_credit[a:b], day, window_days, stream.random(b - a, np.float32),
                np.float32(rate)), self.n, rng))

    def update_wallet_share(self, base: float, gain: float, relax_days: float) -> None:
        """Relax the share of wallet toward its target with time constant ``relax_days``.

        Notes
        -----
        Target of an account holder (0 otherwise): ``base * e_i + gain * h_i,app``,
        with e_i = 1 for an established account (held at day 0: salary, pension,
        savings already there; or opened by a customer who adopted the app on their
        own) and e_i = h_i,app for an account a strategy brought, whose relationship
        grows only with use. Such an account whose holder never pays with the app (a
        bonus hunter's, an invitee who never starts) stays near empty (kernel:
        :func:`sim.kernels.relax_wallet_share`).
        """
        map_parts(lambda a, b: relax_wallet_share(
            self.wallet_share[a:b], self.habit[a:b], self.has_account[a:b],
            self.established[a:b], np.float32(base), np.float32(gain), np.float32(relax_days),
            BANK_APP), self.n)

    def census(self, day: int, window_days: int, matured_days: int) -> dict[str, int]:
        """The customer counts of the day's KPIs, by name (:data:`sim.kernels.CENSUS`):
        monthly-active within ``window_days``, retained after ``matured_days``."""
        totals = sum(map_parts(lambda a, b: census(
            self.has_app[a:b], self.last_app_use[a:b], self.install_day[a:b],
            self.has_account[a:b], self.has_debit[a:b], self.has_credit[a:b], day, window_days,
            matured_days), self.n))
        return dict(zip(CENSUS, totals.tolist(), strict=True))

    def retail_deposits(self) -> tuple[float, float]:
        """Deposits held at the focal bank, yuan: the sum of wallet x share of wallet,
        and the part of it in accounts opened during the run."""
        parts_sums = map_parts(lambda a, b: retail_deposits(
            self.wallet[a:b], self.wallet_share[a:b], self.account_day[a:b]), self.n)
        total, new = sum(parts_sums)  # added in part order: the same on one thread or two
        return float(total), float(new)
