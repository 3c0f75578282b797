"""The one small interface every lever shares.

A strategy is built from keyword parameters (the TOML table of an experiment
file, minus ``kind``), which it stores as given after checking them against
its declared constraints with :func:`sim.config.build`'s message template.
``get_params()`` returns them so the runner can record exactly what ran.
Runtime state ends in ``_``. The model calls, in a day's order:

- ``attach(model, label)`` once: bind, draw targets, start simpy processes;
- ``adoption_push(day)``: extra install probability per customer (marketing);
- ``before_payments(day)``: change contracts, acceptance, invite friends;
- ``saving(day, payments)``: fraction of each amount saved by paying with the
  lever's ``saving_channel`` (the bank app unless it says otherwise), or None;
- ``route_payments(day, payments)``: move chosen payments onto another channel
  under a contract with the payer (auto-debit), before any lever reads them;
- ``after_payments(day, payments)``: pay rewards, book costs;
- ``screen(day, abusive)``: (risk controls only) approve or refuse claims.

Milestones go to the model's event log through :meth:`Strategy.event`
(vocabulary in :mod:`sim.events`); the first time a spend is cut short by the
budget, ``budget_exhausted`` is recorded. Random numbers come from
:meth:`Strategy.stream`, named after the kind and its occurrence among
strategies of that kind, never after the label: a cosmetic ``name`` does not
change them, and the same lever in two variants shares its numbers.

Every yuan goes through :meth:`Strategy.spend` (or :meth:`Strategy.afford`
for per-event payouts), which books it in the ledger under
``"<label>:<cause>"`` and never lets the total exceed ``budget``.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from sim.agents.merchants import payee_counts
from sim.config import ConfigError, Options
from sim.scenarios.catalog import BANK_APP, CHAINS
from sim.strategies.params import COMMON, REQUIRED, Param, check_param

__all__ = ["Strategy", "register", "STRATEGY_KINDS", "make_strategies", "labels_for",
           "stream_names_for"]

STRATEGY_KINDS: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator adding a strategy kind to :data:`STRATEGY_KINDS`."""
    STRATEGY_KINDS[cls.kind] = cls
    return cls


