"""OUT/report.html of an optimisation: the choice and its lift, the probability of
correct selection, the response to each lever's share, the frontier, the fresh check
against the equal split and each single-lever allocation, every trial. Built with the
experiments' report blocks (:mod:`sim.report.blocks`, :func:`sim.report.html.page`);
figures also land as PNG in OUT/figures/."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.metrics import KPI_BY_NAME
from sim.optimisation import figures
from sim.report import _png
from sim.report.blocks import SIGNIFICANT, Figure, Section, Table, Text
from sim.report.html import page
from sim.report.i18n import kpi_words
from sim.results import atomic_write_bytes

__all__ = ["write_optimise_report", "choice_lines"]


def _ci(mean: float, lo: float, hi: float) -> str:
    return f"{mean:+,.4g} (95 % CI {lo:+,.4g} to {hi:+,.4g})"


def choice_lines(result) -> list[str]:
    """The report's (and the console's) verdicts: the choice, its lift on fresh
    replications, the probability of correct selection, the comparisons."""
    spec, kn, chosen, fresh = result.spec, result.kn, result.chosen, result.fresh
    what = kpi_words(spec.objective)
    parts = ", ".join(f"{lv.label} {b:,.0f} yuan ({s:.0%})" for lv, s, b in
                      zip(spec.levers, chosen["share"], chosen["budgets"], strict=True))
    params = {k: v for k, v in chosen["params"].items() if not k.startswith("share.")}
    lines = [f"Chosen: trial {chosen['trial']}: {parts}"
             + (f"; {', '.join(f'{k} = {v:g}' for k, v in params.items())}" if params else "")
             + f" ({sum(chosen['budgets']):,.0f} of {spec.budget:,.0f} yuan allocated)."]
    if not chosen["strategies"]:
        spent = int((result.trials["allocated"] > 0).sum())
        lines.append("The chosen trial funds no lever (every budget rounds down to 0 yuan): "
                     f"it is doing nothing; {spent} of {len(result.trials)} trials spent "
                     "anything.")
    if not chosen["feasible"]:
        lines.append("No trial met the constraints (" + ", ".join(map(str, spec.constraints))
                     + "): the choice is the best of all trials, and it breaks them.")
    row = fresh[fresh.allocation == "chosen"].iloc[0]
    lines.append(f"On {spec.selection['fresh']} fresh replications its paired lift in {what} "
                 f"is {_ci(row.lift, row.lift_ci_low, row.lift_ci_high)} "
                 f"{KPI_BY_NAME[spec.objective].unit} against doing nothing.")
    alpha = 1 - spec.selection["probability"]
    how = {"elimination": "KN ended by elimination",
           "bound": "KN reached its last stage (N + 1 replications)",
           "first stage": "KN's first stage already separated them"}.get(kn.ended)
    if kn.ended == "single candidate":
        lines.append("Only one trial met the constraints, so no selection took place: there "
                     "is no probability of correct selection to give.")
    elif kn.guaranteed:
        lines.append(f"Probability of correct selection >= {1 - alpha:.3g} among the "
                     f"{len(result.candidates)} best trials ({how}), up to the indifference "
                     f"zone of {spec.selection['indifference']:,g}: a trial better by less than "
                     "that counts as a tie.")
    else:
        lines.append(f"KN stopped at its cap of {spec.selection['max_replications']} "
                     f"replications with {sum(r == max(kn.replications) for r in kn.replications)}"
                     f" trials still in contention: its guarantee of {1 - alpha:.3g} does not "
                     f"hold; the Bonferroni bound on paired t-tests gives about {kn.pcs:.3g}.")
    for r in fresh[fresh.allocation != "chosen"].itertuples(index=False):
        better = "the chosen is better" if r.chosen_minus > 0 else f"{r.allocation} is better"
        verdict = (f"told apart: {better}" if r.told_apart else
                   f"cannot be told apart once corrected for the {len(fresh) - 1} "
                   f"comparisons (Holm-adjusted p = {r.p_holm:.2g})")
        lines.append(f"Chosen minus {r.allocation}: "
                     f"{_ci(r.chosen_minus, r.chosen_minus_ci_low, r.chosen_minus_ci_high)}; "
                     f"{verdict}.")
    return lines


def _meta(result) -> pd.DataFrame:
    spec, exp = result.spec, result.spec.experiment
    sense = "maximised" if spec.maximise else "minimised"
    rows = [("Optimisation", exp.name), ("Scenario", exp.scenario),
            ("Horizon", f"{exp.days} days"), ("Seed", exp.seed),
            ("Budget", f"{spec.budget:,.0f} yuan"),
            ("Objective", f"{spec.objective} (horizon value, paired lift, {sense})"),
            ("Constraints", ", ".join(map(str, spec.constraints)) or "none"),
            ("Levers", "; ".join(f"{lv.label}: share {lv.share[0]:g} to {lv.share[1]:g}"
                                 for lv in spec.levers)),
            ("Search", f"{spec.search['trials']} trials x {spec.search['replications']} "
                       f"replications (TPE, common random numbers)"),
            ("Model runs", f"{result.runs:,} ({result.new_runs:,} in the last call), "
                           f"{result.seconds:,.0f} s")]
    return pd.DataFrame(rows, columns=["", " "])


def _selection_table(result) -> pd.DataFrame:
    kn, sign = result.kn, result.spec.sign
    trials = result.trials.set_index("trial")
    rows = []
    for i, t in enumerate(result.candidates):
        rows.append({"trial": t, "search mean lift": trials.loc[t, "objective"],
                     "KN mean (raw value)": sign * kn.means[i] if kn.means else float("nan"),
                     "KN replications": kn.replications[i],
                     "outcome": "chosen" if i == kn.chosen else "eliminated"
                     if kn.replications[i] < max(kn.replications) else "not chosen"})
    return pd.DataFrame(rows)


def write_optimise_report(result) -> Path:
    """Write OUT/report.html (and OUT/figures/*.png) for an :class:`Optimisation`;
    returns the path."""
    out = result.out
    figs = [("response_to_shares", "Response of the objective to each lever's share: trials "
             "(mean paired lift +/- 1 s.e.) and partial dependence of a quadratic surface",
             figures.response(result)),
            ("frontier", "Spend against objective: every trial and the frontier",
             figures.frontier(result)),
            ("fresh_check", "Chosen allocation against the equal split and each single-lever "
             "allocation on fresh replications (95 % CI)", figures.fresh_check(result))]
    blocks = []
    for name, caption, fig in figs:
        if fig is None:
            continue
        png = _png(fig)
        atomic_write_bytes(out / "figures" / f"{name}.png", png)
        blocks.append(Figure(png, caption))
    fresh = result.fresh.drop(columns=["p_value"])
    sections: list[Section] = [
        ("Question", [Table(_meta(result), meta=True)]),
        ("Choice", [Text(line, "verdict") for line in choice_lines(result)]),
        ("Selection (Kim-Nelson KN)", [Text(
            f"eta = {result.kn.eta:.4g}, h^2 = {result.kn.h2:.4g}, N = {result.kn.bound_n}; "
            f"first stage {result.spec.selection['initial']} replications, cap "
            f"{result.spec.selection['max_replications']}; ended: {result.kn.ended}."),
            Table(_selection_table(result), SIGNIFICANT)]),
        ("Response and frontier", blocks[:2]),
        ("Fresh check", blocks[2:] + [Table(fresh, SIGNIFICANT)]),
        ("Trials", [Table(result.trials, SIGNIFICANT)])]
    path = out / "report.html"
    atomic_write_bytes(path, page(f"Optimisation: {result.spec.experiment.name}",
                                  sections).encode())
    return path
