"""Ranking and selection among the best trials: Kim & Nelson's fully sequential
procedure KN, with common random numbers.

Why not sim-tools (PyPI ``sim-tools`` 1.3, ``sim_tools.ovs.indifference_zone.KN``):
it drives a model one replication at a time through an observer object (no batches
for the executors), has no cap on replications, and looks up the variance of a
difference with an index that is only right for some pairs of designs (its own
comment: "possibly a bug"). KN is a page of arithmetic, written here from the paper.

Notes
-----
k systems, observations X_ij (system i, replication j; larger is better: a minimised
objective is negated), probability of correct selection 1 - alpha, indifference
zone delta > 0, first-stage size n0 >= 2. With

    eta = 1/2 [ (2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1 ],   h^2 = 2 eta (n0 - 1),
    S_il^2 = 1/(n0 - 1) sum_{j<=n0} (X_ij - X_lj - [Xbar_i(n0) - Xbar_l(n0)])^2,
    N_il = floor(h^2 S_il^2 / delta^2),   N = max_{i != l} N_il,

stop at once with the largest first-stage mean if n0 > N. Otherwise, from r = n0:
screen, keeping system i while for every other survivor l

    Xbar_i(r) >= Xbar_l(r) - W_il(r),   W_il(r) = max{0, delta/(2r) (h^2 S_il^2/delta^2 - r)};

stop if one survives; else take one more replication of every survivor, r += 1,
and if r = N + 1 select the survivor with the largest mean, else screen again.
S_il^2 is the variance of the paired differences, so common random numbers (the
same seed for every system in replication j) are allowed and shrink it.
If the best system's mean exceeds every other's by at least delta, KN selects it
with probability at least 1 - alpha.

When the replications allowed (``n_max``) run out first, the procedure stops with
the largest mean among the survivors and the guarantee does not hold; the report
then gives the Bonferroni bound on the paired t-statistics of the chosen system c
against each survivor l (approximate: it treats the means as normal),

    PCS >= 1 - sum_l P( T_{r-1} > (Xbar_c - Xbar_l + delta) / (S_cl(r) / sqrt r) ).

References
----------
Kim, S.-H. and Nelson, B. L. (2001). A fully sequential procedure for
indifference-zone selection in simulation. ACM TOMACS 11(3), 251-273.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["KNResult", "kim_nelson", "kn_constants"]


@dataclass(frozen=True)
class KNResult:
    """What KN did: the chosen index, how it ended (``"first stage"``, ``"elimination"``,
    ``"bound"``: r reached N + 1, ``"cap"``: n_max reached), the replications per system
    (eliminated at), the means over each system's replications, the constants, and the
    probability of correct selection (1 - alpha unless capped, then the bound; NaN
    with a single candidate)."""

    chosen: int
    ended: str
    replications: list[int]
    means: list[float]
    eta: float
    h2: float
    bound_n: int
    pcs: float
    guaranteed: bool


def kn_constants(k: int, alpha: float, n0: int) -> tuple[float, float]:
    """KN's eta and h^2 for k systems, error alpha, first stage n0 (module Notes)."""
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


def _capped_pcs(x: np.ndarray, chosen: int, alive: Sequence[int], delta: float) -> float:
    r = x.shape[1]
    miss = 0.0
    for other in alive:
        if other == chosen:
            continue
        d = x[chosen] - x[other]
        s = d.std(ddof=1)
        z = (d.mean() + delta) / (s / math.sqrt(r)) if s > 0 else math.inf
        miss += float(stats.t.sf(z, r - 1))
    return max(0.0, 1.0 - miss)


def kim_nelson(sample: Callable[[list[int], int], np.ndarray], k: int, *, alpha: float,
               delta: float, n0: int, n_max: int) -> KNResult:
    """Run KN (module Notes) on k systems.

    Parameters
    ----------
    sample : callable
        ``sample(systems, r)`` -> array, shape (len(systems),): replication r (0-based,
        the same random numbers for every system) of each listed system; larger is better.
    k : int
        Systems, >= 1 (one is chosen at once, with ``pcs`` NaN and ``guaranteed`` False:
        no selection happened).
    alpha : float
        1 - probability of correct selection, in (0, 0.5].
    delta : float
        Indifference zone, > 0, in the observations' units.
    n0, n_max : int
        First-stage replications (>= 2) and the most any system gets (>= n0).

    Returns
    -------
    KNResult
    """
    if k == 1:  # nothing to select among: no probability of correct selection
        return KNResult(0, "single candidate", [0], [math.nan], math.nan, math.nan, 0,
                        math.nan, False)
    eta, h2 = kn_constants(k, alpha, n0)
    columns = [np.asarray(sample(list(range(k)), j), float) for j in range(n0)]
    x = np.stack(columns, axis=1)  # (k, r); an eliminated system's column stops growing
    d = x[:, None, :] - x[None, :, :]
    s2 = d.var(axis=2, ddof=1)  # S_il^2, (k, k)
    off = ~np.eye(k, dtype=bool)
    bound_n = int(np.floor(h2 * s2[off] / delta**2).max())
    reps = [n0] * k
    alive = list(range(k))
    r, ended = n0, "first stage"
    if n0 <= bound_n:
        while True:
            means = x[:, :r].mean(axis=1)
            w = np.maximum(0.0, delta / (2 * r) * (h2 * s2 / delta**2 - r))
            alive = [i for i in alive
                     if all(means[i] >= means[o] - w[i, o] for o in alive if o != i)]
            if len(alive) == 1:
                ended = "elimination"
                break
            if r >= n_max:
                ended = "cap"
                break
            new = np.full(k, np.nan)
            new[alive] = sample(alive, r)
            x = np.concatenate([x, new[:, None]], axis=1)
            r += 1
            for i in alive:
                reps[i] = r
            if r == bound_n + 1:
                ended = "bound"
                break
    means = [float(np.nanmean(x[i, :reps[i]])) for i in range(k)]
    chosen = max(alive, key=lambda i: (means[i], -i))
    pcs = 1.0 - alpha if ended != "cap" else _capped_pcs(x[:, :r], chosen, alive, delta)
    return KNResult(chosen, ended, reps, means, eta, h2, bound_n, pcs, ended != "cap")
