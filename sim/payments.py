"""The day's payments: who pays whom how much, and through which channel.

This is the hot path. The per-event loops are compiled kernels
(``sim/kernels.py``); this module prepares their inputs from the population,
the payees and the day's random streams, and holds the day's events.

Counts. A payer of chain c in segment s makes everyday payments at rate
``rate_c * rel_activity_s`` per day and pays random bills (fines) at the
chain's bill rate, each an independent Poisson process; :class:`PaymentDraw`
draws them customer by customer (docs/MODEL.md, "Payments"). Periodic bills
are paid exactly once per payer, on a day drawn when the bill is issued
(billing.py).

Channel choice. Multinomial logit over the channels the payee accepts
(docs/MODEL.md, "Channel choice").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.customers import CustomerPopulation
from sim.agents.merchants import MerchantBook
from sim.config import ConfigError
from sim.kernels import (
    choose_logit,
    fill_events,
    own_weights,
    payers_of,
    poisson_by_inversion,
    tally,
)
from sim.parallel import map_parts, parts
from sim.scenarios.catalog import BANK_APP, CHAINS, CHANNELS
from sim.scenarios.schema import Scenario

__all__ = ["ChainTable", "Payments", "PaymentDraw", "Saving", "choose_channels"]

# Cap on each part of a utility before exp(): a guard against float32
# overflow for absurd parameters, far above any utility the calibrated model
# produces (a saved fraction is at most 1).
EXP_CAP = 25.0


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
    in_order: int = 0    # the first in_order events come in ascending payer order
    channel: np.ndarray | None = None   # chosen channel (set by choose_channels)
    stuck: np.ndarray | None = None     # no channel available to the payer (set by the choice)
    fallback: np.ndarray | None = None  # paid at a branch counter instead
    # Totals once channels are final (set by ``tally``), yuan:
    chain_volume: np.ndarray | None = None      # chain x channel
    channel_receipts: np.ndarray | None = None  # payee x channel
    receipts: np.ndarray | None = None          # per payee, every channel
    chain_count: np.ndarray | None = None       # payments (not yuan), chain x channel

    @property
    def size(self) -> int:
        return int(self.payer.size)

    def tally(self, n_payees: int, scale: float = 1.0) -> None:
        """Sum the day's yuan by chain x channel and by payee x channel, and count the
        payments by chain x channel (channels must be final), at the city's scale: each
        simulated event stands for ``scale`` real ones (customers / agents). A payee's
        receipts follow from its row.

        Each fixed part of the events is summed on its own (in parallel), then the
        parts are added in order: the same bytes on one thread or two."""
        parts_sums = map_parts(lambda a, b: tally(
            self.chain[a:b], self.channel[a:b], self.payee[a:b], self.amount[a:b], len(CHAINS),
            n_payees), self.size)
        self.chain_volume, self.channel_receipts, self.chain_count = (
            sum(arrays[1:], arrays[0]) for arrays in zip(*parts_sums, strict=True))
        if scale != 1.0:
            self.chain_volume *= scale
            self.channel_receipts *= scale
            self.chain_count = self.chain_count * scale
        self.receipts = self.channel_receipts.sum(axis=1)


@dataclass
class Saving:
    """Fractions of the day's amounts a payer saves, by channel: per chain
    (``by_chain``, chain x channel: platform counter-subsidies, chain-wide
    discounts) plus per event (``by_event``, E x S float32, or None:
    strategies' offers), column s on channel ``event_channel[s]`` (the bank
    app for promotions, the card for a card discount). Capped at 1: never
    more than the amount."""

    by_chain: np.ndarray            # float32
    by_event: np.ndarray | None     # float32, E x S
    event_channel: tuple[int, ...] = ()

    @classmethod
    def collect(cls, by_chain: np.ndarray, offers: dict[int, np.ndarray]) -> Saving:
        """``offers`` maps a channel to its per-event savings (length E)."""
        channels = tuple(sorted(offers))
        by_event = (np.stack([offers[k] for k in channels], axis=1).astype(np.float32)
                    if channels else None)
        return cls(by_chain.astype(np.float32), by_event, channels)

    def row(self, e: int, chain: int) -> list[float]:
        """Event e's saving on each channel."""
        row = self.by_chain[chain].copy()
        for s, k in enumerate(self.event_channel):
            row[k] += self.by_event[e, s]
        return np.minimum(row, np.float32(1.0)).tolist()


