"""Figures of structure and sensitivity: the ecosystem graph and sweep results."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from sim.metrics import KPI_BY_NAME
from sim.report.i18n import channel_label, kpi_label, t, unit
from sim.report.ranking import graph_choice
from sim.report.style import (
    CHANNEL_COLORS,
    axis_label,
    color_of,
    legend_below,
    legend_outside,
    new_figure,
    thousands,
)
from sim.scenarios.catalog import CATEGORIES, CHANNELS

__all__ = ["ecosystem", "sweep_lines", "tornado"]

CARRIER_NODES = {"bank_app": "Bank", "wechat": "WeChat", "alipay": "Alipay", "card": "Cards",
                 "cash": "Cash"}  # graph node ids; drawn with their channel's label
PARTNER = "Tech partner"
CATEGORY_COLORS = {"government_livelihood": "#EBCB8B", "consumer_retail": "#88C0D0",
                   "industry_chain": "#A3BE8C"}


def ecosystem(results):
    """The ecosystem at the end of replication 0 of the variant ``[report]
    graph_variant`` names, or of the ranking's best (:func:`graph_choice`), titled with
    its name, sweep point and why it was drawn: chains (by category) linked to the
    channels that carry their payments, edge width by volume, each chain coloured by
    the channel that carries most of its flow, labelled with its payees on the bank."""
    state = results.state
    choice = graph_choice(results)
    if choice is None or state.empty:
        return None
    variant, point, why = choice
    s = state[(state.point == point) & (state.variant == variant) & (state.replication == 0)]
    if s.empty:
        return None
    g = nx.Graph()
    for ch, name in CARRIER_NODES.items():
        g.add_node(name, kind="carrier", channel=ch)
    g.add_node(PARTNER, kind="partner")
    g.add_edge(PARTNER, "Bank", weight=0.0)
    vols = s[[f"volume_{c}" for c in CHANNELS]].to_numpy()
    top = vols.max() if vols.size and vols.max() > 0 else 1.0
    for row, vol in zip(s.itertuples(), vols, strict=True):
        g.add_node(row.chain, kind="chain", category=row.category,
                   carrier=CHANNELS[int(np.argmax(vol))] if vol.sum() > 0 else "cash",
                   on_bank=row.payees_bank, payees=sum(getattr(row, f"payees_{a}") for a in
                                                        ("bank", "wechat_pay", "alipay", "other")))
        for ch, v in zip(CHANNELS, vol, strict=True):
            if v > 0:
                g.add_edge(row.chain, CARRIER_NODES[ch], weight=float(v / top), channel=ch)
    carriers = list(CARRIER_NODES.values())
    chains = [c for cat in CATEGORIES.values() for c in cat if c in g]
    pos = {name: (np.cos(a) * 0.42, np.sin(a) * 0.42)
           for name, a in zip(carriers, np.linspace(0, 2 * np.pi, len(carriers), endpoint=False),
                              strict=True)}
    pos.update({name: (np.cos(a), np.sin(a)) for name, a in
                zip(chains, np.linspace(0, 2 * np.pi, len(chains), endpoint=False), strict=True)})
    pos[PARTNER] = (0.0, 0.0)
    fig, ax = new_figure(9, 7.5)
    for u, v, d in g.edges(data=True):
        if "channel" in d:
            ax.plot(*zip(pos[u], pos[v], strict=True), color=CHANNEL_COLORS[d["channel"]],
                    lw=0.4 + 7 * d["weight"] ** 0.5, alpha=0.55, zorder=1)
        else:
            ax.plot(*zip(pos[u], pos[v], strict=True), color="grey", lw=1, ls=":", zorder=1)
    for name, d in g.nodes(data=True):
        x, y = pos[name]
        if d["kind"] == "chain":
            ax.scatter([x], [y], s=900, color=CATEGORY_COLORS[d["category"]],
                       edgecolors=CHANNEL_COLORS[d["carrier"]], linewidths=3, zorder=2)
            ax.annotate(f"{name}\n" + t("fig.on_bank", on=d["on_bank"], all=d["payees"]), (x, y),
                        xytext=(0, -27), textcoords="offset points", ha="center", fontsize=7.5)
        else:
            color = CHANNEL_COLORS.get(d.get("channel"), "#5E81AC")
            ax.scatter([x], [y], s=1300, color=color, zorder=2)
            shown = (channel_label(d["channel"]).replace(" ", "\n", 1) if "channel" in d
                     else t("fig.partner"))
            ax.annotate(shown, (x, y), ha="center", va="center", fontsize=7, color="white",
                        fontweight="bold", zorder=3)
    for cat, color in CATEGORY_COLORS.items():
        ax.scatter([], [], s=80, color=color, label=cat)
    legend_outside(ax, fontsize=7.5, title=t("fig.category"))
    ax.set_axis_off()
    ax.set_aspect("equal")
    label = results.spec.point_labels()[point]
    ax.set_title(t("fig.eco_title", variant=variant, why=why,
                   where=t("fig.eco_at", label=label) if label else ""), fontsize=10)
    return fig


def sweep_lines(results):
    """Grid and zip sweeps: paired difference of the headline KPIs (up to four) along
    the first swept parameter."""
    spec = results.spec
    if spec.sweep is None or spec.sweep.method not in ("grid", "zip"):
        return None
    points = pd.DataFrame(spec.points())
    param = points.columns[0]
    kpis = spec.headline[:4]
    fig, axes = new_figure(11, 3.4, ncols=len(kpis), squeeze=False)
    axes = axes.ravel()
    s = results.summary
    for ax, kpi in zip(axes, kpis, strict=True):
        for i, v in enumerate(spec.sweep.variants):
            rows = s[(s.kpi == kpi) & (s.variant == v)].sort_values("point")
            x = points.loc[rows["point"], param].to_numpy()
            ax.errorbar(x, rows["diff"], yerr=np.nan_to_num(
                [rows["diff"] - rows["diff_ci_low"], rows["diff_ci_high"] - rows["diff"]]),
                fmt="o-", color=color_of(i + 1), capsize=2, label=v)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(kpi_label(kpi), fontsize=9)
        ax.set_xlabel(param)
        ax.set_ylabel(axis_label(t("fig.diff_base"), unit(KPI_BY_NAME[kpi].unit)))
        ax.yaxis.set_major_formatter(thousands)
    fig.suptitle(t("fig.sweep_title"), fontweight="bold")
    fig.tight_layout()
    legend_below(fig, axes[0], fontsize=7.5)
    return fig


def tornado(sensitivity: pd.DataFrame | None):
    """Morris mu* or Sobol total-order indices per parameter, for each headline KPI."""
    if sensitivity is None or sensitivity.empty:
        return None
    index = "mu_star" if "mu_star" in sensitivity else "ST"
    kpis = list(dict.fromkeys(sensitivity["kpi"]))[:4]
    fig, axes = new_figure(11, 1.2 + 0.45 * sensitivity["parameter"].nunique(),
                           ncols=len(kpis), squeeze=False)
    for ax, kpi in zip(axes.ravel(), kpis, strict=True):
        by_param = (sensitivity[sensitivity.kpi == kpi].groupby("parameter")[index].mean()
                    .sort_values())
        ax.barh(by_param.index, by_param.to_numpy(), color=color_of(2))
        ax.set_title(kpi_label(kpi), fontsize=9)
        ax.set_xlabel(t("fig.morris" if index == "mu_star" else "fig.sobol"))
        ax.xaxis.set_major_formatter(thousands)
    fig.suptitle(t("fig.tornado_title"), fontweight="bold")
    fig.tight_layout()
    return fig
