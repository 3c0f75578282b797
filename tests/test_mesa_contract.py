"""EcosystemModel keeps Mesa's contract: step() is one day, a DataCollector holds the
KPIs, and mesa.batch_run gives the same numbers as run()."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd

from sim import EcosystemModel

SMALL = {"population.customers": 3000}


def test_step_advances_exactly_one_day_like_run():
    stepped = EcosystemModel("city", seed=4, overrides=SMALL)
    for _ in range(6):
        stepped.step()
    ran = EcosystemModel("city", seed=4, overrides=SMALL)
    ran.run(6)
    assert stepped.steps == ran.steps == 6 and stepped.day == 6
    pd.testing.assert_frame_equal(stepped.kpis, ran.kpis)
    pd.testing.assert_frame_equal(stepped.ledger, ran.ledger)
    day0_fee = stepped.ledger.query("day == 0 and cause == 'acquiring_fee'")
    assert len(day0_fee) == 1  # booked once, not once per call


def test_datacollector_holds_the_kpi_table_and_running_is_set():
    model = EcosystemModel("city", seed=1, overrides=SMALL)
    kpis = model.run(5)
    assert model.running
    collected = model.datacollector.get_model_vars_dataframe()
    np.testing.assert_array_equal(collected[list(kpis.columns)].to_numpy(), kpis.to_numpy())


def test_subclass_step_runs_the_simulation():
    class Counting(EcosystemModel):
        def step(self):
            super().step()
            self.extra = getattr(self, "extra", 0) + 1

    model = Counting("city", seed=0, overrides=SMALL)
    kpis = model.run(3)
    assert len(kpis) == 3 and model.extra == 3


def test_numpy_parameters_are_accepted():
    model = EcosystemModel("city", seed=np.int64(2),
                           overrides={"population.customers": np.int64(3000)},
                           strategies=[{"kind": "fee_waiver", "merchants": np.int64(5),
                                        "duration_days": np.int64(30)}])
    assert model.params.population.customers == 3000


def test_batch_run_gives_the_same_kpis_as_run():
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.4: seeds via rng
        seeds = {"rng": [0, 1]}
        parameters = {"overrides": [SMALL]}
    else:                                                      # Mesa 3.3: seeds as a parameter
        seeds = {}
        parameters = {"seed": [0, 1], "overrides": [SMALL]}
    rows = mesa.batch_run(EcosystemModel, parameters=parameters, max_steps=30,
                          number_processes=1, display_progress=False, **seeds)
    data = pd.DataFrame(rows)
    if "seed" not in data:
        data["seed"] = data["iteration"]  # Mesa >= 3.4 numbers the rng list
    for seed in (0, 1):
        kpis = EcosystemModel("city", seed=seed, overrides=SMALL).run(31)
        got = data[data.seed == seed].iloc[-1]
        assert got["Step"] == 30
        # Mesa 3.3 runs steps 0..max_steps (31 days), 3.5 runs max_steps (30 days): the
        # row must be exactly the KPIs of the last day the model ran
        names = ("app_mau", "accounts", "retail_deposits", "net_contribution")
        last_day = [d for d in (29, 30) if all(got[n] == kpis[n].iloc[d] for n in names)]
        assert last_day, got[list(names)]
