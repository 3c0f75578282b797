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
from numba import njit

from sim.scenarios.catalog import CHANNELS

__all__ = ["unit", "fast_exp", "poisson_by_inversion", "own_weights", "fill_events", "choose_logit",
           "learn_habits", "tally", "dormant_uninstalls", "cross_sell", "relax_wallet_share",
           "retail_deposits", "census", "CENSUS", "load"]

_jit = njit(cache=True, nogil=True)

# Loops over channels run to this constant (numba freezes a global at compile
# time): the compiler unrolls them and keeps a payment's weights in registers.
N_CHANNELS = len(CHANNELS)


@_jit
def unit(bits):
    """A uniform in [0, 1) from the top 53 of 64 random bits."""
    return (bits >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True, inline="always")
def fast_exp(x):
    """exp(x) for float32 x, by Cody-Waite range reduction and a degree-7 Taylor
    polynomial: exp(x) = 2^n exp(f) with n = round(x / ln 2), |f| <= ln(2) / 2.

    Relative error below 1.5e-7 (numpy's float32 exp: 2e-7); x is clamped to
    [-87, 88], the float32 range of exp. Unlike numba's ``np.exp``, which calls
    the scalar C library here (no vector math library), loops of it compile to
    vector instructions: 0.3 ns an element against numpy's 0.5.
    """
    x = min(max(x, np.float32(-87.0)), np.float32(88.0))
    n = np.floor(x * np.float32(1.4426950408889634) + np.float32(0.5))
    f = (x - n * np.float32(0.693145751953125)) - n * np.float32(1.428606765330187e-06)
    p = np.float32(1.0 / 5040.0) * f + np.float32(1.0 / 720.0)  # Horner, written out so
    p = p * f + np.float32(1.0 / 120.0)                          # that loops vectorize
    p = p * f + np.float32(1.0 / 24.0)
    p = p * f + np.float32(1.0 / 6.0)
    p = p * f + np.float32(0.5)
    p = p * f + np.float32(1.0)
    p = p * f + np.float32(1.0)
    return p * np.int32((np.int32(n) + np.int32(127)) << np.int32(23)).view(np.float32)


@_jit
def poisson_by_inversion(lam, p_zero, bits):
    """Poisson(lam_i) counts: the smallest k with P(K <= k) >= u_i, u_i = unit(bits_i).

    ``p_zero`` is exp(-lam), passed in so a caller can reuse it while the
    rates do not change; lam_i < 700 keeps it from underflowing. The first
    eight terms of the CDF are always summed (no branch to mispredict at
    the usual one or two payments a day); larger counts continue in a loop.
    """
    out = np.empty(lam.size, np.int32)
    for i in range(lam.size):
        u = unit(bits[i])
        p = p_zero[i]
        cdf = p
        k = 0
        for j in range(1, 9):
            k += u > cdf
            p *= lam[i] / j
            cdf += p
        while u > cdf and p > 0.0:
            k += 1
            p *= lam[i] / k
            cdf += p
        out[i] = k
    return out


@_jit
def fill_events(counts, lam, ptr, member_cum, member_chain, member_home, segment, r_everyday,
                bits, z, mu, sigma, alias_prob, alias_to, payee_start,
                payer, chain, payee, log_amount, is_bill):
    """Write the events of customers with ``counts[i]`` payments today, in
    customer order.

    Customer i's memberships are ``ptr[i]:ptr[i+1]`` of ``member_chain``
    (``member_home``: the institution it pays in an institutional chain, or
    -1). ``member_cum`` is the running sum of their rates (everyday then
    bills, per day) within the customer, ending at ``lam[i]``. Each event
    picks a membership in proportion to its rate by inverse CDF, and within
    it a bill when it falls past the everyday part ``r_everyday[chain,
    segment]``; a payee by the chain's alias table unless the customer has a
    home payee; and the log of a lognormal amount, mu + sigma z, by chain
    and kind (column 1: bills). The top 24 of an event's 64 random ``bits``
    pick the membership, the low 40 the payee. Choices are arithmetic, not
    branches: a mispredicted branch per event costs more than the work.
    """
    e = 0
    for i in range(counts.size):
        s = segment[i]
        lo, hi = ptr[i], ptr[i + 1]
        for _ in range(counts[i]):
            target = np.float32((bits[e] >> np.uint64(40)) * (lam[i] / 16777216.0))
            below = 0
            for m in range(lo, hi):
                below += member_cum[m] <= target
            m = min(lo + below, hi - 1)  # float rounding can leave target == lam
            start = member_cum[m - 1] if m > lo else np.float32(0.0)
            c = member_chain[m]
            bill = target - start >= r_everyday[c, s]
            x = (bits[e] & np.uint64(0xFFFFFFFFFF)) * (1.0 / 1099511627776.0)
            size = payee_start[c + 1] - payee_start[c]
            x *= size
            col = min(int(x), size - 1)
            at = payee_start[c] + col
            drawn = payee_start[c] + col + (alias_to[at] - col) * (x - col >= alias_prob[at])
            home = member_home[m]
            payee[e] = drawn + (home - drawn) * (home >= 0)
            b = 1 if bill else 0
            log_amount[e] = mu[c, b] + sigma[c, b] * z[e]
            payer[e] = i
            chain[e] = c
            is_bill[e] = bill
            e += 1


