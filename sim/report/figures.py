"""The report's figures: one function per figure, each returning a matplotlib Figure
(or None when the experiment has nothing to show for it)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import PercentFormatter

from sim.metrics import KPI_BY_NAME
from sim.report.i18n import cause_label, channel_label, kpi_label, t, unit
from sim.report.plotdata import (
    CHANNEL_COLUMNS,
    add_bank_share,
    channel_shares,
    daily_band,
    daily_diff_band,
    feasible_range,
    spend_by_cause,
)
from sim.report.style import (
    CHANNEL_COLORS,
    axis_label,
    color_of,
    legend_below,
    legend_outside,
    new_figure,
    thousands,
)

__all__ = ["forest", "trajectories", "spend", "cumulative_net", "cost_effect", "channels",
           "funnel", "TRAJECTORY_KPIS"]

TRAJECTORY_KPIS = ("app_mau", "accounts", "retail_deposits", "corporate_deposits",
                   "merchants_on_bank", "bank_channel_share")


def _variants(results) -> list[str]:
    return [v.name for v in results.spec.variants]


def forest(results, point: int = 0):
    """Paired lift against the baseline with 95 % CIs for the headline KPIs
    (``[report] headline``)."""
    headline = results.spec.headline
    s = results.summary
    s = s[(s.point == point) & (s.variant != results.spec.baseline) & s.kpi.isin(headline)]
    if s.empty:
        return None
    variants = [v for v in _variants(results) if v != results.spec.baseline]
    fig, ax = new_figure(7.5, 0.42 * len(headline) * len(variants) + 1.2)
    y, ticks, labels = 0, [], []
    for kpi in headline:
        for i, v in enumerate(variants):
            row = s[(s.kpi == kpi) & (s.variant == v)]
            if row.empty:
                continue
            row = row.iloc[0]
            base = row["mean"] - row["diff"]
            scale = 100.0 / abs(base) if base else np.nan
            lo, mid, hi = (row["diff_ci_low"] * scale, row["diff"] * scale,
                           row["diff_ci_high"] * scale)
            err = [[max(mid - lo, 0) if np.isfinite(lo) else 0],
                   [max(hi - mid, 0) if np.isfinite(hi) else 0]]
            ax.errorbar([mid], [y], xerr=err, fmt="o", color=color_of(i + 1), capsize=3,
                        label=v if kpi == headline[0] else None)
            ticks.append(y)
            labels.append(kpi_label(kpi) if i == 0 else "")
            y -= 1
        y -= 0.6
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(ticks, labels)
    ax.set_xlabel(axis_label(t("fig.change"), t("fig.change_unit")))
    ax.set_title(t("fig.lift"))
    legend_outside(ax)
    return fig


def trajectories(results, point: int = 0):
    """KPI paths per variant with 95 % bands over replications, each band clipped to
    the KPI's feasible range (:func:`sim.report.plotdata.feasible_range`)."""
    kpis = add_bank_share(results.kpis)
    fig, axes = new_figure(11, 7.2, nrows=2, ncols=3)
    for ax, kpi in zip(axes.ravel(), TRAJECTORY_KPIS, strict=True):
        bands = daily_band(kpis, kpi, point, bounds=feasible_range(kpi))
        for i, v in enumerate(_variants(results)):
            if v not in bands:
                continue
            b = bands[v]
            ax.plot(b.index, b["mean"], color=color_of(i), lw=1.4, label=v)
            ax.fill_between(b.index, b["low"], b["high"], color=color_of(i), alpha=0.18, lw=0)
        if kpi == "bank_channel_share":
            ax.set_title(t("fig.bank_share"))
            ax.set_ylabel(axis_label(t("fig.share"), t("fig.share_unit")))
        else:
            label = kpi_label(kpi)
            ax.set_title(label)
            ax.set_ylabel(axis_label(label.split(" (")[0].split("（")[0],
                                     unit(KPI_BY_NAME[kpi].unit)))
            ax.yaxis.set_major_formatter(thousands)
        ax.set_xlabel(t("fig.day"))
    fig.suptitle(t("fig.trajectories"), fontweight="bold")
    fig.tight_layout()
    legend_below(fig, axes[0, 0], ncol=5)
    return fig


def spend(results, point: int = 0):
    """Strategy spend by cause per variant, stacked (mean per replication); causes by
    their human labels, naming the lever only when more than one spends."""
    table = spend_by_cause(results.ledger, point)
    if table.empty:
        return None
    table = table.reindex([v for v in _variants(results) if v in table.index])
    fig, ax = new_figure(7.5, 3.8)
    bottom = np.zeros(len(table))
    owners = {c.rpartition(":")[0] for c in table.columns}
    for i, cause in enumerate(table.columns):
        ax.bar(table.index, table[cause], bottom=bottom, color=color_of(i + 1),
               label=cause_label(cause, with_owner=len(owners) > 1))
        bottom += table[cause].to_numpy()
    ax.yaxis.set_major_formatter(thousands)
    ax.set_ylabel(axis_label(t("fig.spend"), t("fig.per_run")))
    ax.set_title(t("fig.spend_title"))
    legend_outside(ax, fontsize=7.5)
    ax.tick_params(axis="x", rotation=15)
    return fig


