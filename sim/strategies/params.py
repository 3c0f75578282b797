"""Declared parameters of the levers: each one's type, constraint, default and doc,
the parameters every lever shares (:data:`COMMON`), and the check of one value
against its declaration (one line naming the field, the value and what is allowed,
through :class:`sim.config.ConfigError`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.config import NON_NEGATIVE, ConfigError, Interval, Options, check_type
from sim.scenarios.catalog import CHAINS

__all__ = ["Param", "REQUIRED", "PROB", "CHAIN", "CHAIN_LIST", "COMMON", "check_param"]


@dataclass(frozen=True)
class Param:
    """Declared parameter: type, constraint (or None), default (``REQUIRED`` if none), doc."""

    type: type
    check: Any = None
    default: Any = None
    doc: str = ""


REQUIRED = object()
PROB = Interval(0.0, 1.0)
CHAIN = Options(CHAINS)        # a chain id
CHAIN_LIST = Options(CHAINS)   # each item of a list of chain ids

COMMON: dict[str, Param] = {
    "name": Param(str, None, "", "label in the ledger and reports (default: the kind)"),
    "start_day": Param(int, Interval(0, None), 0, "first day the lever acts"),
    "duration_days": Param(int, Interval(1, None), 10**9, "days it acts (default: to the end)"),
    "budget": Param(float, NON_NEGATIVE, math.inf, "cap on the yuan it may spend"),
}


def check_param(value: Any, spec: Param, field: str) -> Any:
    """Type- and range-check one parameter value against its declaration."""
    if value is None:
        return None
    if spec.type is list:
        if (not isinstance(value, list | tuple) or not value
                or not all(isinstance(v, str) for v in value)):
            raise ConfigError(field, value, "a non-empty list of names (leave it out for all)")
        value = list(value)
        if spec.check is not None:
            bad = [v for v in value if not spec.check(v)]
            if bad:
                raise ConfigError(field, bad[0], spec.check.describe())
        return value
    if spec.type is dict:
        if not isinstance(value, dict):
            raise ConfigError(field, value, "a table")
        return value
    if spec.type is float and value == math.inf and spec.default == math.inf:
        return math.inf  # +inf where it is the default: unlimited (a budget)
    try:
        value = check_type(value, spec.type, field)
    except ConfigError as exc:
        if exc.allowed != "a finite number":
            raise
        unlimited = ", or inf for unlimited" if spec.default == math.inf else ""
        rule = f" {spec.check.describe()}" if spec.check is not None else ""
        raise ConfigError(field, value, f"a finite number{rule}{unlimited}") from None
    if spec.check is not None and not spec.check(value):
        raise ConfigError(field, value, spec.check.describe())
    return value
