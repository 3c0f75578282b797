"""Optimisation files: an experiment file whose variants are searched, not listed.

The file holds what an experiment file holds about the world (``scenario``,
``overrides``, ``days``, ``seed``, ``[report] headline``) and, instead of
``[[variants]]``, ``replications`` and ``[sweep]``, three tables::

    [optimise]
    budget = 2000000                 # yuan; the levers' budgets sum to at most this
    objective = "net_contribution"   # a KPI (sim/metrics.py KPIS), horizon value
    direction = "maximise"           # optional; default: the KPI's better direction
    constraints = ["app_mau >= 1000"]  # optional: mean paired lifts, ">=" or "<="
    [[optimise.levers]]
    strategy = { kind = "fee_waiver", chain = "business_district", merchants = 400 }
    share = [0.0, 1.0]               # share of the budget (lower, upper)
    params = { duration_days = [30, 180] }  # optional: other parameters searched
    [search]                         # trials, replications, batch, startup
    [selection]                      # method, probability, indifference, top, ...

:func:`load_optimisation` validates all of it before anything runs: the world part
through :func:`sim.experiment.spec.load_experiment` (one baseline variant), every
lever by building its strategy at both ends of its ranges with the model's own
checks. Errors are one-line :class:`sim.config.ConfigError` naming the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config import ConfigError, Interval, Options, check_keys, check_type, read_toml
from sim.experiment.spec import ExperimentSpec, check_world, load_experiment
from sim.metrics import KPI_BY_NAME, KPI_NAMES
from sim.strategies import STRATEGY_KINDS, make_strategies

__all__ = ["Lever", "Constraint", "OptimiseSpec", "load_optimisation"]

_TABLES = ("optimise", "search", "selection")
_NOT_HERE = {"variants": "the levers in [optimise] (the variants are searched)",
             "sweep": "the levers in [optimise] (the variants are searched)",
             "baseline": "left out (the baseline is doing nothing)",
             "crn": "left out (trials always share random numbers)",
             "replications": "[search] replications",
             "uncertainty": "left out (the optimiser does not yet search under uncertain "
                            "parameters: every trial would run with the values as given)"}
_CONSTRAINT = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=)\s*([-+0-9.eE_]+)\s*$")
_SEARCH = {"trials": (int, 40, Interval(2, 10_000)), "replications": (int, 5, Interval(2, 1000)),
           "batch": (int, 4, Interval(1, 1000)), "startup": (int, 10, Interval(1, 10_000))}
_SELECTION = {"method": (str, "kn", Options(("kn",))),
              "probability": (float, 0.95, Interval(0.5, 1.0, closed="left")),
              "indifference": (float, None, Interval(0.0, None, closed="neither")),
              "top": (int, 5, Interval(1, 100)), "initial": (int, 5, Interval(2, 1000)),
              "max_replications": (int, 50, Interval(2, 10_000)),
              "fresh": (int, 10, Interval(2, 1000))}


@dataclass(frozen=True)
class Lever:
    """One lever: its label (the strategy's name, else its kind and chains), its
    strategy table (without ``budget``), share bounds, searched parameters
    (name -> (low, high), ints for integer parameters)."""

    label: str
    strategy: dict[str, Any]
    share: tuple[float, float]
    params: dict[str, tuple[float, float]] = field(default_factory=dict)

    def build(self, budget_yuan: float, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The strategy table with ``budget`` (yuan) and the searched ``values``."""
        return {**self.strategy, **(values or {}), "budget": float(budget_yuan)}


@dataclass(frozen=True)
class Constraint:
    """``kpi op bound`` on the mean paired lift: feasible when
    :meth:`violation` <= 0 (Optuna's convention for ``constraints_func``)."""

    kpi: str
    op: str
    bound: float

    def violation(self, lift: float) -> float:
        return self.bound - lift if self.op == ">=" else lift - self.bound

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.bound:g}"


