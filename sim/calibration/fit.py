"""Goodness of fit, the set of values indistinguishable from the best, identifiability.

The loss of a trial (docs/MODEL.md, "Calibration: the loss") is a weighted sum of
squares over the T targets::

    L = sum_t ((ybar_t - o_t) / sd_t)^2

with ``ybar_t`` the model's mean over the trial's S seeds, ``o_t`` the observed
value and ``sd_t`` its sd (from the file, else :func:`sim.calibration.targets.default_sd`).
Each seed's own loss ``L_s`` (``ybar`` replaced by seed s's value) measures the seed
noise: the seeds are the same in every trial, so two trials' per-seed losses are paired.

A trial is *indistinguishable from the best* when::

    L - L_best <= chi2_k(0.95) * max(1, L_best / (T - k)) + 1.96 * se_best

k the number of parameters. The first term is the likelihood-ratio (Wilks) 95 %
region of a least-squares fit, widened by the best fit's reduced chi-square when the
model fits worse than the sds say (the Birge ratio: the sds were too small); the
second allows for seed noise at the best fit: ``se_best = sd_s(L_best,s) / sqrt(S)``,
the standard error of the best trial's own per-seed losses (0 with one seed). The
threshold is one number for every trial: a trial's own misfit widens nothing.

Identifiability: after the search, each parameter is probed at both bounds with the
others at their best (:func:`sim.calibration.search.probe_bounds`). A parameter's
indistinguishable range is the span of its values over the set, probes included, as
a share of its bounds: at most 1/3 "pinned", at least 2/3 "not informed" (both probes
fit as well as the best: then the span is the whole bounds), "weakly informed" between.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration.spec import CalibrationSpec
from sim.calibration.targets import Target

if TYPE_CHECKING:
    from sim.calibration.search import Trial

__all__ = ["observe", "trial_loss", "indistinguishable", "identifiability", "fit_table",
           "trials_table", "PINNED_SHARE", "UNINFORMED_SHARE"]

PINNED_SHARE = 1 / 3      # the set spans at most a third of the bounds: "pinned"
UNINFORMED_SHARE = 2 / 3  # at least two thirds: "not informed"; between: "weakly informed"
Z_SEED = 1.96


def _value(frame: pd.DataFrame, t: Target) -> float:
    col = frame[t.kpi].to_numpy()
    if t.kind == "level" or (t.kind == "lift" and t.start == t.day):
        return float(col[t.day])
    return float(col[t.start:t.day + 1].sum())


def observe(spec: CalibrationSpec, base: pd.DataFrame, pilots: list[pd.DataFrame]
            ) -> np.ndarray:
    """The model's value of every target (``spec.all_targets``) in one seed's runs:
    ``base`` the no-strategy KPI table, ``pilots`` each pilot's on the same seed.
    A lift is the pilot's value minus the no-strategy run's (paired by the seed)."""
    values = [_value(base, t) for t in spec.targets]
    for pilot, frame in zip(spec.pilots, pilots, strict=True):
        values.append(_value(frame, pilot.target) - _value(base, pilot.target))
    return np.array(values)


def _observed(spec: CalibrationSpec) -> tuple[np.ndarray, np.ndarray]:
    targets = spec.all_targets
    return np.array([t.value for t in targets]), np.array([t.sd for t in targets])


def trial_loss(spec: CalibrationSpec, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Loss of the seed mean and each seed's own loss, from ``y`` (seeds x targets)."""
    obs, sd = _observed(spec)
    loss = float((((y.mean(axis=0) - obs) / sd) ** 2).sum())
    return loss, (((y - obs) / sd) ** 2).sum(axis=1)


def indistinguishable(spec: CalibrationSpec, trials: list[Trial]) -> tuple[np.ndarray, float]:
    """Mask of the trials indistinguishable from the best (module docstring: ``L - L_best
    <= threshold``) and that threshold, the same for every trial."""
    losses = np.array([t.loss for t in trials])
    if not np.isfinite(losses).any():
        return np.zeros(len(trials), bool), float("nan")
    best = trials[int(np.nanargmin(losses))]
    k, n_targets = len(spec.parameters), len(spec.all_targets)
    birge = max(1.0, best.loss / (n_targets - k)) if n_targets > k else 1.0
    seeds = len(best.seed_losses)
    se_best = best.seed_losses.std(ddof=1) / np.sqrt(seeds) if seeds > 1 else 0.0
    threshold = float(stats.chi2.ppf(0.95, k)) * birge + Z_SEED * float(se_best)
    keep = losses - best.loss <= threshold  # NaN (a failed trial) compares False
    return keep, threshold


def identifiability(spec: CalibrationSpec, trials: list[Trial], keep: np.ndarray
                    ) -> pd.DataFrame:
    """Per parameter: the best value, the range of the indistinguishable set, the share of
    the bounds it spans (log scale for log parameters) and a verdict: "pinned" (share <=
    1/3), "not informed" (>= 2/3), "weakly informed" between."""
    losses = np.array([t.loss for t in trials])
    best = trials[int(np.nanargmin(losses))]
    chosen = [t for t, k in zip(trials, keep, strict=True) if k]
    rows = []
    for p in spec.parameters:
        values = [t.params[p.name] for t in chosen]
        low, high = min(values), max(values)
        share = p.share(low, high)
        verdict = ("pinned" if share <= PINNED_SHARE else "not informed"
                   if share >= UNINFORMED_SHARE else "weakly informed")
        rows.append({"parameter": p.name, "best": best.params[p.name], "set_low": low,
                     "set_high": high, "bound_low": p.low, "bound_high": p.high,
                     "share_of_bounds": share, "trials_in_set": len(chosen),
                     "identifiability": verdict})
    return pd.DataFrame(rows)


def fit_table(spec: CalibrationSpec, best: Trial) -> pd.DataFrame:
    """Per target: observed, sd, the best trial's model mean with its 95 % band over seeds
    (t-interval), residual z = (mean - observed) / sd and its share of the loss."""
    obs, sd = _observed(spec)
    y = best.y
    n = y.shape[0]
    mean = y.mean(axis=0)
    half = (stats.t.ppf(0.975, n - 1) * y.std(axis=0, ddof=1) / np.sqrt(n) if n > 1
            else np.zeros_like(mean))
    z = (mean - obs) / sd
    return pd.DataFrame({"target": [t.label for t in spec.all_targets],
                         "kpi": [t.kpi for t in spec.all_targets],
                         "kind": [t.kind for t in spec.all_targets],
                         "day": [t.day for t in spec.all_targets],
                         "observed": obs, "sd": sd, "model_mean": mean,
                         "band_low": mean - half, "band_high": mean + half, "z": z,
                         "share_of_loss": z ** 2 / max(float((z ** 2).sum()), 1e-300)})


def trials_table(spec: CalibrationSpec, trials: list[Trial], keep: np.ndarray) -> pd.DataFrame:
    """Every trial: its values, loss, each seed's loss, whether it is in the
    indistinguishable set, the residual z of each target and the error of a failed run."""
    obs, sd = _observed(spec)
    rows = []
    for t, k in zip(trials, keep, strict=True):
        row = {"trial": t.number, "kind": "search" if t.number < spec.trials else "probe",
               **t.params, "loss": t.loss}
        row.update({f"loss_seed_{r}": v for r, v in enumerate(t.seed_losses)})
        row["indistinguishable"] = bool(k)
        z = (t.y.mean(axis=0) - obs) / sd
        row.update({f"z: {tg.label}": v for tg, v in zip(spec.all_targets, z, strict=True)})
        row["error"] = t.error
        rows.append(row)
    return pd.DataFrame(rows)
