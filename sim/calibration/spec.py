"""Calibration files: the city's fixed facts, the unknown parameters, the targets.

A calibration file (docs/CALIBRATION.md, "Calibrating to your branch") names a
scenario and its overrides, the parameters to fit with their bounds, a CSV of
observed KPIs (``day, kpi, value[, sd]``), optional past pilots with their
observed lift, and the search budget. :func:`load_calibration` checks all of it
before anything runs; every error is one :class:`sim.config.ConfigError` line
naming the field (or the CSV's row), the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.calibration.targets import Target, default_sd, read_targets
from sim.config import ConfigError, Interval, check_keys, check_type, flatten, read_toml
from sim.experiment.spec import check_world
from sim.metrics import KPI_BY_NAME, KPI_NAMES
from sim.results import MAX_EXACT_INT
from sim.scenarios import load_scenario, scenario_data
from sim.scenarios.schema import OPTIONAL_KEYS
from sim.strategies import make_strategies

__all__ = ["CalibrationSpec", "Parameter", "Pilot", "load_calibration"]

_TOP_KEYS = ("name", "description", "scenario", "seed", "days", "overrides", "parameters",
             "targets", "pilots", "search")
_SEARCH_KEYS = ("trials", "seeds_per_trial", "batch")
_PILOT_TARGET = re.compile(r"pilots\[(\d{1,4})\]\.strategies\[(\d{1,4})\]\.([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Parameter:
    """An unknown: a scenario key or ``pilots[i].strategies[j].key``, searched in
    [low, high] (on a log scale with ``log``; as integers with ``integer``)."""

    name: str
    low: float
    high: float
    log: bool = False
    integer: bool = False

    @property
    def pilot(self) -> tuple[int, int, str] | None:
        """(pilot, strategy, key) of a pilot's strategy parameter; None for a scenario key."""
        m = _PILOT_TARGET.fullmatch(self.name)
        return None if m is None else (int(m.group(1)), int(m.group(2)), m.group(3))

    def share(self, low: float, high: float) -> float:
        """Width of [low, high] as a share of the bounds (on the log scale with ``log``)."""
        f = math.log if self.log else float
        return (f(high) - f(low)) / (f(self.high) - f(self.low))


@dataclass(frozen=True)
class Pilot:
    """A past pilot: its strategies (validated, as ``get_params() | kind``) and its observed
    lift, the difference in ``target.kpi`` between the run with these strategies and the run
    without them on the same seed (a stock: level on ``target.day``; a flow: total over
    days 0..``target.day``)."""

    name: str
    strategies: list[dict[str, Any]]
    target: Target


