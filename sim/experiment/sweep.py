"""Sweeps: parameters an experiment varies, and how their values are checked.

``[sweep]`` names scenario keys and ``strategies[i].parameter`` targets with their
values (grid, zip) or bounds (morris, sobol); docs/EXPERIMENTS.md, "The file".
Every value is checked here for its type and, for strategy parameters, its
constraint; scenario ranges when every cell is built (checks.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.config import ConfigError, Options, apply_overrides, check_keys, flatten
from sim.scenarios.schema import OPTIONAL_KEYS
from sim.strategies import make_strategies
from sim.strategies.params import COMMON

if TYPE_CHECKING:
    from sim.experiment.spec import Variant

__all__ = ["Sweep", "SWEEP_METHODS", "parse_sweep", "strategy_target"]

SWEEP_METHODS = ("grid", "zip", "morris", "sobol")
_TARGET = re.compile(r"strategies\[(\d{1,4})\]\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Sweep:
    """Parameters to vary. ``grid``: lists of values, every combination. ``zip``:
    lists of equal length, point i takes the i-th value of each (to move
    parameters together, e.g. a budget split). ``morris`` / ``sobol``:
    [low, high] bounds, sampled with SALib."""

    method: str
    parameters: dict[str, list[float]]
    variants: list[str]          # variants whose strategies a strategy target changes
    samples: int = 8             # morris trajectories or sobol base samples
    integers: tuple[str, ...] = ()  # integer targets (counts, days)

    def touches(self, variant: str) -> bool:
        """Whether a swept value changes ``variant``'s cells: a scenario key changes every
        variant's, a ``strategies[i].x`` target only those of :attr:`variants`. A variant
        it does not touch runs once per replication and stands for every point."""
        return variant in self.variants or any(not t.startswith("strategies[")
                                               for t in self.parameters)

    def coerce(self, target: str, value: float) -> float | int:
        """An integer target's sampled value as an integer: Morris levels fall on
        integers already (the bounds' width is a multiple of 3); Sobol samples
        [low - 0.5, high + 0.5), so each integer of [low, high] is equally likely."""
        if target not in self.integers:
            return value
        low, high = self.parameters[target][0], self.parameters[target][-1]
        return int(min(max(math.floor(value + 0.5), low), high)) if self.method == "sobol" \
            else int(round(value))


def strategy_target(target: str) -> tuple[int, str]:
    """``strategies[i].parameter`` -> (i, parameter); ValueError if malformed."""
    match = _TARGET.fullmatch(target)
    if match is None:
        raise ValueError(target)
    return int(match.group(1)), match.group(2)


def parse_sweep(raw: Any, names: list[str], variants: list[Variant], scenario_table: dict,
           overrides: dict) -> Sweep | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("sweep", raw, "a table")
    check_keys(raw, ("method", "parameters", "variants", "samples"), "sweep")
    method = raw.get("method", "grid")
    if method not in SWEEP_METHODS:
        raise ConfigError("sweep.method", method, Options(SWEEP_METHODS).describe())
    params = raw.get("parameters")
    if not isinstance(params, dict) or not params:
        raise ConfigError("sweep.parameters", params, "a non-empty table of target = values")
    swept = raw.get("variants", [n for n in names[1:]] or names)
    if not isinstance(swept, list) or not all(isinstance(v, str) for v in swept):
        raise ConfigError("sweep.variants", swept, "a list of variant names")
    for v in swept:
        if v not in names:
            raise ConfigError("sweep.variants", v, Options(tuple(names)).describe())
    samples = raw.get("samples", 8)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ConfigError("sweep.samples", samples, "an integer >= 1")
    known_scenario = {**OPTIONAL_KEYS, **flatten(scenario_table)}
    clean: dict[str, list[float]] = {}
    integers: list[str] = []
    for target, values in params.items():
        where = f"sweep.parameters.{target}"
        if not isinstance(values, list) or not values or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in values):
            raise ConfigError(where, values, "a non-empty list of finite numbers")
        if method in ("morris", "sobol") and (len(values) != 2 or values[0] >= values[1]):
            raise ConfigError(where, values, "[low, high] bounds with low < high")
        if method == "zip" and len(values) != len(next(iter(params.values()))):
            raise ConfigError(where, values, "a list as long as every other zipped parameter")
        if target.startswith("strategies["):
            try:
                index, key = strategy_target(target)
            except ValueError:
                raise ConfigError(where, target, "a scenario key or strategies[i].parameter "
                                  "(i: a strategy's index, 0 for the first)") from None
            for v in variants:
                if v.name in swept:
                    if index >= len(v.strategies):
                        raise ConfigError(where, target, f"a strategy index of variant {v.name}")
                    built = make_strategies([v.strategies[index]])[0]
                    declared = {**COMMON, **type(built).parameters}
                    if key not in declared:
                        raise ConfigError(where, target, f"a parameter of {built.kind}")
                    if declared[key].type is int:
                        integers.append(target)
                        values = _integers(values, method, where)
                    for value in values:
                        try:
                            make_strategies([{**v.strategies[index], key: value}])
                        except ConfigError as exc:
                            raise ConfigError(where, exc.value, f"{exc.allowed} (variant "
                                              f"{v.name}, {built.kind}.{key})") from None
        elif target not in known_scenario:
            raise ConfigError(where, target, "a scenario key or strategies[i].parameter")
        else:
            if isinstance(known_scenario[target], int) and not isinstance(
                    known_scenario[target], bool):
                integers.append(target)
                values = _integers(values, method, where)
            for value in values:  # types here; ranges when every cell is built (checks.py)
                apply_overrides(scenario_table, {**overrides, target: value},
                                optional=OPTIONAL_KEYS)
        clean[target] = list(values)
    return Sweep(method, clean, list(swept), samples, tuple(dict.fromkeys(integers)))


def _integers(values: list[float], method: str, where: str) -> list[int]:
    """An integer target's values, rounded. Morris bounds must be a multiple of 3
    apart, so that its 4 levels are integers and each elementary effect's step is the
    one SALib divides by; Sobol bounds must differ once rounded."""
    out = [int(round(x)) for x in values]
    if method == "morris" and (out[1] <= out[0] or (out[1] - out[0]) % 3):
        raise ConfigError(where, values, "integer bounds [low, high] with high - low a positive "
                          "multiple of 3 (Morris samples 4 equally spaced levels), e.g. "
                          f"[{out[0]}, {out[0] + 3 * max(1, round((out[1] - out[0]) / 3))}]")
    if method == "sobol" and out[1] <= out[0]:
        raise ConfigError(where, values, "integer bounds [low, high] with low < high once "
                          "rounded")
    return out
