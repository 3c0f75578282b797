"""Core engine: reproducibility, the KPI contract, the ledger, the clock."""

from __future__ import annotations

import platform
import sys

import numpy as np
import pandas as pd
import pytest

from sim import EcosystemModel
from sim.metrics import KPIS
from sim.scenarios.catalog import CATEGORIES, CHAINS
from sim.strategies import Strategy

from .conftest import SMALL

REQUIRED_STOCKS = ["customers", "app_users", "app_mau", "accounts", "debit_cards", "credit_cards",
                   "retail_deposits", "corporate_deposits", "merchants_on_bank"]
REQUIRED_FLOWS = ["volume_bank_app", "volume_wechat", "volume_alipay", "volume_card",
                  "volume_cash", "fee_income", "net_interest_income", "strategy_spend",
                  "abuse_loss", "net_contribution"]


def test_same_seed_same_kpis_and_ledger():
    a = EcosystemModel("city", seed=3, overrides=SMALL)
    b = EcosystemModel("city", seed=3, overrides=SMALL)
    pd.testing.assert_frame_equal(a.run(40), b.run(40), check_exact=True)
    pd.testing.assert_frame_equal(a.ledger, b.ledger, check_exact=True)


def test_one_thread_or_two_give_the_same_bytes(monkeypatch):
    from sim import parallel

    monkeypatch.setattr(parallel, "MIN_PARALLEL", 0)  # small parts on two threads as well
    kinds = [{"kind": "promotion", "type": "spend_save", "chains": ["business_district"],
              "start_day": 2, "duration_days": 20},
             {"kind": "exclusive_channel", "institutions": 1, "start_day": 1}]
    runs = []
    for n in (1, 2):
        parallel.set_threads(n)
        try:
            model = EcosystemModel("city", seed=4, overrides=SMALL, strategies=kinds)
            runs.append((model.run(30), model.ledger))
        finally:
            parallel.set_threads(None)
    for one, two in zip(*runs, strict=True):
        pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_different_seeds_differ():
    a = EcosystemModel("city", seed=1, overrides=SMALL).run(10)
    b = EcosystemModel("city", seed=2, overrides=SMALL).run(10)
    assert not a.equals(b)


def test_running_in_pieces_equals_running_at_once():
    whole = EcosystemModel("city", seed=5, overrides=SMALL).run(30)
    model = EcosystemModel("city", seed=5, overrides=SMALL)
    model.run(12)
    pd.testing.assert_frame_equal(model.run(18), whole, check_exact=True)


def test_kpi_table_contract(baseline_run):
    _, kpis = baseline_run
    assert kpis.index.name == "day"
    assert list(kpis.index) == list(range(60))
    for name in REQUIRED_STOCKS + REQUIRED_FLOWS:
        assert name in kpis.columns
    assert {k.kind for k in KPIS} == {"stock", "flow"}
    assert (kpis["customers"] == 3000).all()
    assert (kpis[REQUIRED_STOCKS] >= 0).all().all()
    assert (kpis["app_mau"] <= kpis["app_users"]).all()
    assert (kpis["debit_cards"] <= kpis["accounts"]).all()
    assert (kpis["app_users"] <= kpis["accounts"]).all()


def test_ledger_reconciles_with_kpis(baseline_run):
    model, kpis = baseline_run
    ledger = model.ledger
    assert list(ledger.columns) == ["day", "cause", "kind", "amount"]
    by_day = ledger.groupby("day")["amount"].sum().reindex(kpis.index, fill_value=0.0)
    np.testing.assert_allclose(by_day.to_numpy(), kpis["net_contribution"].to_numpy(), rtol=1e-12)
    fees = ledger[ledger.cause == "acquiring_fee"].set_index("day")["amount"]
    np.testing.assert_allclose(fees.reindex(kpis.index, fill_value=0).to_numpy(),
                               kpis["fee_income"].to_numpy(), rtol=1e-12)
    interest = ledger[ledger.cause.str.startswith("net_interest")].groupby("day")["amount"].sum()
    np.testing.assert_allclose(interest.to_numpy(), kpis["net_interest_income"].to_numpy(),
                               rtol=1e-12)