@dataclass(frozen=True)
class CalibrationSpec:
    name: str
    scenario: str
    seed: int
    days: int
    overrides: dict[str, Any]
    parameters: list[Parameter]
    targets: list[Target]          # observed KPIs, in file order
    pilots: list[Pilot] = field(default_factory=list)
    trials: int = 100
    seeds_per_trial: int = 3
    batch: int = 4
    description: str = ""
    scenario_sha256: str = ""

    @property
    def all_targets(self) -> list[Target]:
        """The KPI targets, then each pilot's lift."""
        return self.targets + [p.target for p in self.pilots]

    @property
    def hash(self) -> str:
        """Digest of everything that determines the results (the checked file, its
        targets and the scenario's content; not the description): a results folder
        holds one calibration (:func:`sim.calibration.calibrate` compares it)."""
        fields = {k: v for k, v in asdict(self).items() if k != "description"}
        blob = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_calibration(source: str | Path | dict, trials: int | None = None
                     ) -> CalibrationSpec:
    """Read and check a calibration file (a TOML path or an equivalent dict; a dict's
    ``targets.file`` is read relative to the working folder).

    ``trials`` replaces ``search.trials`` (the command line's ``--trials``).

    Raises
    ------
    ConfigError
        Before anything runs: an unknown key, a scenario key or override the scenario
        refuses, bounds that are not ``[low, high]`` with low < high or fall outside the
        key's allowed range (both bounds are built), a log scale on bounds <= 0, bad
        targets (:func:`read_targets`), a pilot the model would refuse, a pilot target
        day on or after the horizon (``days``, or without it the last targets-file day
        + 1), or a search budget below 1.
    """
    if isinstance(source, dict):
        data, base = dict(source), Path.cwd()
    else:
        data, base = read_toml(source, "calibration", "calibration file"), Path(source).parent
    check_keys(data, _TOP_KEYS)
    name = _get(data, "name", str, None if isinstance(source, dict) else Path(source).stem)
    if not name:
        raise ConfigError("name", name, "a non-empty string")
    scenario = _get(data, "scenario", str, "city")
    if scenario.endswith(".toml") and not Path(scenario).is_absolute():
        scenario = str((base / scenario).resolve())
    seed = _get(data, "seed", int, 0, Interval(0, MAX_EXACT_INT))
    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ConfigError("overrides", overrides, "a table of dotted scenario keys")
    overrides = flatten(overrides)
    table = scenario_data(scenario)
    load_scenario(scenario, overrides)
    days = data.get("days")
    if days is not None:
        days = check_type(days, int, "days")
        if days < 1:
            raise ConfigError("days", days, "an integer >= 1")
    tfile = data.get("targets", {})
    if not isinstance(tfile, dict) or not isinstance(tfile.get("file"), str) or set(tfile) - {
            "file"}:
        raise ConfigError("targets", tfile, 'a table with file = "targets.csv"')
    targets = read_targets(base / tfile["file"], days)
    pilots_raw = data.get("pilots", [])
    if not isinstance(pilots_raw, list):
        raise ConfigError("pilots", pilots_raw, "a list of [[pilots]] tables")
    pilot_days = [_pilot_day(p, i) for i, p in enumerate(pilots_raw)]
    given = days is not None
    days = days if given else max(t.day for t in targets) + 1
    for i, day in enumerate(pilot_days):
        if day >= days:
            horizon = (f"days = {days}" if given else f"the last targets-file day + 1 = {days}; "
                       "set days to run longer")
            raise ConfigError(f"pilots[{i}].target.day", day, f"<= {days - 1} (the horizon: "
                              f"{horizon})")
    scenario_obj = load_scenario(scenario, overrides)
    pilots = [_pilot(p, i, scenario_obj, days) for i, p in enumerate(pilots_raw)]
    params = _parameters(data.get("parameters"), scenario, table, overrides, pilots, days)
    search = data.get("search", {})
    if not isinstance(search, dict):
        raise ConfigError("search", search, "a table with " + ", ".join(_SEARCH_KEYS))
    check_keys(search, _SEARCH_KEYS, "search")
    if trials is not None:
        search = {**search, "trials": trials}
    budget = {k: _get(search, k, int, d, Interval(1, None), f"search.{k}")
              for k, d in zip(_SEARCH_KEYS, (100, 3, 4), strict=True)}
    digest = hashlib.sha256(json.dumps(table, sort_keys=True, default=str).encode())
    return CalibrationSpec(name=name, scenario=scenario, seed=seed, days=days,
                           overrides=overrides, parameters=params, targets=targets,
                           pilots=pilots, description=_get(data, "description", str, ""),
                           scenario_sha256=digest.hexdigest(), **budget)


def _get(data: dict, key: str, tp: type, default: Any, check: Any = None,
         where: str | None = None) -> Any:
    if key not in data:
        return default
    value = check_type(data[key], tp, where or key)
    if check is not None and not check(value):
        raise ConfigError(where or key, value, check.describe())
    return value


def _pilot_day(raw: Any, i: int) -> int:
    target = raw.get("target") if isinstance(raw, dict) else None
    if not isinstance(target, dict):
        raise ConfigError(f"pilots[{i}].target", target, "a table {kpi, day, lift[, sd]}")
    day = check_type(target.get("day"), int, f"pilots[{i}].target.day")
    if day < 0:
        raise ConfigError(f"pilots[{i}].target.day", day, "an integer >= 0")
    return day


