"""Uncertain parameters: the ``[uncertainty]`` block, its distributions and draws.

An experiment may declare scenario keys and strategy parameters whose true value is
unknown, each with a distribution::

    [uncertainty]
    design = "lhs"              # or "random"
    from_scenario = true        # also the scenario's own [uncertainty] defaults
    "bank.wallet_share_base" = { dist = "uniform", low = 0.05, high = 0.35 }
    "strategies[0].lottery_overweight" = { dist = "triangular", low = 1, mode = 3, high = 5.5 }

Replication r of every variant and sweep point runs with draw r (paired across
variants, as its random streams are). A ``strategies[i].name`` target applies to
every variant whose i-th strategy declares the parameter ``name`` (others run as
written); at least one variant must. Draws of an integer-typed key are rounded.
Each parameter draws from its own named stream (:class:`sim.rng.Streams`, name
``"uncertainty.<key>"``) seeded from the experiment seed, so adding a parameter,
a variant or a sweep point changes no other parameter's draws.

Notes
-----
Latin hypercube (McKay, Beckman & Conover 1979): with R replications the unit
interval is cut into R strata; parameter k takes ``u_rk = (pi_k(r) + U_rk) / R``
with pi_k an independent random permutation of 0..R-1 and U_rk ~ U(0, 1), so each
stratum holds exactly one draw of each parameter. ``design = "random"`` takes
``u_rk = U_rk``. A draw is the distribution's quantile function at u:
uniform ``low + u (high - low)``; triangular, truncated normal through scipy.stats
(``triang``, ``truncnorm``); lognormal ``exp(mu + sigma Phi^-1(u))`` with
``mu = ln(median)``; choice the value whose cumulative probability first exceeds u.

References
----------
McKay, M. D., Beckman, R. J. & Conover, W. J. (1979). A comparison of three methods
for selecting values of input variables in the analysis of output from a computer
code. Technometrics 21(2), 239-245.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Options, flatten
from sim.rng import Streams
from sim.scenarios import scenario_uncertainty
from sim.scenarios.schema import OPTIONAL_KEYS

__all__ = ["DESIGNS", "DISTRIBUTIONS", "Distribution", "Uncertainty", "parse_uncertainty",
           "check_draws", "apply_draw"]

DESIGNS = ("lhs", "random")
# dist -> (required keys, optional keys)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
    "lognormal": (("sigma",), ("median", "mu")),
    "choice": (("values",), ("p",)),
}


@dataclass(frozen=True)
class Distribution:
    """One uncertain parameter: its ``key``, distribution name and arguments
    (validated, as written), and whether its draws are rounded to integers."""

    key: str
    dist: str
    args: dict[str, Any]
    integer: bool = False

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Values at probabilities ``u`` (shape (R,), in (0, 1)); shape (R,)."""
        a = self.args
        if self.dist == "choice":
            p = np.asarray(a.get("p", [1.0 / len(a["values"])] * len(a["values"])), float)
            index = np.minimum(np.searchsorted(np.cumsum(p), u, side="right"), len(p) - 1)
            values = np.array(a["values"])  # numbers stay numbers (PRIM bounds them)
            if values.dtype.kind not in "iuf":
                values = np.array(a["values"], dtype=object)
            return values[index]
        from scipy import stats

        if self.dist == "uniform":
            x = a["low"] + u * (a["high"] - a["low"])
        elif self.dist == "triangular":
            width = a["high"] - a["low"]
            x = stats.triang.ppf(u, (a["mode"] - a["low"]) / width, loc=a["low"], scale=width)
        elif self.dist == "normal":
            lo, hi = a.get("low", -math.inf), a.get("high", math.inf)
            x = stats.truncnorm.ppf(u, (lo - a["mean"]) / a["sd"], (hi - a["mean"]) / a["sd"],
                                    loc=a["mean"], scale=a["sd"])
        else:  # lognormal
            mu = a["mu"] if "mu" in a else math.log(a["median"])
            x = np.exp(mu + a["sigma"] * stats.norm.ppf(u))
        return np.rint(x).astype(np.int64) if self.integer else np.asarray(x, float)


