"""A verdict per variant in plain words, generated from the numbers.

A verdict is a headline clause, the first headline KPI (``[report] headline``)
and what it cost, then short facts: the other headline KPIs, net contribution
and payback, and the budget. Example::

    fee-waiver-300: +120 debit cards (95 % CI +80 to +160) for 350.0 K yuan,
    2.9 K yuan each (95 % CI 2.2 K yuan to 4.4 K yuan). Net contribution -41.0 K
    yuan (95 % CI -60.2 K yuan to -21.8 K yuan). Does not pay back within the
    horizon. Budget: fee_waiver used 350.0 K yuan of its 500.0 K yuan budget
    (70%), budget exhausted on day 41 (median; 3 of 3 replications), so it ended
    49 days before its window was to close (day 90).

A difference whose interval contains zero is said to be not distinguishable
from zero, and no cost per unit or payback day is quoted for it. In a sweep each
verdict names its point by the swept values (``at duration_days = 30``). The
budget facts say how much of each lever's budget was used and which strategy
events change how the result should be read (sim/events.py NOTABLE, and a lever
that ended before its window closed).
"""

from __future__ import annotations

import math

import pandas as pd

from sim.metrics import KPI_BY_NAME
from sim.report.i18n import kpi_label, kpi_words, money, t

__all__ = ["verdicts", "money", "signed", "kpi_words", "amount", "report_points"]


def signed(x: float) -> str:
    return f"{x:+,.0f}"


def _signed_money(x: float) -> str:
    return ("+" if x >= 0 else "-") + money(abs(x))


def amount(kpi: str, x: float, sign: bool = False) -> str:
    """A value of ``kpi`` in its unit: yuan as money, counts with thousands commas."""
    if KPI_BY_NAME[kpi].unit == "yuan":
        return _signed_money(x) if sign else money(x)
    return signed(x) if sign else f"{x:,.0f}"


def _separated(row) -> bool:
    """The difference's interval excludes zero (one replication: taken as is)."""
    lo, hi = row["diff_ci_low"], row["diff_ci_high"]
    return not (math.isfinite(lo) and math.isfinite(hi) and lo <= 0 <= hi)


def _effect(row, kpi: str, fact: bool = False) -> str:
    """"+120 debit cards (95 % CI +80 to +160)", or "no change in ... distinguishable
    from zero (...)"; as a ``fact``: "Debit cards: +120 (95 % CI ...)"."""
    lo, hi = row["diff_ci_low"], row["diff_ci_high"]
    interval = (t("v.interval", lo=amount(kpi, lo, True), hi=amount(kpi, hi, True))
                if math.isfinite(lo) and math.isfinite(hi) else t("v.no_interval"))
    diff = amount(kpi, row["diff"], True)
    if fact:
        key = "v.fact" if _separated(row) else "v.fact_zero"
        return t(key, label=kpi_label(kpi), diff=diff, interval=interval)
    key = "v.head" if _separated(row) else "v.head_zero"
    return t(key, what=kpi_words(kpi), diff=diff, interval=interval)


def _per_unit(cost, kpi: str) -> str:
    """", 2.9 K yuan each (95 % CI ...)" when the cost per unit is defined."""
    value = cost.get(f"cost_per_{kpi}", math.nan)
    if not math.isfinite(value):
        return ""
    lo, hi = cost[f"cost_per_{kpi}_ci_low"], cost[f"cost_per_{kpi}_ci_high"]
    per_yuan = KPI_BY_NAME[kpi].unit == "yuan"
    fmt = (lambda x: f"{x:,.2f}") if per_yuan else money
    high = fmt(hi) if math.isfinite(hi) else t("v.unbounded")
    return t("v.per_unit", value=fmt(value), each=t("v.yuan_per_yuan" if per_yuan else "v.each"),
             lo=fmt(lo), hi=high)


def _payback(cost, net_row) -> str:
    spend = cost["incremental_spend"]
    if spend <= 0:
        return ""
    if not _separated(net_row):
        return t("v.payback_undated")
    day = cost["payback_day"]
    if not math.isfinite(day):
        return t("v.no_payback")
    lo, hi = cost["payback_ci_low"], cost["payback_ci_high"]
    high = t("v.day", day=hi) if math.isfinite(hi) else t("v.beyond")
    return t("v.payback", day=day, lo=lo, hi=high)


def report_points(results) -> list[int]:
    """The sweep points verdicts speak of: the only one without a sweep, every point of a
    grid or zip sweep, the best point of each swept variant for a Morris or Sobol
    sample (sim/report/ranking.py :func:`best_point`)."""
    spec = results.spec
    if spec.sweep is None:
        return [0]
    if spec.sweep.method in ("grid", "zip"):
        return list(range(len(spec.points())))
    from sim.report.ranking import best_point

    found = [best_point(results, v) for v in spec.sweep.variants if v != spec.baseline]
    return sorted({p for p, _ in (f for f in found if f is not None)}) or [0]


