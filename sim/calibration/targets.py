"""Calibration targets: observed KPIs from a branch's CSV (``day, kpi, value[, sd]``),
levels of stocks and totals of flows between rows, each with its sd (given, or
:func:`default_sd`); a pilot's observed lift is a target too (``kind = "lift"``,
built by :mod:`sim.calibration.spec`)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from sim.config import ConfigError
from sim.metrics import KPI_BY_NAME, KPI_NAMES

__all__ = ["Target", "read_targets", "default_sd", "COUNT_UNITS"]

COUNT_UNITS = ("customers", "merchants", "payments", "claims")  # Poisson-like counts


@dataclass(frozen=True)
class Target:
    """One observed value. ``kind``: "level" (a stock on ``day``), "flow" (a flow's total
    over days ``start``..``day``) or "lift" (a pilot's paired difference, see Pilot)."""

    kpi: str
    day: int
    value: float
    sd: float
    kind: str
    start: int = 0
    pilot: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "lift":
            return f"pilots[{self.pilot}]: lift in {self.kpi} on day {self.day}"
        if self.kind == "flow":
            return f"{self.kpi} days {self.start}-{self.day}"
        return f"{self.kpi} day {self.day}"



def default_sd(kpi: str, value: float) -> float:
    """The sd of an observed value the file gives none for: ``max(0.05 |value|, sqrt|value|,
    1)`` for counts (KPIs in customers, merchants, payments or claims: Poisson counting
    noise sqrt(n)), ``max(0.05 |value|, 1)`` otherwise (yuan)."""
    count = KPI_BY_NAME[kpi].unit in COUNT_UNITS
    return max(0.05 * abs(value), math.sqrt(abs(value)) if count else 0.0, 1.0)


def _number(raw: str, where: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(where, raw, "a number") from None
    if not math.isfinite(value):
        raise ConfigError(where, raw, "a finite number")
    return value


def read_targets(path: str | Path, days: int | None = None) -> list[Target]:
    """Observed KPIs from a CSV with columns ``day, kpi, value`` and optionally ``sd``.

    A stock's row is its level at the end of day ``day`` (the KPI table's row ``day``);
    a flow's row is its total over the days after the previous row of the same KPI up to
    ``day`` (from day 0 for the first), e.g. monthly new accounts at days 29, 59, 89.
    An empty ``sd`` takes :func:`default_sd`.

    Raises
    ------
    ConfigError
        Naming ``targets.file`` or the row (``targets.file:ROW.column``): a missing or
        empty file, a missing column, an unknown KPI (sim.metrics.KPIS), a day below 0
        or beyond the horizon ``days`` (when given), a negative count, sd <= 0, or the
        same KPI twice on one day.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("targets.file", str(path), f"a readable UTF-8 CSV file "
                          f"({type(exc).__name__})") from None
    rows = list(csv.DictReader(text.splitlines()))
    if not rows:
        raise ConfigError("targets.file", str(path), "a CSV with a header (day, kpi, value"
                          "[, sd]) and at least one row")
    header = [h.strip() for h in rows[0]]
    for col in ("day", "kpi", "value"):
        if col not in header:
            raise ConfigError("targets.file", str(path), f"a CSV with a column {col!r} "
                              f"(columns: day, kpi, value[, sd]; found {', '.join(header)})")
    out, last, seen = [], {}, set()
    for i, raw in enumerate(rows, start=2):  # row 1 is the header
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"targets.file:{i}"
        kpi = row["kpi"]
        if kpi not in KPI_NAMES:
            raise ConfigError(f"{where}.kpi", kpi, "a KPI name (" + ", ".join(KPI_NAMES) + ")")
        day = _number(row["day"], f"{where}.day")
        top = "" if days is None else f" and <= {days - 1} (the horizon: days = {days})"
        if day != int(day) or day < 0 or (days is not None and day >= days):
            raise ConfigError(f"{where}.day", row["day"], f"an integer >= 0{top}")
        day = int(day)
        value = _number(row["value"], f"{where}.value")
        meta = KPI_BY_NAME[kpi]
        if value < 0 and (meta.unit in COUNT_UNITS or meta.kind == "stock"):
            raise ConfigError(f"{where}.value", row["value"], f">= 0 ({kpi} is a count or a "
                              "level)")
        sd = row.get("sd", "")
        sd = default_sd(kpi, value) if sd == "" else _number(sd, f"{where}.sd")
        if sd <= 0:
            raise ConfigError(f"{where}.sd", row["sd"], "> 0 (or empty: the default sd)")
        if (kpi, day) in seen:
            raise ConfigError(f"{where}.day", day, f"a day not given before for {kpi}")
        seen.add((kpi, day))
        out.append((kpi, day, value, sd, meta.kind))
    targets = []
    for kpi, day, value, sd, kind in sorted(out, key=lambda r: (r[0], r[1])):
        start = last.get(kpi, -1) + 1
        last[kpi] = day
        targets.append(Target(kpi, day, value, sd, "level" if kind == "stock" else "flow",
                              start if kind == "flow" else day))
    order = {(kpi, day): n for n, (kpi, day, *_r) in enumerate(out)}
    return sorted(targets, key=lambda t: order[(t.kpi, t.day)])
