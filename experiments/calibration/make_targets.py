"""Write targets.csv for branch.toml from the model itself (a worked example, not data).

The "observed" KPIs are one run of the city (seed 2020, not one of the calibration's
seeds) at chosen values: adoption.initial_share = 0.15 and adoption.imitation_rate =
0.0012 (the city's defaults are 0.18 and 0.0006). Run from the repository's root:
``python experiments/calibration/make_targets.py``.
"""

from pathlib import Path

from sim.model import EcosystemModel

TRUTH = {"population.customers": 3000, "adoption.initial_share": 0.15,
         "adoption.imitation_rate": 0.0012}

if __name__ == "__main__":
    kpis = EcosystemModel("city", seed=2020, overrides=TRUTH).run(90)
    rows = ["day,kpi,value,sd"]
    for day in (29, 59, 89):
        rows += [f"{day},app_users,{kpis.app_users.iloc[day]:.0f},",
                 f"{day},accounts,{kpis.accounts.iloc[day]:.0f},",
                 f"{day},new_app_users,{kpis.new_app_users.iloc[day - 29:day + 1].sum():.0f},"]
    Path(__file__).with_name("targets.csv").write_text("\n".join(rows) + "\n")
