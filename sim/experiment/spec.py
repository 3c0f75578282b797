"""Experiment files: what to compare, for how long, how many times.

An experiment is scenario + overrides + variants (each a list of strategies)
+ horizon + replications + seed, with an optional sweep over parameters
(sim/experiment/sweep.py; docs/EXPERIMENTS.md). :func:`load_experiment` validates everything before
anything runs; errors name the field path, e.g.
``variants[1].strategies[0].budget: must be >= 0, got -5``.

A *cell* is one (variant, sweep point, replication). Replication r of every
variant and point runs with the same seed (common random numbers), so
variant-minus-baseline differences are paired. A variant no swept value touches
(the sweep changes only other variants' strategies; :meth:`Sweep.touches`) would
give the same run at every point, so it runs once per replication, stored as point
0, and its results stand for every point (``Cell.points``). With an
``[uncertainty]`` block (sim/experiment/uncertainty.py) replication r of every
variant and point also runs with the same parameter draw r (``Cell.draw``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import (
    ConfigError,
    Interval,
    Options,
    check_keys,
    check_type,
    flatten,
    read_toml,
)
from sim.experiment.sweep import Sweep, parse_sweep, strategy_target
from sim.experiment.uncertainty import Uncertainty, apply_draw, check_draws, parse_uncertainty
from sim.results import MAX_EXACT_INT, safe_name
from sim.scenarios import load_scenario, scenario_data
from sim.strategies import make_strategies

__all__ = ["ExperimentSpec", "Variant", "Sweep", "Cell", "load_experiment", "replication_seed",
           "check_world", "DEFAULT_HEADLINE"]

_TOP_KEYS = ("name", "description", "scenario", "days", "replications", "seed", "baseline",
             "overrides", "variants", "sweep", "crn", "report", "uncertainty")
# What the verdicts, the forest plot and the cost table speak of unless ``[report]
# headline`` says otherwise: the KPIs the verdicts have always quoted.
DEFAULT_HEADLINE = ("app_mau", "net_contribution")


@dataclass(frozen=True)
class Variant:
    name: str
    strategies: list[dict[str, Any]]


@dataclass(frozen=True)
class Cell:
    """One model run of the experiment."""

    variant: str
    point: int
    replication: int
    seed: int
    overrides: dict[str, Any]
    strategies: list[dict[str, Any]]
    points: tuple[int, ...]  # the sweep points its results stand for: (point,) or all
    draw: dict[str, Any] = field(default_factory=dict)  # [uncertainty] draw of its replication

    @property
    def id(self) -> str:
        """File stem of the cell: the variant's name made safe (:func:`safe_name`), the
        point (0 for a cell that stands for every point) and the replication."""
        return f"{safe_name(self.variant)}__p{self.point:03d}__r{self.replication:03d}"


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    scenario: str
    days: int
    replications: int
    seed: int
    baseline: str
    variants: list[Variant]
    overrides: dict[str, Any] = field(default_factory=dict)
    sweep: Sweep | None = None
    description: str = ""
    crn: bool = True             # common random numbers across variants
    source: dict[str, Any] = field(default_factory=dict)  # the validated table, for the manifest
    scenario_sha256: str = ""    # digest of the scenario's content (a file may change)
    headline: tuple[str, ...] = DEFAULT_HEADLINE  # [report] headline: KPIs the report speaks of
    graph_variant: str | None = None  # [report] graph_variant; None: the ranking's best
    uncertainty: Uncertainty | None = None  # [uncertainty]; None: every parameter as given

    @property
    def hash(self) -> str:
        """Digest of everything that determines the results: the validated table
        without its ``[report]`` (how results are read does not change them) and the
        scenario's content (not only its path)."""
        table = {k: v for k, v in self.source.items() if k != "report"}
        blob = json.dumps([table, self.scenario_sha256], default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]  # key order matters (sweeps)

    def variant_names(self) -> list[str]:
        return [v.name for v in self.variants]

    def points(self) -> list[dict[str, Any]]:
        """Sweep points: target -> value (one empty point without a sweep)."""
        if self.sweep is None:
            return [{}]
        names = list(self.sweep.parameters)
        if self.sweep.method == "grid":
            rows = list(itertools.product(*self.sweep.parameters.values()))
        elif self.sweep.method == "zip":
            rows = list(zip(*self.sweep.parameters.values(), strict=True))
        else:
            from sim.experiment.sensitivity import sample

            rows = sample(self.sweep, self.seed).tolist()
        return [{n: self.sweep.coerce(n, v) for n, v in zip(names, row, strict=True)}
                for row in rows]

    def draws(self) -> pd.DataFrame:
        """Each replication's draw of the uncertain parameters: shape (replications,
        parameters), index ``replication``, a column per dotted key (an empty frame
        without ``[uncertainty]``)."""
        if self.uncertainty is None:
            return pd.DataFrame(index=pd.RangeIndex(self.replications, name="replication"))
        return self.uncertainty.draws(self.replications, self.seed)

    def point_labels(self) -> list[str]:
        """Each sweep point in words, e.g. ``"duration_days = 30, budget = 500,000"``
        (a strategy target by its parameter's name when no other target shares it);
        one empty label without a sweep."""
        points = self.points()
        if self.sweep is None:
            return [""]
        short = {t: t.rsplit(".", 1)[-1] if t.startswith("strategies[") else t
                 for t in self.sweep.parameters}
        names = {t: s if list(short.values()).count(s) == 1 else t for t, s in short.items()}
        return [", ".join(f"{names[t]} = {v:,.6g}" if isinstance(v, float) else
                          f"{names[t]} = {v:,}" for t, v in point.items()) for point in points]

    def shared(self) -> list[str]:
        """Variants no swept value touches (run once per replication, standing for every
        sweep point); none without a sweep."""
        return [v.name for v in self.variants
                if self.sweep is not None and not self.sweep.touches(v.name)]

    def shape(self) -> str:
        """The experiment's size in words: "2 variants x 4 sweep points x 4 replications =
        20 cells (baseline once per replication: no swept value changes it)"."""
        n_points, shared = len(self.points()), self.shared()
        sweep = f" x {n_points} sweep points" if self.sweep is not None else ""
        once = (f" ({', '.join(shared)} once per replication: no swept value changes "
                f"{'it' if len(shared) == 1 else 'them'})" if shared and n_points > 1 else "")
        return (f"{len(self.variants)} variants{sweep} x {self.replications} replications = "
                f"{len(self.cells())} cells{once}")

    def cells(self) -> list[Cell]:
        """Every cell in order: by point, variant (declared order), replication; a shared
        variant (:meth:`shared`) only at point 0, standing for every point."""
        out = []
        points = self.points()
        shared = set(self.shared())
        draws = self.draws().to_dict("records")
        for p, point in enumerate(points):
            scenario_part = {k: v for k, v in point.items() if not k.startswith("strategies[")}
            for v_index, variant in enumerate(self.variants):
                if p and variant.name in shared:
                    continue
                stands_for = tuple(range(len(points))) if variant.name in shared else (p,)
                strategies = [dict(s) for s in variant.strategies]
                if self.sweep is not None and variant.name in self.sweep.variants:
                    for target, value in point.items():
                        if target.startswith("strategies["):
                            index, key = strategy_target(target)
                            if index < len(strategies):
                                strategies[index][key] = value
                for r in range(self.replications):
                    seed = replication_seed(self.seed, r, None if self.crn else v_index)
                    overrides, ran = {**self.overrides, **scenario_part}, strategies
                    if self.uncertainty is not None:
                        overrides.update({k: v for k, v in draws[r].items()
                                          if not k.startswith("strategies[")})
                        ran = apply_draw(variant.name, strategies, draws[r], self.uncertainty)
                    out.append(Cell(variant.name, p, r, seed, overrides, ran, stands_for,
                                    draws[r]))
        return out


