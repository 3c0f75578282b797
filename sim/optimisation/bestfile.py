"""OUT/best.toml: the chosen allocation as a ready experiment file.

``sim run OUT/best.toml`` runs the do-nothing baseline and the chosen allocation
(its strategies with their budgets) in the optimisation's world (scenario,
overrides, days, seed, headline KPIs) on ``replications`` replications.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from sim.optimisation.spec import OptimiseSpec
from sim.results import atomic_write_bytes

__all__ = ["best_toml", "toml_value"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """A TOML value for the plain values of a strategy table: bool, int, float (inf),
    str, list, table (inline). Strings are JSON-quoted (a TOML basic string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()
                                if v is not None) + " }"
    raise TypeError(f"no TOML value for {value!r}")


def best_toml(path: Path, spec: OptimiseSpec, strategies: tuple[dict[str, Any], ...],
              replications: int, comment: str) -> None:
    """Write the experiment file (atomically); ``comment`` heads it, one ``#`` line each."""
    exp = spec.experiment
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"name = {toml_value(exp.name + '_best')}",
              f"description = {toml_value('Chosen by sim optimise: ' + exp.name)}",
              f"scenario = {toml_value(exp.scenario)}", f"days = {exp.days}",
              f"replications = {replications}", f"seed = {exp.seed}", "", "[overrides]"]
    lines += [f"{_key(k)} = {toml_value(v)}" for k, v in exp.overrides.items()]
    lines += ["", "[report]", f"headline = {toml_value(list(exp.headline))}", "",
              "[[variants]]", 'name = "baseline"', "", "[[variants]]", 'name = "chosen"']
    for strategy in strategies:
        lines += ["", "[[variants.strategies]]"]
        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in strategy.items() if v is not None]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
