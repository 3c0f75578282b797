"""Kernels over the customer arrays: one pass each, in place of several numpy
passes with temporaries. Conditions combine with & and ~ as in numpy (no
branches), and the float32 arithmetic is numpy's, operation for operation."""

from __future__ import annotations

import numpy as np

from sim.kernels._base import N_CHANNELS, jit

__all__ = ["adopters", "dormant_uninstalls", "dormant_closures", "exits", "logit_mixture",
           "cross_sell",
           "relax_wallet_share", "retail_deposits", "census", "CENSUS"]


@jit
def adopters(has_app, u, p_adopt, first):
    """Ids ``first + i`` (ascending) of customers without the app whose uniform
    ``u_i`` falls below their adoption probability ``p_adopt[i]``."""
    out = np.empty(has_app.size, np.int64)
    k = 0
    for i in range(has_app.size):
        out[k] = first + i
        k += ~has_app[i] & (u[i] < p_adopt[i])
    return out[:k].copy()


@jit
def dormant_uninstalls(has_app, last_app_use, day, dormant_after_days, u, rate, first):
    """Ids ``first + i`` (ascending) of installed apps unused for
    ``dormant_after_days`` or more whose uniform ``u_i`` falls below ``rate``
    (per day, float32)."""
    out = np.empty(has_app.size, np.int64)
    k = 0
    for i in range(has_app.size):
        out[k] = first + i
        k += has_app[i] & (day - last_app_use[i] >= dormant_after_days) & (u[i] < rate)
    return out[:k].copy()


@jit
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


@jit
def dormant_closures(has_account, established, account_day, last_app_use, day,
                     dormant_after_days, u, rate, first):
    """Ids ``first + i`` (ascending) of accounts a strategy brought (not ``established``:
    opened during the run, not by organic adoption) whose holder has not used the app
    for ``dormant_after_days`` or more since the later of the opening and the last app
    use, and whose uniform ``u_i`` falls below ``rate`` (per day, float32). Such
    accounts are few: a well-predicted branch skips the rest."""
    out = np.empty(has_account.size, np.int64)
    k = 0
    for i in range(has_account.size):
        if has_account[i] and not established[i]:
            idle = day - max(last_app_use[i], account_day[i])
            out[k] = first + i
            k += has_account[i] & (idle >= dormant_after_days) & (u[i] < rate)
    return out[:k].copy()


@jit
def exits(has_account, has_app, has_credit, segment, u, p_close, p_uninstall, p_lapse, first):
    """The steady baseline's exits of one day, one uniform ``u_i`` per customer
    (competing risks): an account holder closes if u_i < p_close[segment_i]; else an
    app user uninstalls if u_i < p_close + p_uninstall; else a credit card lapses if
    u_i < p_close + p_uninstall + p_lapse (cleared here). Returns (ids closing, ids
    uninstalling, both ascending from ``first``; cards lapsed)."""
    close = np.empty(has_account.size, np.int64)
    remove = np.empty(has_account.size, np.int64)
    n_close = n_remove = lapsed = 0
    for i in range(has_account.size):
        c = p_close[segment[i]]
        d = c + p_uninstall
        shut = has_account[i] & (u[i] < c)
        drop = has_app[i] & (u[i] >= c) & (u[i] < d)
        lapse = has_credit[i] & (u[i] >= d) & (u[i] < d + p_lapse)
        close[n_close] = first + i
        n_close += shut
        remove[n_remove] = first + i
        n_remove += drop
        if lapse:
            has_credit[i] = False
            lapsed += 1
    return close[:n_close].copy(), remove[:n_remove].copy(), lapsed


@jit
def logit_mixture(ids, rate, weight_exp, patterns, pattern_weight, home, out):
    """Add each member's expected channel shares in one chain, times their payments a
    day, to ``out`` (N x 5): ``rate[m]`` times the mean over the payees they pay of
    the logit probabilities ``weight_exp[i, k] [k accepted] / sum``. A member with a
    ``home`` (its row of ``patterns``) pays that payee; one without (-1) pays pattern p
    with probability ``pattern_weight[p]``. Used once, when the world is built."""
    n_patterns = patterns.shape[0]
    for m in range(ids.size):
        i = ids[m]
        lo, hi = (home[m], home[m] + 1) if home[m] >= 0 else (0, n_patterns)
        for p in range(lo, hi):
            w = pattern_weight[p] if home[m] < 0 else 1.0
            total = 0.0
            for k in range(N_CHANNELS):
                total += weight_exp[i, k] * patterns[p, k]
            if total > 0.0:
                scale = rate[m] * w / total
                for k in range(N_CHANNELS):
                    out[i, k] += scale * weight_exp[i, k] * patterns[p, k]


@jit
def relax_wallet_share(wallet_share, habit, has_account, established, base, gain, relax_days,
                       app):
    """s_i += (target_i - s_i) / relax_days, all float32, with the target share of wallet
    target_i = base e_i + gain h_i,app for account holders (0 otherwise): e_i = 1 for an
    ``established`` account (held at day 0 or opened by organic adoption), e_i = h_i,app
    for one a strategy brought (the relationship grows only with use)."""
    one = np.float32(1.0)
    for i in range(wallet_share.size):
        h = habit[i, app]
        chosen = np.float32(established[i])
        e = chosen * one + (one - chosen) * h
        target = (base * e + gain * h) * np.float32(has_account[i])
        wallet_share[i] += (target - wallet_share[i]) / relax_days


@jit
def retail_deposits(wallet, wallet_share, account_day):
    """Deposits at the bank, yuan: (sum of wallet_i x share_i, the part of it in accounts
    opened during the run, ``account_day`` >= 0), accumulated in float64."""
    total = 0.0
    new = 0.0
    for i in range(wallet.size):
        d = np.float64(wallet[i]) * np.float64(wallet_share[i])
        total += d
        new += d * (account_day[i] >= 0)
    return np.array([total, new])


# What :func:`census` counts, in the order of its result.
CENSUS = ("acquired_users", "acquired_90d_ago", "retained_90d", "app_users", "app_mau", "app_dau",
          "accounts", "debit_cards", "credit_cards")


@jit
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