@_jit
def own_weights(habit, peer_share, usable_app, beta_habit, beta_peer, exp_cap, app, out):
    """The payer's factor of each channel's logit weight, for every customer:
    out[i, k] = exp(min(beta_habit h_ik, exp_cap)), times exp(min(beta_peer x_i,
    exp_cap)) for the app, or 0 when customer i cannot use it (``usable_app``).
    Written as passes that each compile to vector instructions."""
    flat_habit, flat_out = habit.reshape(-1), out.reshape(-1)
    for j in range(flat_habit.size):
        flat_out[j] = fast_exp(min(beta_habit * flat_habit[j], exp_cap))
    peer = np.empty(habit.shape[0], np.float32)  # contiguous, so that this loop vectorizes
    for i in range(peer.size):
        peer[i] = fast_exp(min(beta_peer * peer_share[i], exp_cap))
    for i in range(peer.size):
        out[i, app] *= peer[i] * np.float32(usable_app[i])


@_jit
def choose_logit(payer, payee, bits, payee_weight, own, saving, price, exp_cap, channel):
    """Multinomial-logit channel choice per event; writes ``channel`` and
    returns a mask of events with no available channel.

    The weight of channel k is exp(V_k) for an available channel, split into
    factors: ``payee_weight[j, k]`` (exp of the constant of payee j's chain
    for channel k if j accepts k, else 0), ``own[i, k]`` (the payer's habit
    and peer terms, 0 where the payer cannot use the channel) and, where the
    fraction saved ``saving[e, k]`` is positive, exp(price_i saving_ek) with
    the exponent capped at ``exp_cap`` (``saving`` is 0 x 5 when no offer
    runs). The channel is the first k whose running weight exceeds u_e times
    the total, u_e = unit(bits_e).
    """
    has_saving = saving.shape[0] > 0
    stuck = np.zeros(payer.size, np.bool_)
    weight = np.empty(N_CHANNELS, np.float32)
    for e in range(payer.size):
        i, j = payer[e], payee[e]
        total = np.float32(0.0)
        for k in range(N_CHANNELS):
            w = payee_weight[j, k] * own[i, k]
            if has_saving and saving[e, k] > 0.0:
                w *= fast_exp(min(price[i] * saving[e, k], exp_cap))
            weight[k] = w
            total += w
        target = unit(bits[e]) * total
        running = np.float32(0.0)
        pick = 0
        for k in range(N_CHANNELS - 1):
            running += weight[k]
            pick += running < target
        channel[e] = pick
        stuck[e] = total <= 0.0
    return stuck


@_jit
def learn_habits(payer, channel, habit, last_app_use, day, keep, app, scratch):
    """Move each customer's habit to (1-a)^n h + (1 - (1-a)^n) c / n, where n is
    their payments today and c_k those on channel k; stamp ``last_app_use``.

    ``keep[n]`` is (1-a)^n, float32, for n up to its length - 1 (beyond, it is
    computed). ``scratch`` is an all-zero N x 5 counter array, left all zero
    again. The update runs over every customer in order rather than over the
    events: a customer who paid nothing keeps h exactly (keep[0] = 1, c = 0),
    and a sequential sweep costs less than revisiting payers.
    """
    for e in range(payer.size):
        i = payer[e]
        scratch[i, channel[e]] += 1
        last_app_use[i] = day if channel[e] == app else last_app_use[i]
    one = np.float32(1.0)
    for i in range(habit.shape[0]):
        n = 0
        for k in range(N_CHANNELS):
            n += scratch[i, k]
        kept = keep[n] if n < keep.size else keep[1] ** np.float32(n)
        per_payment = one / np.float32(max(n, 1))
        for k in range(N_CHANNELS):
            habit[i, k] = kept * habit[i, k] + (one - kept) * (scratch[i, k] * per_payment)
            scratch[i, k] = 0


@_jit
def tally(chain, channel, payee, amount, n_chains, n_channels, n_payees, app):
    """Yuan per chain x channel, per payee, and per payee paid with the app."""
    volume = np.zeros((n_chains, n_channels))
    receipts = np.zeros(n_payees)
    app_receipts = np.zeros(n_payees)
    for e in range(chain.size):
        a = amount[e]
        volume[chain[e], channel[e]] += a
        receipts[payee[e]] += a
        if channel[e] == app:
            app_receipts[payee[e]] += a
    return volume, receipts, app_receipts


# ------------------------------------------------------------- customer passes
# One pass over the customer arrays each, in place of several numpy passes with
# temporaries. Conditions combine with & and ~ as in numpy (no branches), and
# the float32 arithmetic is numpy's, operation for operation.

