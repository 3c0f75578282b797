"""Global sensitivity analysis with SALib: Morris screening and Sobol indices.

The sweep's [low, high] bounds define the SALib problem; :func:`sample`
gives the points to run (seeded by the experiment seed), :func:`analyze`
turns each point's mean horizon KPI into indices.

References
----------
Morris, M. D. (1991). Factorial sampling plans for preliminary computational
experiments. Technometrics 33(2). Saltelli, A. (2002). Making best use of
model evaluations to compute sensitivity indices. CPC 145(2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["sample", "analyze"]


def _problem(sweep) -> dict:
    """SALib's problem: the declared bounds; an integer target's widened by half a unit
    each side under Sobol, so that rounding gives every integer the same weight
    (:meth:`Sweep.coerce`). Morris keeps them: its levels fall on integers."""
    names = list(sweep.parameters)
    pad = {n: 0.5 if sweep.method == "sobol" and n in sweep.integers else 0.0 for n in names}
    return {"num_vars": len(names), "names": names,
            "bounds": [[float(sweep.parameters[n][0]) - pad[n],
                        float(sweep.parameters[n][1]) + pad[n]] for n in names]}


def sample(sweep, seed: int) -> np.ndarray:
    """Points (rows) at which to run the model."""
    problem = _problem(sweep)
    if sweep.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, sweep.samples, num_levels=4, seed=seed)
    from SALib.sample import sobol

    base = 1 << max(0, int(np.ceil(np.log2(sweep.samples))))  # Sobol' wants a power of 2
    return sobol.sample(problem, base, calc_second_order=False, seed=seed)


def analyze(sweep, seed: int, points: np.ndarray, outputs: np.ndarray) -> pd.DataFrame:
    """Indices of one output (one value per point) for each swept parameter.

    Morris: mu, mu_star, sigma, mu_star_conf. Sobol: S1, S1_conf, ST, ST_conf.
    """
    problem = _problem(sweep)
    if sweep.method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, points, outputs, num_levels=4, seed=seed)
        cols = ("mu", "mu_star", "sigma", "mu_star_conf")
    else:
        from SALib.analyze import sobol

        res = sobol.analyze(problem, outputs, calc_second_order=False, seed=seed)
        cols = ("S1", "S1_conf", "ST", "ST_conf")
    return pd.DataFrame({"parameter": problem["names"],
                         **{c: np.asarray(res[c], dtype=float) for c in cols}})