def verdicts(results, point: int | None = None) -> list[str]:
    """One verdict per non-baseline variant at sweep point ``point`` (default: the
    points of :func:`report_points`), in declared order."""
    points = report_points(results) if point is None else [point]
    labels = results.spec.point_labels()
    headline = list(results.spec.headline)
    spoken = headline + [k for k in ("net_contribution",) if k not in headline]
    s, c = results.summary, results.cost
    lines = []
    for p in points:
        where = t("v.at", label=labels[p]) if labels[p] else ""
        for variant in results.spec.variant_names():
            if variant == results.spec.baseline:
                continue
            rows = s[(s.point == p) & (s.variant == variant)].set_index("kpi")
            if rows.empty:
                continue
            cost = c[(c.point == p) & (c.variant == variant)].iloc[0]
            spend = cost["incremental_spend"]
            first, *rest = spoken
            head = _effect(rows.loc[first], first)
            head += t("v.for", money=money(spend)) if spend > 0 else t("v.no_spend")
            if _separated(rows.loc[first]):
                head += _per_unit(cost, first)
            facts = [t("v.verdict", variant=variant, where=where, head=head)]
            for kpi in rest:
                text = _effect(rows.loc[kpi], kpi, fact=True)
                if _separated(rows.loc[kpi]):
                    text += _per_unit(cost, kpi)
                facts.append(text + t("v.stop"))
            facts.append(_payback(cost, rows.loc["net_contribution"]))
            facts.append(_usage_notes(results, variant, p))
            lines.append(t("v.sep").join(f for f in facts if f))
    return lines


def _usage_notes(results, variant: str, point: int) -> str:
    """Budget used per lever and its notable events, over the variant's replications.

    Spend is the mean over replications of the lever's ledger costs (strategy and
    abuse kinds); events are counted in how many replications they happened and,
    for ``budget_exhausted``, on which day (median)."""
    from sim.strategies import labels_for, make_strategies

    cells = [c for c in results.spec.cells() if c.variant == variant and point in c.points]
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
            range(n_reps), fill_value=0.0).mean() + 0.0 if n_reps else 0.0
        budget = strategy.budget
        if not math.isfinite(budget):
            used = t("v.spent", label=label, spent=money(spent))
        elif budget > 0:
            used = t("v.used", label=label, spent=money(spent), budget=money(budget),
                     share=spent / budget)
        else:
            used = t("v.unfunded", label=label, spent=money(spent))
        abused = mine[mine.kind == "abuse"]
        if spent > 0 and not abused.empty:
            share = -abused.amount.sum() / n_reps / spent
            used += t("v.hunters", share=share)
        if not events.empty:
            used += _event_notes(events[events.strategy == label], n_reps, strategy,
                                 results.spec.days)
        notes.append(used)
    if not events.empty:
        moves = _answers_to_the_lever(results, events, point)
        if not moves.empty:
            chains = ", ".join(sorted(set(moves.detail)))
            notes.append(t("v.counter", chains=chains, n=moves.replication.nunique(),
                           reps=n_reps, day=moves.day.min()))
    return t("v.budget", notes=t(";").join(notes)) if notes else ""


def _answers_to_the_lever(results, events: pd.DataFrame, point: int) -> pd.DataFrame:
    """The variant's counter moves that its paired baseline replication did not make
    (the same platform in the same chain): a platform that answers a rise the city
    shows with no strategy at all is not answering the lever."""
    moves = events[events.event == "counter_move"]
    everything = results.events
    base = everything[(everything.variant == results.spec.baseline)
                      & (everything.point == point) & (everything.event == "counter_move")]
    keys = ["replication", "strategy", "detail"]
    if moves.empty or base.empty:
        return moves
    seen = moves[keys].merge(base[keys].drop_duplicates(), how="left", indicator=True)
    return moves[(seen["_merge"] == "left_only").to_numpy()]


def _event_notes(events: pd.DataFrame, n_reps: int, strategy, days: int) -> str:
    """", budget exhausted on day 41 (median; 3 of 3 replications)" and the like: the
    budget running out, the lever ending before its window closed, costs owed beyond
    the budget, exclusivity cancelled by backlash, payees that left."""
    out = []
    exhausted = events[events.event == "budget_exhausted"]
    if not exhausted.empty:
        out.append(t("v.exhausted", day=exhausted.day.median(),
                     n=exhausted.replication.nunique(), reps=n_reps))
    early = events[(events.event == "ended") & (events.detail == "budget")]
    if not early.empty:
        day, end = early.day.median(), strategy.end_day
        ended = t("v.so_ended" if not exhausted.empty else "v.ended_budget")
        close = min(end, days)  # the window's close, or the run's end if that comes first
        key = "v.before_end" if end > days else "v.before_close"
        when = t(key, days=close - day, end=close) if close > day else t("v.on_day", day=day)
        count = early.replication.nunique()
        out.append(t("v.ended_when", ended=ended, when=when)
                   + (t("v.of_reps", n=count, reps=n_reps)
                      if count != exhausted.replication.nunique() else ""))
    elif math.isfinite(strategy.end_day) and strategy.end_day < days and \
            (events.event == "window_closed").any():
        out.append(t("v.window_closed", day=strategy.end_day))
    over = events[events.event == "over_budget"]
    if not over.empty:
        out.append(t("v.over", day=over.day.min(), n=over.replication.nunique(), reps=n_reps))
    backlash = events[events.event == "cancelled_backlash"]
    if not backlash.empty:
        per_rep = backlash.groupby("replication")["count"].sum().sum() / n_reps
        out.append(t("v.backlash", n=per_rep, day=backlash.day.min()))
    left = events[events.event == "left"]
    if not left.empty:
        out.append(t("v.left", n=left["count"].sum() / n_reps))
    unserved = events[events.event == "unserved"]
    if not unserved.empty:
        out.append(t("v.unserved", n=unserved["count"].sum() / n_reps,
                     day=unserved.day.min()))
    return t(",") + t(",").join(out) if out else ""
