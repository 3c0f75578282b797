"""The search: Optuna's TPE over budget shares (and searched parameters), in batches,
every trial scored on the same replications as the baseline (common random numbers).

Shares. Each lever i gets a raw share u_i in [low_i, high_i] from the sampler
(independent coordinates: what TPE models well). When they sum to more than 1, the
part above the lower bounds is scaled down so they sum to exactly 1:

    s_i = low_i + (u_i - low_i) * (1 - sum_j low_j) / sum_j (u_j - low_j)

(bounds kept: s_i >= low_i and s_i <= u_i <= high_i); otherwise s_i = u_i and the rest
of the budget is left unspent. Lever i's budget is floor(s_i * budget) yuan.

Score. Trial t's objective is the mean paired lift over replications r = 0..R-1,

    D_t = (1/R) sum_r (X_tr - X_0r),

X the objective KPI's horizon value, 0 the do-nothing baseline; replication r runs
with the same seed in every trial (:func:`sim.experiment.spec.replication_seed`), so
the trial-to-trial noise shared by all runs of r cancels in comparisons. A
constraint ``kpi >= c`` (or ``<=``) holds when the mean paired lift of kpi does;
a trial breaking one is infeasible: its violations are stored as Optuna 5's trial
constraints (``Trial.set_constraint``: feasible when <= 0), and the constrained TPE
ranks it below every feasible trial.

Determinism. Batch b of ``batch`` trials is asked from a study rebuilt from the
finished trials (``add_trials``) with a sampler seeded from (seed, b); its trials
are evaluated, then told (stored) in trial order. Trial t is thus a function of
the seed and the trials before its batch only: the same whatever the executor,
and the same after a resume.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.optimisation.evaluate import Evaluator, Request
from sim.optimisation.spec import OptimiseSpec
from sim.results import atomic_write_bytes

__all__ = ["shares", "allocation", "trial_strategies", "paired_lifts", "run_search"]

_CONSTRAINTS_KEY = "constraints"  # optuna.study._constrained_optimization._CONSTRAINTS_KEY


def shares(raw: np.ndarray, lows: np.ndarray) -> np.ndarray:
    """Effective shares from raw ones, shape (L,) -> (L,) (module docstring)."""
    raw, lows = np.asarray(raw, float), np.asarray(lows, float)
    if raw.sum() <= 1.0:
        return raw
    above = raw - lows
    return lows + above * (1.0 - lows.sum()) / above.sum()


def allocation(spec: OptimiseSpec, share: np.ndarray) -> list[float]:
    """Each lever's budget in whole yuan: floor(share * budget)."""
    return [float(math.floor(s * spec.budget + 1e-6)) for s in share]


def trial_strategies(spec: OptimiseSpec, share: np.ndarray, params: dict[str, Any]
                     ) -> tuple[dict[str, Any], ...]:
    """The strategies of an allocation: every funded lever with its budget and its
    searched parameters (``params`` keyed ``"<label>.<name>"``). A lever given 0 yuan is
    left out, not run with an empty budget: "only X" then really is X alone."""
    return tuple(lv.build(b, {n: params[f"{lv.label}.{n}"] for n in lv.params})
                 for lv, b in zip(spec.levers, allocation(spec, share), strict=True) if b > 0)


def paired_lifts(evaluator: Evaluator, spec: OptimiseSpec, phase: str, candidate: str,
                 trial: int, strategies: tuple, replications: list[int]) -> pd.DataFrame:
    """Per replication (rows, in order): every KPI's paired difference with the baseline
    in the same replication (shape (len(replications), n_kpis))."""
    base = [Request("baseline", "baseline", -1, (), r) for r in replications]
    own = [Request(phase, candidate, trial, strategies, r) for r in replications]
    return evaluator.values(own) - evaluator.values(base)


def _distributions(spec: OptimiseSpec) -> dict:
    from optuna.distributions import FloatDistribution, IntDistribution

    out: dict = {f"share.{lv.label}": FloatDistribution(*lv.share) for lv in spec.levers}
    for lv in spec.levers:
        for name, (low, high) in lv.params.items():
            cls = IntDistribution if isinstance(low, int) else FloatDistribution
            out[f"{lv.label}.{name}"] = cls(low, high)
    return out