class PaymentDraw:
    """Draws each day's payment events of one population, in customer order.

    Customer i's payment count is Poisson(lambda_i), where lambda_i sums the
    rates of its memberships: ``rate_c * rel_activity_s`` everyday payments and
    ``bill_rate_c`` random bills per chain it belongs to. Each event then picks
    one membership and kind in proportion to its rate. By Poisson
    superposition and thinning this is exactly an independent Poisson count
    per membership and kind; it visits each customer once, so all per-customer
    reads are one sequential sweep. Periodic bills due today follow as a block
    of their own.

    The customers are cut into fixed parts (:mod:`sim.parallel`); each part
    draws its counts and events from its own stream, spawned from the day's,
    on one of up to two threads.
    """

    def __init__(self, pop: CustomerPopulation, book: MerchantBook, table: ChainTable):
        self.pop, self.book, self.table = pop, book, table
        customer = np.concatenate([m.customers for m in pop.members])  # int32
        chain = np.concatenate([np.full(m.customers.size, c, np.int8)
                                for c, m in enumerate(pop.members)])
        home = np.concatenate([m.home for m in pop.members])  # int32
        order = np.lexsort((chain, customer))  # by customer, then chain
        self.member_chain = chain[order]
        self.member_home = home[order]
        self.member_customer = customer[order]
        self.ptr = np.concatenate([[0], np.cumsum(np.bincount(customer, minlength=pop.n))])
        # Lognormal parameters by chain x kind (column 1: bills), for the event pass.
        self.mu = np.stack([table.mu, table.bill_mu], axis=1)
        self.sigma = np.stack([table.sigma, table.bill_sigma], axis=1)
        self._rates_key: bytes | None = None

    def _rates(self, bill_rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-day rates by chain x segment (everyday) and chain (bills); refreshes
        lambda_i and exp(-lambda_i) when they change."""
        everyday = np.outer(self.table.rate, self.pop.activity)
        bills = np.maximum(bill_rate, 0.0)
        key = everyday.tobytes() + bills.tobytes()
        if key != self._rates_key:
            seg = self.pop.segment[self.member_customer]
            per_member = everyday[self.member_chain, seg] + bills[self.member_chain]
            self.lam = np.bincount(self.member_customer, weights=per_member,
                                   minlength=self.pop.n)
            if self.lam.max(initial=0.0) >= 700:  # exp(-lambda) would underflow
                raise ConfigError("chains.*.rate_per_day", round(float(self.lam.max())),
                                  "rates whose sum over a customer's chains (times "
                                  "rel_activity, plus bill rates) stays below 700 a day")
            self.p_zero = np.exp(-self.lam)
            running = np.cumsum(per_member)
            before = np.concatenate([[0.0], running])[self.ptr[:-1]]
            self.member_cum = (running - np.repeat(before, np.diff(self.ptr))).astype(np.float32)
            self._rates_key = key
        return everyday, bills

    def draw(self, bill_rate: np.ndarray, bills_due: list[np.ndarray],
             rng: np.random.Generator) -> Payments:
        """Draw every payment event of a day.

        Parameters
        ----------
        bill_rate : array (12,)
            Random bills (fines) per payer per day in each chain, set by the
            billing processes.
        bills_due : list of 12 arrays
            Positions (into each chain's member list) of payers whose periodic
            bill falls due today.
        """
        everyday, bills = self._rates(bill_rate)
        n = self.pop.n
        counts = np.empty(n, np.int32)

        def count(stream: np.random.Generator, a: int, b: int) -> int:
            bits = stream.bit_generator.random_raw(b - a)
            poisson_by_inversion(self.lam[a:b], self.p_zero[a:b], bits, counts[a:b])
            return int(counts[a:b].sum(dtype=np.int64))

        per_part = map_parts(count, n, rng)  # customers in fixed parts, each its own stream
        starts = np.cumsum([0, *per_part]).tolist()
        # keyed by the whole part: with fewer customers than parts, two parts start at 0
        events_of = {ab: slice(starts[k], starts[k + 1]) for k, ab in enumerate(parts(n))}
        n_poisson = starts[-1]
        n_due = sum(int(d.size) for d in bills_due)
        size = n_poisson + n_due
        pay = Payments(np.empty(size, np.int64), np.empty(size, np.int8),
                       np.empty(size, np.int64), np.empty(size), np.empty(size, bool),
                       in_order=n_poisson)
        r_everyday = everyday.astype(np.float32)

        def fill(stream: np.random.Generator, a: int, b: int) -> None:
            events = events_of[a, b]
            payers_of(counts[a:b], a, pay.payer[events])
            n_events = events.stop - events.start
            fill_events(pay.payer[events], self.lam, self.ptr, self.member_cum,
                        self.member_chain, self.member_home, self.pop.segment, r_everyday,
                        stream.bit_generator.random_raw(n_events),
                        stream.standard_normal(n_events, dtype=np.float32), self.mu, self.sigma,
                        self.book.alias_prob, self.book.alias_to, self.book.chain_start,
                        pay.chain[events], pay.payee[events], pay.amount[events],
                        pay.is_bill[events])
            np.exp(pay.amount[events], out=pay.amount[events])

        map_parts(fill, n, rng)
        t = self.table
        at = n_poisson
        for c, pos in enumerate(bills_due):
            if pos.size == 0:
                continue
            block = slice(at, at + pos.size)
            members = self.pop.members[c]
            pay.payer[block] = members.customers[pos]
            pay.chain[block] = c
            pay.payee[block] = (members.home[pos] if t.institutional[c]
                                else self.book.draw_payees(c, pos.size, rng))
            pay.amount[block] = np.exp(t.bill_mu[c] + t.bill_sigma[c]
                                       * rng.standard_normal(pos.size))
            pay.is_bill[block] = True
            at += pos.size
        return pay


def choose_channels(pay: Payments, pop: CustomerPopulation, accepts: np.ndarray,
                    payee_chain: np.ndarray, peer_share: np.ndarray, asc: np.ndarray,
                    beta_habit: float, beta_peer: float, beta_price: float,
                    saving: Saving | None, rng: np.random.Generator) -> np.ndarray:
    """Pick each event's channel by multinomial logit; returns a mask of stuck events.

    Utility of channel k for payer i in chain c: V_k = asc_ck + beta_habit * h_ik
    + beta_peer * x_i [k = bank app] + beta_price * s_i * d_ek, where h is the
    habit stock, x the share of i's contacts with the app, s the price
    sensitivity and d the fraction of the amount saved (discounts); ``asc`` is
    a chain x channel table (the constants plus strategies' shifts). Only
    channels the payee accepts are available (``accepts`` is channel x payee,
    ``payee_chain`` each payee's chain), and the bank app only to payers who
    have it and have not abandoned it;
    P(k) = exp(V_k) / sum over available exp(V_j), drawn by inverse CDF with
    one uniform per event (kernel: :func:`sim.kernels.choose_logit`).

    Events with no available channel (an exclusive payee, a payer without
    the app) are returned as "stuck"; the model resolves them (adopt or pay
    at a branch counter). ``pay.channel`` is set for the others.
    """
    own, usable = np.empty_like(pop.habit), pop.has_app & ~pop.abandoned
    map_parts(lambda a, b: own_weights(pop.habit[a:b], peer_share[a:b], usable[a:b],
                                       np.float32(beta_habit), np.float32(beta_peer),
                                       np.float32(EXP_CAP), BANK_APP, own[a:b]), pop.n)
    no_offer = np.zeros((0, 1), np.float32)  # the kernel then skips the price term
    by_chain = no_offer.reshape(0, len(CHANNELS)) if saving is None else saving.by_chain
    by_event = no_offer if saving is None or saving.by_event is None else saving.by_event
    offer_channel = np.array(() if saving is None else saving.event_channel, np.int64)
    price = (np.zeros(0, np.float32) if saving is None
             else np.float32(beta_price) * pop.price_sensitivity)
    payee_weight = (np.exp(np.minimum(asc, EXP_CAP))[payee_chain] * accepts.T).astype(np.float32)
    pay.channel, stuck = np.zeros(pay.size, np.int8), np.zeros(pay.size, bool)

    def choose(stream: np.random.Generator, a: int, b: int) -> None:
        choose_logit(pay.payer[a:b], pay.chain[a:b], pay.payee[a:b],
                     stream.bit_generator.random_raw(b - a), payee_weight, own, by_chain,
                     by_event[a:b] if by_event.size else by_event, offer_channel, price,
                     np.float32(EXP_CAP), pay.channel[a:b], stuck[a:b])

    map_parts(choose, pay.size, rng)  # events in fixed parts, each its own stream
    return stuck
