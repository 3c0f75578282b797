"""``sim strategies``: every strategy kind with its parameters, read from the same
declarations the validation uses (:meth:`Strategy.declared_parameters
<sim.strategies.base.Strategy.declared_parameters>`).

Units come from the parameter's name, the project's naming rule (``*_yuan`` and
``budget`` in yuan, ``*_days`` and ``*_day`` in days, ``*_per_day`` a daily
rate); a parameter constrained to [0, 1] without such a suffix is a share.
"""

from __future__ import annotations

import math
import sys

from sim.config import ConfigError, Interval, Options
from sim.strategies import STRATEGY_KINDS
from sim.strategies.params import REQUIRED, Param

__all__ = ["strategy_lines", "unit_of"]

_TYPE_WORDS = {int: "integer", float: "number", str: "text", bool: "true/false",
               list: "list", dict: "table"}


def unit_of(name: str, spec: Param) -> str:
    """The unit a parameter is given in, from its name: "yuan", "days", "per day",
    "share (0 to 1)", or "" when it has none (a count, a name, a table)."""
    if name.endswith("_per_day"):
        return "per day"
    if name.endswith("_yuan") or name == "budget":
        return "yuan"
    if name.endswith(("_days", "_day")):
        return "days"
    if spec.check == Interval(0.0, 1.0):
        return "share (0 to 1)"
    return ""


def _default(spec: Param) -> str:
    value = spec.default
    if value is REQUIRED:
        return "required"
    if value is None:
        return "all" if spec.type is list else "none"
    if isinstance(value, float) and math.isinf(value):
        return "inf (unlimited)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,g}" if abs(value) < 1e7 else f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _allowed(spec: Param) -> str:
    if spec.check is None:
        return "any " + _TYPE_WORDS.get(spec.type, spec.type.__name__)
    rule = spec.check.describe()
    if spec.type is list:
        return "a list, each " + rule
    if isinstance(spec.check, Options):
        return rule
    return f"{_TYPE_WORDS.get(spec.type, spec.type.__name__)} {rule}"


def _kind_lines(kind: str) -> list[str]:
    """"KIND (Class): first paragraph of its module docstring", then one row per
    parameter: name, unit, default, then what is allowed and what it means."""
    cls = STRATEGY_KINDS[kind]
    about = (sys.modules[cls.__module__].__doc__ or "").strip().split("\n\n")[0]
    rows = [("parameter", "unit", "default", "allowed; meaning")]
    rows += [(name, unit_of(name, spec) or "-", _default(spec),
              _allowed(spec) + (f"; {spec.doc}" if spec.doc else ""))
             for name, spec in cls.declared_parameters().items()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return [f"{kind} ({cls.__name__}): " + " ".join(about.split())] + [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[3]
        for r in rows]


def strategy_lines(kind: str | None = None) -> list[str]:
    """Help text for one strategy kind, or for every kind (sorted) when ``kind`` is None.

    Raises
    ------
    ConfigError
        If ``kind`` is not a registered strategy kind.
    """
    if kind is not None and kind not in STRATEGY_KINDS:
        raise ConfigError("kind", kind, Options(tuple(sorted(STRATEGY_KINDS))).describe())
    kinds = [kind] if kind else sorted(STRATEGY_KINDS)
    out: list[str] = []
    for k in kinds:
        out += _kind_lines(k) + [""]
    out.append("In an experiment file: [[variants.strategies]] kind = \"KIND\" and the "
               "parameters above; common ones (name, start_day, duration_days, budget) "
               "apply to every kind.")
    return out
