"""Optimisation: split a budget among levers under simulation noise, and prove the pick.

``optimise("experiments/budget_split_optimise.toml", out="results/x")`` searches budget
shares with Optuna's TPE on common random numbers (:mod:`sim.optimisation.search`), picks
among the best trials with Kim & Nelson's KN (:mod:`sim.optimisation.selection`), checks the
pick on fresh replications and writes OUT/best.toml and a report (:mod:`sim.optimisation.run`).
"""

from sim.optimisation.run import Optimisation, optimise
from sim.optimisation.spec import OptimiseSpec, load_optimisation

__all__ = ["optimise", "load_optimisation", "OptimiseSpec", "Optimisation"]
