"""The scenario schema: typed, validated parameters of one simulated city.

A scenario is TOML data (see ``city.toml``); this module says what each key
means, its unit and its allowed range. :func:`sim.config.build` checks a
parsed file against these dataclasses, so a wrong key or value is reported
with its dotted path. Units: days, yuan, per-day rates, annual rates where the
name says ``annual``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.config import NON_NEGATIVE, POSITIVE, PROBABILITY, ConfigError, Interval, Options
from sim.scenarios.catalog import CHAINS, CHANNELS

__all__ = [
    "Population", "Segment", "ChannelValues", "AcquirerShares", "Bill", "Chain", "Channels",
    "Adoption", "Bank", "Platform", "Platforms", "Merchants", "Social", "Market", "Scenario",
]


def _c(constraint):
    """Field metadata holding a declarative constraint for :func:`sim.config.build`."""
    return field(metadata={"check": constraint})


# Keys a scenario file may leave out (their default follows from other keys), with an
# example value of their type: overrides may set them all the same.
OPTIONAL_KEYS = {"population.agents": 100_000}


@dataclass(frozen=True)
class Population:
    customers: int = _c(Interval(1, None))
    """The city's customers (people who pay in its chains): every KPI, count and yuan
    is reported at this scale, and the city's payee counts follow from it."""
    agents: int | None = None
    """Customers simulated (default: all of them). Each stands for customers / agents
    real ones (docs/MODEL.md, "A city at its true scale")."""

    def validate(self, path: str) -> None:
        if self.agents is None:
            return
        if isinstance(self.agents, bool) or not 1 <= self.agents <= self.customers:
            raise ConfigError(f"{path}.agents", self.agents,
                              f"an integer in [1, customers = {self.customers}]")

    @property
    def simulated(self) -> int:
        """How many customers are simulated."""
        return self.customers if self.agents is None else self.agents

    @property
    def scale(self) -> float:
        """Real customers each simulated one stands for (customers / agents)."""
        return self.customers / self.simulated


@dataclass(frozen=True)
class Segment:
    """A customer segment: its share of the population and its behaviour."""

    share: float = _c(PROBABILITY)
    income_month_yuan: float = _c(POSITIVE)
    income_sigma: float = _c(NON_NEGATIVE)          # lognormal sigma of income
    wallet_months: float = _c(NON_NEGATIVE)         # bank deposits held, in months of income
    price_sensitivity: float = _c(NON_NEGATIVE)     # multiplier on the logit price term
    digital_affinity: float = _c(NON_NEGATIVE)      # multiplier on external adoption
    rel_activity: float = _c(NON_NEGATIVE)          # multiplier on everyday payment rates
    p_account: float = _c(PROBABILITY)              # holds a focal-bank account at day 0
    p_credit_card: float = _c(PROBABILITY)          # account holders with the bank's credit card
    p_abuser: float = _c(PROBABILITY)               # hidden promotion-abuser (bonus hunter) trait
    chains: dict[str, float] = field(default_factory=dict)  # P(customer pays in chain)

    def validate(self, path: str) -> None:
        for chain, p in self.chains.items():
            if chain not in CHAINS:
                raise ConfigError(f"{path}.chains.{chain}", p, Options(CHAINS).describe())
            if not PROBABILITY(p):
                raise ConfigError(f"{path}.chains.{chain}", p, PROBABILITY.describe())


@dataclass(frozen=True)
class ChannelValues:
    """One number per payment channel (acceptance probabilities or utilities)."""

    bank_app: float
    wechat: float
    alipay: float
    card: float
    cash: float

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, ch) for ch in CHANNELS)


@dataclass(frozen=True)
class AcquirerShares:
    """Initial shares of a chain's payees by acquirer; they must sum to 1."""

    bank: float = _c(PROBABILITY)
    wechat_pay: float = _c(PROBABILITY)
    alipay: float = _c(PROBABILITY)
    other: float = _c(PROBABILITY)

    def validate(self, path: str) -> None:
        total = self.bank + self.wechat_pay + self.alipay + self.other
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(path, total, "shares summing to 1")

    def as_tuple(self) -> tuple[float, ...]:
        return (self.bank, self.wechat_pay, self.alipay, self.other)


