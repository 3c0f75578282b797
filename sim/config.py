"""Typed, validated configuration: one error type, one message template.

Every configuration error in the project (scenario files, overrides, strategy
parameters, experiment files) is a :class:`ConfigError` whose message reads::

    <field path>: must be <what is allowed>, got <value received>

for example ``variants[1].strategies[0].budget: must be >= 0, got -5``.

Declarative constraints (:class:`Interval`, :class:`Options`) are attached to
dataclass fields through ``metadata={"check": ...}`` and checked by one helper,
:func:`build`, which also rejects unknown keys and wrong types.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ConfigError",
    "Interval",
    "Options",
    "build",
    "check_type",
    "flatten",
    "apply_overrides",
    "parse_value",
    "read_toml",
]


class ConfigError(ValueError):
    """A configuration value is missing, unknown, mistyped or out of range.

    Attributes
    ----------
    field : str
        Dotted path of the offending field, e.g. ``population.customers``.
    value : object
        The value received.
    allowed : str
        What would have been accepted.
    """

    def __init__(self, field: str, value: Any, allowed: str):
        # args stays (field, value, allowed): code that rebuilds an exception as
        # type(e)(*e.args), such as simpy failing a process, or unpickling, gets it back.
        super().__init__(field, value, allowed)
        self.field = field
        self.value = value
        self.allowed = allowed

    def __str__(self) -> str:
        return f"{self.field}: must be {self.allowed}, got {self.value!r}"


@dataclass(frozen=True)
class Interval:
    """Numeric range constraint; ``None`` means unbounded on that side."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"

    def describe(self) -> str:
        if self.high is None and self.low is not None:
            return f"{'>=' if self.closed in ('both', 'left') else '>'} {self.low:g}"
        if self.low is None and self.high is not None:
            return f"{'<=' if self.closed in ('both', 'right') else '<'} {self.high:g}"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"in {left}{self.low:g}, {self.high:g}{right}"

    def __call__(self, value: float) -> bool:
        if isinstance(value, float) and math.isnan(value):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True


@dataclass(frozen=True)
class Options:
    """Membership constraint: the value must be one of ``values``."""

    values: tuple

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def __call__(self, value: Any) -> bool:
        return value in self.values


