"""The day's payments: who pays whom how much, and through which channel.

This is the hot path. Everything is done per chain and segment (12 x S tiny
loops) and over flat event arrays; there is no loop over customers or payees.

Counts. A payer of chain c in segment s makes everyday payments at rate
``rate_c * rel_activity_s`` per day and pays random bills (fines) at the
chain's bill rate. The count over n members is one Poisson(n * rate) draw, its
events spread uniformly over the members: by Poisson splitting this is the
same as an independent Poisson count per member. Periodic bills are paid
exactly once per payer, on a day drawn when the bill is issued (billing.py).

Channel choice. Multinomial logit over the channels the payee accepts
(docs/MODEL.md, "Channel choice").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.customers import CustomerPopulation
from sim.agents.merchants import MerchantBook
from sim.scenarios.catalog import BANK_APP, CHAINS, CHANNELS
from sim.scenarios.schema import Scenario

__all__ = ["ChainTable", "Payments", "draw_payments", "choose_channels"]


@dataclass(frozen=True)
class ChainTable:
    """Per-chain payment parameters as arrays indexed by chain position."""

    rate: np.ndarray          # everyday payments per payer per day
    mu: np.ndarray            # lognormal location of everyday amounts
    sigma: np.ndarray
    bill_mu: np.ndarray       # lognormal location of bill amounts
    bill_sigma: np.ndarray
    institutional: np.ndarray  # bool

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ChainTable:
        ch = [scenario.chains[c] for c in CHAINS]

        def lognormal_mu(mean: float, sigma: float) -> float:
            return np.log(mean) - sigma**2 / 2  # so that E[amount] = mean

        return cls(
            rate=np.array([c.rate_per_day for c in ch]),
            mu=np.array([lognormal_mu(c.amount_mean_yuan, c.amount_sigma) for c in ch]),
            sigma=np.array([c.amount_sigma for c in ch]),
            bill_mu=np.array([lognormal_mu(c.bill.amount_mean_yuan, c.bill.amount_sigma)
                              for c in ch]),
            bill_sigma=np.array([c.bill.amount_sigma for c in ch]),
            institutional=np.array([c.institutional for c in ch]),
        )


@dataclass
class Payments:
    """One day's payment events as flat arrays (length E)."""

    payer: np.ndarray    # customer id
    chain: np.ndarray    # chain position
    payee: np.ndarray    # payee id in the MerchantBook
    amount: np.ndarray   # yuan
    is_bill: np.ndarray  # bool: a bill or fine rather than an everyday purchase
    channel: np.ndarray | None = None   # chosen channel (set by choose_channels)
    stuck: np.ndarray | None = None     # no channel available to the payer (set by the choice)
    fallback: np.ndarray | None = None  # paid at a branch counter instead

    @property
    def size(self) -> int:
        return int(self.payer.size)


