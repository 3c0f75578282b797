"""Ready-made scenarios (TOML data shipped with the package) and their loader.

``load_scenario("city")`` reads ``sim/scenarios/city.toml``; a path to any
``.toml`` file works too. Overrides use dotted keys, e.g.
``{"population.customers": 20000}``; a misspelled key or a value of the wrong
type raises :class:`sim.config.ConfigError` naming the key.

A scenario file may carry a top-level ``[uncertainty]`` table: default
distributions of its judgement parameters (docs/EXPERIMENTS.md, "Uncertain
parameters"). The model ignores it; :func:`scenario_uncertainty` returns it for an
experiment's ``[uncertainty] from_scenario = true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.config import ConfigError, apply_overrides, build, read_toml
from sim.scenarios.catalog import CATEGORIES, CHAIN_CATEGORY, CHAINS, CHANNELS
from sim.scenarios.schema import OPTIONAL_KEYS, Scenario

__all__ = ["load_scenario", "scenario_names", "scenario_data", "scenario_uncertainty", "Scenario",
           "CATEGORIES", "CHAINS", "CHAIN_CATEGORY", "CHANNELS"]

_HERE = Path(__file__).parent


def scenario_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    return sorted(p.stem for p in _HERE.glob("*.toml"))


def scenario_data(name_or_path: str | Path) -> dict[str, Any]:
    """The raw TOML tables of a scenario, by shipped name or file path, without its
    ``[uncertainty]`` table (:func:`scenario_uncertainty`)."""
    data = _read(name_or_path)
    data.pop("uncertainty", None)
    return data


def scenario_uncertainty(name_or_path: str | Path) -> dict[str, Any]:
    """The scenario's declared default uncertainty: ``{"dotted.key": {"dist": ...,
    ...}}`` as written in its top-level ``[uncertainty]`` table (empty if none).
    Validated where it is used (:func:`sim.experiment.uncertainty.parse_uncertainty`).

    Raises
    ------
    ConfigError
        An unknown scenario, an unreadable file, or an ``[uncertainty]`` that is not a
        table of tables.
    """
    table = _read(name_or_path).get("uncertainty", {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ConfigError("uncertainty", table, "a table of \"dotted.key\" = { dist = ... }")
    return table


def _read(name_or_path: str | Path) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.suffix != ".toml":
        if str(name_or_path) not in scenario_names():
            raise ConfigError("scenario", str(name_or_path),
                              "a shipped scenario (" + ", ".join(scenario_names())
                              + ") or a path to a .toml file")
        path = _HERE / f"{name_or_path}.toml"
    return read_toml(path, "scenario", "scenario file")


def load_scenario(name_or_path: str | Path | Scenario,
                  overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, override and validate a scenario.

    Parameters
    ----------
    name_or_path : str, Path or Scenario
        A shipped scenario name (see :func:`scenario_names`), a TOML path, or
        an already built Scenario (returned as is when there are no overrides).
    overrides : mapping, optional
        Dotted keys to replace, e.g. ``{"population.customers": 20000}``.

    Raises
    ------
    ConfigError
        Unknown scenario, unknown key, wrong type or out-of-range value.
    """
    if isinstance(name_or_path, Scenario):
        if overrides:
            raise ConfigError("overrides", dict(overrides),
                              "empty when a built Scenario is passed (pass its name instead)")
        return name_or_path
    data = apply_overrides(scenario_data(name_or_path), overrides, optional=OPTIONAL_KEYS)
    return build(Scenario, data)
