"""Kernels over the customer arrays: one pass each, in place of several numpy
passes with temporaries. Conditions combine with & and ~ as in numpy (no
branches), and the float32 arithmetic is numpy's, operation for operation."""

from __future__ import annotations

import numpy as np

from sim.kernels._base import jit

__all__ = ["adopters", "dormant_uninstalls", "dormant_closures", "cross_sell",
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
def dormant_closures(has_account, account_day, last_app_use, day, dormant_after_days, u, rate,
                     first):
    """Ids ``first + i`` (ascending) of accounts opened during the run (``account_day``
    >= 0) whose holder has not used the app for ``dormant_after_days`` or more since
    the later of the opening and the last app use, and whose uniform ``u_i`` falls
    below ``rate`` (per day, float32). New accounts are few: a well-predicted branch
    skips the rest."""
    out = np.empty(has_account.size, np.int64)
    k = 0
    for i in range(has_account.size):
        if account_day[i] >= 0:
            idle = day - max(last_app_use[i], account_day[i])
            out[k] = first + i
            k += has_account[i] & (idle >= dormant_after_days) & (u[i] < rate)
    return out[:k].copy()


@jit
def relax_wallet_share(wallet_share, habit, has_account, account_day, base, gain, relax_days,
                       app):
    """s_i += (target_i - s_i) / relax_days, all float32, with the target share of wallet
    target_i = base e_i + gain h_i,app for account holders (0 otherwise): e_i = 1 for an
    account held before the run (``account_day`` < 0, an established relationship),
    e_i = h_i,app for one opened during it (the relationship grows only with use)."""
    one = np.float32(1.0)
    for i in range(wallet_share.size):
        h = habit[i, app]
        established = np.float32(account_day[i] < 0)
        e = established * one + (one - established) * h
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