@dataclass(frozen=True)
class Uncertainty:
    """The validated ``[uncertainty]`` block.

    Attributes
    ----------
    design : {"lhs", "random"}
    parameters : dict of str to Distribution
        In declared order (scenario defaults first when ``from_scenario``).
    variants : dict of str to tuple of str
        For each ``strategies[i].name`` target, the variants it applies to.
    """

    design: str
    parameters: dict[str, Distribution]
    variants: dict[str, tuple[str, ...]]

    def draws(self, replications: int, seed: int) -> pd.DataFrame:
        """Draw r of every parameter: a frame of shape (replications, parameters),
        index ``replication``, one column per key (floats, integers or the chosen
        values), the same for a given seed, design and distribution."""
        streams = Streams(seed)
        columns = {}
        for key, d in self.parameters.items():
            rng = streams.get(f"uncertainty.{key}")
            u = rng.random(replications)
            if self.design == "lhs":
                u = (rng.permutation(replications) + u) / replications
            columns[key] = d.quantile(u)
        return pd.DataFrame(columns, index=pd.RangeIndex(replications, name="replication"))

    def table(self) -> dict[str, Any]:
        """The block as validated, scenario defaults resolved (for the manifest and the
        spec hash): ``design``, ``from_scenario = false`` and every parameter."""
        return {"design": self.design, "from_scenario": False,
                **{k: {"dist": d.dist, **d.args} for k, d in self.parameters.items()}}


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(where, value, "a finite number")
    return value


def _distribution(key: str, raw: Any, where: str, integer: bool, kind: type) -> Distribution:
    """Validate one parameter's table (``kind``: the type of the key's default value)."""
    if not isinstance(raw, dict) or "dist" not in raw:
        raise ConfigError(where, raw, "a table with dist = one of " + ", ".join(DISTRIBUTIONS)
                          + ' (e.g. { dist = "uniform", low = 0.1, high = 0.3 })')
    dist = raw["dist"]
    if dist not in DISTRIBUTIONS:
        raise ConfigError(f"{where}.dist", dist, Options(tuple(DISTRIBUTIONS)).describe())
    required, optional = DISTRIBUTIONS[dist]
    args = {k: v for k, v in raw.items() if k != "dist"}
    for extra in sorted(set(args) - set(required) - set(optional)):
        raise ConfigError(f"{where}.{extra}", args[extra], f"a key of {dist} (one of "
                          + ", ".join(required + optional) + ")")
    for name in required:
        if name not in args:
            raise ConfigError(f"{where}.{name}", None, f"given ({dist} needs "
                              + ", ".join(required) + ")")
    if dist == "choice":
        values = args["values"]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.values", values, "a non-empty list of values")
        for i, v in enumerate(values):
            ok = isinstance(v, kind) and (kind is not int or not isinstance(v, bool))
            if kind is float:
                ok = isinstance(v, int | float) and not isinstance(v, bool)
            if not ok:
                raise ConfigError(f"{where}.values[{i}]", v, f"a value of {key}'s type "
                                  f"({kind.__name__})")
        if "p" in args:
            p = args["p"]
            if (not isinstance(p, list) or len(p) != len(values)
                    or any(_number(f"{where}.p", x) < 0 for x in p)
                    or abs(sum(p) - 1.0) > 1e-9):
                raise ConfigError(f"{where}.p", p, f"{len(values)} probabilities >= 0 "
                                  "summing to 1 (one per value)")
        return Distribution(key, dist, args, False)
    if kind not in (int, float):
        raise ConfigError(f"{where}.dist", dist, f"'choice' ({key} is a {kind.__name__}, "
                          "not a number)")
    for name, value in args.items():
        _number(f"{where}.{name}", value)
    if "low" in args and "high" in args and not args["low"] < args["high"]:
        raise ConfigError(f"{where}.low", args["low"], f"< high = {args['high']}")
    if dist == "triangular" and not args["low"] <= args["mode"] <= args["high"]:
        raise ConfigError(f"{where}.mode", args["mode"],
                          f"in [low, high] = [{args['low']}, {args['high']}]")
    if dist in ("normal", "lognormal"):
        spread = "sd" if dist == "normal" else "sigma"
        if args[spread] <= 0:
            raise ConfigError(f"{where}.{spread}", args[spread], "> 0")
    if dist == "normal" and "low" in args and "high" in args and not (
            args["low"] <= args["mean"] + 8 * args["sd"]
            and args["mean"] - 8 * args["sd"] <= args["high"]):
        raise ConfigError(f"{where}.mean", args["mean"], "within 8 sd of [low, high]")
    if dist == "lognormal":
        if ("median" in args) == ("mu" in args):
            raise ConfigError(f"{where}.median", args.get("median"),
                              "given, or mu instead (exactly one of median, mu)")
        if "median" in args and args["median"] <= 0:
            raise ConfigError(f"{where}.median", args["median"], "> 0")
    return Distribution(key, dist, args, integer)