def replication_seed(seed: int, replication: int, variant: int | None = None) -> int:
    """Model seed of replication r: the same for every variant under common random
    numbers; with ``variant`` given (independent sampling) different per variant."""
    key = (replication,) if variant is None else (replication, 1_000 + variant)
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint32)[0])


def _read(source: str | Path | dict) -> tuple[dict[str, Any], Path | None]:
    if isinstance(source, dict):
        return dict(source), None
    return read_toml(source, "experiment", "experiment file"), Path(source)


def _get(data: dict, key: str, tp: type, default: Any, check: Any = None) -> Any:
    if key not in data:
        if default is ConfigError:
            raise ConfigError(key, None, "given (the key is required)")
        return default
    value = check_type(data[key], tp, key)
    if check is not None and not check(value):
        raise ConfigError(key, value, check.describe())
    return value


def load_experiment(source: str | Path | dict,
                    overrides: dict[str, Any] | None = None,
                    days: int | None = None,
                    replications: int | None = None) -> ExperimentSpec:
    """Read and validate an experiment (a TOML path or an equivalent dict).

    ``overrides``, ``days`` and ``replications`` replace the file's values
    (the command line's ``--set``, ``--days``, ``--replications``).

    Raises
    ------
    ConfigError
        Naming the field, before anything is computed: an unreadable file, a
        wrong key, type or value, an experiment too large to fit
        (:func:`sim.experiment.checks.check_size`), or a cell whose scenario or
        strategies the model would refuse (every cell is built:
        :func:`sim.experiment.checks.check_cells`).
    """
    data, path = _read(source)
    for table, what, command in (("optimise", "an optimisation", "sim optimise"),
                                 ("targets", "a calibration", "sim calibrate")):
        if table in data:
            raise ConfigError(table, f"[{table}] table", f"an experiment file (this is "
                              f"{what} file: run it with `{command} FILE`)")
    check_keys(data, _TOP_KEYS)
    if days is not None:
        data["days"] = days
    if replications is not None:
        data["replications"] = replications
    name = _get(data, "name", str, path.stem if path else ConfigError)
    if not name:
        raise ConfigError("name", name, "a non-empty string")
    scenario = _get(data, "scenario", str, "city")
    if path is not None and scenario.endswith(".toml") and not Path(scenario).is_absolute():
        scenario = str((path.parent / scenario).resolve())
    n_days = _get(data, "days", int, 365, Interval(1, None))
    reps = _get(data, "replications", int, 10, Interval(1, None))
    seed = _get(data, "seed", int, 0, _SEED)
    crn = _get(data, "crn", bool, True)
    description = _get(data, "description", str, "")
    file_overrides = data.get("overrides", {})
    if not isinstance(file_overrides, dict):
        raise ConfigError("overrides", file_overrides, "a table of dotted scenario keys")
    merged = {**flatten(file_overrides), **(overrides or {})}
    scenario_table = scenario_data(scenario)
    scenario_obj = load_scenario(scenario, merged)  # validates every override
    variants = _variants(data.get("variants"), scenario_obj, n_days)
    names = [v.name for v in variants]
    baseline = _get(data, "baseline", str, names[0])
    if baseline not in names:
        raise ConfigError("baseline", baseline, Options(tuple(names)).describe())
    sweep = parse_sweep(data.get("sweep"), names, variants, scenario_table, merged)
    headline, graph_variant = _report(data.get("report", {}), names)
    uncertainty = parse_uncertainty(data.get("uncertainty"), scenario, scenario_table, variants,
                                    tuple(sweep.parameters) if sweep else ())
    from sim.experiment.checks import (
        check_cells,
        check_size,
        count_points,
        estimate,
        largest_sample,
    )

    n_points = count_points(sweep.method, sweep.parameters, sweep.samples) if sweep else 1
    swept = [{key: value} for key, values in (sweep.parameters if sweep else {}).items()
             for value in values]
    simulated = largest_sample(scenario_obj.population, swept)
    touched = sum(sweep is None or sweep.touches(v.name) for v in variants)  # as cells()
    est = estimate(reps * (n_points * touched + len(variants) - touched), n_days, simulated)
    check_size("size", f"{len(variants)} variants x {n_points} sweep points x {reps} "
               f"replications x {n_days} days, {simulated:,} simulated customers", est)
    source_table = {**data, "scenario": scenario, "overrides": merged, "days": n_days,
                    "replications": reps, "seed": seed, "name": name, "baseline": baseline,
                    "variants": [{**table, "strategies": v.strategies}  # as validated
                                 for table, v in zip(data["variants"], variants, strict=True)],
                    "report": {"headline": list(headline)} | (
                        {"graph_variant": graph_variant} if graph_variant else {})}
    if uncertainty is not None:
        source_table["uncertainty"] = uncertainty.table()
    digest = hashlib.sha256(json.dumps(scenario_table, sort_keys=True, default=str).encode())
    spec = ExperimentSpec(name=name, scenario=scenario, days=n_days, replications=reps,
                          seed=seed, baseline=baseline, variants=variants, overrides=merged,
                          sweep=sweep, description=description, crn=crn, source=source_table,
                          scenario_sha256=digest.hexdigest(), headline=headline,
                          graph_variant=graph_variant, uncertainty=uncertainty)
    if uncertainty is not None:
        check_draws(spec)  # first: its errors name the draw
    check_cells(spec)
    return spec