class Strategy:
    """Base class of the levers; see the module docstring for the life cycle."""

    kind: ClassVar[str] = ""
    parameters: ClassVar[dict[str, Param]] = {}
    # Parameters counting real payees -> the parameter naming their chain, e.g.
    # {"institutions": "chain"}: check_world refuses more than the chain has.
    payee_count_params: ClassVar[dict[str, str]] = {}
    # The channel whose price ``saving`` lowers (a column of sim.scenarios.catalog.CHANNELS).
    saving_channel: ClassVar[int] = BANK_APP
    # What its ``chain`` must be: "institutional" (payers have one payee), "open", or either.
    chain_kind: ClassVar[str | None] = None

    def __init__(self, _path: str = "", **params: Any):
        self._path = _path or self.kind
        declared = self.declared_parameters()
        for key in params:
            if key not in declared:
                raise ConfigError(f"{self._path}.{key}", params[key],
                                  f"a parameter of {self.kind} (one of "
                                  + ", ".join(sorted(declared)) + ")")
        self._params: dict[str, Any] = {}
        for key, spec in declared.items():
            value = params.get(key, spec.default)
            if value is REQUIRED:
                raise ConfigError(f"{self._path}.{key}", None, "given (required)")
            value = check_param(value, spec, f"{self._path}.{key}")
            self._params[key] = value
        self.validate()

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @classmethod
    def declared_parameters(cls) -> MappingProxyType:
        """Every parameter the kind accepts, common ones first: name -> :class:`Param`
        (read-only; the same declarations ``__init__`` validates against)."""
        return MappingProxyType({**COMMON, **cls.parameters})

    def get_params(self) -> dict[str, Any]:
        """The parameters as given (defaults filled in), with ``kind``."""
        return {"kind": self.kind, **self._params}

    def validate(self) -> None:
        """Cross-parameter checks; subclasses extend."""

    # ------------------------------------------------------------- targeting
    def check_world(self, scenario, days: int | None = None) -> None:
        """Checks against the city the lever will act in (and the horizon, if known):
        the segments it names exist; its chain is of its ``chain_kind``; the payees it
        counts (``payee_count_params``) are no more than its chain has; it starts before
        the horizon. Raises ConfigError.
        The model calls this when attaching; experiment validation calls it for every
        cell, so a file that validates runs. Subclasses extend."""
        known = tuple(scenario.segments)
        for name in self._params.get("segments") or ():
            if name not in known:
                raise self.error("segments", name, Options(known).describe())
        if self.chain_kind is not None:
            institutional = self.chain_kind == "institutional"
            if scenario.chains[self.chain].institutional != institutional:
                kind = ("an institutional chain (payers have one payee)" if institutional
                        else "an open chain (payers choose their payee)")
                fitting = [c for c in CHAINS if scenario.chains[c].institutional == institutional]
                raise self.error("chain", self.chain, f"{kind}: one of " + ", ".join(fitting))
        for field, chain in self.payee_count_params.items():
            self.check_payee_count(scenario, field, self._params[chain])
        if days is not None and self.start_day >= days:
            raise self.error("start_day", self.start_day,
                             f"a day before the horizon (days = {days}: 0 to {days - 1})")

    def check_payee_count(self, scenario, field: str, chain: str) -> None:
        """Raise ConfigError if parameter ``field`` names more payees than ``chain``
        has in the city (:func:`sim.agents.merchants.payee_counts`: its real
        institutions or merchants, set by ``population.customers``)."""
        wanted = self._params[field]
        available = int(payee_counts(scenario)[CHAINS.index(chain)])
        if wanted > available:
            what = "institutions" if scenario.chains[chain].institutional else "merchants"
            raise self.error(field, wanted, f"at most {available} (the {what} of chain "
                             f"{chain} in a city of {scenario.population.customers:,} "
                             f"customers; see sim scenarios {scenario.name} --chains)")

    def segment_mask(self, key: str = "segments") -> np.ndarray:
        """Customers in the segments named by parameter ``key`` (all if None)."""
        names = self._params.get(key)
        pop = self.model_.customers
        if names is None:
            return np.ones(pop.n, bool)
        known = list(self.model_.params.segments)
        return np.isin(pop.segment, [known.index(n) for n in names])

    def chain_mask(self, key: str = "chains") -> np.ndarray:
        """Boolean per chain for the chains named by parameter ``key`` (all if None)."""
        names = self._params.get(key)
        return np.ones(len(CHAINS), bool) if names is None else np.isin(CHAINS, names)

    def largest_payees(self, chain: int, count: int, eligible: np.ndarray) -> np.ndarray:
        """Up to ``count`` eligible payees of ``chain``, largest in the city first.

        Ranked by traffic weight, to which a payee's expected receipts in the city are
        proportional (payers and payments are drawn in proportion to it), not by the
        receipts its simulated payers brought: picking the largest of noisy estimates
        would pick payees whose sample happens to be large and overstate every effect
        at them (the winner's curse), the more so the smaller ``population.agents``."""
        book = self.model_.merchants
        ids = book.chain_ids(chain)
        ids = ids[eligible[ids]]
        order = np.argsort(-book.weight[ids], kind="stable")
        return ids[order[:count]]

    def error(self, key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"{self._path}.{key}", value, allowed)

    # --------------------------------------------------------------- life cycle
    @property
    def end_day(self) -> int:
        """First day after the lever's window."""
        return self.start_day + self.duration_days

    def active(self, day: int) -> bool:
        return self.start_day <= day < self.end_day

    def attach(self, model, label: str) -> None:
        """Bind to ``model``; ``label`` names this strategy's ledger causes and events.
        Its random streams are named ``stream_name_`` (set by the model from
        :func:`stream_names_for` before attaching; default ``"strategy.<kind>"``)."""
        self.check_world(model.params)
        self.model_ = model
        self.label_ = label
        self.__dict__.setdefault("stream_name_", f"strategy.{self.kind}")
        self.spent_ = 0.0
        self.exhausted_ = False
        self.over_budget_ = False

    def stream(self, day: int | None = None):
        """This strategy's random stream: persistent, or fresh for ``day``."""
        streams = self.model_.streams
        return streams.get(self.stream_name_) if day is None else streams.daily(
            self.stream_name_, day)

    def event(self, day: int, event: str, count: int = 1, detail: str = "") -> None:
        """Record a milestone (:data:`sim.events.EVENTS`) in the model's event log."""
        self.model_.event_log.record(day, self.label_, event, count, detail)

    def cause(self, name: str, kind: str = "strategy") -> str:
        cause = f"{self.label_}:{name}"
        self.model_.ledger_book.register(cause, kind)
        return cause

    def mark_window(self, day: int) -> None:
        """Record ``started`` on the first day of the window and ``window_closed``
        (with the yuan spent) on the first day after it (the model calls this daily)."""
        if day == self.start_day:
            self.event(day, "started")
        elif day == self.end_day:
            self.event(day, "window_closed", 1, f"spent {self.spent_:.0f} yuan")

    def adoption_push(self, day: int) -> np.ndarray | None:
        """Hook: extra probability per customer of installing the app today, or None."""
        return None

    def before_payments(self, day: int) -> None:
        """Hook: act before the day's payments."""

    def saving(self, day: int, payments) -> np.ndarray | None:
        """Hook: the fraction of each event's amount saved by paying with
        ``saving_channel`` (float32, length E), or None."""
        return None

    def route_payments(self, day: int, payments) -> None:
        """Hook: re-route some of the day's payments (``payments.channel``, then
        ``payments.tally``) before every lever's ``after_payments`` reads them."""

    def after_payments(self, day: int, payments) -> None:
        """Hook: pay rewards and book costs after the day's payments."""

    def screen(self, day: int, abusive: np.ndarray) -> np.ndarray | None:
        """Hook (risk controls): approved mask for today's claims, or None (no opinion).
        ``abusive`` marks claims by bonus hunters, which a screen tries to see."""
        return None

    # ------------------------------------------------------------------- money
    # Budgets and costs are the city's yuan. A payout or cost per simulated customer
    # or payment stands for ``scale`` real ones (customers / agents): multiply it.
    @property
    def scale(self) -> float:
        """Real customers each simulated one stands for (``population`` customers / agents)."""
        return self.model_.customers.scale

    @property
    def remaining(self) -> float:
        return max(0.0, self.budget - self.spent_)

    def spend(self, day: int, cause: str, amount: float, kind: str = "strategy") -> float:
        """Book up to ``amount`` yuan of cost (what the budget allows); returns it.

        A spend the budget cuts short records ``budget_exhausted`` (once)."""
        wanted = float(amount)
        amount = min(wanted, self.remaining)
        if amount > 0:
            self.model_.ledger_book.book(day, self.cause(cause, kind), -amount)
            self.spent_ += amount
        if wanted > amount + 1e-9:
            self.note_exhausted(day)
        return amount

    def commit(self, day: int, cause: str, amount: float, kind: str = "strategy") -> None:
        """Book ``amount`` yuan owed under a signed contract: paid even beyond the
        budget, never refused. The first payment past the budget records
        ``over_budget`` (once); the overrun is then ``spent_ - budget``."""
        amount = float(amount)
        if amount <= 0:
            return
        self.model_.ledger_book.book(day, self.cause(cause, kind), -amount)
        self.spent_ += amount
        if self.spent_ > self.budget + 1e-9 and not self.over_budget_:
            self.over_budget_ = True
            self.event(day, "over_budget", 1, "committed costs beyond the budget")

    def note_exhausted(self, day: int) -> None:
        """Record ``budget_exhausted`` the first time the budget runs out."""
        if not self.exhausted_:
            self.exhausted_ = True
            self.event(day, "budget_exhausted", 1, f"budget {self.budget:.0f} yuan")

    def affordable(self, unit_cost: float, wanted: int) -> int:
        """How many of ``wanted`` items at ``unit_cost`` yuan the remaining budget pays for
        (all of them when the cost is 0 or the budget unlimited)."""
        if unit_cost <= 0 or math.isinf(self.remaining):
            return wanted
        return min(wanted, int(self.remaining // unit_cost))

    def afford(self, amounts: np.ndarray, day: int | None = None) -> np.ndarray:
        """Mask of the payouts (city yuan, in order) the remaining budget covers; a
        payout left unpaid records ``budget_exhausted`` (on ``day``, default today)."""
        ok = np.cumsum(amounts) <= self.remaining + 1e-9
        if not ok.all():
            self.note_exhausted(self.model_.day if day is None else day)
        return ok


def make_strategies(specs, path: str = "strategies") -> list[Strategy]:
    """Build strategy objects from TOML-like dicts (``{"kind": ..., ...}``) or objects.

    Each gets a unique label: its ``name`` or its kind, suffixed ``#2``, ``#3``
    when repeated.
    """
    built: list[Strategy] = []
    for i, spec in enumerate(specs or ()):
        where = f"{path}[{i}]"
        if isinstance(spec, Strategy):
            built.append(spec)
            continue
        if not isinstance(spec, dict):
            raise ConfigError(where, spec, "a table with a 'kind' key or a Strategy")
        kind = spec.get("kind")
        if kind not in STRATEGY_KINDS:
            kinds = Options(tuple(sorted(STRATEGY_KINDS)))
            raise ConfigError(f"{where}.kind", kind, kinds.describe())
        params = {k: v for k, v in spec.items() if k != "kind"}
        built.append(STRATEGY_KINDS[kind](_path=where, **params))
    return built


def stream_names_for(strategies: list[Strategy]) -> list[str]:
    """Random-stream names: ``strategy.<kind>``, suffixed ``#2``, ``#3`` for the
    second and third lever of the same kind (never the label or the name)."""
    seen: dict[str, int] = {}
    out = []
    for s in strategies:
        seen[s.kind] = seen.get(s.kind, 0) + 1
        n = seen[s.kind]
        out.append(f"strategy.{s.kind}" + ("" if n == 1 else f"#{n}"))
    return out


def labels_for(strategies: list[Strategy]) -> list[str]:
    """Unique ledger labels: the name (or kind), suffixed when repeated."""
    seen: dict[str, int] = {}
    out = []
    for s in strategies:
        base = s.name or s.kind
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out