def _study(spec: OptimiseSpec, trials: list[dict], batch: int):
    import optuna
    from optuna.trial import create_trial

    seed = int(np.random.SeedSequence(spec.experiment.seed, spawn_key=(19, batch))
               .generate_state(1, np.uint32)[0])
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=spec.search["startup"],
                                         multivariate=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per study rebuilt
    study = optuna.create_study(direction="maximize" if spec.maximise else "minimize",
                                sampler=sampler)
    dists = _distributions(spec)
    study.add_trials([create_trial(
        params=t["params"], distributions=dists, value=t["objective"],
        system_attrs={f"{_CONSTRAINTS_KEY}:{c}": v  # what Trial.set_constraint stores
                      for c, v in zip(spec.constraints, t["violations"], strict=True)})
        for t in trials])
    return study, dists


def _score(spec: OptimiseSpec, lifts: pd.DataFrame) -> dict[str, Any]:
    d = lifts[spec.objective].to_numpy()
    violations = [c.violation(float(lifts[c.kpi].mean())) for c in spec.constraints]
    return {"objective": float(d.mean()), "se": float(d.std(ddof=1) / math.sqrt(d.size)),
            "spend": float(lifts["strategy_spend"].mean()), "violations": violations,
            "feasible": all(v <= 0 for v in violations),
            **{f"lift_{c.kpi}": float(lifts[c.kpi].mean()) for c in spec.constraints}}


def trials_table(spec: OptimiseSpec, trials: list[dict]) -> pd.DataFrame:
    """One row per trial: shares, budgets (yuan), searched parameters, mean paired
    objective and its standard error, incremental spend, constraint lifts, feasible."""
    rows = []
    for t in trials:
        row = {"trial": t["trial"], "batch": t["batch"]}
        for lv, s, b in zip(spec.levers, t["share"], t["budgets"], strict=True):
            row[f"share_{lv.label}"] = s
            row[f"budget_{lv.label}"] = b
        row |= {k: v for k, v in t["params"].items() if not k.startswith("share.")}
        row |= {"allocated": sum(t["budgets"]), "objective": t["objective"], "se": t["se"],
                "incremental_spend": t["spend"], "feasible": t["feasible"]}
        row |= {k: v for k, v in t.items() if k.startswith("lift_")}
        rows.append(row)
    return pd.DataFrame(rows)


def run_search(spec: OptimiseSpec, evaluator: Evaluator, out: Path) -> list[dict]:
    """Every trial of the search (module docstring), written to OUT/trials.csv after each
    batch; returns the trials in order as dicts (trial, batch, params, share, budgets,
    objective, se, spend, violations, feasible, lift_<kpi>)."""
    n, size = spec.search["trials"], spec.search["batch"]
    reps = list(range(spec.search["replications"]))
    lows = np.array([lv.share[0] for lv in spec.levers])
    trials: list[dict] = []
    for batch in range(math.ceil(n / size)):
        study, dists = _study(spec, trials, batch)
        asked = [study.ask(dists) for _ in range(min(size, n - len(trials)))]
        new = []
        for k, trial in enumerate(asked):
            params = dict(trial.params)
            raw = np.array([params[f"share.{lv.label}"] for lv in spec.levers])
            share = shares(raw, lows)
            new.append({"trial": len(trials) + k, "batch": batch, "params": params,
                        "share": share.tolist(), "budgets": allocation(spec, share),
                        "strategies": trial_strategies(spec, share, params)})
        every = [Request("baseline", "baseline", -1, (), r) for r in reps] + [
            Request("search", f"trial {t['trial']}", t["trial"], t["strategies"], r)
            for t in new for r in reps]
        evaluator.run(every)  # one batch of runs on the executor
        for t in new:
            lifts = paired_lifts(evaluator, spec, "search", f"trial {t['trial']}",
                                 t["trial"], t["strategies"], reps)
            trials.append(t | _score(spec, lifts))
        atomic_write_bytes(out / "trials.csv",
                           trials_table(spec, trials).to_csv(index=False).encode())
    return trials
