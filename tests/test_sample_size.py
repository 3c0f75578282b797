"""A city at its true scale: ``population.customers`` is the city, ``population.agents``
the sample simulated. Answers must not depend on the sample size (docs/MODEL.md,
"A city at its true scale"; docs/VALIDATION.md, "Sample size")."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from sim import EcosystemModel
from sim.config import ConfigError
from sim.metrics import horizon_value

PROMOTION = {"kind": "promotion", "type": "cashback", "start_day": 2, "duration_days": 30,
             "budget": 200_000}


def _digest(model: EcosystemModel) -> str:
    h = hashlib.sha256(model.kpis.to_numpy().tobytes())
    h.update(model.ledger.to_csv().encode())
    return h.hexdigest()


def test_agents_default_to_every_customer():
    """No ``agents`` key and ``agents = customers`` are the same run, byte for byte."""
    runs = [EcosystemModel("city", seed=3, overrides={"population.customers": 3000, **extra},
                           strategies=[PROMOTION]) for extra in ({}, {"population.agents": 3000})]
    for model in runs:
        model.run(20)
    assert runs[0].customers.scale == 1.0
    assert _digest(runs[0]) == _digest(runs[1])


def test_payees_are_the_citys_whatever_the_sample():
    """Institutions and merchants are the city's real ones: the same count and the same
    draw at 5,000, 20,000 or 100,000 simulated of 100,000 customers."""
    books = [EcosystemModel("city", seed=5, overrides={"population.customers": 100_000,
                                                       "population.agents": k}).merchants
             for k in (5_000, 20_000, 100_000)]
    for book in books[1:]:
        np.testing.assert_array_equal(book.chain_start, books[0].chain_start)
        np.testing.assert_array_equal(book.weight, books[0].weight)
        np.testing.assert_array_equal(book.acquirer, books[0].acquirer)


def test_kpis_money_and_budgets_are_at_city_scale():
    """Each simulated customer stands for customers / agents = 8 real ones: stocks are
    8 x the sample's counts, a promotion's payouts cost 8 x what the sampled payers
    received, the budget binds in city yuan and the ledger still adds up."""
    model = EcosystemModel("city", seed=2, strategies=[{**PROMOTION, "budget": 20_000}],
                           overrides={"population.customers": 40_000, "population.agents": 5_000})
    kpis = model.run(40)
    pop, promo = model.customers, model.strategies[0]
    assert pop.n == 5_000 and pop.scale == 8.0
    assert kpis["customers"].iloc[-1] == 40_000
    assert kpis["accounts"].iloc[-1] == 8 * int(pop.has_account.sum())
    assert kpis["app_users"].iloc[-1] == 8 * int(pop.has_app.sum())
    assert promo.spent_ == pytest.approx(8 * promo.claimed_.sum(), rel=1e-9)
    assert 0.9 * 20_000 < promo.spent_ <= 20_000 + 1e-6  # the budget ran out, in city yuan
    ledger = model.ledger
    assert ledger["amount"].sum() == pytest.approx(kpis["net_contribution"].sum(), rel=1e-12)
    assert -ledger[ledger.cause.str.startswith("promotion")]["amount"].sum() == pytest.approx(
        promo.spent_)


RANGE = r"an integer in \[1, customers = 20000\]"


@pytest.mark.parametrize(("agents", "allowed"), [(0, RANGE), (20_001, RANGE),
                                                 (True, "an integer"), (2.5, "an integer")])
def test_agents_outside_one_to_customers_are_refused(agents, allowed):
    with pytest.raises(ConfigError, match=rf"population\.agents: must be {allowed}"):
        EcosystemModel("city", overrides={"population.customers": 20_000,
                                          "population.agents": agents})


KPIS = ("app_users", "app_mau", "accounts", "debit_cards", "retail_deposits", "fee_income",
        "corporate_deposits", "net_contribution")
EXCLUSIVE = {"kind": "exclusive_channel", "chain": "education", "institutions": 3,
             "start_day": 10}


def _levels_and_lifts(agents: int, seeds: range, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per seed and KPI (seeds x KPIs): the no-strategy horizon value and the paired
    lift of the exclusive channel, in a 200,000-customer city simulating ``agents``."""
    city = {"population.customers": 200_000, "population.agents": agents}
    levels, lifts = [], []
    for seed in seeds:
        base, lever = (EcosystemModel("city", seed=seed, overrides=city, strategies=s).run(days)
                       for s in ([], [EXCLUSIVE]))
        levels.append([horizon_value(base, k) for k in KPIS])
        lifts.append([horizon_value(lever, k) - horizon_value(base, k) for k in KPIS])
    return np.array(levels), np.array(lifts)


def _agree(a: np.ndarray, b: np.ndarray, z: float = 3.5) -> np.ndarray:
    """Per column: do the means of a and b (rows = replications) differ by less than
    z standard errors of their difference?"""
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    return np.abs(a.mean(axis=0) - b.mean(axis=0)) <= z * se + 1e-9


@pytest.mark.slow
def test_answers_do_not_depend_on_the_sample_size():
    """The same 200,000-customer city simulated with 20,000 and with 200,000 agents:
    no-strategy KPIs and the exclusive channel's paired lifts agree within their
    sampling error, and the lift is there at both sizes (not two zeros agreeing)."""
    seeds = range(4)
    small_levels, small_lifts = _levels_and_lifts(20_000, seeds, days=90)
    full_levels, full_lifts = _levels_and_lifts(200_000, seeds, days=90)
    disagree = [k for k, ok in zip(KPIS, _agree(small_levels, full_levels), strict=True)
                if not ok]
    assert not disagree, f"levels differ: {disagree}"
    disagree = [k for k, ok in zip(KPIS, _agree(small_lifts, full_lifts), strict=True) if not ok]
    assert not disagree, f"lifts differ: {disagree}"
    cards = KPIS.index("debit_cards")
    assert full_lifts[:, cards].mean() > 300 and small_lifts[:, cards].mean() > 300
    # The relative gap of the mean levels is small, not only inside a wide interval.
    gap = np.abs(small_levels.mean(axis=0) / full_levels.mean(axis=0) - 1.0)
    assert gap[[KPIS.index(k) for k in ("app_users", "accounts", "retail_deposits")]].max() < 0.02


def test_the_sample_size_can_be_swept():
    """``population.agents`` is a scenario key like any other: an override, a sweep
    target, and checked against the city when every cell is built."""
    from sim.experiment import load_experiment

    table = {"name": "agents", "days": 10, "replications": 1,
             "overrides": {"population.customers": 50_000},
             "variants": [{"name": "baseline"}],
             "sweep": {"parameters": {"population.agents": [1000, 2000]}}}
    spec = load_experiment(table)
    assert sorted({c.overrides["population.agents"] for c in spec.cells()}) == [1000, 2000]
    table["sweep"]["parameters"]["population.agents"] = [1000, 60_000]
    with pytest.raises(ConfigError, match="population.agents"):
        load_experiment(table)
