"""One validation of an experiment before anything runs: sizes that fit, and every
cell's real scenario and strategies built with the model's own checks.

``sim validate`` and ``sim run`` call the same :func:`sim.experiment.load_experiment`,
which calls these; a file that validates builds every one of its cells (a sweep
value out of range, or a combination of values that breaks a scenario's
cross-field rule, fails here, with the message the model would give).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from sim.config import ConfigError
from sim.scenarios import load_scenario
from sim.strategies import make_strategies

__all__ = ["MAX_CELLS", "Estimate", "count_points", "estimate", "check_size", "check_cells"]

MAX_CELLS = 100_000  # each cell is a file set and a line of the manifest
# Measured on the city scenario (docs/EXPERIMENTS.md, "What fits"): a model holds
# about 0.7 KB per customer (1 KB with margin) besides ~300 MB of code; a cell's tables
# (KPIs, ledger, state, events) take about 1.3 KB per simulated day in memory (2 KB with
# margin), held twice while the experiment's tables are concatenated.
MODEL_BASE_BYTES = 300e6
BYTES_PER_CUSTOMER = 1_000
TABLE_BYTES_PER_CELL_DAY = 2_000
SECONDS_PER_CUSTOMER_DAY = 1.5e-7  # one core (PERFORMANCE.md: 1M x 365 in 28.6 s on two)


@dataclass(frozen=True)
class Estimate:
    """What an experiment will cost: cells, core-seconds, peak bytes of memory."""

    cells: int
    core_seconds: float
    model_bytes: float   # one worker's model
    table_bytes: float   # the experiment's tables, concatenated at the end

    def describe(self) -> str:
        seconds = self.core_seconds
        time = (f"{seconds / 3600:,.1f} core-hours" if seconds >= 3600 else
                f"{seconds / 60:,.1f} core-minutes")
        return (f"{self.cells:,} cells: about {time}, {self.model_bytes / 2**30:,.2f} GiB "
                f"per worker, {self.table_bytes / 2**30:,.2f} GiB of tables")


def count_points(method: str, parameters: dict[str, list], samples: int) -> int:
    """Number of sweep points, computed without sampling them."""
    sizes = [len(v) for v in parameters.values()]
    if method == "grid":
        return math.prod(sizes)
    if method == "zip":
        return sizes[0]
    if method == "morris":
        return (len(sizes) + 1) * samples
    base = 1 << max(0, math.ceil(math.log2(samples)))  # sobol: a power of 2
    return base * (len(sizes) + 2)


def largest_sample(population, overrides) -> int:
    """The most customers any cell simulates: its ``population.agents``, else its
    ``population.customers``, from the base ``population`` and each mapping of
    dotted ``overrides`` (cells' overrides or single swept values)."""
    most = population.simulated
    for table in overrides:
        customers = table.get("population.customers", population.customers)
        agents = table.get("population.agents", population.agents)
        most = max(most, int(customers if agents is None else min(agents, customers)))
    return most


def estimate(cells: int, days: int, customers: int) -> Estimate:
    """Time and memory of ``cells`` runs of ``days`` days simulating ``customers``."""
    return Estimate(cells, cells * (0.5 + customers * days * SECONDS_PER_CUSTOMER_DAY),
                    MODEL_BASE_BYTES + customers * BYTES_PER_CUSTOMER,
                    2.0 * cells * days * TABLE_BYTES_PER_CELL_DAY)


def _memory() -> float:
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def check_size(field: str, value: Any, est: Estimate) -> None:
    """Refuse an experiment that cannot fit: more than :data:`MAX_CELLS` cells, or a
    model or tables larger than this machine's memory. ``field`` and ``value`` name
    what made it large; the message gives the estimate."""
    memory = _memory()
    if est.cells > MAX_CELLS:
        raise ConfigError(field, value, f"small enough for at most {MAX_CELLS:,} cells "
                          f"(this is {est.describe()})")
    for what, need in (("a worker's model", est.model_bytes), ("the tables", est.table_bytes)):
        if need > memory:
            raise ConfigError(field, value, f"small enough to fit in memory ({what} would need "
                              f"{need / 2**30:,.1f} GiB, this machine has "
                              f"{memory / 2**30:,.1f} GiB; {est.describe()})")


def check_cells(spec) -> None:
    """Build every distinct cell's scenario (``load_scenario``) and strategies
    (``make_strategies``) as the model will, raising the model's ConfigError, with
    the sweep point it came from. Cheap: a few milliseconds per distinct scenario."""
    from sim.experiment.spec import check_world

    points = spec.points()
    seen_scenarios: dict[str, Any] = {}
    seen_strategies: set[tuple[str, str]] = set()
    for cell in spec.cells():
        if cell.replication:
            continue  # replications differ only in their seed
        where = f" (sweep point {cell.point}: {points[cell.point]})" if spec.sweep else ""
        key = json.dumps(cell.overrides, sort_keys=True, default=repr)
        try:
            if key not in seen_scenarios:
                seen_scenarios[key] = load_scenario(spec.scenario, cell.overrides)
            skey = (key, json.dumps(cell.strategies, sort_keys=True, default=repr))
            if skey not in seen_strategies:
                seen_strategies.add(skey)
                path = f"variants[{spec.variant_names().index(cell.variant)}].strategies"
                built = make_strategies(cell.strategies, path=path)
                check_world(built, seen_scenarios[key], path, spec.days)
        except ConfigError as exc:
            raise ConfigError(exc.field, exc.value, exc.allowed + where) from None
