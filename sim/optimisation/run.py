"""``optimise(FILE, out=OUT)``: search, select, check on fresh replications, write.

1. Search (:mod:`sim.optimisation.search`): ``[search] trials`` allocations, each on
   replications 0..R-1 paired with the baseline.
2. Select (:mod:`sim.optimisation.selection`): the ``top`` best feasible trials go
   through KN on new replications R, R+1, ... (still common to all of them), so the
   trials' first-stage luck that put them on top does not bias the choice.
3. Check: the chosen allocation, the equal split and each single-lever allocation
   (that lever at its upper share, the others at their lower ones; the chosen
   trial's searched parameters for all) on ``fresh`` replications used by neither
   search nor selection (numbered from :data:`FRESH_FROM`), each paired with the
   baseline and with the chosen one (paired t, Holm-adjusted over the comparisons).
4. Write OUT/best.toml (on ``fresh`` replications whose seeds none of the above ran:
   :func:`sim.optimisation.bestfile.out_of_sample_seed`), OUT/trials.csv,
   OUT/replications.parquet, OUT/fresh.csv, OUT/selection.json and OUT/report.html.

A rerun with the same OUT resumes: every finished model run is read back
(:class:`sim.optimisation.evaluate.Evaluator`), and the search asks the same trials.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.experiment.executors import check_executor
from sim.experiment.ranking import holm, paired_test
from sim.optimisation.bestfile import best_toml
from sim.optimisation.evaluate import Evaluator, Request
from sim.optimisation.search import allocation, paired_lifts, run_search, shares, trial_strategies
from sim.optimisation.selection import KNResult, kim_nelson
from sim.optimisation.spec import OptimiseSpec, load_optimisation
from sim.results import atomic_write_bytes, atomic_write_json, code_hash, locked, safe_name

__all__ = ["optimise", "Optimisation", "FRESH_FROM", "OUTPUTS"]

FRESH_FROM = 1_000_000  # first replication number of the fresh check
OUTPUTS = ("optimise.json", "replications.parquet", "trials.csv", "selection.json",
           "fresh.csv", "best.toml", "report.html", "figures")


@dataclass
class Optimisation:
    """What an optimisation produced: the trials, the KN candidates (trial numbers) and
    result, the chosen trial, the fresh comparison, the model runs used (``runs``; of them
    ``new_runs`` in this call, the rest read back) and the wall time."""

    spec: OptimiseSpec
    out: Path
    trials: pd.DataFrame
    candidates: list[int]
    kn: KNResult
    chosen: dict[str, Any]
    fresh: pd.DataFrame
    runs: int
    new_runs: int
    seconds: float


def _prepare(spec: OptimiseSpec, out: Path, fresh: bool) -> None:
    stamp = out / "optimise.json"
    if fresh:
        for name in OUTPUTS:
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    elif stamp.exists():
        import json

        held = json.loads(stamp.read_text(encoding="utf-8"))
        for key, now, what in (("hash", spec.hash, "another file's"),
                               ("code", code_hash(), "other simulator code's")):
            if held.get(key) != now:
                raise ConfigError("out", str(out), f"a folder of this optimisation (it holds "
                                  f"{what} runs, {key} {held.get(key)}, this is {now}: add "
                                  "--fresh to delete them, or choose another --out)")
    elif any((out / name).exists() for name in OUTPUTS[1:]) or (out / "manifest.json").exists():
        raise ConfigError("out", str(out), "an empty folder or this optimisation's (add "
                          "--fresh to delete what it holds, or choose another --out)")
    atomic_write_json(stamp, {"kind": "optimisation", "hash": spec.hash, "code": code_hash(),
                              "spec": spec.source})


def _candidates(spec: OptimiseSpec, trials: list[dict]) -> list[int]:
    """The ``top`` best trials (feasible ones; all when none is), best first."""
    pool = [t for t in trials if t["feasible"]] or trials
    ranked = sorted(pool, key=lambda t: (-spec.sign * t["objective"], t["trial"]))
    return [t["trial"] for t in ranked[:spec.selection["top"]]]


def _references(spec: OptimiseSpec, chosen: dict) -> dict[str, tuple[list[float], tuple]]:
    """Allocations the chosen one is checked against (module docstring, step 3): name ->
    (each lever's budget in yuan, in lever order; the strategies of the funded levers)."""
    lows = np.array([lv.share[0] for lv in spec.levers])
    highs = np.array([lv.share[1] for lv in spec.levers])
    raws = {"equal split": np.clip(1.0 / len(lows), lows, highs)}
    for i, lv in enumerate(spec.levers):
        raws[f"only {lv.label}"] = np.where(np.arange(len(lows)) == i, highs, lows)
    out = {"chosen": (chosen["budgets"], chosen["strategies"])}
    for name, raw in raws.items():
        share = shares(raw, lows)
        out[name] = (allocation(spec, share), trial_strategies(spec, share, chosen["params"]))
    return out


def _fresh(spec: OptimiseSpec, evaluator: Evaluator, chosen: dict) -> pd.DataFrame:
    reps = list(range(FRESH_FROM, FRESH_FROM + spec.selection["fresh"]))
    refs = _references(spec, chosen)
    evaluator.run([Request("fresh", "baseline", -1, (), r) for r in reps] + [
        Request("fresh", name, -1, s, r) for name, (_, s) in refs.items() for r in reps])
    lifts = {name: paired_lifts(evaluator, spec, "fresh", name, -1, s, reps)
             for name, (_, s) in refs.items()}
    rows = []
    for name, frame in lifts.items():
        lift = paired_test(frame[spec.objective].to_numpy())
        versus = paired_test(lifts["chosen"][spec.objective].to_numpy()
                             - frame[spec.objective].to_numpy())
        rows.append({"allocation": name,
                     **{f"budget_{lv.label}": b
                        for lv, b in zip(spec.levers, refs[name][0], strict=True)},
                     "lift": lift["diff"], "lift_ci_low": lift["ci_low"],
                     "lift_ci_high": lift["ci_high"],
                     **{f"lift_{k}": float(frame[k].mean()) for k in spec.experiment.headline},
                     "chosen_minus": versus["diff"], "chosen_minus_ci_low": versus["ci_low"],
                     "chosen_minus_ci_high": versus["ci_high"],
                     "p_value": versus["p_value"] if name != "chosen" else np.nan})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].to_numpy())
    table["told_apart"] = table["p_holm"] < 0.05
    return table