def parse_uncertainty(raw: Any, scenario: str, scenario_table: dict, variants: list,
                      sweep_targets: tuple[str, ...] = ()) -> Uncertainty | None:
    """Validate ``[uncertainty]`` (None when absent) against the scenario's keys and the
    variants' strategies (``variants``: :class:`sim.experiment.spec.Variant`).

    Raises
    ------
    ConfigError
        An unknown design, key or distribution, a missing or extra argument, low >= high,
        a mode outside [low, high], sd or sigma <= 0, an empty choice, a strategy target
        no variant declares, a key also swept, or ``from_scenario = true`` for a
        scenario that declares no uncertainty.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("uncertainty", raw, "a table of parameter = { dist = ... }")
    design = raw.get("design", "lhs")
    if design not in DESIGNS:
        raise ConfigError("uncertainty.design", design, Options(DESIGNS).describe())
    from_scenario = raw.get("from_scenario", False)
    if not isinstance(from_scenario, bool):
        raise ConfigError("uncertainty.from_scenario", from_scenario, "true or false")
    own = {k: v for k, v in raw.items() if k not in ("design", "from_scenario")}
    entries = {}
    if from_scenario:
        declared = scenario_uncertainty(scenario)
        if not declared:
            raise ConfigError("uncertainty.from_scenario", True, f"false (scenario {scenario} "
                              "declares no [uncertainty])")
        entries = {k: (v, f"scenario {scenario}: uncertainty.{k}") for k, v in declared.items()}
    entries.update({k: (v, f"uncertainty.{k}") for k, v in own.items()})
    if not entries:
        raise ConfigError("uncertainty", raw, "at least one parameter (e.g. "
                          '"bank.wallet_share_base" = { dist = "uniform", low = 0.05, '
                          "high = 0.35 }) or from_scenario = true")
    known = {**OPTIONAL_KEYS, **flatten(scenario_table)}
    parameters, applies = {}, {}
    for key, (table, where) in entries.items():
        if key in sweep_targets:
            raise ConfigError(where, table, f"a parameter the sweep does not vary ({key} is "
                              "swept)")
        if key.startswith("strategies["):
            kind, applies[key] = _strategy_kind(key, where, variants)
        elif key in known:
            kind = type(known[key])
        else:
            import difflib

            close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.75)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(where, key, f"a scenario key or strategies[i].parameter{hint}")
        parameters[key] = _distribution(key, table, where, kind is int, kind)
    return Uncertainty(design, parameters, applies)


def _strategy_kind(target: str, where: str, variants: list) -> tuple[type, tuple[str, ...]]:
    """The declared type of ``strategies[i].name`` and the variants whose i-th strategy
    declares it."""
    from sim.experiment.sweep import strategy_target
    from sim.strategies import make_strategies

    try:
        index, name = strategy_target(target)
    except ValueError:
        raise ConfigError(where, target, "a scenario key or strategies[i].parameter "
                          "(i: a strategy's index, 0 for the first)") from None
    kinds, names = [], []
    for v in variants:
        if index < len(v.strategies):
            declared = type(make_strategies([v.strategies[index]])[0]).declared_parameters()
            if name in declared:
                kinds.append(declared[name].type)
                names.append(v.name)
    if not names:
        raise ConfigError(where, target, f"a parameter that the strategy at index {index} of "
                          "some variant declares (see `sim strategies`)")
    return kinds[0], tuple(names)


def check_draws(spec) -> None:
    """Build the scenario and strategies of every replication's draw as the model will
    (each distinct scenario once), raising the model's ConfigError with the replication:
    a draw outside a key's allowed range (bound a normal or lognormal with low/high)."""
    from sim.experiment.spec import check_world
    from sim.scenarios import load_scenario
    from sim.strategies import make_strategies

    unc = spec.uncertainty
    for r, draw in enumerate(spec.draws().to_dict("records")):
        scenario_part = {k: v for k, v in draw.items() if not k.startswith("strategies[")}
        try:
            scenario_obj = load_scenario(spec.scenario, {**spec.overrides, **scenario_part})
            for v_index, variant in enumerate(spec.variants):
                strategies = apply_draw(variant.name, variant.strategies, draw, unc)
                if strategies != variant.strategies or scenario_part:
                    path = f"variants[{v_index}].strategies"
                    check_world(make_strategies(strategies, path=path), scenario_obj, path,
                                spec.days)
        except ConfigError as exc:
            raise ConfigError(exc.field, exc.value, f"{exc.allowed} (replication {r}'s draw of "
                              "[uncertainty]; narrow or bound its distribution)") from None


def apply_draw(variant: str, strategies: list[dict], draw: dict[str, Any],
               unc: Uncertainty) -> list[dict]:
    """``strategies`` with the draw's strategy targets that apply to ``variant`` set."""
    from sim.experiment.sweep import strategy_target

    out = [dict(s) for s in strategies]
    for key, value in draw.items():
        if key.startswith("strategies[") and variant in unc.variants.get(key, ()):
            index, name = strategy_target(key)
            out[index][name] = value.item() if isinstance(value, np.generic) else value
    return out