@dataclass(frozen=True)
class Bill:
    """Billing calendar of a chain's institutions.

    ``periodic``: a bill is issued every ``period_days`` from ``first_day``;
    each payer pays it once, on a uniform day within ``window_days``.
    ``random``: bills (fines) arrive at ``rate_per_day`` per payer.
    ``none``: the chain only has everyday payments.
    """

    kind: str = _c(Options(("none", "periodic", "random")))
    amount_mean_yuan: float = _c(POSITIVE)
    amount_sigma: float = _c(NON_NEGATIVE)
    period_days: int = _c(Interval(1, None))
    window_days: int = _c(Interval(1, None))
    first_day: int = _c(Interval(0, None))
    rate_per_day: float = _c(NON_NEGATIVE)

    def validate(self, path: str) -> None:
        if self.window_days > self.period_days:
            raise ConfigError(f"{path}.window_days", self.window_days,
                              f"<= period_days ({self.period_days})")


@dataclass(frozen=True)
class Chain:
    """An ecosystem chain: who its payees are and how people pay them."""

    payees_per_100k: float = _c(POSITIVE)   # institutions or merchants per 100,000 customers
    institutional: bool                     # each payer has one fixed payee (school, utility...)
    rate_per_day: float = _c(NON_NEGATIVE)  # everyday payments per payer per day
    amount_mean_yuan: float = _c(POSITIVE)
    amount_sigma: float = _c(NON_NEGATIVE)
    payee_size_sigma: float = _c(NON_NEGATIVE)  # lognormal spread of payee sizes (traffic weight)
    accept: ChannelValues                   # P(payee accepts channel) unless the bank acquires it
    acquirer: AcquirerShares                # initial shares of payees by acquirer
    bill: Bill

    def validate(self, path: str) -> None:
        for name, p in zip(CHANNELS, self.accept.as_tuple(), strict=True):
            if not PROBABILITY(p):
                raise ConfigError(f"{path}.accept.{name}", p, PROBABILITY.describe())


@dataclass(frozen=True)
class Channels:
    """Coefficients of the multinomial-logit channel choice."""

    asc: ChannelValues                                 # alternative-specific constants
    beta_habit: float = _c(NON_NEGATIVE)               # utility per unit habit stock
    beta_peer: float = _c(NON_NEGATIVE)                # utility per share of contacts with the app
    beta_price: float = _c(NON_NEGATIVE)               # utility per unit fraction of amount saved
    habit_learning_rate: float = _c(PROBABILITY)       # weight of one payment in the habit stock


@dataclass(frozen=True)
class Adoption:
    """The bank app's adoption, dormancy and uninstall (Bass-type hazard)."""

    initial_share: float = _c(PROBABILITY)        # share of customers with the app at day 0
    external_rate: float = _c(PROBABILITY)        # p: adoption per day from marketing, branches
    imitation_rate: float = _c(PROBABILITY)       # q: per day, times adopter share of contacts
    need_rate: float = _c(PROBABILITY)            # P(adopt) when a payee accepts only the bank
    dormant_after_days: int = _c(Interval(1, None))  # unused this long: dormant, may be uninstalled
    uninstall_rate_per_day: float = _c(PROBABILITY)  # dormant apps uninstalled per day
    promotion_response_per_yuan: float = _c(NON_NEGATIVE)  # install p/day per yuan/month offered


@dataclass(frozen=True)
class Bank:
    """The focal bank's economics."""

    nim_retail_annual: float = _c(Interval(0, 0.2))     # net interest margin on retail deposits
    nim_corporate_annual: float = _c(Interval(0, 0.2))  # on corporate (settlement) deposits
    acquiring_fee_rate: float = _c(Interval(0, 0.05))   # merchant fee on non-cash receipts acquired
    wallet_leg_cost_rate: float = _c(Interval(0, 0.05))  # platform's cut of a wallet receipt
    card_leg_cost_rate: float = _c(Interval(0, 0.05))   # issuer + network fee of a card receipt
    p_debit_card: float = _c(PROBABILITY)             # new accounts that take a debit card
    credit_card_rate_per_day: float = _c(PROBABILITY)  # cross-sell hazard for active app users
    card_income_per_day_yuan: float = _c(NON_NEGATIVE)  # margin of one credit card per day
    account_cost_yuan_per_year: float = _c(NON_NEGATIVE)  # servicing an account (and its card)
    account_close_rate_per_day: float = _c(PROBABILITY)   # dormant new accounts closed per day
    wallet_share_base: float = _c(PROBABILITY)   # share of wallet of an established account
    wallet_share_gain: float = _c(PROBABILITY)   # extra share when the bank app is the habit
    wallet_share_days: float = _c(Interval(1, None))  # relaxation time of the share of wallet
    float_days: float = _c(Interval(1, None))    # days of receipts a merchant keeps at its bank
    institution_float_days: float = _c(Interval(1, None))  # the same for institutions

    def validate(self, path: str) -> None:
        total = self.wallet_share_base + self.wallet_share_gain
        if total > 1.0 + 1e-12:
            raise ConfigError(f"{path}.wallet_share_base", self.wallet_share_base,
                              f"<= 1 - wallet_share_gain = {1.0 - self.wallet_share_gain:g} "
                              "(no one keeps more than their savings at the bank)")