def test_money_paid_equals_money_received():
    """Every yuan paid on any channel lands with exactly one payee."""
    model = EcosystemModel("city", seed=11, overrides=SMALL)
    model.run(1)
    ema_before = model.merchants.receipts_ema.copy()
    kpis = model.run(1)
    paid = kpis.loc[1, [f"volume_{c}" for c in ("bank_app", "wechat", "alipay", "card", "cash")]]
    # The receipts EMA moves by (r - ema) / 30, so day 1's receipts are recoverable.
    receipts = ema_before + 30.0 * (model.merchants.receipts_ema - ema_before)
    assert paid.sum() > 0
    assert receipts.sum() == pytest.approx(paid.sum(), rel=1e-9)


def test_graph_has_twelve_chains_in_three_categories(baseline_run):
    model, _ = baseline_run
    g = model.graph
    chains = {n: d for n, d in g.nodes(data=True) if d["kind"] == "chain"}
    assert len(chains) == 12
    assert {d["label"] for d in chains.values()} == set(CHAINS)
    assert {d["category"] for d in chains.values()} == set(CATEGORIES)
    kinds = {d["kind"] for _, d in g.nodes(data=True)}
    assert {"bank", "platform", "partner", "chain", "institution", "merchant"} <= kinds


def test_customers_in_graph_only_at_small_scale():
    small = EcosystemModel("city", seed=0, overrides={"population.customers": 300})
    kinds = [d["kind"] for _, d in small.graph.nodes(data=True)]
    assert kinds.count("customer") == 300


def test_processes_see_the_day_and_mesa_counts_steps():
    model = EcosystemModel("city", seed=0, overrides={"population.customers": 500})
    seen = []

    def watcher(env):
        while True:
            seen.append((env.now, model.steps))
            yield env.timeout(1)

    model.clock.process(watcher(model.clock.env))
    model.run(15)
    # Mesa counts the step() call before the day runs: on day t, t + 1 calls so far
    assert seen[:15] == [(t, t + 1) for t in range(15)]
    assert model.steps == 15 == model.clock.env.now == model.day


class _Recorder(Strategy):
    """A do-nothing lever that records the day's payments (through the public hook)."""

    kind = "recorder"

    def attach(self, model, label):
        super().attach(model, label)
        self.seen_ = []

    def after_payments(self, day, payments):
        self.seen_.append((day, payments.payer.copy(), payments.chain.copy(),
                           payments.is_bill.copy()))


def test_periodic_bill_is_paid_exactly_once_per_payer():
    """Utilities bill monthly: each payer pays each month's bill exactly once, in its window."""
    recorder = _Recorder()
    model = EcosystemModel("city", seed=2, overrides={"population.customers": 2000},
                           strategies=[recorder])
    bill = model.params.chains["utilities"].bill
    model.run(bill.first_day + bill.period_days)
    c = CHAINS.index("utilities")
    payers = [payer[(chain == c) & is_bill] for day, payer, chain, is_bill in recorder.seen_]
    in_window = np.concatenate(payers[bill.first_day:bill.first_day + bill.window_days])
    window_end = bill.first_day + bill.window_days
    outside = sum(p.size for p in payers[:bill.first_day] + payers[window_end:])
    assert outside == 0
    assert np.array_equal(np.sort(in_window), np.sort(model.customers.members[c].customers))


def test_run_returns_expected_order_of_magnitude(baseline_run):
    """Sanity of scale: payments per customer per day and deposits per account."""
    _, kpis = baseline_run
    per_customer = kpis["payments"].mean() / 3000
    assert 0.5 < per_customer < 3.0
    assert kpis["retail_deposits"].iloc[-1] / kpis["accounts"].iloc[-1] > 1_000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_day_arrays_are_kept_for_reuse_on_glibc():
    from sim.memory import keep_freed_memory

    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
