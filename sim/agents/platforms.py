"""Third parties: payment platforms (WeChat Pay, Alipay) and technology partners.

A platform earns its merchant fee on the volume it acquires and defends its
share of each chain's payments. It watches the bank app's share of the
chain's payments, counted (not in yuan, so a few large payments cannot move
it) over the last ``counter_window_days`` (:class:`ShareWatch`). When that
share has risen by ``counter_rise`` over the chain's starting level, on at
least ``counter_min_payments`` payments, the platform answers after
``counter_delay_days`` with a counter-subsidy (立减): for
``counter_duration_days`` everyone who pays with it in that chain gets back
``counter_discount`` of each amount, at most ``counter_cap_yuan`` at the
chain's mean payment. The saving enters the payers' channel choice as a
price term; the money is the platform's. While the rise holds at the end of
a period, the subsidy runs another period. Each counter-move is a simpy
process, recorded as a ``counter_move`` event in ``model.events``.
"""

from __future__ import annotations

from collections.abc import Generator

import mesa
import numpy as np

from sim.scenarios.catalog import BANK_APP, CASH, CHAINS
from sim.scenarios.schema import Platform as PlatformParams

__all__ = ["PaymentPlatform", "ShareWatch", "TechPartner"]


class PaymentPlatform(mesa.Agent):
    """A third-party payment platform (a ``mesa.Agent``)."""

    def __init__(self, model: mesa.Model, name: str, channel: int, acquirer: int,
                 params: PlatformParams):
        super().__init__(model)
        self.name = name
        self.channel = channel
        self.acquirer = acquirer
        self.params = params
        self.fee_revenue = 0.0       # yuan earned from merchants it acquires
        self.subsidy_spent = 0.0     # yuan paid to payers in counter-moves
        self.counter_moves: list[tuple[str, int, int]] = []  # (chain, start day, end day)
        self.watch = ShareWatch(params.counter_window_days, params.counter_min_payments)
        self._busy = np.zeros(len(CHAINS), bool)  # a counter-move pending or running

    def settle(self, day: int, pay) -> None:
        """Book the day's money (``pay`` tallied), yuan: its ``fee_rate`` on the non-cash
        receipts of payees it acquires, the bank's ``wallet_leg_cost_rate`` on its
        wallet's receipts at bank-acquired payees, and its counter-subsidies paid."""
        book = self.model.merchants
        receipts = pay.channel_receipts  # masked sums, not a BLAS product (see Bank.acquiring)
        own = receipts[book.acquirer == self.acquirer, :CASH].sum()
        leg = receipts[book.on_bank(), self.channel].sum()
        self.fee_revenue += (float(own) * self.params.fee_rate
                             + float(leg) * self.model.params.bank.wallet_leg_cost_rate)
        discount = self.model.price_discount[:, self.channel]
        self.subsidy_spent += float((discount * pay.chain_volume[:, self.channel]).sum())

    def observe(self, day: int, chain_count: np.ndarray, chain_volume: np.ndarray) -> None:
        """Count the day's payments (chain x channel: payments and yuan) and start a
        counter-move in every chain where the bank app's share has risen enough."""
        self.watch.add(day, chain_count, chain_volume)
        p = self.params
        if not p.counter_enabled:
            return
        for c in np.flatnonzero((self.watch.rise() >= p.counter_rise) & ~self._busy):
            self._busy[c] = True
            self.model.clock.process(self._counter_move(int(c)))

    def _counter_move(self, chain: int) -> Generator:
        """Wait ``counter_delay_days``, then subsidise payments with the platform in
        ``chain`` one period at a time while the bank's rise holds."""
        p = self.params
        env = self.model.clock.env
        yield env.timeout(p.counter_delay_days)
        while True:
            start = int(env.now)
            mean_amount = self.watch.mean_amount()[chain]
            discount = min(p.counter_discount, p.counter_cap_yuan / mean_amount)
            self.model.price_discount[chain, self.channel] = discount
            self.model.event_log.record(start, self.name, "counter_move", 1, CHAINS[chain])
            yield env.timeout(p.counter_duration_days)
            self.model.price_discount[chain, self.channel] = 0.0
            self.counter_moves.append((CHAINS[chain], start, int(env.now)))
            if self.watch.rise()[chain] < p.counter_rise:
                break
        self._busy[chain] = False


class ShareWatch:
    """The bank app's share of each chain's payments, as a platform counts it.

    Parameters
    ----------
    window_days : int
        Length W of the rolling window, days.
    min_payments : int
        Payments a chain needs, in the window and in its starting level, to be
        measured at all.

    Notes
    -----
    With ``n_c(u)`` the payments in chain c on day u and ``a_c(u)`` those made
    with the bank app, the share over the window ending on day t is
    ``s_c(t) = sum a_c(u) / sum n_c(u)``, u in (t - W, t]. The chain's starting
    level ``b_c`` is the same ratio summed from day 0 until the chain has had
    ``min_payments`` payments, then frozen. The rise is ``s_c(t) - b_c`` when
    both rest on at least ``min_payments`` payments, else 0. Payments are
    counted, not weighed in yuan: a handful of large payments (real estate)
    moves the share by a handful over thousands.
    """

    def __init__(self, window_days: int, min_payments: int):
        self.window_days = window_days
        self.min_payments = min_payments
        n = len(CHAINS)
        # Payments at the city's scale (a simulated one stands for customers / agents).
        self._app = np.zeros((window_days, n))    # bank-app payments, by day slot
        self._all = np.zeros((window_days, n))    # all payments
        self._yuan = np.zeros((window_days, n))   # all yuan paid
        self._start = np.zeros((2, n))            # starting level: app, all payments

    def add(self, day: int, chain_count: np.ndarray, chain_volume: np.ndarray) -> None:
        """Add day ``day``'s payments (chain x channel counts and yuan)."""
        slot = day % self.window_days
        self._app[slot] = chain_count[:, BANK_APP]
        self._all[slot] = chain_count.sum(axis=1)
        self._yuan[slot] = chain_volume.sum(axis=1)
        counting = self._start[1] < self.min_payments
        self._start[0, counting] += self._app[slot, counting]
        self._start[1, counting] += self._all[slot, counting]

    def payments(self) -> np.ndarray:
        """Payments per chain in the window."""
        return self._all.sum(axis=0)

    def share(self) -> np.ndarray:
        """``s_c(t)``: the bank app's share of each chain's payments in the window
        (0 for a chain without payments)."""
        total = self.payments()
        return np.divide(self._app.sum(axis=0), total, out=np.zeros(total.size),
                         where=total > 0)

    def rise(self) -> np.ndarray:
        """``s_c(t) - b_c`` per chain (0 where fewer than ``min_payments`` back it)."""
        ok = (self.payments() >= self.min_payments) & (self._start[1] >= self.min_payments)
        start = np.divide(self._start[0], self._start[1], out=np.zeros(ok.size), where=ok)
        return np.where(ok, self.share() - start, 0.0)

    def mean_amount(self) -> np.ndarray:
        """Mean payment per chain over the window, yuan (inf where none)."""
        total = self.payments()
        return np.divide(self._yuan.sum(axis=0), total, out=np.full(total.size, np.inf),
                         where=total > 0)


class TechPartner(mesa.Agent):
    """A technology partner that builds scenario software (smart campus, canteen)
    for the bank and is paid a development fee per institution."""

    def __init__(self, model: mesa.Model, name: str = "tech_partner"):
        super().__init__(model)
        self.name = name
        self.revenue = 0.0  # yuan received from the bank
