"""Compiled loops of the daily hot path.

Each kernel is one plain loop over a day's payment events or over customers,
compiled to machine code by numba. One pass that reads a customer's few
numbers once replaces a dozen numpy passes over million-long arrays, each of
which streams memory in and out (docs/PERFORMANCE.md has the measurements).

Kernels draw no random numbers: callers draw uniforms and normals from their
named numpy streams and pass them in, so a kernel is a deterministic function
of its arguments and the same seed gives the same bytes.

Units follow the model: rates per day, amounts in yuan.
"""

from __future__ import annotations

import numpy as np

from sim.kernels._base import N_CHANNELS, fast_exp, unit
from sim.kernels.events import (
    choose_logit,
    count_channels,
    fill_events,
    learn_habits,
    own_weights,
    payers_of,
    poisson_by_inversion,
    tally,
)
from sim.kernels.population import (
    CENSUS,
    adopters,
    census,
    cross_sell,
    dormant_closures,
    dormant_uninstalls,
    exits,
    logit_mixture,
    relax_wallet_share,
    retail_deposits,
)

__all__ = ["N_CHANNELS", "unit", "fast_exp", "poisson_by_inversion", "payers_of",
           "fill_events", "own_weights", "choose_logit", "count_channels", "learn_habits", "tally",
           "adopters", "dormant_uninstalls", "dormant_closures", "exits", "logit_mixture",
           "cross_sell",
           "relax_wallet_share", "retail_deposits", "census", "CENSUS", "load"]


def load() -> None:
    """Load every kernel now, for the argument types the model passes.

    numba compiles a kernel on its first call (or loads it from its on-disk
    cache: about 0.2 s for all of them per process). The engine calls this
    when a model is built, so that cost is part of setting up, not of the
    first simulated day. Tiny inputs; nothing is kept.
    """
    i64, i32, i8 = np.zeros(1, np.int64), np.zeros(1, np.int32), np.zeros(1, np.int8)
    f64, f32, u64 = np.zeros(1), np.zeros(1, np.float32), np.zeros(1, np.uint64)
    f32x5, u16x5 = np.zeros((1, N_CHANNELS), np.float32), np.zeros((1, N_CHANNELS), np.uint16)
    poisson_by_inversion(f64, f64, u64, i32)
    payers_of(i32, 0, i64)
    ptr = np.zeros(2, np.int64)
    mu_sigma = np.zeros((1, 2))  # chain x kind (everyday, bill)
    fill_events(i64, f64, ptr, f32, i8, i32, i8, np.zeros((1, 1), np.float32), u64, f32,
                mu_sigma, mu_sigma, f64, i64, ptr, i8, i64, f64, np.zeros(1, np.bool_))
    no_offer = np.zeros((0, 1), np.float32)
    choose_logit(i64, i8, i64, u64, f32x5, f32x5, no_offer, no_offer, i64[:0], f32[:0],
                 np.float32(1.0), i8, np.zeros(1, np.bool_))
    count_channels(i64, i8, u16x5, i32, 0, 0)
    learn_habits(f32x5, u16x5, np.ones(2, np.float32))
    tally(i8, i8, i64, f64, 1, 1)
    own_weights(f32x5, f32, np.zeros(1, np.bool_), np.float32(0.0), np.float32(0.0),
                np.float32(1.0), 0, f32x5)
    b = np.zeros(1, np.bool_)
    adopters(b, f32, f32, 0)
    dormant_uninstalls(b, i32, 0, 0, f32, np.float32(0.0), 0)
    cross_sell(b, i32, b, b, 0, 0, f32, np.float32(0.0))
    dormant_closures(b, b, i32, i32, 0, 0, f32, np.float32(0.0), 0)
    exits(b, b, b, i8, f32, f32, np.float32(0.0), np.float32(0.0), 0)
    relax_wallet_share(f32, np.zeros((1, 1), np.float32), b, b, np.float32(0.0),
                       np.float32(0.0), np.float32(1.0), 0)
    retail_deposits(f32, f32, i32)
    census(b, i32, i32, b, b, b, 0, 0, 0)
