"""Kernels over a day's payment events: counts, the events themselves, channel
choice, habit learning and the day's tallies (sim/payments.py prepares their
inputs; docs/MODEL.md gives the equations)."""

from __future__ import annotations

import numpy as np

from sim.kernels._base import N_CHANNELS, fast_exp, jit, unit

__all__ = ["poisson_by_inversion", "payers_of", "fill_events", "own_weights",
           "choose_logit", "count_channels", "learn_habits", "tally"]

_RECIPROCAL = np.array([0.0] + [1.0 / j for j in range(1, 9)])  # 1/j: multiplies, not divides


@jit
def poisson_by_inversion(lam, p_zero, bits, out):
    """Poisson(lam_i) counts: the smallest k with P(K <= k) >= u_i, u_i = unit(bits_i).

    ``p_zero`` is exp(-lam), passed in so a caller can reuse it while the
    rates do not change; lam_i < 700 keeps it from underflowing. The first
    eight terms of the CDF are always summed (no branch to mispredict at
    the usual one or two payments a day); larger counts continue in a loop.
    Writes the counts into ``out``.
    """
    for i in range(lam.size):
        u = unit(bits[i])
        p = p_zero[i]
        cdf = p
        k = 0
        for j in range(1, 9):
            k += u > cdf
            p *= lam[i] * _RECIPROCAL[j]
            cdf += p
        while u > cdf and p > 0.0:
            k += 1
            p *= lam[i] / k
            cdf += p
        out[i] = k


@jit
def payers_of(counts, first, payer):
    """Write customer ``first + i`` ``counts[i]`` times into ``payer``, in order.

    Eight copies are written and the position then advances by the count: no
    branch on the count (a mispredicted loop exit per customer cost more than
    the stores). Near the end of ``payer`` it writes exactly the count.
    """
    e = 0
    room = payer.size - 8
    for i in range(counts.size):
        if e <= room:
            for j in range(8):
                payer[e + j] = first + i
            for j in range(8, counts[i]):
                payer[e + j] = first + i
        else:
            for j in range(counts[i]):
                payer[e + j] = first + i
        e += counts[i]


@jit
def fill_events(payer, lam, ptr, member_cum, member_chain, member_home, segment, r_everyday,
                bits, z, mu, sigma, alias_prob, alias_to, payee_start,
                chain, payee, log_amount, is_bill):
    """Write each event's chain, kind, payee and log-amount; ``payer`` is given
    (customer order, :func:`payers_of`).

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
    for e in range(payer.size):
        i = payer[e]
        lo, hi = ptr[i], ptr[i + 1]
        target = np.float32((bits[e] >> np.uint64(40)) * (lam[i] / 16777216.0))
        below = 0
        for m in range(lo, hi):
            below += member_cum[m] <= target
        m = min(lo + below, hi - 1)  # float rounding can leave target == lam
        start = member_cum[m - 1] if m > lo else np.float32(0.0)
        c = member_chain[m]
        bill = target - start >= r_everyday[c, segment[i]]
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
        chain[e] = c
        is_bill[e] = bill


@jit
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


@jit
def choose_logit(payer, chain, payee, bits, payee_weight, own, chain_saving, event_saving,
                 saving_channel, price, exp_cap, channel, stuck):
    """Multinomial-logit channel choice per event; writes ``channel`` and
    ``stuck`` (the events with no available channel).

    The weight of channel k is exp(V_k) for an available channel, split into
    factors: ``payee_weight[j, k]`` (exp of the constant of payee j's chain
    for channel k if j accepts k, else 0), ``own[i, k]`` (the payer's habit
    and peer terms, 0 where the payer cannot use the channel) and, where the
    fraction saved d_ek is positive, exp(price_i d_ek) with the exponent
    capped at ``exp_cap``. d_ek = min(``chain_saving[c, k]`` + ``event_saving[e, s]``
    if k is ``saving_channel[s]``, 1) (per-event offers: E x S, one column per
    channel that has them, channels distinct);
    ``price`` is empty when no offer runs (the term is skipped). The channel
    is the first k whose running weight exceeds u_e times the total, u_e =
    unit(bits_e).
    """
    has_saving = price.size > 0
    offers = saving_channel.size if event_saving.shape[0] > 0 else 0
    weight = np.empty(N_CHANNELS, np.float32)
    offered = np.zeros(N_CHANNELS, np.float32)  # event e's own offers, by channel
    for e in range(payer.size):
        i, j = payer[e], payee[e]
        for s in range(offers):
            offered[saving_channel[s]] = event_saving[e, s]
        total = np.float32(0.0)
        for k in range(N_CHANNELS):
            w = payee_weight[j, k] * own[i, k]
            if has_saving:
                d = min(chain_saving[chain[e], k] + offered[k], np.float32(1.0))
                if d > 0.0:
                    w *= fast_exp(min(price[i] * d, exp_cap))
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


@jit
def count_channels(payer, channel, scratch, last_app_use, day, app):
    """Count each payer's payments by channel into ``scratch`` (N x 5, all zero
    before) and stamp ``last_app_use`` with ``day`` for app payers."""
    for e in range(payer.size):
        i = payer[e]
        scratch[i, channel[e]] += 1
        last_app_use[i] = day if channel[e] == app else last_app_use[i]


@jit
def learn_habits(habit, scratch, keep):
    """Move each customer's habit to (1-a)^n h + (1 - (1-a)^n) c / n, where n is
    their payments today and c_k those on channel k (``scratch``, from
    :func:`count_channels`, zeroed again here).

    ``keep[n]`` is (1-a)^n, float32, for n up to its length - 1 (beyond, it is
    computed). A customer who paid nothing keeps h exactly (keep[0] = 1,
    c = 0); one sequential sweep over customers costs less than revisiting
    each payer's row per payment.
    """
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


@jit
def tally(chain, channel, payee, amount, n_chains, n_payees):
    """Yuan per chain x channel and per payee x channel (all channels, cash included),
    and payments per chain x channel."""
    volume = np.zeros((n_chains, N_CHANNELS))
    receipts = np.zeros((n_payees, N_CHANNELS))
    count = np.zeros((n_chains, N_CHANNELS), np.int64)
    for e in range(chain.size):
        a = amount[e]
        k = channel[e]
        volume[chain[e], k] += a
        count[chain[e], k] += 1
        receipts[payee[e], k] += a
    return volume, receipts, count