@dataclass(frozen=True)
class Platform:
    """A third-party payment platform and its counter-move rule (sim/agents/platforms.py)."""

    fee_rate: float = _c(Interval(0, 0.05))
    counter_enabled: bool
    counter_rise: float = _c(Interval(0, 1, closed="right"))  # app share rise that triggers
    counter_window_days: int = _c(Interval(1, None))    # days over which that share is counted
    counter_min_payments: int = _c(Interval(1, None))   # payments needed in the window to react
    counter_delay_days: int = _c(Interval(0, None))     # from the trigger to the first subsidy
    counter_duration_days: int = _c(Interval(1, None))  # one period; renewed while the rise holds
    counter_discount: float = _c(Interval(0, 0.5))  # fraction of each amount paid back to payers
    counter_cap_yuan: float = _c(NON_NEGATIVE)      # at most this per payment (at the mean amount)


@dataclass(frozen=True)
class Platforms:
    wechat_pay: Platform
    alipay: Platform
    other_fee_rate: float = _c(Interval(0, 0.05))  # fee of other banks' / UnionPay acquiring


@dataclass(frozen=True)
class Merchants:
    """Merchants' periodic review of their acquirer (binary logit: stay or switch).

    The constant of each chain is not a parameter: it is solved so that the
    day-0 acquirer shares are the no-strategy steady state (merchants.py).
    """

    review_interval_days: int = _c(Interval(1, None))
    switching_cost: float = _c(NON_NEGATIVE)     # utility cost of changing acquirer
    beta_fee: float = _c(NON_NEGATIVE)           # utility per 1,000 yuan (present value)
    beta_demand: float = _c(NON_NEGATIVE)        # utility per unit share of bank-app volume
    offer_discount_monthly: float = _c(Interval(0, 1))  # discount rate on an offer's months


@dataclass(frozen=True)
class Market:
    """Whether the no-strategy city is a steady state (docs/MODEL.md, "A steady baseline").

    ``steady = true``: accounts close, apps are uninstalled and credit cards lapse at
    rates solved from the drawn world so that on day 0 the expected exits equal the
    expected organic entries (adoption, cross-sell); ``false``: no such exits, and
    adoption and cross-sell make the stocks grow (the ``bass`` validation scenario).
    """

    steady: bool


@dataclass(frozen=True)
class Social:
    """Social ties among customers (see sim/network.py)."""

    kind: str = _c(Options(("small_world", "complete")))
    mean_degree: float = _c(Interval(2, None))
    rewire_prob: float = _c(PROBABILITY)


@dataclass(frozen=True)
class Scenario:
    """A whole city: population, chains, channels, bank, platforms, merchants."""

    name: str
    description: str
    population: Population
    segments: dict[str, Segment]
    chains: dict[str, Chain]
    channels: Channels
    adoption: Adoption
    bank: Bank
    platforms: Platforms
    merchants: Merchants
    social: Social
    market: Market

    def validate(self, path: str) -> None:
        missing = [c for c in CHAINS if c not in self.chains]
        if missing:
            raise ConfigError(f"chains.{missing[0]}", None, "present (every one of the 12 chains)")
        unknown = [c for c in self.chains if c not in CHAINS]
        if unknown:
            raise ConfigError(f"chains.{unknown[0]}", unknown[0], Options(CHAINS).describe())
        if not self.segments:
            raise ConfigError("segments", {}, "at least one segment")
        total = sum(s.share for s in self.segments.values())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError("segments.*.share", round(total, 6), "shares summing to 1")
        top_affinity = max(s.digital_affinity for s in self.segments.values())
        a = self.adoption
        if a.external_rate * top_affinity + a.imitation_rate > 1.0 + 1e-12:
            raise ConfigError("adoption.external_rate", a.external_rate,
                              "<= (1 - imitation_rate) / the largest digital_affinity = "
                              f"{(1.0 - a.imitation_rate) / top_affinity:g} (the daily "
                              "adoption probability p g_i + q x_i stays <= 1)")
        accounts = sum(s.share * s.p_account for s in self.segments.values())
        if self.adoption.initial_share > accounts + 1e-9:
            raise ConfigError("adoption.initial_share", self.adoption.initial_share,
                              f"<= the share of account holders ({accounts:.3f})")