class _Seed(Interval):
    def describe(self) -> str:
        return "an integer in [0, 2**53 - 1] (exact in every JSON reader)"


_SEED = _Seed(0, MAX_EXACT_INT)


def _variants(raw: Any, scenario_obj, n_days: int) -> list[Variant]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("variants", raw, "a non-empty list of [[variants]] tables")
    out, seen = [], set()
    for i, table in enumerate(raw):
        where = f"variants[{i}]"
        if not isinstance(table, dict):
            raise ConfigError(where, table, "a table")
        check_keys(table, ("name", "strategies", "description"), where)
        name = table.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.name", name, "a non-empty string")
        if name in seen:
            raise ConfigError(f"{where}.name", name, "unique among the variants")
        seen.add(name)
        strategies = table.get("strategies", [])
        if not isinstance(strategies, list):
            raise ConfigError(f"{where}.strategies", strategies, "a list of [[...strategies]]")
        built = make_strategies(strategies, path=f"{where}.strategies")
        check_world(built, scenario_obj, f"{where}.strategies", n_days)
        out.append(Variant(name, [s.get_params() | {"kind": s.kind} for s in built]))
    return out


def _report(raw: Any, names: list[str]) -> tuple[tuple[str, ...], str | None]:
    """``[report]``: ``headline``, a non-empty list of KPI names (sim/metrics.py KPIS)
    without repeats, first the one the ranking sentence speaks of; ``graph_variant``,
    the variant whose ecosystem graph the report draws (one of ``names``; default None:
    the best of the ranking)."""
    from sim.metrics import KPI_NAMES

    if not isinstance(raw, dict):
        raise ConfigError("report", raw, "a table (e.g. [report] headline = [\"debit_cards\"])")
    check_keys(raw, ("headline", "graph_variant"), "report")
    graph_variant = raw.get("graph_variant")
    if graph_variant is not None and graph_variant not in names:
        raise ConfigError("report.graph_variant", graph_variant, Options(tuple(names)).describe())
    headline = raw.get("headline", list(DEFAULT_HEADLINE))
    if not isinstance(headline, list) or not headline:
        raise ConfigError("report.headline", headline, "a non-empty list of KPI names")
    for i, name in enumerate(headline):
        if name not in KPI_NAMES:
            raise ConfigError(f"report.headline[{i}]", name, Options(KPI_NAMES).describe())
        if name in headline[:i]:
            raise ConfigError(f"report.headline[{i}]", name, "a KPI not named before")
    return tuple(headline), graph_variant


def check_world(strategies, scenario_obj, path: str, days: int | None = None) -> None:
    """Each strategy's own checks against the city and the horizon
    (:meth:`Strategy.check_world`); errors name the strategy's path (``path[i]``),
    given to :func:`make_strategies` when it was built."""
    for s in strategies:
        s.check_world(scenario_obj, days)