def _pilot(raw: dict, i: int, scenario_obj, days: int) -> Pilot:
    where = f"pilots[{i}]"
    check_keys(raw, ("name", "strategies", "target"), where)
    strategies = raw.get("strategies")
    if not isinstance(strategies, list) or not strategies:
        raise ConfigError(f"{where}.strategies", strategies, "a non-empty list of strategies")
    built = make_strategies(strategies, path=f"{where}.strategies")
    check_world(built, scenario_obj, f"{where}.strategies", days)
    target = raw["target"]
    check_keys(target, ("kpi", "day", "lift", "sd"), f"{where}.target")
    kpi = target.get("kpi")
    if kpi not in KPI_NAMES:
        raise ConfigError(f"{where}.target.kpi", kpi, "a KPI name (" + ", ".join(KPI_NAMES)
                          + ")")
    if "lift" not in target:
        raise ConfigError(f"{where}.target.lift", None, "given (the observed lift)")
    lift = check_type(target["lift"], float, f"{where}.target.lift")
    sd = check_type(target.get("sd", default_sd(kpi, lift)), float, f"{where}.target.sd")
    if sd <= 0:
        raise ConfigError(f"{where}.target.sd", sd, "> 0")
    name = raw.get("name", f"pilot {i}")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name", name, "a non-empty string")
    day = target["day"]
    kind = KPI_BY_NAME[kpi].kind
    return Pilot(name, [s.get_params() | {"kind": s.kind} for s in built],
                 Target(kpi, day, lift, sd, "lift", day if kind == "stock" else 0, i))


def _bounds(raw: Any, where: str) -> tuple[float, float, bool]:
    log = False
    if isinstance(raw, dict):
        check_keys(raw, ("low", "high", "log"), where)
        log = check_type(raw.get("log", False), bool, f"{where}.log")
        raw = [raw.get("low"), raw.get("high")]
    if not isinstance(raw, list) or len(raw) != 2:
        raise ConfigError(where, raw, "[low, high] bounds or { low, high, log = true }")
    low, high = (check_type(v, float, where) for v in raw)
    if low >= high:
        raise ConfigError(where, raw, "[low, high] bounds with low < high")
    if log and low <= 0:
        raise ConfigError(where, raw, "bounds > 0 on a log scale")
    return low, high, log


def _check_integer(integer: bool, low: float, high: float, where: str, name: str) -> None:
    if integer and (low != int(low) or high != int(high)):
        raise ConfigError(where, [low, high], f"integer bounds ({name} is an integer)")


def _parameters(raw: Any, scenario: str, table: dict, overrides: dict, pilots: list[Pilot],
                days: int) -> list[Parameter]:
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("parameters", raw, 'a non-empty table of key = [low, high], e.g. '
                          '"adoption.imitation_rate" = [0.0002, 0.002]')
    known = {**OPTIONAL_KEYS, **flatten(table)}
    out = []
    for name, bounds in raw.items():
        where = f"parameters.{name}"
        low, high, log = _bounds(bounds, where)
        m = _PILOT_TARGET.fullmatch(name)
        if m is not None:
            p, s, key = int(m.group(1)), int(m.group(2)), m.group(3)
            if p >= len(pilots) or s >= len(pilots[p].strategies):
                raise ConfigError(where, name, "pilots[i].strategies[j].key with a pilot i and "
                                  "strategy j the file declares (0 for the first)")
            strategy = pilots[p].strategies[s]
            declared = make_strategies([strategy])[0].declared_parameters()
            if key not in declared or declared[key].type not in (int, float):
                raise ConfigError(where, name, f"a numeric parameter of {strategy['kind']}")
            integer = declared[key].type is int
            _check_integer(integer, low, high, where, name)
            for value in (low, high):
                try:
                    make_strategies([{**strategy, key: int(value) if integer else value}],
                                    path=where)
                except ConfigError as exc:
                    raise ConfigError(where, value, f"bounds inside the allowed range "
                                      f"({exc.allowed})") from None
        elif name in known:
            integer = isinstance(known[name], int) and not isinstance(known[name], bool)
            if isinstance(known[name], bool) or not isinstance(known[name], int | float):
                raise ConfigError(where, name, "a numeric scenario key")
            _check_integer(integer, low, high, where, name)
            for value in (low, high):
                try:
                    load_scenario(scenario, {**overrides, name: int(value) if integer else value})
                except ConfigError as exc:
                    raise ConfigError(where, value, f"bounds inside the allowed range of "
                                      f"{exc.field} ({exc.allowed})") from None
        else:
            raise ConfigError(where, name, "a scenario key (e.g. adoption.imitation_rate) or "
                              "pilots[i].strategies[j].key")
        out.append(Parameter(name, low, high, log, integer))
    return out
