"""A verdict per variant in plain words, generated from the numbers.

Example: "exclusive-campus: +4,210 monthly-active app users (95 % CI +3,900 to
+4,520) for 1.2 M yuan; 290 yuan per incremental active user; pays back on day
212." A difference whose interval contains zero is said to be not
distinguishable from zero.
"""

from __future__ import annotations

import math

__all__ = ["verdicts", "money", "signed"]


def signed(x: float) -> str:
    return f"{x:+,.0f}"


def money(x: float) -> str:
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
        if math.isfinite(per_user):
            parts.append(f"{per_user:,.0f} yuan per incremental active user")
        parts.append(_effect(rows.loc["net_contribution"], "net contribution",
                             fmt=lambda x: ("+" if x >= 0 else "-") + money(abs(x))))
        payback = cost["payback_day"]
        if spend > 0:
            parts.append(f"pays back on day {payback:.0f}" if math.isfinite(payback)
                         else "does not pay back within the horizon")
        lines.append(f"{variant}: " + "; ".join(parts) + ".")
    return lines
