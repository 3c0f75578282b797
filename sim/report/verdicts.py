"""A verdict per variant in plain words, generated from the numbers.

Example: "exclusive-campus: +4,210 monthly-active app users (95 % CI +3,900 to
+4,520) for 1.2 M yuan; 290 yuan per incremental active user; pays back on day
212." A difference whose interval contains zero is said to be not
distinguishable from zero. Each verdict then says how much of each lever's
budget was used and which strategy events change how the result should be
read (sim/events.py NOTABLE): a budget exhausted early, costs owed beyond the
budget, contracts cancelled by backlash.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["verdicts", "money", "signed"]


def signed(x: float) -> str:
    return f"{x:+,.0f}"


def money(x: float) -> str:
    x = x + 0.0  # no "-0 yuan"
    if abs(x) < 0.5:
        return "0 yuan"
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:,.2f} M yuan"
    if a >= 1e3:
        return f"{x / 1e3:,.1f} K yuan"
    return f"{x:,.0f} yuan"


def _effect(row, what: str, fmt=signed) -> str:
    lo, hi = row["diff_ci_low"], row["diff_ci_high"]
    interval = (f"95 % CI {fmt(lo)} to {fmt(hi)}" if math.isfinite(lo) and math.isfinite(hi)
                else "one replication: no interval")
    if math.isfinite(lo) and lo <= 0 <= hi:
        return f"no change in {what} distinguishable from zero ({fmt(row['diff'])}, {interval})"
    return f"{fmt(row['diff'])} {what} ({interval})"


def _separated(row) -> bool:
    """The difference's interval excludes zero (one replication: taken as is)."""
    lo, hi = row["diff_ci_low"], row["diff_ci_high"]
    return not (math.isfinite(lo) and math.isfinite(hi) and lo <= 0 <= hi)


def verdicts(results, point: int = 0) -> list[str]:
    """One sentence per non-baseline variant (at sweep point ``point``)."""
    s = results.summary
    c = results.cost
    lines = []
    for variant in (v.name for v in results.spec.variants):
        if variant == results.spec.baseline:
            continue
        rows = s[(s.point == point) & (s.variant == variant)].set_index("kpi")
        if rows.empty:
            continue
        cost = c[(c.point == point) & (c.variant == variant)].iloc[0]
        parts = [_effect(rows.loc["app_mau"], "monthly-active app users")]
        spend = cost["incremental_spend"]
        parts[0] += f" for {money(spend)}" if spend > 0 else " at no strategy spend"
        per_user = cost["cost_per_incremental_active_user"]
        if math.isfinite(per_user) and _separated(rows.loc["app_mau"]):
            parts.append(f"{per_user:,.0f} yuan per incremental active user")
        net = rows.loc["net_contribution"]
        parts.append(_effect(net, "net contribution",
                             fmt=lambda x: ("+" if x >= 0 else "-") + money(abs(x))))
        payback = cost["payback_day"]
        if spend > 0 and not _separated(net):
            parts.append("payback cannot be dated (its net effect is not distinguishable "
                         "from zero)")
        elif spend > 0:
            parts.append(f"pays back on day {payback:.0f}" if math.isfinite(payback)
                         else "does not pay back within the horizon")
        notes = _usage_notes(results, variant, point)
        lines.append(f"{variant}: " + "; ".join(parts) + "." + (" " + notes if notes else ""))
    return lines


def _usage_notes(results, variant: str, point: int) -> str:
    """Budget used per lever and its notable events, over the variant's replications.

    Spend is the mean over replications of the lever's ledger costs (strategy and
    abuse kinds); events are counted in how many replications they happened and,
    for ``budget_exhausted``, on which day (median)."""
    from sim.strategies import labels_for, make_strategies

    cells = [c for c in results.spec.cells() if c.variant == variant and c.point == point]
    if not cells:
        return ""
    strategies = make_strategies(cells[0].strategies)
    ledger = results.ledger
    ledger = ledger[(ledger.variant == variant) & (ledger.point == point)
                    & ledger.kind.isin(("strategy", "abuse"))]
    events = getattr(results, "events", pd.DataFrame())
    if not events.empty:
        events = events[(events.variant == variant) & (events.point == point)]
    n_reps = len(cells)
    notes = []
    for strategy, label in zip(strategies, labels_for(strategies), strict=True):
        mine = ledger[ledger.cause.str.startswith(label + ":")]
        spent = -mine.groupby("replication")["amount"].sum().reindex(
            range(n_reps), fill_value=0.0).mean() if n_reps else 0.0
        budget = strategy.budget
        used = (f"{label} used {money(spent)} of its {money(budget)} budget "
                f"({spent / budget:.0%})" if math.isfinite(budget) and budget > 0
                else f"{label} spent {money(spent)} (no budget cap)")
        abused = mine[mine.kind == "abuse"]
        if spent > 0 and not abused.empty:
            share = -abused.amount.sum() / n_reps / spent
            used += f", {share:.0%} of it to bonus hunters"
        if not events.empty:
            used += _event_notes(events[events.strategy == label], n_reps)
        notes.append(used)
    if not events.empty:
        moves = events[events.event == "counter_move"]
        if not moves.empty:
            chains = ", ".join(sorted(set(moves.detail)))
            notes.append(f"payment platforms answered with counter-subsidies in {chains} "
                         f"({moves.replication.nunique()} of {n_reps} replications, first on day "
                         f"{moves.day.min():.0f})")
    return "; ".join(notes) + "." if notes else ""


def _event_notes(events: pd.DataFrame, n_reps: int) -> str:
    """", budget exhausted on day 41 (median; 3 of 3 replications)" and the like."""
    out = []
    exhausted = events[events.event == "budget_exhausted"]
    if not exhausted.empty:
        out.append(f"budget exhausted on day {exhausted.day.median():.0f} (median; "
                   f"{exhausted.replication.nunique()} of {n_reps} replications)")
    over = events[events.event == "over_budget"]
    if not over.empty:
        out.append(f"costs owed under signed contracts went beyond the budget from day "
                   f"{over.day.min():.0f} ({over.replication.nunique()} of {n_reps} "
                   "replications)")
    backlash = events[events.event == "cancelled_backlash"]
    if not backlash.empty:
        per_rep = backlash.groupby("replication")["count"].sum().sum() / n_reps
        out.append(f"exclusivity cancelled by backlash at {per_rep:.1f} institutions on "
                   f"average (first on day {backlash.day.min():.0f})")
    return ", " + ", ".join(out) if out else ""
