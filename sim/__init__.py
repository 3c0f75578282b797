"""Agent-based simulator of a commercial bank's financial-scenario ecosystem.

>>> from sim import EcosystemModel
>>> kpis = EcosystemModel("city", seed=0, overrides={"population.customers": 2000}).run(5)
>>> list(kpis.index)
[0, 1, 2, 3, 4]
"""

from sim.calibration import calibrate
from sim.config import ConfigError
from sim.experiment import load_experiment, load_results, run_experiment
from sim.model import EcosystemModel
from sim.optimisation import optimise
from sim.scenarios import load_scenario, scenario_names, scenario_uncertainty
from sim.strategies import (
                            AggregatedQR,
                            AppMall,
                            AutoDebit,
                            ExclusiveChannel,
                            FeeWaiver,
                            Omnichannel,
                            PresaleEscrow,
                            Promotion,
                            Referral,
                            RiskControl,
                            Targeting,
)

__all__ = ["EcosystemModel", "ConfigError", "load_scenario", "scenario_names", "load_experiment",
           "run_experiment", "load_results", "ExclusiveChannel", "FeeWaiver", "Promotion",
           "Referral", "AggregatedQR", "Omnichannel", "Targeting", "RiskControl",
           "AutoDebit", "PresaleEscrow", "AppMall", "calibrate", "optimise", "scenario_uncertainty"]
__version__ = "0.1.0"
