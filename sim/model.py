"""EcosystemModel: the bank's scenario ecosystem as a Mesa model on a simpy clock.

``EcosystemModel("city", seed=0).run(365)`` returns the daily KPI table.
The many (customers, payees) are arrays stepped with numpy; the few (bank,
platforms, technology partner) are ``mesa.Agent``s. One day's step runs the
verbs below in order; docs/MODEL.md gives each its equation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from sim.agents.bank import Bank
from sim.agents.platforms import PaymentPlatform, TechPartner
from sim.billing import BillBook
from sim.calendar import Clock
from sim.config import ConfigError, Options
from sim.engine import VectorizedEngine
from sim.events import EventLog
from sim.ledger import Ledger
from sim.metrics import KPI_NAMES, MAU_WINDOW_DAYS, RETENTION_DAYS, MetricsCollector
from sim.payments import Payments, Saving
from sim.rng import Streams
from sim.scenarios import load_scenario
from sim.scenarios.catalog import (
    ACQ_ALIPAY,
    ACQ_WECHAT,
    ALIPAY,
    BANK_APP,
    CASH,
    CHAINS,
    CHANNELS,
    WECHAT,
)
from sim.scenarios.schema import Scenario
from sim.world import build_world, ecosystem_graph

__all__ = ["EcosystemModel"]

log = logging.getLogger(__name__)

VOLUME_EMA_DAYS = 7.0  # ecosystem_state reports a 7-day moving average of chain volumes
ENGINES = ("vectorized", "reference")


def _kpi_reporter(name: str):
    """A Mesa model reporter giving KPI ``name`` of the day just simulated."""
    return lambda model: model.metrics.latest(name)


class EcosystemModel(mesa.Model):
    """A simulated city: customers, payees, the bank, platforms and partners.

    Parameters
    ----------
    scenario : str, path or Scenario, default "city"
        A shipped scenario name, a TOML file, or a built Scenario.
    seed : int, default 0
        Seeds every named random stream; the same seed gives the same output.
    overrides : mapping, optional
        Dotted scenario keys to replace, e.g. ``{"population.customers": 20000}``.
    strategies : sequence of dict or Strategy, optional
        Levers the bank pulls (see :mod:`sim.strategies`), TOML-like dicts
        (``{"kind": "fee_waiver", ...}``) or strategy objects.
    engine : {"vectorized", "reference"}
        Which implementation of the customer rules to step: whole arrays
        (fast, the default) or one ``mesa.Agent`` per customer
        (``sim/agents/reference.py``: slow, obvious, a cross-check).

    Attributes
    ----------
    params : Scenario
        The validated scenario parameters in use (not ``scenario``: Mesa 3.5's
        ``Model`` owns that name for its own Scenario class).

    Raises
    ------
    ConfigError
        For an unknown scenario key, a bad value or a bad strategy parameter.
    """

    def __init__(self, scenario: str | Scenario = "city", seed: int = 0,
                 overrides: Mapping[str, Any] | None = None,
                 strategies: Sequence[Any] = (), engine: str = "vectorized"):
        streams = Streams(seed)  # validates the seed before Mesa sees it
        super().__init__(rng=int(seed))  # Mesa 3.5 seeds random.Random: a plain int
        if engine not in ENGINES:
            raise ConfigError("engine", engine, Options(ENGINES).describe())
        self.params: Scenario = load_scenario(scenario, overrides)
        self.seed = seed
        self.streams = streams
        self.world = build_world(self.params, self.streams)
        self.customers = self.world.customers
        self.merchants = self.world.merchants
        self.ledger_book = Ledger()
        self.metrics = MetricsCollector()
        self.datacollector = mesa.DataCollector(model_reporters={
            name: _kpi_reporter(name) for name in KPI_NAMES})
        self.clock = Clock(self._simulate_day)
        self.bank = Bank(self, self.params.bank)
        sp = self.params.platforms
        self.platforms = [
            PaymentPlatform(self, "wechat_pay", WECHAT, ACQ_WECHAT, sp.wechat_pay),
            PaymentPlatform(self, "alipay", ALIPAY, ACQ_ALIPAY, sp.alipay),
        ]
        self.partner = TechPartner(self)
        self.engine = self._make_engine(engine)
        self.billing = BillBook(self.params, [m.customers.size for m in self.customers.members],
                                self.clock, self.streams.daily)
        # Fraction of the amount a payer saves, per chain and channel (platform
        # counter-subsidies and chain-wide bank discounts); strategies add more.
        self.price_discount = np.zeros((len(CHAINS), len(CHANNELS)))
        # Utility added to a channel in a chain (omnichannel deployment lowers friction).
        self.utility_shift = np.zeros((len(CHAINS), len(CHANNELS)))
        self.refused_genuine = 0  # today's genuine claims refused by risk control
        self._chain_volume_ema = np.zeros((len(CHAINS), len(CHANNELS)))
        self.event_log = EventLog()
        from sim.strategies import labels_for, make_strategies, stream_names_for

        self.strategies = make_strategies(strategies)
        for strategy, label, stream in zip(self.strategies, labels_for(self.strategies),
                                           stream_names_for(self.strategies), strict=True):
            strategy.stream_name_ = stream
            strategy.attach(self, label)

    def _make_engine(self, engine: str):
        if engine == "reference":
            from sim.agents.reference import ReferenceEngine

            return ReferenceEngine(self)
        return VectorizedEngine(self)

    # ---------------------------------------------------------------- public
    @property
    def day(self) -> int:
        """The day being simulated (or next to be simulated)."""
        return self.clock.today

    def run(self, days: int, progress: bool = False) -> pd.DataFrame:
        """Simulate ``days`` more days and return the KPI table so far.

        Rows are indexed by ``day`` (0 = first simulated day); row t is the
        state at the end of day t (stocks) or what happened during it (flows).
        """
        if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 0:
            raise ConfigError("days", days, "an integer >= 0")
        if progress:
            from tqdm import tqdm

            for _ in tqdm(range(days), desc="days", unit="day"):
                self.step()
        else:
            for _ in range(days):
                self.step()
        return self.kpis

    def step(self) -> None:
        """Simulate exactly one more day, as ``run(1)`` does (Mesa's contract: Mesa
        counts ``steps``; ``datacollector`` holds one row of KPIs per day)."""
        self.clock.run(1)
        self.datacollector.collect(self)

    @property
    def kpis(self) -> pd.DataFrame:
        return self.metrics.frame()

    @property
    def ledger(self) -> pd.DataFrame:
        """Tidy ledger: columns day, cause, kind, amount (yuan; income > 0, cost < 0)."""
        return self.ledger_book.frame(self.metrics.days)

    @property
    def events(self) -> pd.DataFrame:
        """Strategy events: columns day, strategy, event, count, detail (sim/events.py)."""
        return self.event_log.frame()

    @property
    def graph(self) -> nx.Graph:
        """The ecosystem graph in its current state (see :func:`sim.world.ecosystem_graph`)."""
        return ecosystem_graph(self.world)

    def ecosystem_state(self) -> pd.DataFrame:
        """Who carries each chain's flow now: one row per chain with its daily volume
        by channel (7-day moving average, yuan) and its payees by acquirer."""
        from sim.scenarios.catalog import ACQUIRERS, CHAIN_CATEGORY

        book = self.merchants
        counts = np.zeros((len(CHAINS), len(ACQUIRERS)), np.int64)
        np.add.at(counts, (book.chain.astype(np.int64), book.acquirer.astype(np.int64)), 1)
        rows = []
        for c, chain in enumerate(CHAINS):
            row = {"chain": chain, "category": CHAIN_CATEGORY[chain]}
            row.update({f"volume_{ch}": float(self._chain_volume_ema[c, k])
                        for k, ch in enumerate(CHANNELS)})
            row.update({f"payees_{a}": int(counts[c, k]) for k, a in enumerate(ACQUIRERS)})
            rows.append(row)
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------- the day
    def _simulate_day(self) -> None:
        """Simulate one day (called by the clock once a day): the verbs in order."""
        day = self.clock.today
        self._each_strategy("mark_window", day)
        peer_share = self.engine.peer_share()
        self._adopt(day, peer_share)
        self._each_strategy("before_payments", day)
        pay = self._pay(day, peer_share)
        self._each_strategy("route_payments", day, pay)
        self._each_strategy("after_payments", day, pay)
        flows = self._settle(day, pay)
        self.engine.end_day(day, pay, self.streams)
        self._review_merchants(day)
        self._watch_chain_shares(day, pay)
        self._record(day, pay, flows)

    def _each_strategy(self, hook: str, *args) -> None:
        for strategy in self.strategies:
            getattr(strategy, hook)(*args)

    def _adopt(self, day: int, peer_share: np.ndarray) -> None:
        """App adoption: p_i = p * digital_i + q * x_i + push_i (Bass-type hazard); the
        population counts the installs (``new_app_users``)."""
        push = None
        for s in self.strategies:
            extra = s.adoption_push(day)
            if extra is not None:
                push = extra if push is None else push + extra
        self.engine.adopt(day, peer_share, push, self.streams.daily("customers.adoption", day))

    def _pay(self, day: int, peer_share: np.ndarray) -> Payments:
        """Draw the day's payments, choose their channels (payers stuck at a bank-only
        payee install the app or pay at a counter) and tally them."""
        rng = self.streams.daily("customers.payments", day)
        pay = self.engine.draw(day, rng)
        saving = self._saving(day, pay)
        asc = np.array(self.params.channels.asc.as_tuple()) + self.utility_shift
        pay.stuck = self.engine.choose(pay, self.merchants.accepts(day), peer_share, asc, saving,
                                       rng)
        self.engine.resolve_stuck(day, pay, self.streams.daily("customers.need", day))
        pay.tally(self.merchants.n, self.customers.scale)
        return pay

    def _saving(self, day: int, pay: Payments) -> Saving | None:
        """Fractions of the amounts saved: per chain and channel (counter-subsidies,
        chain-wide discounts) and per event on each strategy's ``saving_channel``
        (its offers: the bank app for promotions, the card for a card discount);
        None if no offer runs."""
        offers: dict[int, np.ndarray] = {}
        for s in self.strategies:
            extra = s.saving(day, pay)
            if extra is not None:
                k = s.saving_channel
                offers[k] = extra if k not in offers else offers[k] + extra
        if not offers and not self.price_discount.any():
            return None
        return Saving.collect(self.price_discount, offers)

    def _settle(self, day: int, pay: Payments) -> dict[str, Any]:
        """Route the day's money: the bank settles its payees' receipts (fees net of
        the wallet and card legs, corporate deposits), each platform books its own."""
        if day == 0:
            self._set_day0_references(pay.chain_volume)
        acquiring = self.bank.settle(day, pay)
        for platform in self.platforms:
            platform.settle(day, pay)
        on_bank = self.merchants.on_bank()
        return {"volume": pay.chain_volume.sum(axis=0),
                "bank_volume": float(pay.channel_receipts[on_bank, :CASH].sum()),
                "fee": float(acquiring.income.sum()), "leg_cost": float(acquiring.leg_cost.sum())}

    @staticmethod
    def _bank_share(chain_volume: np.ndarray) -> np.ndarray:
        """The bank app's share of each chain's volume (0 for a chain with none)."""
        total = chain_volume.sum(axis=1)
        return np.divide(chain_volume[:, BANK_APP], total, out=np.zeros(len(CHAINS)),
                         where=total > 0)

    def _set_day0_references(self, chain_volume: np.ndarray) -> None:
        """Day 0's bank-app share of each chain's volume: the level at which the
        demand term of merchants' reviews is zero (their calibration point); the
        payees' bank-app and non-cash averages start at their chain's day-0 shares."""
        ref = self._bank_share(chain_volume)
        book = self.merchants
        book.demand_ref = ref
        book.bank_app_ema = book.receipts_ema * ref[book.chain]
        total = chain_volume.sum(axis=1)
        noncash = np.divide(total - chain_volume[:, CASH], total, out=np.ones(len(CHAINS)),
                            where=total > 0)
        book.noncash_ema = book.receipts_ema * noncash[book.chain]

    def _review_merchants(self, day: int) -> None:
        """Terms that reach their end day end; payees due review their acquirer."""
        self.merchants.review(day, self.params.merchants,
                              self.streams.daily("merchants.review", day))

    def screen_claims(self, day: int, abusive: np.ndarray) -> np.ndarray:
        """Pass promotion claims through every active risk control; returns approved.

        ``abusive`` marks claims by bonus hunters (hidden from the bank; the
        screen catches them with its detection rate and wrongly refuses a
        share of genuine ones).
        """
        approved = np.ones(abusive.size, bool)
        for s in self.strategies:
            verdict = s.screen(day, abusive) if s.active(day) else None
            if verdict is not None:
                approved &= verdict
        self.refused_genuine += int((~approved & ~abusive).sum())
        return approved

    def _watch_chain_shares(self, day: int, pay: Payments) -> None:
        """Platforms count the day's payments by chain and channel and may answer a
        rise of the bank app's share (sim/agents/platforms.py); the 7-day moving
        average of chain volumes is kept for :meth:`ecosystem_state`."""
        if day == 0:
            self._chain_volume_ema = pay.chain_volume.copy()
        else:
            self._chain_volume_ema += (pay.chain_volume - self._chain_volume_ema) / VOLUME_EMA_DAYS
        for platform in self.platforms:
            platform.observe(day, pay.chain_count, pay.chain_volume)

    def _record(self, day: int, pay: Payments, flows: dict[str, Any]) -> None:
        """Write the day's KPIs at the city's scale: what the simulated customers hold
        and do is multiplied by ``customers.scale``; payees and money tallied from
        payments are at that scale already."""
        pop, book = self.customers, self.merchants
        per_customer = {
            **pop.census(day, MAU_WINDOW_DAYS, RETENTION_DAYS),
            **pop.take_counts(),
            "customers": pop.n,
            "payments": pay.size,
            "fallback_payments": int(pay.fallback.sum()),
            "claims_refused_genuine": self.refused_genuine,
        }
        retail, retail_new = pop.retail_deposits()
        per_customer.update(retail_deposits=retail, retail_deposits_new_accounts=retail_new)
        city = {name: value * pop.scale for name, value in per_customer.items()}
        self.refused_genuine = 0
        corporate = float(book.balance.sum())
        balance_sheet = self.bank.book_balance_sheet(day, city["retail_deposits"], corporate,
                                                     city["credit_cards"], city["accounts"])
        ledger = self.ledger_book
        spend = 0.0 - (ledger.day_total(day, "strategy") + ledger.day_total(day, "abuse"))
        volume = flows["volume"]
        self.metrics.record(day, {
            **city,
            **balance_sheet,
            "corporate_deposits": corporate,
            "merchants_on_bank": int(book.on_bank().sum()),
            **{f"volume_{ch}": float(volume[k]) for k, ch in enumerate(CHANNELS)},
            "volume_bank_acquired": flows["bank_volume"],
            "fee_income": flows["fee"],
            "acquiring_cost": flows["leg_cost"],
            "strategy_spend": spend,
            "abuse_loss": 0.0 - ledger.day_total(day, "abuse"),
            "net_contribution": ledger.day_total(day),
        })
