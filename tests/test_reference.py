"""The vectorized engine and the one-agent-per-customer reference give the same
distributions: two-sample Kolmogorov-Smirnov tests over 20 seeds."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from scipy import stats

from sim import EcosystemModel
from sim.agents.reference import ReferenceCustomer
from sim.metrics import horizon_value

SEEDS = range(20)
SMALL = {"population.customers": 1000}
KPIS = ("app_users", "app_mau", "accounts", "debit_cards", "retail_deposits", "payments",
        "volume_bank_app", "volume_wechat", "fallback_payments")
CAMPUS = [{"kind": "exclusive_channel", "institutions": 1, "start_day": 5, "budget": 1e6},
          {"kind": "promotion", "type": "cashback", "start_day": 5, "duration_days": 20}]


def test_reference_engine_is_plain_mesa_agents():
    model = EcosystemModel("city", seed=0, overrides={"population.customers": 50},
                           engine="reference")
    agents = model.agents_by_type[ReferenceCustomer]
    assert len(agents) == 50 and all(isinstance(a, mesa.Agent) for a in agents)


@pytest.mark.slow
@pytest.mark.validation
def test_engines_agree_in_distribution():
    values = {"vectorized": [], "reference": []}
    for engine in values:
        for seed in SEEDS:
            k = EcosystemModel("city", seed=seed, overrides=SMALL, strategies=CAMPUS,
                               engine=engine).run(30)
            values[engine].append([horizon_value(k, kpi) for kpi in KPIS])
    vec, ref = np.array(values["vectorized"]), np.array(values["reference"])
    for j, kpi in enumerate(KPIS):
        p = stats.ks_2samp(vec[:, j], ref[:, j]).pvalue
        assert p > 0.01 / len(KPIS), f"{kpi}: KS p = {p:.4f}"  # Bonferroni over the KPIs
