"""The optimisation report's figures: response to each lever's share (partial
dependence), the spend-vs-objective frontier, the fresh check. Each returns a
matplotlib Figure, or None when there is nothing to draw.

Partial dependence (Friedman 2001, eq. 53) needs a response surface: a quadratic in
the effective shares s (intercept, s_i, s_i^2, s_i s_j), fitted by least squares to
the feasible trials' mean paired objectives. Lever i's curve is

    PD_i(v) = (1/T) sum_t f(s_t with s_ti := v),

the surface averaged over the trials' other shares. It is drawn only over the range of
shares the trials tried (never extrapolated) and only with at least twice as many
feasible trials as coefficients; the trials are plotted either way.

References
----------
Friedman, J. H. (2001). Greedy function approximation: a gradient boosting machine.
Annals of Statistics 29(5), 1189-1232.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.metrics import KPI_BY_NAME
from sim.report.i18n import kpi_label
from sim.report.style import axis_label, color_of, legend_outside, new_figure, thousands

__all__ = ["quadratic_features", "partial_dependence", "response", "frontier", "fresh_check"]


def quadratic_features(s: np.ndarray) -> np.ndarray:
    """Design matrix of the quadratic surface, shape (T, L) -> (T, 1 + 2L + L(L-1)/2)."""
    s = np.atleast_2d(np.asarray(s, float))
    cross = [s[:, i] * s[:, j] for i in range(s.shape[1]) for j in range(i + 1, s.shape[1])]
    return np.column_stack([np.ones(len(s)), s, s**2, *cross])


def partial_dependence(s: np.ndarray, y: np.ndarray, lever: int, grid: np.ndarray
                       ) -> np.ndarray | None:
    """PD of lever ``lever`` at ``grid`` (module docstring), shape (G,); None when the
    trials are too few for the surface (fewer than twice its coefficients). ``s`` shape
    (T, L), ``y`` shape (T,)."""
    x = quadratic_features(s)
    if len(y) < 2 * x.shape[1]:
        return None
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    out = []
    for v in grid:
        moved = s.copy()
        moved[:, lever] = v
        out.append(float((quadratic_features(moved) @ coef).mean()))
    return np.array(out)


def _objective_label(result) -> str:
    kpi = result.spec.objective
    return axis_label(f"{kpi_label(kpi)}, paired lift", KPI_BY_NAME[kpi].unit)


def response(result):
    """One panel per lever: each trial's mean paired objective (+/- 1 s.e.) against its
    share, the partial-dependence curve, the chosen trial marked."""
    spec, trials = result.spec, result.trials
    labels = [lv.label for lv in spec.levers]
    s = trials[[f"share_{lb}" for lb in labels]].to_numpy(float)
    y, feasible = trials["objective"].to_numpy(float), trials["feasible"].to_numpy(bool)
    fig, axes = new_figure(3.3 * len(labels), 3.2, ncols=len(labels), sharey=True,
                           squeeze=False)
    chosen = trials["trial"].to_numpy() == result.chosen["trial"]
    for i, (ax, lever) in enumerate(zip(axes[0], spec.levers, strict=True)):
        ax.errorbar(s[feasible, i], y[feasible], yerr=trials["se"].to_numpy()[feasible],
                    fmt="o", ms=3.5, color=color_of(0), alpha=0.6, lw=0.8, label="trial")
        if (~feasible).any():
            ax.plot(s[~feasible, i], y[~feasible], "x", color=color_of(7), label="infeasible")
        ax.plot(s[chosen, i], y[chosen], "*", ms=12, color=color_of(1), label="chosen")
        grid = np.linspace(s[feasible, i].min(), s[feasible, i].max(), 41) if feasible.any() \
            else np.array([])
        pd_curve = partial_dependence(s[feasible], y[feasible], i, grid) if grid.size else None
        if pd_curve is not None:
            ax.plot(grid, pd_curve, color=color_of(2), lw=2, label="partial dependence")
        ax.set_title(lever.label, fontsize=9)
        ax.set_xlabel("share of the budget")
        ax.yaxis.set_major_formatter(thousands)
    axes[0][0].set_ylabel(_objective_label(result))
    legend_outside(axes[0][-1])
    fig.tight_layout()
    return fig


def frontier(result):
    """Each trial's incremental spend (yuan, mean paired) against its objective, and the
    frontier: the best objective found at or below each spend."""
    trials = result.trials.sort_values(["incremental_spend", "trial"])
    sign = result.spec.sign
    fig, ax = new_figure(6.5, 3.6)
    ok = trials["feasible"].to_numpy(bool)
    x, y = trials["incremental_spend"].to_numpy(float), trials["objective"].to_numpy(float)
    ax.plot(x[ok], y[ok], "o", ms=4, color=color_of(0), alpha=0.6, label="trial")
    if (~ok).any():
        ax.plot(x[~ok], y[~ok], "x", color=color_of(7), label="infeasible")
    if ok.any():
        best = sign * np.maximum.accumulate(sign * y[ok])
        ax.step(x[ok], best, where="post", color=color_of(2), lw=2, label="frontier")
    pick = trials["trial"].to_numpy() == result.chosen["trial"]
    ax.plot(x[pick], y[pick], "*", ms=13, color=color_of(1), label="chosen")
    ax.set_xlabel(axis_label("Incremental strategy spend", "yuan"))
    ax.set_ylabel(_objective_label(result))
    ax.xaxis.set_major_formatter(thousands)
    ax.yaxis.set_major_formatter(thousands)
    legend_outside(ax)
    return fig


def fresh_check(result):
    """Paired lift of the objective (95 % CI) of each allocation on the fresh
    replications."""
    table: pd.DataFrame = result.fresh
    if table.empty:
        return None
    fig, ax = new_figure(6.5, 0.45 * len(table) + 1.3)
    ys = -np.arange(len(table))
    for k, row in enumerate(table.itertuples(index=False)):
        lo, hi = row.lift_ci_low, row.lift_ci_high
        err = [[row.lift - lo if np.isfinite(lo) else 0], [hi - row.lift if np.isfinite(hi)
                                                           else 0]]
        ax.errorbar([row.lift], [ys[k]], xerr=err, fmt="o", capsize=3,
                    color=color_of(1 if row.allocation == "chosen" else 0))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(ys, table["allocation"].tolist())
    ax.set_xlabel(_objective_label(result))
    ax.xaxis.set_major_formatter(thousands)
    return fig
