"""Scenario discovery: where in the uncertain parameters a variant's verdict holds.

For each non-baseline variant, headline KPI and question ("beats_baseline": it beats
the baseline in that draw; "is_best": it is the best variant in that draw) the draws
(replications) are classified true or false (sim/experiment/robustness.py
:func:`outcomes`), and PRIM (ema_workbench ``analysis.prim``) looks for the box of
parameter ranges in which the answer is true. The box kept is the point of PRIM's
peeling and pasting trajectory with the largest ``coverage x density``; a parameter it
leaves at its full observed range is free. Extra-trees feature scores (ema_workbench
``analysis.feature_scoring``) say how much each parameter matters to the answer.

PRIM needs draws: below :data:`MIN_DRAWS` replications nothing is fitted and each row
says so (``status = "too few draws"``); nor is it fitted when fewer than
:data:`MIN_CASES` draws answer true, or false (``"too few true draws"`` / ``"too few
false draws"``): a box around a handful of draws describes their noise. A box is
reported only if it beats chance: PRIM is refitted to the answers shuffled across the
draws :data:`PERMUTATIONS` times, and a box whose coverage x density is matched by the
shuffles' boxes too often (permutation p-value above :data:`ALPHA`) is reported as
``status = "chance"``, without its ranges. Whether a
variant beats the baseline is explained only by the parameters that can act on it
(every scenario key, and the strategy targets that apply to it); which variant is
best, by all of them.

Notes
-----
Box B over the draws; y_r = 1 where the answer is true. Coverage is
``sum_{r in B} y_r / sum_r y_r`` (the share of true draws inside the box), density
``sum_{r in B} y_r / |B|`` (the share of draws in the box that are true). PRIM peels
(Friedman & Fisher 1999): repeatedly cut off the slice (a share ``peel_alpha`` = 5 %
of the box's draws at one end of one parameter, or one category) that most raises the
box's mean y per draw removed (ema_workbench's default "lenient1" objective,
``(mean(y | B - b) - mean(y | B)) / (|B| - |B - b|)``), until the box holds
``mass_min`` = 5 % of the draws; then pastes back slices that raise the mean.

The permutation p-value is ``(1 + b) / (1 + m)`` (Phipson & Smyth 2010), b of the m
shuffles scoring at least the box's coverage x density. Each shuffle's box is chosen
as the real one is, the best point of its own trajectory, so the test accounts for
PRIM searching every parameter for the best-looking box.

References
----------
Friedman, J. H. & Fisher, N. I. (1999). Bump hunting in high-dimensional data.
Statistics and Computing 9, 123-143.
Bryant, B. P. & Lempert, R. J. (2010). Thinking inside the box: a participatory,
computer-assisted approach to scenario discovery. Technological Forecasting and
Social Change 77(1), 34-49.
Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling
& Software 96, 239-250.
Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero.
Statistical Applications in Genetics and Molecular Biology 9(1), Article 39.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from sim.experiment.robustness import outcomes

__all__ = ["MIN_DRAWS", "QUESTIONS", "COLUMNS", "SCORE_COLUMNS", "discover", "prim_box",
           "box_p_value"]

MIN_DRAWS = 30
MIN_CASES = 5
PERMUTATIONS = 49  # shuffles per box: p-values from 0.02 up
ALPHA = 0.05
QUESTIONS = ("beats_baseline", "is_best")
COLUMNS = ["point", "variant", "kpi", "question", "parameter", "low", "high", "values",
           "coverage", "density", "p_value", "share_true", "draws", "status"]
SCORE_COLUMNS = ["point", "variant", "kpi", "question", "parameter", "score"]


def prim_box(x: pd.DataFrame, y: np.ndarray) -> tuple[dict[str, tuple], float, float]:
    """The PRIM box in which ``y`` is true.

    Parameters
    ----------
    x : DataFrame, shape (draws, parameters)
        Numeric or categorical (object) columns.
    y : ndarray of bool, shape (draws,)
        Neither all true nor all false.

    Returns
    -------
    restricted : dict
        Parameter -> (low, high) for a numeric one (NaN on a side left free: the box
        keeps every draw there) or (set of kept values,) for a categorical one; only
        the parameters the box restricts.
    coverage, density : float
    """
    prim = _ema("prim")
    # numeric columns as float: PRIM's pasting writes midpoints (22.5) into the frame
    x = x.reset_index(drop=True).apply(
        lambda c: c.astype(float) if pd.api.types.is_numeric_dtype(c) else c)
    # binary y: the cases of interest are y >= threshold, i.e. y = 1, and a tiny
    # threshold keeps PRIM's box whatever its density (the trajectory is chosen here)
    with warnings.catch_warnings():  # its pandas deprecation notices are not the user's
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, np.asarray(y, float), threshold=1e-9, peel_alpha=0.05,
                           paste_alpha=0.05, mass_min=0.05)
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    best = int(np.argmax((trajectory["coverage"] * trajectory["density"]).to_numpy()))
    limits, init = box.box_lims[best], finder.box_init
    restricted: dict[str, tuple] = {}
    for name in init.columns:
        lo, hi = limits[name].iloc[0], limits[name].iloc[1]
        lo0, hi0 = init[name].iloc[0], init[name].iloc[1]
        if isinstance(lo0, set):
            if lo != lo0:
                restricted[name] = (set(lo),)
        elif lo > lo0 or hi < hi0:
            restricted[name] = (float(lo) if lo > lo0 else np.nan,
                                float(hi) if hi < hi0 else np.nan)
    row = trajectory.iloc[best]
    return restricted, float(row["coverage"]), float(row["density"])


def box_p_value(x: pd.DataFrame, y: np.ndarray, score: float, seed: int) -> float:
    """Permutation p-value of a PRIM box scoring ``score`` (coverage x density).

    PRIM is refitted to ``y`` shuffled across the draws :data:`PERMUTATIONS` times
    (a stream seeded from ``seed`` and the answers, so the same question gets the
    same shuffles whatever the variants are called); returns ``(1 + b) / (1 +
    PERMUTATIONS)``, b the shuffles whose box scores at least ``score``.
    """
    rng = np.random.default_rng([seed, *np.flatnonzero(y).tolist()])
    beaten = 0
    for _ in range(PERMUTATIONS):
        _, coverage, density = prim_box(x, rng.permutation(y))
        beaten += coverage * density >= score
    return (1 + beaten) / (1 + PERMUTATIONS)


def _ema(module: str):
    """ema_workbench's ``analysis.<module>``, imported on first use (a few seconds) without
    its notices (no ipyparallel; INFO logging of every box)."""
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = importlib.import_module(f"ema_workbench.analysis.{module}")
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return mod


def _scores(x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.Series:
    """Extra-trees feature scores (sum to 1) of each parameter for the answer ``y``; each
    split considers a third of the parameters (ema_workbench's default), at least one."""
    scoring = _ema("feature_scoring")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _ = scoring.get_ex_feature_scores(
            x.reset_index(drop=True), np.asarray(y, int),
            mode=scoring.RuleInductionType.CLASSIFICATION, nr_trees=100,
            max_features=max(1, round(x.shape[1] / 3)), random_state=seed)
    return scores.iloc[:, 0].reindex(x.columns).fillna(0.0)


def _too_few(y: np.ndarray) -> str:
    """Why PRIM is not fitted to answers ``y`` ("" when it is)."""
    true = int(y.sum())
    if len(y) < MIN_DRAWS:
        return "too few draws"
    if true == len(y) or true == 0:
        return "always" if true else "never"
    if true < MIN_CASES:
        return "too few true draws"
    if len(y) - true < MIN_CASES:
        return "too few false draws"
    return ""


def discover(values: pd.DataFrame, draws: pd.DataFrame, baseline: str, order: list[str],
             kpis: tuple[str, ...], seed: int,
             applies: dict[str, tuple[str, ...]] | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Boxes and feature scores of every (point, variant, KPI, question).

    Parameters
    ----------
    values : DataFrame
        :func:`sim.experiment.analysis.horizon_values`.
    draws : DataFrame, shape (replications, parameters)
        :meth:`sim.experiment.spec.ExperimentSpec.draws`.
    baseline, order, kpis : the baseline, variants in declared order, KPIs judged.
    seed : int
        The experiment seed (for the extra trees).
    applies : dict, optional
        Strategy target (``"strategies[i].name"``) -> the variants it acts on
        (:attr:`sim.experiment.uncertainty.Uncertainty.variants`); a target a variant
        does not have is left out of its "beats_baseline" box.

    Returns
    -------
    boxes : DataFrame
        :data:`COLUMNS`, one row per restricted parameter of each box; a question with
        no box has one row with an empty ``parameter`` and ``status`` saying why:
        "too few draws", "always", "never", "no range" (PRIM restricts nothing) or
        "chance" (the box does not beat shuffled answers: ``p_value`` > :data:`ALPHA`).
        ``values``: the kept categories of a choice parameter, ``low``/``high``: the
        numeric bounds (NaN: free on that side). Box rows have ``status = "box"``.
    scores : DataFrame
        :data:`SCORE_COLUMNS` (empty below :data:`MIN_DRAWS` draws).
    """
    boxes, scores = [], []
    for point, g in values.groupby("point", sort=True):
        present = [v for v in order if v in set(g.variant)]
        if baseline not in present:
            continue
        for kpi in kpis:
            wide = g.pivot(index="replication", columns="variant", values=kpi)[present].dropna()
            if wide.empty:
                continue
            beats, best, _ = outcomes(wide, baseline, kpi)
            x = draws.loc[wide.index]
            for variant in present:
                if variant == baseline:
                    continue
                for question, answers in zip(QUESTIONS, (beats, best), strict=True):
                    y = answers[variant].to_numpy()
                    key = {"point": point, "variant": variant, "kpi": kpi, "question": question}
                    base = {**key, "share_true": float(y.mean()), "draws": len(y)}
                    status = _too_few(y)
                    if status:
                        boxes.append({**base, "status": status})
                        continue
                    columns = [c for c in x.columns if question == "is_best"
                               or variant in (applies or {}).get(c, (variant,))]
                    restricted, coverage, density = prim_box(x[columns], y)
                    p = (box_p_value(x[columns], y, coverage * density, seed)
                         if restricted else np.nan)
                    common = {**base, "coverage": coverage, "density": density, "p_value": p}
                    if not restricted or p > ALPHA:
                        boxes.append({**common, "status": "chance" if restricted else "no range"})
                        restricted = {}
                    for name, bounds in restricted.items():
                        bounds_cols = ({"values": ", ".join(sorted(map(str, bounds[0])))}
                                       if len(bounds) == 1 else
                                       {"low": bounds[0], "high": bounds[1]})
                        boxes.append({**common, "parameter": name, **bounds_cols,
                                      "status": "box"})
                    for name, score in _scores(x[columns], y, seed).items():
                        scores.append({**key, "parameter": name, "score": float(score)})
    return (pd.DataFrame(boxes, columns=COLUMNS).astype({"parameter": object, "values": object}),
            pd.DataFrame(scores, columns=SCORE_COLUMNS))