def cumulative_net(results, point: int = 0):
    """Cumulative incremental net contribution against the baseline, with 95 % bands."""
    bands = daily_diff_band(results.kpis, "net_contribution", results.spec.baseline,
                            cumulative=True, point=point)
    if not bands:
        return None
    fig, ax = new_figure(7.5, 3.6)
    for i, v in enumerate(_variants(results)):
        if v in bands:
            b = bands[v]
            ax.plot(b.index, b["mean"], color=color_of(i), lw=1.5, label=v)
            ax.fill_between(b.index, b["low"], b["high"], color=color_of(i), alpha=0.18, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    ax.yaxis.set_major_formatter(thousands)
    ax.set_xlabel(t("fig.day"))
    ax.set_ylabel(axis_label(t("fig.cumnet"), unit("yuan")))
    ax.set_title(t("fig.cumnet_title"))
    legend_outside(ax)
    return fig


def cost_effect(results, point: int = 0):
    """Incremental net contribution against incremental spend, one point per variant."""
    c = results.cost
    c = c[(c.point == point) & (c.variant != results.spec.baseline)]
    if c.empty:
        return None
    fig, ax = new_figure(6.5, 4.2)
    for i, row in enumerate(c.itertuples()):
        xerr = [[max(row.incremental_spend - row.spend_ci_low, 0)],
                [max(row.spend_ci_high - row.incremental_spend, 0)]]
        yerr = [[max(row.incremental_net_contribution - row.net_ci_low, 0)],
                [max(row.net_ci_high - row.incremental_net_contribution, 0)]]
        xerr = np.nan_to_num(np.array(xerr, float))
        yerr = np.nan_to_num(np.array(yerr, float))
        ax.errorbar([row.incremental_spend], [row.incremental_net_contribution], xerr=xerr,
                    yerr=yerr, fmt="o", color=color_of(i + 1), capsize=3, label=row.variant)
    ax.axhline(0, color="black", lw=0.8)
    ax.xaxis.set_major_formatter(thousands)
    ax.yaxis.set_major_formatter(thousands)
    ax.set_xlabel(axis_label(t("fig.inc_spend"), unit("yuan")))
    ax.set_ylabel(axis_label(t("fig.inc_net"), unit("yuan")))
    ax.set_title(t("fig.costeff_title"))
    legend_outside(ax)
    return fig


def channels(results, point: int = 0):
    """Share of payment volume by channel over time, one column of two panels per
    variant: every channel stacked, and below it the bank app's share alone on a scale
    of its own (a few per cent is a sliver in the stack), the same for every variant."""
    variants = _variants(results)
    cols = min(len(variants), 3)
    rows = int(np.ceil(len(variants) / cols))
    fig, axes = new_figure(3.6 * cols, 4.0 * rows, nrows=2 * rows, ncols=cols, squeeze=False,
                           gridspec_kw={"height_ratios": [2.8, 1.2] * rows})
    names = [c.removeprefix("volume_") for c in CHANNEL_COLUMNS]
    bank_axes, top = [], 0.0
    for i, v in enumerate(variants):
        ax, bank = axes[2 * (i // cols), i % cols], axes[2 * (i // cols) + 1, i % cols]
        shares = channel_shares(results.kpis, v, point)
        if shares.empty:
            continue
        ax.stackplot(shares.index, shares.T.to_numpy(), labels=[channel_label(n) for n in names],
                     colors=[CHANNEL_COLORS[n] for n in names], alpha=0.85)
        ax.set_ylim(0, 1)
        ax.set_title(v)
        ax.set_ylabel(axis_label(t("fig.vol_share"), t("fig.fraction")))
        mine = shares["volume_bank_app"]
        bank.plot(mine.index, mine.to_numpy(), color=CHANNEL_COLORS["bank_app"], lw=1.4)
        bank.fill_between(mine.index, 0, mine.to_numpy(), color=CHANNEL_COLORS["bank_app"],
                          alpha=0.2, lw=0)
        bank.set_xlabel(t("fig.day"))
        bank.set_ylabel(axis_label(t("fig.bank_panel"), "%"))
        bank.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        bank_axes.append(bank)
        top = max(top, float(mine.max()))
    for bank in bank_axes:
        bank.set_ylim(0, top * 1.15 if top > 0 else 0.01)
    for ax in axes.ravel():
        if not ax.has_data():
            ax.set_visible(False)
    fig.suptitle(t("fig.channels_title"), fontweight="bold")
    fig.tight_layout()
    legend_below(fig, axes[0, 0], ncol=5, fontsize=7.5)
    return fig


def funnel(results, point: int = 0):
    """Acquired -> acquired 90+ days ago -> still monthly-active, per variant (end levels)."""
    k = results.kpis
    last = k[(k.point == point) & (k.day == k.day.max())]
    steps = ["acquired_users", "acquired_90d_ago", "retained_90d"]
    means = last.groupby("variant", sort=False)[steps].mean().reindex(_variants(results))
    fig, ax = new_figure(7.5, 3.6)
    width = 0.8 / len(steps)
    x = np.arange(len(means))
    for i, step in enumerate(steps):
        ax.bar(x + i * width, means[step], width, color=color_of(i + 2),
               label=kpi_label(step))
    ax.set_xticks(x + width, means.index, rotation=15)
    ax.yaxis.set_major_formatter(thousands)
    ax.set_ylabel(axis_label(t("fig.app_users"), unit("customers")))
    ax.set_title(t("fig.funnel_title"))
    legend_outside(ax)
    return fig

