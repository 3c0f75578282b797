"""The no-strategy steady state of the customers, solved from the drawn world.

Two things make the day-0 population the stationary state of its own dynamics
(docs/MODEL.md, "Initial state" and "A steady baseline"; :func:`start_at_steady_state`
does both once the world is drawn):

- **Habits and last app use** are drawn around the fixed point of the habit
  dynamics given the payees each customer actually pays (their chains, their
  home institutions, the acceptance of the drawn payees), not around the
  scenario's constants (:func:`stationary_habits`).
- **Exits balance entries** (:func:`exit_rates`): accounts close, apps are
  uninstalled and credit cards lapse at the per-day rates at which, on day 0,
  the expected exits equal the expected organic entries (Bass adoption,
  cross-sell), as ``calibrate_bank_constant`` solves the merchants' constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels import logit_mixture
from sim.metrics import MAU_WINDOW_DAYS
from sim.scenarios.catalog import BANK_APP, CHAINS, CHANNELS
from sim.scenarios.schema import Scenario

__all__ = ["Exits", "NO_EXITS", "start_at_steady_state", "stationary_habits", "app_share",
           "idle_days", "exit_rates", "habit_concentration"]

FIXED_POINT_STEPS = 10  # the map contracts by beta_habit / 4 = 0.5 a step: error < 1e-3


@dataclass(frozen=True)
class Exits:
    """Per-day exit rates of the steady baseline.

    Attributes
    ----------
    p_close : array (segments,)
        Probability per day that an account holder of each segment closes the
        account (with its cards, deposits and app).
    p_uninstall : float
        Probability per day that an app user uninstalls the app, whatever their use.
    p_lapse : float
        Probability per day that a credit card lapses (the account stays).
    """

    p_close: np.ndarray
    p_uninstall: float
    p_lapse: float


NO_EXITS = Exits(np.zeros(0), 0.0, 0.0)


def habit_concentration(learning_rate: float) -> float:
    """Dirichlet concentration of the habits' stationary spread around their mean.

    Notes
    -----
    A habit is an exponential smoothing, weight a, of one-hot payment choices
    with probabilities p: its stationary variance is a / (2 - a) p (1 - p), that
    of a Dirichlet(kappa p) when kappa + 1 = (2 - a) / a, so kappa = 2 / a - 2
    (38 at a = 0.05).
    """
    return max(2.0 / learning_rate - 2.0, 1e-3)


def _chain_payees(accepts: np.ndarray, merchants, c: int, institutional: bool):
    """Chain c's acceptance patterns (rows of 5, float) and the share of its payments
    each receives: an institutional chain's rows are its payees (members pay their
    home); another's are its distinct patterns, weighted by the payees' traffic."""
    ids = merchants.chain_ids(c)
    rows = accepts[ids]
    if institutional:
        return rows.astype(float), np.ones(ids.size)
    code = rows @ (1 << np.arange(len(CHANNELS)))
    codes, inverse = np.unique(code, return_inverse=True)
    weight = np.bincount(inverse, weights=merchants.weight[ids], minlength=codes.size)
    patterns = ((codes[:, None] >> np.arange(len(CHANNELS))) & 1).astype(float)
    return patterns, weight / weight.sum()


class _World:
    """What the expected shares need from the drawn world, gathered once."""

    def __init__(self, scenario: Scenario, pop, merchants):
        accepts = merchants.accepts(0).T
        self.chains = []
        for c, name in enumerate(CHAINS):
            chain = scenario.chains[name]
            members = pop.members[c]
            if members.customers.size == 0:
                continue
            bill = {"random": chain.bill.rate_per_day, "periodic": 1.0 / chain.bill.period_days,
                    "none": 0.0}[chain.bill.kind]
            rate = chain.rate_per_day * pop.activity[pop.segment[members.customers]] + bill
            patterns, weight = _chain_payees(accepts, merchants, c, chain.institutional)
            home = (members.home - merchants.chain_start[c] if chain.institutional
                    else np.full(members.customers.size, -1))
            self.chains.append((members.customers.astype(np.int64), rate, patterns, weight,
                                home.astype(np.int64)))
        self.total = np.zeros(pop.n)
        for ids, rate, *_ in self.chains:
            np.add.at(self.total, ids, rate)


def _shares(habit: np.ndarray, scenario: Scenario, pop, world: _World,
            peer: np.ndarray) -> np.ndarray:
    """Expected channel shares of each customer's payments given ``habit`` (N x 5): the
    logit probabilities averaged over the payees they pay (kernel:
    :func:`sim.kernels.logit_mixture`)."""
    ch = scenario.channels
    util = np.array(ch.asc.as_tuple()) + ch.beta_habit * habit
    util[:, BANK_APP] += ch.beta_peer * peer
    e = np.exp(util)
    e[:, BANK_APP] *= pop.has_app & ~pop.abandoned
    share = np.zeros((pop.n, len(CHANNELS)))
    for ids, rate, patterns, weight, home in world.chains:
        logit_mixture(ids, rate, e, patterns, weight, home, share)
    return share / np.maximum(world.total, 1e-12)[:, None]


def stationary_habits(scenario: Scenario, pop, merchants, peer: np.ndarray
                      ) -> np.ndarray:
    """Each customer's fixed-point habit h* = s(h*) (N x 5, float64): the expected
    channel shares s of their payments when their habit is h*.

    Notes
    -----
    s_i(h) = sum_c (lambda_ic / lambda_i) E_j[P_k(h)], lambda_ic i's payments a day
    in chain c (everyday and bills), the expectation over the payees j i pays there
    (the home institution, or the drawn payees with their traffic weights), P_k the
    logit of step 4 at j's day-0 acceptance (a bank-acquired payee shows the
    aggregated QR) with i's habit and peer share. ds/dh <= beta_habit / 4, so for
    beta_habit < 4 the map contracts and h* is unique; it is found by iteration
    from softmax(asc). A customer with no payments keeps softmax(asc) (without the
    app if they do not have it).
    """
    world = _World(scenario, pop, merchants)
    base = np.exp(np.array(scenario.channels.asc.as_tuple()))
    habit = np.tile(base, (pop.n, 1))
    habit[~pop.has_app, BANK_APP] = 0.0
    habit /= habit.sum(axis=1, keepdims=True)
    pays = world.total[:, None] > 0
    for _ in range(FIXED_POINT_STEPS):
        habit = np.where(pays, _shares(habit, scenario, pop, world, peer), habit)
    return habit


def app_share(habit: np.ndarray, scenario: Scenario, pop, merchants, peer: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """The expected share of each customer's payments made with the bank app given
    ``habit``, and their payments per day."""
    world = _World(scenario, pop, merchants)
    return _shares(habit, scenario, pop, world, peer)[:, BANK_APP], world.total


def idle_days(p_day: np.ndarray, dormant_after_days: int, uninstall_rate: float,
              rng: np.random.Generator) -> np.ndarray:
    """Days since each app user last paid with the app, drawn from its stationary law.

    Parameters
    ----------
    p_day : array
        Each user's probability of paying with the app on a day.
    dormant_after_days : int
        T: an app unused this long is dormant...
    uninstall_rate : float
        ...and is uninstalled with probability u a day.
    rng : Generator

    Returns
    -------
    int32 array of gaps G >= 1 (capped at 100,000).

    Notes
    -----
    Without uninstalls the gap is Geometric(pi). An app idle for g > T days has
    survived g - T days of uninstall risk, so among apps still installed
    P(G = g) is proportional to pi q^(g-1) (1 - u)^max(0, g-T), q = 1 - pi: a
    truncated geometric on 1..T with weight 1 - q^T, or T + 1 + J with
    J ~ Geometric0(1 - q (1 - u)) with weight pi q^T (1 - u) / (1 - q (1 - u)).
    A draw from the plain geometric would start the city with too many long
    dormant apps, which the uninstalls then thin out: a drift.
    """
    pi = np.clip(p_day, 1e-9, 1.0)
    log_q = np.log1p(-np.minimum(pi, 1.0 - 1e-12))
    q_t = np.exp(dormant_after_days * log_q)
    r = np.exp(log_q) * (1.0 - uninstall_rate)
    early = -np.expm1(dormant_after_days * log_q)
    late = pi * q_t * (1.0 - uninstall_rate) / (1.0 - r)
    v = rng.random(pi.size)
    w = 1.0 - rng.random(pi.size)  # in (0, 1]
    short = 1.0 + np.floor(np.log1p(-v * early) / log_q)
    long = dormant_after_days + 1.0 + np.floor(np.log(w) / np.log(r))
    gap = np.where(rng.random(pi.size) * (early + late) < early, short, long)
    return np.clip(gap, 1, 10**5).astype(np.int32)


def exit_rates(scenario: Scenario, pop, peer: np.ndarray, day0_active: np.ndarray) -> Exits:
    """Exit rates at which the day-0 expected exits equal the expected organic entries.

    Parameters
    ----------
    scenario : Scenario
    pop : CustomerPopulation
        The drawn population, at its day-0 state.
    peer : array (N,)
        Each customer's share of contacts with the app.
    day0_active : bool array (N,)
        Monthly-active app users on day 0 (those the cross-sell reaches).

    Notes
    -----
    With P_i = p g_i + q x_i the organic adoption hazard (step 2), per segment s:
    ``p_close_s = sum over non-holders i in s without the app of P_i / H_s`` (H_s the
    account holders of s): the accounts organic adopters open are closed again.
    Apps: ``p_uninstall = max(0, sum over non-users of P_i - u D - sum_s p_close_s
    A_s) / A``, D the dormant apps (unused for ``dormant_after_days``), u their
    uninstall rate, A_s the app users of s. Cards: ``p_lapse = max(0, r M -
    sum_s p_close_s C_s) / C``, r the cross-sell rate, M the monthly-active users
    with an account and no card, C_s the cards of s. A rate clipped at 0 means the
    scenario's exits already exceed its entries: that stock falls.
    """
    a, b = scenario.adoption, scenario.bank
    organic = a.external_rate * pop.digital_affinity + a.imitation_rate * peer
    seg = pop.segment.astype(np.int64)
    k = pop.n_segments

    def by_segment(mask, weights=None):
        w = None if weights is None else weights[mask]
        return np.bincount(seg[mask], weights=w, minlength=k).astype(float)

    holders = by_segment(pop.has_account)
    opening = by_segment(~pop.has_app & ~pop.has_account, organic)
    p_close = np.divide(opening, holders, out=np.zeros(k), where=holders > 0)
    apps = by_segment(pop.has_app)
    dormant = int((pop.has_app & (-pop.last_app_use >= a.dormant_after_days)).sum())
    installs = float(organic[~pop.has_app].sum())
    gone = a.uninstall_rate_per_day * dormant + float(p_close @ apps)
    p_uninstall = max(0.0, installs - gone) / max(apps.sum(), 1.0)
    cards = by_segment(pop.has_credit)
    sold = b.credit_card_rate_per_day * int((day0_active & pop.has_account
                                              & ~pop.has_credit).sum())
    p_lapse = max(0.0, sold - float(p_close @ cards)) / max(cards.sum(), 1.0)
    return Exits(np.minimum(p_close, 1.0), min(p_uninstall, 1.0), min(p_lapse, 1.0))


def start_at_steady_state(pop, scenario: Scenario, merchants, rng: np.random.Generator) -> None:
    """Draw ``pop``'s habits, days since last app use and shares of wallet from the
    stationary state of the drawn world, and solve the steady baseline's exit rates
    (``pop.exits``).

    Notes
    -----
    Habit h_i ~ Dirichlet(kappa h*_i), h*_i the customer's fixed-point habit given
    the payees they pay and kappa = 2 / a - 2 the stationary spread of a habit
    learnt at rate a. Days since last app use: :func:`idle_days`
    with daily use probability 1 - exp(-lambda_i s_i), lambda_i the customer's
    payments a day and s_i the expected bank-app share of them given h_i. Share of
    wallet: its target w*_i times 1 - (1 - 1/tau)^A_i, A_i ~ Geometric(p_close of
    the segment) the account's age (tau = ``wallet_share_days``): accounts open and
    close all the time, so some are young and still filling up.
    """
    a, b = scenario.adoption, scenario.bank
    peer = pop.peer_share().astype(np.float64)
    target = stationary_habits(scenario, pop, merchants, peer)
    kappa = habit_concentration(scenario.channels.habit_learning_rate)
    g = rng.standard_gamma(np.maximum(kappa * target, 1e-6))
    g[~pop.has_app, BANK_APP] = 0.0
    pop.habit = (g / g.sum(axis=1, keepdims=True)).astype(np.float32)
    share, total = app_share(pop.habit.astype(np.float64), scenario, pop, merchants, peer)
    users = np.flatnonzero(pop.has_app)
    gap = idle_days(1.0 - np.exp(-total[users] * share[users]), a.dormant_after_days,
                    a.uninstall_rate_per_day, rng)
    pop.last_app_use[users] = -gap
    # One relaxation step of a whole day's length from zero lands on the target.
    pop.update_wallet_share(b.wallet_share_base, b.wallet_share_gain, relax_days=1.0)
    if not scenario.market.steady:
        return
    pop.exits = exit_rates(scenario, pop, peer, pop.app_active(-1, MAU_WINDOW_DAYS))
    holders = np.flatnonzero(pop.has_account)
    p_close = pop.exits.p_close[pop.segment[holders]]
    age = rng.geometric(np.maximum(p_close, 1e-9))
    pop.wallet_share[holders] *= (-np.expm1(age * np.log1p(-1.0 / b.wallet_share_days))
                                   ).astype(np.float32)