PROBABILITY = Interval(0.0, 1.0)
NON_NEGATIVE = Interval(0.0, None)
POSITIVE = Interval(0.0, None, closed="neither")


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (``np.int64(5)`` -> ``5``);
    anything else unchanged, so numpy parameters (as Mesa's batch_run passes)
    are checked like TOML ones."""
    return value.item() if isinstance(value, np.generic) else value


def check_type(value: Any, tp: Any, field: str) -> Any:
    """Return ``value`` coerced to the scalar type ``tp`` or raise ConfigError.

    Integers are accepted where floats are expected; booleans are never taken
    for numbers, floats are never silently truncated to integers, and NaN or an
    infinity is never taken for a number (a run would end with NaN KPIs).
    """
    value = plain(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(field, value, "a number")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ConfigError(field, value, "a finite number")
        return number
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(field, value, "an integer")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(field, value, "true or false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(field, value, "a string")
        return value
    raise TypeError(f"unsupported field type {tp!r} for {field}")


def _convert(value: Any, tp: Any, field: str) -> Any:
    """Convert ``value`` to the annotated type ``tp`` (scalars, dataclasses, dicts, tuples)."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, field)
    if origin in (dict, Mapping):
        key_tp, val_tp = typing.get_args(tp)
        if not isinstance(value, Mapping):
            raise ConfigError(field, value, "a table")
        return {check_type(k, key_tp, field): _convert(v, val_tp, f"{field}.{k}")
                for k, v in value.items()}
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise ConfigError(field, value, f"a list of {_type_name(item_tp)}")
        return tuple(_convert(v, item_tp, f"{field}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], field)
    return check_type(value, tp, field)


_type_hints = functools.cache(typing.get_type_hints)  # 7x faster builds of a Scenario


def check_keys(table: Mapping, allowed: Iterable[str], where: str = "") -> None:
    """ConfigError naming the first key of ``table`` not in ``allowed`` (sorted), as
    ``where.key`` (or ``key`` at the top level), and the keys allowed."""
    allowed = list(allowed)
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        key = unknown[0]
        raise ConfigError(f"{where}.{key}" if where else key, table[key],
                          "a known key (one of " + ", ".join(allowed) + ")")


def build(cls: type, data: Any, path: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping, validating every field.

    Unknown keys, missing required keys, wrong types and values that break a
    field's ``metadata["check"]`` constraint raise :class:`ConfigError` naming
    the dotted field path. Missing keys with a default take the default.
    """
    prefix = f"{path}." if path else ""
    if not isinstance(data, Mapping):
        raise ConfigError(path or cls.__name__, data, "a table")
    hints = _type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    check_keys(data, sorted(fields), prefix.rstrip("."))
    kwargs = {}
    for name, f in fields.items():
        field_path = f"{prefix}{name}"
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(field_path, None, "given (the key is required)")
            continue
        value = _convert(data[name], hints[name], field_path)
        constraint = f.metadata.get("check")
        if constraint is not None and not constraint(value):
            raise ConfigError(field_path, data[name], constraint.describe())
        kwargs[name] = value
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate(path)
    return obj


def flatten(data: Mapping, prefix: str = "") -> dict[str, Any]:
    """Flatten nested tables into ``{"a.b.c": value}`` (lists stay values)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def parse_value(text: str) -> Any:
    """Parse a command-line ``--set`` value with TOML's scalar syntax.

    ``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"'x'"`` or a bare
    word -> str.
    """
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict, overrides: Mapping[str, Any] | None,
                    what: str = "scenario", optional: Mapping[str, Any] | None = None) -> dict:
    """Return a deep copy of ``data`` with dotted-key ``overrides`` applied.

    Each key must already exist in ``data`` (so a misspelling is caught) or be one
    of the ``optional`` keys (key -> an example value of its type), and the new
    value must have the same type as the old one (an int where a float stood is
    accepted).
    """
    import copy

    result = copy.deepcopy(data)
    known = {**(optional or {}), **flatten(result)}
    for key, value in (overrides or {}).items():
        value = plain(value)
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.75)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(key, value, f"a known {what} key{hint}")
        old = known[key]
        if isinstance(old, bool) or isinstance(value, bool):
            ok = isinstance(old, bool) and isinstance(value, bool)
        elif isinstance(old, int | float):
            ok = isinstance(value, int | float) and not (isinstance(old, int) and
                                                          isinstance(value, float))
        else:
            ok = type(value) is type(old)
        if not ok:
            default = "" if key in (optional or {}) else f" (like the default {old!r})"
            raise ConfigError(key, value, f"{_type_name(type(old))}{default}")
        node = result
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return result


def read_toml(path: str | Path, field: str, what: str) -> dict[str, Any]:
    """The tables of the TOML file ``path`` (``what``: e.g. "experiment file");
    ConfigError naming ``field`` if it is not a readable UTF-8 TOML file (missing, a
    folder, not UTF-8, invalid, or nested deeper than :data:`MAX_DEPTH` tables)."""
    import tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(field, str(path), f"an existing {what}") from None
    except IsADirectoryError:
        raise ConfigError(field, str(path), f"a file ({what}), not a folder") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(field, str(path), f"a UTF-8 text file ({exc.reason} at byte "
                          f"{exc.start})") from None
    except (OSError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        raise ConfigError(field, str(path), f"a readable TOML file ({what}; {exc})") from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_DEPTH:
        raise ConfigError(field, str(path), f"a file ({what}) whose tables nest at most "
                          f"{MAX_DEPTH} deep")
    return data


MAX_DEPTH = 16  # nesting of tables (a scenario uses 4)


def _depth(data: Any) -> int:
    """Depth of nested tables and lists, without recursion."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, Mapping) else (
            node if isinstance(node, list) else ())
        stack.extend((child, depth + 1) for child in children)
    return deepest
