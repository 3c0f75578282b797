"""The calibration's report.html: targets against the fitted paths, fit per target,
identifiability, the loss over trials. Self-contained (figures as data URIs), drawn
with the experiment report's style and blocks (:mod:`sim.report.html`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.calibration.fit import PINNED_SHARE, UNINFORMED_SHARE
from sim.calibration.search import Trial, load_run
from sim.metrics import KPI_BY_NAME
from sim.report import _png
from sim.report.blocks import SIGNIFICANT, Figure, Section, Table, Text
from sim.report.html import page
from sim.report.plotdata import daily_band, feasible_range
from sim.report.style import axis_label, color_of, new_figure, thousands
from sim.results import atomic_write_bytes

if TYPE_CHECKING:
    from sim.calibration import Calibration

__all__ = ["write_calibration_report"]


def _paths(result: Calibration, best: Trial) -> pd.DataFrame:
    """The best trial's no-strategy runs, one per seed, stacked (variant, point, day)."""
    runs = [r for r in best.runs if r.pilot is None]
    frames = []
    for r in runs:
        frame = load_run(result.out, r.key).reset_index()
        frame.insert(0, "replication", r.replication)
        frames.append(frame)
    kpis = pd.concat(frames, ignore_index=True)
    kpis.insert(0, "point", 0)
    kpis.insert(0, "variant", "best fit")
    return kpis