@dataclass(frozen=True)
class OptimiseSpec:
    """A validated optimisation file (see the module docstring)."""

    experiment: ExperimentSpec  # the world, with one variant: the baseline
    budget: float
    objective: str
    maximise: bool
    constraints: tuple[Constraint, ...]
    levers: tuple[Lever, ...]
    search: dict[str, int]
    selection: dict[str, Any]
    source: dict[str, Any]

    @property
    def hash(self) -> str:
        """Digest of everything that determines the results (the file as validated and
        the scenario's content)."""
        blob = json.dumps([self.source, self.experiment.scenario_sha256], default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def sign(self) -> float:
        """+1 when the objective is maximised, -1 when minimised."""
        return 1.0 if self.maximise else -1.0


def _option(table: dict, where: str, specs: dict) -> dict[str, Any]:
    check_keys(table, specs, where)
    out = {}
    for key, (tp, default, check) in specs.items():
        if key not in table:
            if default is None:
                raise ConfigError(f"{where}.{key}", None, "given")
            out[key] = default
            continue
        value = check_type(table[key], tp, f"{where}.{key}")
        if not check(value):
            raise ConfigError(f"{where}.{key}", value, check.describe())
        out[key] = value
    return out


def _table(data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(key, value, f"a table ([{key}])")
    return value


def _pair(value: Any, where: str, tp: type) -> tuple:
    if not isinstance(value, list) or len(value) != 2:
        raise ConfigError(where, value, "a list [low, high]")
    low, high = (check_type(v, tp, f"{where}[{i}]") for i, v in enumerate(value))
    if low > high:
        raise ConfigError(where, value, "[low, high] with low <= high")
    return low, high


def _levers(raw: Any, budget: float, scenario_obj, days: int) -> tuple[Lever, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("optimise.levers", raw, "a non-empty list of [[optimise.levers]]")
    out, labels = [], []
    for i, table in enumerate(raw):
        where = f"optimise.levers[{i}]"
        if not isinstance(table, dict):
            raise ConfigError(where, table, "a table with strategy and share")
        check_keys(table, ("strategy", "share", "params"), where)
        strategy = table.get("strategy")
        if not isinstance(strategy, dict) or "kind" not in strategy:
            raise ConfigError(f"{where}.strategy", strategy,
                              "a strategy table with its kind (sim strategies lists them)")
        if "budget" in strategy:
            raise ConfigError(f"{where}.strategy.budget", strategy["budget"],
                              "left out (the budget is share x optimise.budget)")
        if "share" not in table:
            raise ConfigError(f"{where}.share", None, "given: [low, high], the lever's "
                              "share of optimise.budget (its budget)")
        low, high = _pair(table["share"], f"{where}.share", float)
        if not (0.0 <= low and high <= 1.0):
            raise ConfigError(f"{where}.share", table["share"], "[low, high] within [0, 1]")
        path = f"{where}.strategy"
        built = make_strategies([strategy], path=path)  # unknown kind or parameter
        check_world(built, scenario_obj, path, days)
        declared = STRATEGY_KINDS[strategy["kind"]].declared_parameters()
        params = {}
        raw_params = table.get("params", {})
        if not isinstance(raw_params, dict):
            raise ConfigError(f"{where}.params", raw_params, "a table name = [low, high]")
        for name, bounds in raw_params.items():
            ppath = f"{where}.params.{name}"
            if name in ("kind", "name", "budget") or name not in declared:
                allowed = sorted(set(declared) - {"name", "budget"})
                raise ConfigError(ppath, bounds, f"a numeric parameter of {strategy['kind']} "
                                  f"(one of {', '.join(allowed)})")
            tp = declared[name].type
            if tp not in (int, float):
                raise ConfigError(ppath, bounds, f"a numeric parameter ({name} is not)")
            params[name] = _pair(bounds, ppath, tp)
        for end in (0, 1):  # both ends of every range build and fit the city
            values = {n: b[end] for n, b in params.items()}
            one = Lever("", strategy, (low, high), params).build((low, high)[end] * budget,
                                                                 values)
            check_world(make_strategies([one], path=path), scenario_obj, path, days)
        where_ = strategy.get("chain") or ",".join(strategy.get("chains") or [])
        base = strategy.get("name") or f"{strategy['kind']} {where_}".strip()
        label = base if base not in labels else f"{base} #{labels.count(base) + 1}"
        labels.append(base)
        out.append(Lever(label, dict(strategy), (low, high), params))
    lows = [lv.share[0] for lv in out]
    if sum(lows) > 1.0 + 1e-12:
        raise ConfigError("optimise.levers[*].share", lows, "lower shares summing to at most "
                          f"1 (they sum to {sum(lows):g}: the budgets could not fit)")
    return tuple(out)


def _constraints(raw: Any) -> tuple[Constraint, ...]:
    if not isinstance(raw, list):
        raise ConfigError("optimise.constraints", raw, 'a list such as ["app_mau >= 1000"]')
    out = []
    for i, text in enumerate(raw):
        where = f"optimise.constraints[{i}]"
        match = _CONSTRAINT.match(text) if isinstance(text, str) else None
        if match is None:
            raise ConfigError(where, text, '"KPI >= number" or "KPI <= number" (a mean '
                              "paired lift against doing nothing)")
        kpi, op, bound = match.groups()
        if kpi not in KPI_NAMES:
            raise ConfigError(where, text, f"a constraint on a KPI ({kpi} is not one: "
                              f"{Options(KPI_NAMES).describe()})")
        try:
            value = float(bound)
        except ValueError:
            raise ConfigError(where, text, "a number after the operator") from None
        out.append(Constraint(kpi, op, value))
    return tuple(out)


def load_optimisation(source: str | Path | dict,
                      overrides: dict[str, Any] | None = None) -> OptimiseSpec:
    """Read and validate an optimisation file (a TOML path or an equivalent dict).

    Parameters
    ----------
    source : path or dict
        The file (module docstring).
    overrides : dict, optional
        Dotted scenario keys replacing the file's (the command line's ``--set``).

    Raises
    ------
    ConfigError
        Naming the field, before anything runs: a key an optimisation file does not
        take (``variants``, ``sweep``, ...), an unknown objective or constraint KPI,
        bad constraint syntax, a lever without a strategy or a share, a strategy the
        model would refuse at either end of its ranges, lower shares summing above 1,
        a budget too small for any lever to get 1 yuan, ``[uncertainty]`` (not searched
        under yet), a search or selection option out of range (``top`` and ``startup``
        above ``trials``; ``top`` < 2: with one candidate nothing is selected).
    """
    path = None if isinstance(source, dict) else Path(source)
    data = dict(source) if path is None else read_toml(path, "optimise", "optimisation file")
    for key, where in _NOT_HERE.items():
        if key in data:
            raise ConfigError(key, data[key], f"{where} in an optimisation file")
    tables = {k: _table(data, k) for k in _TABLES}
    if "optimise" not in data:
        raise ConfigError("optimise", None, "given ([optimise] with budget, objective, levers)")
    world = {k: v for k, v in data.items() if k not in _TABLES}
    world.setdefault("name", path.stem if path else "optimise")
    scenario = world.get("scenario", "city")
    if path is not None and isinstance(scenario, str) and scenario.endswith(".toml") \
            and not Path(scenario).is_absolute():
        world["scenario"] = str((path.parent / scenario).resolve())
    search = _option(tables["search"], "search", _SEARCH)
    selection = _option(tables["selection"], "selection", _SELECTION)
    for where, given, key, what in (
            ("search", search, "startup", "the random start is part of the trials"),
            ("selection", selection, "top", "selection chooses among the trials run")):
        if key not in tables[where]:  # a default shrinks to the trials
            given[key] = min(given[key], search["trials"])
        elif given[key] > search["trials"]:
            raise ConfigError(f"{where}.{key}", given[key],
                              f"<= search.trials ({search['trials']}): {what}")
    if selection["top"] < 2:
        raise ConfigError("selection.top", selection["top"], ">= 2 (KN selects among the top "
                          "trials: with one there is no selection and no probability of "
                          "correct selection)")
    if selection["max_replications"] < selection["initial"]:
        raise ConfigError("selection.max_replications", selection["max_replications"],
                          f">= selection.initial ({selection['initial']})")
    world |= {"variants": [{"name": "baseline"}], "replications": search["replications"]}
    experiment = load_experiment(world, overrides)
    opt = tables["optimise"]
    check_keys(opt, ("budget", "objective", "direction", "constraints", "levers"), "optimise")
    if "budget" not in opt:
        raise ConfigError("optimise.budget", None, "given (total yuan)")
    budget = check_type(opt["budget"], float, "optimise.budget")
    if budget <= 0:
        raise ConfigError("optimise.budget", budget, "> 0 (yuan)")
    objective = opt.get("objective", "net_contribution")
    if objective not in KPI_NAMES:
        raise ConfigError("optimise.objective", objective, Options(KPI_NAMES).describe())
    better = "maximise" if KPI_BY_NAME[objective].better == "higher" else "minimise"
    direction = opt.get("direction", better)
    if direction not in ("maximise", "minimise"):
        raise ConfigError("optimise.direction", direction, "one of 'maximise', 'minimise'")
    from sim.scenarios import load_scenario

    scenario_obj = load_scenario(experiment.scenario, experiment.overrides)
    levers = _levers(opt.get("levers"), budget, scenario_obj, experiment.days)
    lows = sum(lv.share[0] for lv in levers)
    most = [min(lv.share[1], 1.0 - lows + lv.share[0]) * budget for lv in levers]
    if max(most) <= 1.0 + 1e-6:  # 1 yuan at most, and then only at a range's very end
        raise ConfigError("optimise.budget", budget, "more than 1 yuan for some lever at its "
                          f"largest share (the most is {max(most):.3g} yuan: floor(share x "
                          "budget) would be 0 in every trial, which would spend nothing)")
    source_table = {"experiment": experiment.source, "optimise": {
        "budget": budget, "objective": objective, "direction": direction,
        "constraints": list(opt.get("constraints", [])),
        "levers": [{"strategy": lv.strategy, "share": list(lv.share),
                    "params": {k: list(v) for k, v in lv.params.items()}} for lv in levers]},
        "search": search, "selection": selection}
    return OptimiseSpec(experiment=experiment, budget=budget, objective=objective,
                        maximise=direction == "maximise",
                        constraints=_constraints(opt.get("constraints", [])), levers=levers,
                        search=search, selection=selection, source=source_table)
