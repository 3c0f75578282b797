"""OUT/best.toml: the chosen allocation as a ready experiment file.

``sim run OUT/best.toml`` runs the do-nothing baseline and the chosen allocation
(its strategies with their budgets) in the optimisation's world (scenario,
overrides, days, headline KPIs) on ``replications`` replications. Its seed is not
the optimisation's: it is derived from it (:func:`out_of_sample_seed`) so that none
of its replications' model seeds was run by the search, the selection or the fresh
check, and running it is an out-of-sample check of the choice.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiment.spec import replication_seed
from sim.optimisation.spec import OptimiseSpec
from sim.results import atomic_write_bytes

__all__ = ["best_toml", "toml_value", "out_of_sample_seed"]

_STREAM = 20  # spawn key of best.toml's seed (19: the search's samplers)

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


def out_of_sample_seed(seed: int, replications: int, used: set[int]) -> tuple[int, int]:
    """An experiment seed whose replications 0..replications-1 have model seeds
    (:func:`sim.experiment.spec.replication_seed`) outside ``used``.

    It is ``SeedSequence(seed, spawn_key=(20, k)).generate_state(1, uint32)[0]`` for the
    first k = 0, 1, ... that qualifies (k is almost always 0: 32-bit seeds rarely
    collide). Returns (the seed, k).
    """
    for k in range(1_000_000):
        new = int(np.random.SeedSequence(seed, spawn_key=(_STREAM, k))
                  .generate_state(1, np.uint32)[0])
        if used.isdisjoint(replication_seed(new, r) for r in range(replications)):
            return new, k
    raise RuntimeError("no out-of-sample seed found")  # pragma: no cover


def best_toml(path: Path, spec: OptimiseSpec, strategies: tuple[dict[str, Any], ...],
              replications: int, comment: str, used: set[int]) -> None:
    """Write the experiment file (atomically); ``comment`` heads it, one ``#`` line each.
    ``used``: every model seed the optimisation ran (its seed avoids them all)."""
    exp = spec.experiment
    seed, k = out_of_sample_seed(exp.seed, replications, used)
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"name = {toml_value(exp.name + '_best')}",
              f"description = {toml_value('Chosen by sim optimise: ' + exp.name)}",
              f"scenario = {toml_value(exp.scenario)}", f"days = {exp.days}",
              f"replications = {replications}",
              f"# Not the optimisation's seed ({exp.seed}): SeedSequence({exp.seed}, "
              f"spawn_key=({_STREAM}, {k})), chosen so",
              "# that no replication here was run by the search, the selection or the fresh",
              "# check (replications.parquet): sim run gives an out-of-sample check.",
              f"seed = {seed}", "", "[overrides]"]
    lines += [f"{_key(k)} = {toml_value(v)}" for k, v in exp.overrides.items()]
    lines += ["", "[report]", f"headline = {toml_value(list(exp.headline))}", "",
              "[[variants]]", 'name = "baseline"', "", "[[variants]]", 'name = "chosen"']
    for strategy in strategies:
        lines += ["", "[[variants.strategies]]"]
        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in strategy.items() if v is not None]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
