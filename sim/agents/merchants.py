"""MerchantBook: merchants and institutions (payees) as arrays.

Payees of chain c occupy the contiguous id range ``chain_start[c]:chain_start[c+1]``.
Each payee has a traffic weight, the channels it accepts, an acquirer (who
settles its receipts: the focal bank, WeChat Pay, Alipay or another bank),
the terms strategies agreed with it (``terms``: offers, fee waivers, lock-ins,
exclusivity; sim/agents/terms.py) and a periodic acquirer review. Strategies
change a payee's acquirer only through :meth:`MerchantBook.move_to_bank`.
Receipts settled by the focal bank stay there as corporate deposits for
``float_days`` on average.
"""

from __future__ import annotations

import numpy as np

from sim.agents.terms import EXCLUSIVE, LOCK, OFFER, Terms
from sim.scenarios.catalog import ACQ_BANK, ACQUIRERS, BANK_APP, CASH, CHAINS, CHANNELS
from sim.scenarios.schema import Merchants, Scenario

__all__ = ["MerchantBook", "payee_counts", "calibrate_bank_constant", "annuity"]

EMA_DAYS = 30.0  # memory of a payee's receipts when it reviews its acquirer
DAYS_PER_MONTH = 30.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table (Vose's construction) for sampling in O(1) per draw.

    Returns (prob, alias): draw i uniform in [0, n) and u uniform in [0, 1);
    the sample is i if u < prob[i], else alias[i]. Each index then comes out
    with probability weights[i] / sum(weights).
    """
    n = weights.size
    scaled = weights / weights.sum() * n
    prob = np.ones(n)
    alias = np.arange(n)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


def annuity(months: np.ndarray, rate: float) -> np.ndarray:
    """Present value of 1 yuan a month for ``months`` months (fractional allowed)
    at the monthly discount ``rate``: (1 - (1 + r)^-n) / r, or n when r = 0."""
    months = np.maximum(np.asarray(months, float), 0.0)
    if rate == 0:
        return months
    return (1.0 - (1.0 + rate) ** -months) / rate


def payee_counts(scenario: Scenario) -> np.ndarray:
    """The city's real number of institutions or merchants per chain (CHAINS order).

    n_c = max(1, round(payees_per_100k_c * customers / 100,000)), with ``customers``
    the city's customers (``population.customers``), never the number simulated:
    what a strategy names ("3 hospitals", "300 merchants") counts among these.

    Returns
    -------
    np.ndarray of int64, one count per chain.
    """
    scale = scenario.population.customers / 100_000
    return np.array([max(1, round(scenario.chains[c].payees_per_100k * scale))
                     for c in CHAINS], dtype=np.int64)


def calibrate_bank_constant(share: np.ndarray, switching_cost: float) -> np.ndarray:
    """Constant alpha per chain that makes ``share`` the no-strategy steady state.

    A payee off the bank joins at a review with p_in = sigmoid(alpha - c); one
    on the bank leaves with p_out = sigmoid(-alpha - c). The bank's share is
    stationary when share = p_in / (p_in + p_out); this solves for alpha by
    bisection (p_in / (p_in + p_out) increases with alpha).
    """
    target = np.clip(np.asarray(share, float), 1e-4, 1 - 1e-4)
    lo, hi = np.full(target.shape, -30.0), np.full(target.shape, 30.0)
    for _ in range(80):
        mid = (lo + hi) / 2
        p_in, p_out = _sigmoid(mid - switching_cost), _sigmoid(-mid - switching_cost)
        too_low = p_in / (p_in + p_out) < target
        lo, hi = np.where(too_low, mid, lo), np.where(too_low, hi, mid)
    return (lo + hi) / 2


class MerchantBook:
    """All payees of a scenario. Build with :meth:`generate`."""

    def __init__(self, chain_counts: np.ndarray):
        self.chain_start = np.concatenate([[0], np.cumsum(chain_counts)]).astype(np.int64)
        m = int(self.chain_start[-1])
        self.n = m
        self.chain = np.repeat(np.arange(len(CHAINS), dtype=np.int8), chain_counts)
        self.is_institution = np.zeros(m, bool)
        self.weight = np.ones(m)
        self.accepts_base = np.zeros((m, len(CHANNELS)), bool)
        self.acquirer = np.zeros(m, np.int8)
        self.previous_acquirer = np.zeros(m, np.int8)         # where a bank payee would return
        self.terms = Terms(m)                                 # strategies' terms (terms.py)
        self.bank_fee_rate = np.zeros(m)                      # the bank's fee for this payee
        self.standard_fee_rate = 0.0                          # the bank's fee without a contract
        self.next_review = np.zeros(m, np.int32)
        self.receipts_ema = np.zeros(m)                       # yuan per day
        self.noncash_ema = np.zeros(m)                        # yuan per day not in cash
        self.bank_app_ema = np.zeros(m)                       # yuan per day paid by bank app
        self.balance = np.zeros(m)                            # deposits at the focal bank, yuan
        self.float_days = np.ones(m)                          # days of receipts kept at the bank
        self.bank_constant = np.zeros(len(CHAINS))            # alpha per chain (calibrated)
        self.demand_ref = np.zeros(len(CHAINS))               # chain's day-0 bank-app share
        # Alias tables of each chain's payees, at the payees' own positions: the
        # payee draw of chain c uses alias_prob[lo:hi] and alias_to[lo:hi]
        # (indices within the chain), lo:hi = chain_start[c]:chain_start[c+1].
        self.alias_prob = np.ones(m)
        self.alias_to = np.zeros(m, np.int64)

    # ------------------------------------------------------------------ build
    @classmethod
    def generate(cls, scenario: Scenario, rng: np.random.Generator) -> MerchantBook:
        """Draw payees for every chain from the ``world.merchants`` stream."""
        book = cls(payee_counts(scenario))
        interval = scenario.merchants.review_interval_days
        book.next_review = rng.integers(0, interval, size=book.n).astype(np.int32)
        shares = []
        for c, name in enumerate(CHAINS):
            p = scenario.chains[name]
            lo, hi = book.chain_start[c], book.chain_start[c + 1]
            k = hi - lo
            book.is_institution[lo:hi] = p.institutional
            book.float_days[lo:hi] = (scenario.bank.institution_float_days if p.institutional
                                      else scenario.bank.float_days)
            sig = p.payee_size_sigma
            book.weight[lo:hi] = np.exp(rng.normal(-sig**2 / 2, sig, size=k))
            book.alias_prob[lo:hi], book.alias_to[lo:hi] = alias_table(book.weight[lo:hi])
            book.accepts_base[lo:hi] = rng.random((k, len(CHANNELS))) < np.array(
                p.accept.as_tuple())
            acq = np.array(p.acquirer.as_tuple())
            book.acquirer[lo:hi] = rng.choice(len(ACQUIRERS), size=k, p=acq / acq.sum())
            rivals = acq.copy()
            rivals[ACQ_BANK] = 0.0
            rivals = rivals / rivals.sum() if rivals.sum() > 0 else np.eye(len(ACQUIRERS))[-1]
            book.previous_acquirer[lo:hi] = np.where(
                book.acquirer[lo:hi] == ACQ_BANK,
                rng.choice(len(ACQUIRERS), size=k, p=rivals), book.acquirer[lo:hi])
            shares.append(p.acquirer.bank)
        book.standard_fee_rate = scenario.bank.acquiring_fee_rate
        book.bank_fee_rate[:] = book.standard_fee_rate
        book.bank_constant = calibrate_bank_constant(np.array(shares),
                                                     scenario.merchants.switching_cost)
        return book

    # ------------------------------------------------------------- queries
    def chain_ids(self, chain: int) -> np.ndarray:
        return np.arange(self.chain_start[chain], self.chain_start[chain + 1])

    def on_bank(self) -> np.ndarray:
        return self.acquirer == ACQ_BANK

    def accepts(self, day: int) -> np.ndarray:
        """Channels each payee accepts on ``day``: 5 x M booleans (channel-major).

        A payee acquired by the bank shows the bank's aggregated QR: every
        wallet, the bank app and cards, plus cash if it took cash before. A
        payee under an exclusive contract accepts only the bank app.
        """
        acc = self.accepts_base.copy()
        bank = self.on_bank()
        acc[bank, :CASH] = True
        exclusive = self.terms.held(EXCLUSIVE, day)
        acc[exclusive] = False
        acc[exclusive, BANK_APP] = True
        return np.ascontiguousarray(acc.T)

    def draw_payees(self, chain: int, k: int, rng: np.random.Generator) -> np.ndarray:
        """k payees of ``chain`` drawn with probability proportional to weight (alias
        method: one uniform per draw, its integer part picks a column, its fraction
        decides between the column and its alias)."""
        lo, hi = self.chain_start[chain], self.chain_start[chain + 1]
        prob, alias = self.alias_prob[lo:hi], self.alias_to[lo:hi]
        x = rng.random(k) * prob.size
        col = np.minimum(x.astype(np.int64), prob.size - 1)
        idx = np.where(x - col < prob[col], col, alias[col])
        return self.chain_start[chain] + idx

    def monthly_fee(self, ids: np.ndarray) -> np.ndarray:
        """The bank's fee on each payee's non-cash receipts over a month (yuan, 30-day
        EMA): no fee is charged on cash, so cash takings are worth no waiver."""
        return self.bank_fee_rate[ids] * self.noncash_ema[ids] * DAYS_PER_MONTH

    # ------------------------------------------------------------- acquirer
    def move_to_bank(self, ids: np.ndarray, fee_rate: float | None = None) -> None:
        """The bank acquires ``ids`` (remembering where each came from), at
        ``fee_rate`` if given (a contract's rate), else at its current rate."""
        coming = ids[self.acquirer[ids] != ACQ_BANK]
        self.previous_acquirer[coming] = self.acquirer[coming]
        self.acquirer[ids] = ACQ_BANK
        if fee_rate is not None:
            self.bank_fee_rate[ids] = fee_rate

    def move_back(self, ids: np.ndarray) -> None:
        """Bank payees ``ids`` return to their previous acquirer; should they come
        back, it is at the bank's standard fee."""
        self.acquirer[ids] = self.previous_acquirer[ids]
        self.bank_fee_rate[ids] = self.standard_fee_rate

    # ------------------------------------------------------------- daily
    def settle(self, day: int, channel_receipts: np.ndarray) -> None:
        """Book a day's receipts (yuan, payee x channel): EMAs and bank deposits.

        A bank-acquired payee's balance follows b <- b (1 - 1/F) + r, whose
        steady state is F days of receipts (F = ``float_days``: longer for
        institutions, which hold collected fees); other payees' balances drain.
        """
        receipts = channel_receipts.sum(axis=1)
        self.receipts_ema += (receipts - self.receipts_ema) / EMA_DAYS
        self.bank_app_ema += (channel_receipts[:, BANK_APP] - self.bank_app_ema) / EMA_DAYS
        self.noncash_ema += (receipts - channel_receipts[:, CASH] - self.noncash_ema) / EMA_DAYS
        self.balance *= 1.0 - 1.0 / self.float_days
        self.balance += np.where(self.on_bank(), receipts, 0.0)

    def start_at_steady_state(self, expected_receipts: np.ndarray) -> None:
        """Start receipts and bank balances at their no-strategy steady state.

        ``expected_receipts`` is each payee's expected yuan per day; a bank payee
        then holds ``float_days`` of it, so corporate deposits need no warm-up.
        """
        self.receipts_ema = expected_receipts.astype(float)
        self.balance = np.where(self.on_bank(), expected_receipts * self.float_days, 0.0)

    def bank_app_share(self) -> np.ndarray:
        return np.divide(self.bank_app_ema, self.receipts_ema,
                         out=np.zeros(self.n), where=self.receipts_ema > 0)

    def review(self, day: int, params: Merchants, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
        """Terms whose day has come end; payees due today review their acquirer.

        Parameters
        ----------
        day : int
            Today.
        params : Merchants
            ``switching_cost`` C, ``beta_fee`` (utility per 1,000 yuan),
            ``beta_demand``, ``review_interval_days``, ``offer_discount_monthly`` r.
        rng : Generator
            Today's ``merchants.review`` stream (one uniform per payee due).

        Returns
        -------
        joined, left : int arrays
            Payees that moved to the bank and that left it.

        Notes
        -----
        Off the bank, a payee switches with p = sigmoid(alpha_c + beta_fee S / 1000
        + beta_demand (d - d_c) - C), where S = w F a(n, r) + s is what an open
        offer is worth: w the waiver share, F the monthly fee (yuan), a(n, r) =
        (1 - (1 + r)^-n) / r the annuity over the n months left of the offered
        waiver, s the one-off subsidy (yuan); d is the bank-app share of its
        receipts, d_c the chain's day-0 share. On the bank and not locked in, it
        leaves with p = sigmoid(-alpha_c + beta_fee J / 1000 - beta_demand (d - d_c)
        - C), J = F times the fee share reinstated since its last review (a waiver
        that ended; felt once). A joiner's offer becomes its waiver and lock-in
        (:meth:`Terms.accept`); a leaver is reported to the owner of its last terms.
        """
        terms = self.terms
        terms.expire(day)
        due = np.flatnonzero(self.next_review == day)
        self.next_review[due] += params.review_interval_days
        if due.size == 0:
            return due, due
        c = self.chain[due]
        demand = params.beta_demand * (self.bank_app_share()[due] - self.demand_ref[c])
        alpha = self.bank_constant[c]
        on = self.acquirer[due] == ACQ_BANK
        fee = self.monthly_fee(due)
        offered = terms.held(OFFER, day)[due]
        months = (terms.until[OFFER, due] - day) / DAYS_PER_MONTH
        waiver = terms.offer_rate[due] * fee * annuity(months, params.offer_discount_monthly)
        worth = np.where(offered, waiver + terms.offer_subsidy[due], 0.0)
        switch_cost = params.switching_cost
        u_join = alpha + params.beta_fee * worth / 1000.0 + demand - switch_cost
        jump = terms.reinstated[due] * fee
        u_leave = -alpha + params.beta_fee * jump / 1000.0 - demand - switch_cost
        terms.reinstated[due] = 0.0
        p = np.where(on, _sigmoid(u_leave), _sigmoid(u_join))
        p[on & terms.held(LOCK, day)[due]] = 0.0
        switch = rng.random(due.size) < p
        joined = due[switch & ~on]
        left = due[switch & on]
        self.move_back(left)
        terms.left(left, day)
        self.move_to_bank(joined)
        terms.accept(joined, day)
        return joined, left