def optimise(source: OptimiseSpec | str | Path | dict, out: str | Path | None = None,
             executor: str = "processes", workers: int | None = None,
             scheduler: str | None = None, quiet: bool = True, fresh: bool = False,
             overrides: dict[str, Any] | None = None, report: bool = True) -> Optimisation:
    """Find the best split of the budget (module docstring) and write it under ``out``.

    Parameters
    ----------
    source : OptimiseSpec, path or dict
        The optimisation file (:func:`sim.optimisation.spec.load_optimisation`).
    out : path, optional
        Folder, default ``results/<name>``; a rerun with it resumes.
    executor, workers, scheduler : as :func:`sim.experiment.run_experiment`.
    quiet : bool
        No progress bar.
    fresh : bool
        Delete this folder's previous optimisation outputs first.
    overrides : dict, optional
        Scenario keys replacing the file's.
    report : bool
        Write OUT/report.html.

    Raises
    ------
    ConfigError
        An invalid file, executor or folder; before any model runs.
    RuntimeError
        A model run failed (finished runs are kept).
    KeyboardInterrupt
        On Ctrl-C, once the workers are stopped; finished runs are kept.
    """
    spec = source if isinstance(source, OptimiseSpec) else load_optimisation(source, overrides)
    check_executor(executor, workers)
    out = Path(out) if out is not None else Path("results") / safe_name(spec.experiment.name)
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    started = time.perf_counter()
    with locked(out):
        _prepare(spec, out, fresh)
        with tqdm(desc=spec.experiment.name, unit="run", disable=quiet) as bar:
            evaluator = Evaluator(spec.experiment, out, executor, workers, scheduler, bar)
            result = _optimise(spec, out, evaluator)
        result.seconds = time.perf_counter() - started
        if report:
            from sim.optimisation.report import write_optimise_report

            write_optimise_report(result)
    return result


def _optimise(spec: OptimiseSpec, out: Path, evaluator: Evaluator) -> Optimisation:
    from sim.optimisation.search import trials_table

    trials = run_search(spec, evaluator, out)
    candidates = _candidates(spec, trials)
    sel, first = spec.selection, spec.search["replications"]

    def sample(systems: list[int], j: int) -> np.ndarray:
        chosen = [trials[candidates[i]] for i in systems]
        requests = [Request("selection", f"trial {t['trial']}", t["trial"], t["strategies"],
                            first + j) for t in chosen]
        return spec.sign * evaluator.values(requests)[spec.objective].to_numpy()

    kn = kim_nelson(sample, len(candidates), alpha=1.0 - sel["probability"],
                    delta=sel["indifference"], n0=sel["initial"], n_max=sel["max_replications"])
    chosen = trials[candidates[kn.chosen]]
    table = _fresh(spec, evaluator, chosen)
    atomic_write_bytes(out / "fresh.csv", table.to_csv(index=False).encode())
    atomic_write_json(out / "selection.json", {
        "method": "kn", "candidates": candidates, "chosen_trial": chosen["trial"],
        "probability": sel["probability"], "indifference": sel["indifference"],
        "initial": sel["initial"], "max_replications": sel["max_replications"],
        "ended": kn.ended, "replications": kn.replications,
        "means": [spec.sign * m for m in kn.means], "eta": kn.eta, "h2": kn.h2,
        "bound_n": kn.bound_n, "pcs": kn.pcs, "guaranteed": kn.guaranteed,
        "runs": len(evaluator.rows)})
    how = ("the only feasible trial, so no selection took place" if len(candidates) == 1
           else f"selected by KN among {len(candidates)}\n(probability of correct selection "
           f"{'>= ' if kn.guaranteed else 'about '}{kn.pcs:.3g}, indifference zone "
           f"{sel['indifference']:,g})")
    best_toml(out / "best.toml", spec, chosen["strategies"], sel["fresh"],
              f"Chosen by sim optimise: trial {chosen['trial']} of {len(trials)}, {how}.\n"
              "Run it: sim run best.toml", {int(r["seed"]) for r in evaluator.rows.values()})
    return Optimisation(spec, out, trials_table(spec, trials), candidates, kn, chosen, table,
                        len(evaluator.rows), evaluator.runs, 0.0)