def draw_payments(day: int, pop: CustomerPopulation, book: MerchantBook, table: ChainTable,
                  bill_rate: np.ndarray, bills_due: list[np.ndarray],
                  rng: np.random.Generator) -> Payments:
    """Draw every payment event of ``day``.

    Parameters
    ----------
    bill_rate : array (12,)
        Random bills (fines) per payer per day in each chain, set by the
        billing processes.
    bills_due : list of 12 arrays
        Positions (into each chain's member list) of payers whose periodic
        bill falls due today.
    """
    pos_parts, chain_parts, bill_parts = [], [], []
    for c in range(len(CHAINS)):
        members = pop.members[c]
        if members.customers.size == 0:
            continue
        for kind, rate in ((False, table.rate[c]), (True, bill_rate[c])):
            if rate <= 0:
                continue
            start = members.seg_start
            sizes = np.diff(start)
            lam = sizes * rate * (pop.activity if not kind else 1.0)
            counts = rng.poisson(lam)
            total = int(counts.sum())
            if total == 0:
                continue
            offsets = np.repeat(start[:-1], counts)
            spans = np.repeat(sizes, counts)
            pos_parts.append(offsets + (rng.random(total) * spans).astype(np.int64))
            chain_parts.append(np.full(total, c, np.int8))
            bill_parts.append(np.full(total, kind))
        due = bills_due[c]
        if due.size:
            pos_parts.append(due.astype(np.int64))
            chain_parts.append(np.full(due.size, c, np.int8))
            bill_parts.append(np.ones(due.size, bool))
    if not pos_parts:
        empty = np.zeros(0, np.int64)
        return Payments(empty, empty.astype(np.int8), empty, np.zeros(0), empty.astype(bool))
    pos = np.concatenate(pos_parts)
    chain = np.concatenate(chain_parts)
    is_bill = np.concatenate(bill_parts)
    payer = np.empty(pos.size, np.int64)
    payee = np.empty(pos.size, np.int64)
    # Group by chain once to map member positions to customers and payees.
    order = np.argsort(chain, kind="stable")
    pos, chain, is_bill = pos[order], chain[order], is_bill[order]
    bounds = np.searchsorted(chain, np.arange(len(CHAINS) + 1))
    for c in range(len(CHAINS)):
        lo, hi = bounds[c], bounds[c + 1]
        if lo == hi:
            continue
        members = pop.members[c]
        payer[lo:hi] = members.customers[pos[lo:hi]]
        if table.institutional[c]:
            payee[lo:hi] = members.home[pos[lo:hi]]
        else:
            payee[lo:hi] = book.draw_payees(c, hi - lo, rng)
    mu = np.where(is_bill, table.bill_mu[chain], table.mu[chain])
    sigma = np.where(is_bill, table.bill_sigma[chain], table.sigma[chain])
    amount = np.exp(mu + sigma * rng.standard_normal(pos.size))
    return Payments(payer, chain, payee, amount, is_bill)


def choose_channels(pay: Payments, pop: CustomerPopulation, accepts: np.ndarray,
                    peer_share: np.ndarray, asc: np.ndarray, beta_habit: float,
                    beta_peer: float, beta_price: float, saving: np.ndarray | None,
                    rng: np.random.Generator) -> np.ndarray:
    """Pick each event's channel by multinomial logit; returns a mask of stuck events.

    Utility of channel k for payer i in chain c: V_k = asc_ck + beta_habit * h_ik
    + beta_peer * x_i [k = bank app] + beta_price * s_i * d_ek, where h is the
    habit stock, x the share of i's contacts with the app, s the price
    sensitivity and d the fraction of the amount saved (discounts); ``asc`` is
    a chain x channel table (the constants plus strategies' shifts). Only
    channels the payee accepts are available, and the bank app only to payers
    who have it; P(k) = exp(V_k) / sum over available exp(V_j).

    Events with no available channel (an exclusive payee, a payer without
    the app) are returned as "stuck"; the model resolves them (adopt or pay
    at a branch counter). ``pay.channel`` is set for the others.
    """
    n = pay.size
    v = asc[pay.chain] + beta_habit * pop.habit[pay.payer]
    v[:, BANK_APP] += beta_peer * peer_share[pay.payer]
    if saving is not None:
        v += beta_price * pop.price_sensitivity[pay.payer, None] * saving
    avail = accepts[pay.payee]
    avail[:, BANK_APP] &= pop.has_app[pay.payer]
    v[~avail] = -np.inf
    top = v.max(axis=1)
    top[~np.isfinite(top)] = 0.0  # no channel available: every weight is 0
    v -= top[:, None]             # exp of at most 0: no overflow, same probabilities
    w = np.exp(v, out=v)
    cum = np.cumsum(w, axis=1, out=w)
    total = cum[:, -1]
    u = rng.random(n) * total
    channel = (cum < u[:, None]).sum(axis=1).astype(np.int8)
    np.minimum(channel, len(CHANNELS) - 1, out=channel)
    pay.channel = channel
    return total <= 0