def targets_figure(result: Calibration, best: Trial):
    """One panel per targeted KPI: a stock's daily path (mean and 95 % band over seeds)
    with the observed levels; a flow's totals per target window (model mean and band)
    with the observed totals. Observed values show +-1.96 sd."""
    fit = result.fit[result.fit.kind != "lift"]
    kpis = list(dict.fromkeys(fit.kpi))
    if not kpis:
        return None
    paths = _paths(result, best)
    ncols = min(3, len(kpis))
    nrows = -(-len(kpis) // ncols)
    fig, axes = new_figure(3.7 * ncols, 3.0 * nrows, nrows=nrows, ncols=ncols, squeeze=False)
    for ax, kpi in zip(axes.ravel(), kpis, strict=False):
        rows = fit[fit.kpi == kpi]
        meta = KPI_BY_NAME[kpi]
        if meta.kind == "stock":
            band = daily_band(paths, kpi, bounds=feasible_range(kpi))["best fit"]
            ax.plot(band.index, band["mean"], color=color_of(2), lw=1.4, label="model (best fit)")
            ax.fill_between(band.index, band["low"], band["high"], color=color_of(2), alpha=0.2,
                            lw=0)
        else:
            ax.errorbar(rows.day, rows.model_mean,
                        yerr=[rows.model_mean - rows.band_low, rows.band_high - rows.model_mean],
                        fmt="s", color=color_of(2), label="model window total (best fit)")
        ax.errorbar(rows.day, rows.observed, yerr=1.96 * rows.sd, fmt="o", color=color_of(1),
                    capsize=3, label="observed")
        ax.set_title(meta.label if meta.kind == "stock" else f"{meta.label} (window totals)",
                     fontsize=9)
        ax.set_xlabel("day")
        ax.set_ylabel(axis_label(kpi, meta.unit))
        ax.yaxis.set_major_formatter(thousands)
    for ax in axes.ravel()[len(kpis):]:
        ax.set_visible(False)
    axes.ravel()[0].legend(loc="best", fontsize=7.5)
    fig.tight_layout()
    return fig


def residuals_figure(result: Calibration):
    """Residual z = (model mean - observed) / sd per target, with +-1.96."""
    fit = result.fit
    fig, ax = new_figure(7.5, 0.35 * len(fit) + 1.2)
    y = np.arange(len(fit))[::-1]
    ax.barh(y, fit.z, color=[color_of(1) if abs(z) > 1.96 else color_of(3) for z in fit.z])
    for x in (-1.96, 1.96):
        ax.axvline(x, color=color_of(0), ls="--", lw=0.8)
    ax.set_yticks(y, fit.target, fontsize=7.5)
    ax.set_xlabel("z = (model mean - observed) / sd")
    fig.tight_layout()
    return fig


def profile_figure(result: Calibration):
    """Loss of every trial against each parameter; the indistinguishable set marked."""
    table, spec = result.trials, result.spec
    n = len(spec.parameters)
    fig, axes = new_figure(3.7 * min(n, 3), 3.0 * -(-n // 3), nrows=-(-n // 3),
                           ncols=min(n, 3), squeeze=False)
    ok = table[np.isfinite(table.loss)]
    for ax, p in zip(axes.ravel(), spec.parameters, strict=False):
        inside = ok[ok.indistinguishable]
        ax.scatter(ok[p.name], ok.loss, s=10, color=color_of(0), alpha=0.5, label="trial")
        ax.scatter(inside[p.name], inside.loss, s=16, color=color_of(1),
                   label="indistinguishable from the best")
        ax.set_xlim(p.low, p.high)
        if p.log:
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(p.name, fontsize=8)
        ax.set_ylabel("loss")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    axes.ravel()[0].legend(loc="best", fontsize=7.5)
    fig.tight_layout()
    return fig


def loss_figure(result: Calibration):
    """Loss per trial and the best so far."""
    table = result.trials
    fig, ax = new_figure(7.5, 3.0)
    ax.scatter(table.trial, table.loss, s=10, color=color_of(0), label="trial")
    ax.plot(table.trial, table.loss.cummin(), color=color_of(1), lw=1.4, label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def write_calibration_report(result: Calibration, best: Trial) -> str:
    """Write OUT/report.html; its path."""
    spec = result.spec
    ident = result.identifiability
    pinned = ident[ident.identifiability == "pinned"].parameter.tolist()
    loose = ident[ident.identifiability != "pinned"].parameter.tolist()
    outside = int((result.fit.z.abs() > 1.96).sum())
    summary = [
        Text(f"{spec.trials} trials of {spec.seeds_per_trial} seeds each, {spec.days} days, "
             f"scenario {spec.scenario}. Best: trial {best.number}, loss {result.best_loss:.3g} "
             f"over {len(result.fit)} targets ("
             + ", ".join(f"{k} = {v:.4g}" for k, v in result.best.items()) + ")."),
        Text(f"{outside} of {len(result.fit)} targets are more than 1.96 sd from the fit."),
        Text("Pinned by the targets: " + (", ".join(pinned) or "none") + ". Not pinned: "
             + (", ".join(loose) or "none") + f" (the values indistinguishable from the best "
             f"span more than {PINNED_SHARE:.0%} of the bounds; {UNINFORMED_SHARE:.0%} or more: "
             "not informed). Calibrated scenario: " + result.scenario_path.name + "."),
    ]
    figs = [("Targets and the fitted city", targets_figure(result, best),
             "Targets against the best fit over its seeds (95 % band); observed +-1.96 sd"),
            ("Goodness of fit", residuals_figure(result),
             "Residual z per target; beyond the dashed lines the fit misses by more than 1.96 sd"),
            ("Identifiability", profile_figure(result),
             "Loss of every trial against each parameter; red: indistinguishable from the "
             f"best (L - L_best <= {result.threshold:.3g})"),
            ("Search", loss_figure(result), "Loss per trial and the best so far")]
    sections: list[Section] = [("Summary", summary)]
    for heading, fig, caption in figs:
        if fig is None:
            continue
        blocks = [Figure(_png(fig), caption)]
        if heading == "Goodness of fit":
            blocks.append(Table(result.fit.drop(columns=["kpi", "kind"]), SIGNIFICANT))
        if heading == "Identifiability":
            blocks.append(Table(ident, SIGNIFICANT))
        sections.append((heading, blocks))
    path = result.out / "report.html"
    atomic_write_bytes(path, page(f"Calibration: {spec.name}", sections).encode())
    return str(path)