@_jit
def dormant_uninstalls(has_app, last_app_use, day, dormant_after_days, u, rate):
    """Ids (ascending) of installed apps unused for ``dormant_after_days`` or more
    whose uniform ``u_i`` falls below ``rate`` (per day, float32)."""
    out = np.empty(has_app.size, np.int64)
    k = 0
    for i in range(has_app.size):
        out[k] = i
        k += has_app[i] & (day - last_app_use[i] >= dormant_after_days) & (u[i] < rate)
    return out[:k].copy()


@_jit
def cross_sell(has_app, last_app_use, has_account, has_credit, day, window_days, u, rate):
    """Monthly-active app users with an account and no credit card take one if
    ``u_i < rate``; sets ``has_credit`` and returns how many took one."""
    taken = 0
    for i in range(has_app.size):
        take = (has_app[i] & (day - last_app_use[i] < window_days) & has_account[i]
                & ~has_credit[i] & (u[i] < rate))
        has_credit[i] |= take
        taken += take
    return taken


@_jit
def relax_wallet_share(wallet_share, habit, has_account, base, gain, relax_days, app):
    """s_i += (target_i - s_i) / relax_days with target_i = base + gain h_i,app for
    account holders, 0 otherwise (all float32)."""
    for i in range(wallet_share.size):
        target = (base + gain * habit[i, app]) * np.float32(has_account[i])
        wallet_share[i] += (target - wallet_share[i]) / relax_days


@_jit
def retail_deposits(wallet, wallet_share):
    """Sum of wallet_i x share_i, yuan, accumulated in float64."""
    total = 0.0
    for i in range(wallet.size):
        total += np.float64(wallet[i]) * np.float64(wallet_share[i])
    return total


# What :func:`census` counts, in the order of its result.
CENSUS = ("acquired_users", "acquired_90d_ago", "retained_90d", "app_users", "app_mau", "app_dau",
          "accounts", "debit_cards", "credit_cards")


@_jit
def census(has_app, last_app_use, install_day, has_account, has_debit, has_credit, day,
           window_days, matured_days):
    """The customer counts of the day's KPIs (names in :data:`CENSUS`), in one pass.

    Monthly-active: installed and used within ``window_days``; acquired:
    installed during the run (install day >= 0); retained: acquired at least
    ``matured_days`` ago and monthly-active; daily-active: used today.
    """
    acquired = matured = retained = app_users = mau = dau = accounts = debit = credit = 0
    for i in range(has_app.size):
        active = has_app[i] & (day - last_app_use[i] < window_days)
        was_acquired = install_day[i] >= 0
        was_matured = was_acquired & (install_day[i] <= day - matured_days)
        acquired += was_acquired
        matured += was_matured
        retained += was_matured & active
        app_users += has_app[i]
        mau += active
        dau += last_app_use[i] == day
        accounts += has_account[i]
        debit += has_debit[i]
        credit += has_credit[i]
    return np.array([acquired, matured, retained, app_users, mau, dau, accounts, debit, credit])


def load() -> None:
    """Load every kernel now, for the argument types the model passes.

    numba compiles a kernel on its first call (or loads it from its on-disk
    cache: about 0.2 s for all of them per process). The engine calls this
    when a model is built, so that cost is part of setting up, not of the
    first simulated day. Tiny inputs; nothing is kept.
    """
    i64, i32, i8 = np.zeros(1, np.int64), np.zeros(1, np.int32), np.zeros(1, np.int8)
    f64, f32, u64 = np.zeros(1), np.zeros(1, np.float32), np.zeros(1, np.uint64)
    one_by_one = np.zeros((1, 1))
    poisson_by_inversion(f64, f64, u64)
    fill_events(i32, f64, np.zeros(2, np.int64), f32, i8, i32, i8, np.zeros((1, 1), np.float32),
                u64, f32, one_by_one, one_by_one, f64, i64, np.zeros(2, np.int64),
                i64, i8, i64, f64, np.zeros(1, np.bool_))
    choose_logit(i64, i64, u64, np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32),
                 np.zeros((0, 1), np.float32), f32, np.float32(1.0), i8)
    learn_habits(i64, i8, np.zeros((1, 1), np.float32), i32, 0, np.ones(2, np.float32), 0,
                 np.zeros((1, 1), np.uint16))
    tally(i8, i8, i64, f64, 1, 1, 1, 0)
    f32x5 = np.zeros((1, 5), np.float32)
    own_weights(f32x5, f32, np.zeros(1, np.bool_), np.float32(0.0), np.float32(0.0),
                np.float32(1.0), 0, f32x5)
    b = np.zeros(1, np.bool_)
    dormant_uninstalls(b, i32, 0, 0, f32, np.float32(0.0))
    cross_sell(b, i32, b, b, 0, 0, f32, np.float32(0.0))
    relax_wallet_share(f32, np.zeros((1, 1), np.float32), b, np.float32(0.0), np.float32(0.0),
                       np.float32(1.0), 0)
    retail_deposits(f32, f32)
    census(b, i32, i32, b, b, b, 0, 0, 0)
