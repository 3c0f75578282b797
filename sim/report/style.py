"""One consistent, readable matplotlib style for every figure.

Units on every axis come from the KPI registry; large numbers get thousands
separators (and K / M suffixes where they would not fit). Fonts fall back to
a CJK font (:mod:`sim.report.fonts`), so Chinese names and text show. Every string
is plain text: a ``$`` in a variant's name is a dollar sign, never mathtext.
"""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
# CJK fonts often ship one weight; matplotlib logs each substitution. The glyphs render.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from sim.report.fonts import cjk_fonts  # noqa: E402

__all__ = ["apply_style", "PALETTE", "color_of", "thousands", "axis_label", "new_figure",
           "legend_outside", "legend_below"]

PALETTE = ["#4C566A", "#D08770", "#5E81AC", "#A3BE8C", "#B48EAD", "#EBCB8B", "#88C0D0",
           "#BF616A", "#8FBCBB", "#81A1C1"]
CHANNEL_COLORS = {"bank_app": "#C8102E", "wechat": "#2DC100", "alipay": "#1677FF",
                  "card": "#8C6D1F", "cash": "#9E9E9E"}


def apply_style() -> None:
    family = ["DejaVu Sans", *cjk_fonts()]
    plt.rcParams.update({
        "font.family": family, "font.size": 9.5, "axes.titlesize": 11,
        "axes.titleweight": "bold", "axes.labelsize": 9.5, "axes.spines.top": False,
        "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
        "legend.frameon": False, "legend.fontsize": 8.5, "figure.dpi": 100,
        "savefig.dpi": 110, "savefig.bbox": "tight", "svg.hashsalt": "sim",
        "text.parse_math": False, "text.usetex": False,  # user strings are plain text
    })


def color_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _fmt(x: float, _pos=None) -> str:
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:,.1f}B"
    if a >= 1e6:
        return f"{x / 1e6:,.1f}M"
    if a >= 1e4:
        return f"{x / 1e3:,.0f}K"
    return f"{x:,.0f}" if a >= 10 or x == 0 else f"{x:,.2f}"


thousands = FuncFormatter(_fmt)


def axis_label(text: str, unit: str) -> str:
    return f"{text} ({unit})"


def new_figure(width: float = 7.5, height: float = 3.6, **kw):
    apply_style()
    return plt.subplots(figsize=(width, height), **kw)


def legend_outside(ax, **kw):
    """The axes' legend to the right of its plotting area, where it covers no data (the
    saved figure grows to hold it: ``savefig.bbox = "tight"``)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def legend_below(fig, ax, ncol: int = 4, **kw):
    """One legend for a figure of panels, below all of them, from ``ax``'s entries; call
    after ``tight_layout``."""
    handles, labels = ax.get_legend_handles_labels()
    return fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=min(ncol, max(len(labels), 1)), **kw)
