"""The calibrated scenario file: the base scenario's tables with the best fit applied.

``OUT/calibrated.toml`` is a complete scenario (usable as ``scenario =
"OUT/calibrated.toml"`` in an experiment): the base scenario's tables
(:func:`sim.scenarios.scenario_data`), the calibration's overrides and the best
trial's scenario values. The indistinguishable set of each scenario parameter is
written in its top-level ``[uncertainty]`` table (read by experiments with
``[uncertainty] from_scenario = true``, sim/experiment/uncertainty.py), e.g.::

    [uncertainty]
    "adoption.imitation_rate" = { dist = "uniform", low = 0.002, high = 0.004 }

A pilot's strategy parameter is not part of a scenario: its fit is in
``identifiability.csv`` only. A parameter searched on a log scale (``log = true``) is
written uniform too: sim/experiment/uncertainty.py has no log-uniform (its lognormal is
unbounded and would leave the set), so such a range is drawn uniformly on the linear
scale, which puts less weight on its low end than the search did; the file's header
names these keys.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration.spec import CalibrationSpec
from sim.config import apply_overrides
from sim.results import atomic_write_bytes
from sim.scenarios import scenario_data, scenario_uncertainty
from sim.scenarios.schema import OPTIONAL_KEYS

__all__ = ["write_calibrated", "toml_text"]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _key(key: str) -> str:
    bare = key and all(c.isalnum() or c in "_-" for c in key) and key.isascii()
    return key if bare else _scalar(key)


def toml_text(data: dict, header: str = "") -> str:
    """``data`` as TOML: scalars and lists first, then each sub-table as ``[a.b]`` (a
    table holding only scalars below a table with its own sub-tables stays a table too).
    Reads back with :mod:`tomllib` to the same dict."""
    lines = [f"# {line}" for line in header.splitlines()]

    def emit(table: dict, path: list[str]) -> None:
        plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in table.items() if isinstance(v, dict)}
        if path and (plain or not subs):
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
        for k, v in plain.items():
            lines.append(f"{_key(k)} = {_scalar(v)}")
        for k, v in subs.items():
            emit(v, [*path, k])

    emit(data, [])
    return "\n".join(lines) + "\n"


def write_calibrated(spec: CalibrationSpec, out: Path, best: dict[str, Any],
                     ident: pd.DataFrame) -> Path:
    """Write ``OUT/calibrated.toml``; its path.

    Its ``[uncertainty]`` is the base scenario's (:func:`sim.scenarios.scenario_uncertainty`)
    with every calibrated key replaced by the uniform range of its indistinguishable set;
    a key whose set is one value gets no entry (the best value stands)."""
    values = {p.name: best[p.name] for p in spec.parameters if p.pilot is None}
    data = apply_overrides(scenario_data(spec.scenario), {**spec.overrides, **values},
                           optional=OPTIONAL_KEYS)
    data["name"] = f"{data.get('name', 'scenario')}-calibrated-{spec.name}"
    uncertainty = {k: v for k, v in scenario_uncertainty(spec.scenario).items()
                   if k not in values}
    for row in ident.itertuples(index=False):
        if row.parameter in values and row.set_high > row.set_low:
            uncertainty[row.parameter] = {"dist": "uniform", "low": row.set_low,
                                          "high": row.set_high}
    if uncertainty:
        data["uncertainty"] = uncertainty
    header = (f"Calibrated by `sim calibrate` ({spec.name}): the scenario {spec.scenario}\n"
              "with the calibration's overrides and the best fit "
              + ", ".join(f"{k} = {v:g}" for k, v in values.items()) + ";\n"
              "[uncertainty]: the values indistinguishable from the best fit (uniform).")
    logs = [p.name for p in spec.parameters if p.log and p.name in uncertainty]
    if logs:
        header += ("\nSearched on a log scale but drawn uniform (no log-uniform in "
                   "[uncertainty]): " + ", ".join(logs) + ".")
    path = Path(out) / "calibrated.toml"
    atomic_write_bytes(path, toml_text(data, header).encode())
    return path
