"""Reports from result plots: ``write_report(OUT)`` builds OUT/report.html from the
stored results alone (and OUT/report.pdf with ``pdf=True``).

Figures also land as PNG in OUT/figures/ and the tables as CSV in OUT/tables/.
The order follows what a reader needs: the question, the ranking sentence and
the verdicts, the ranking, the paired lifts, the trajectories, the money,
channels and funnel, the ecosystem graph, sweeps, then the tables. Verdicts,
the forest plot and the tables speak of the experiment's headline KPIs
(``[report] headline``, stored in the manifest).
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd

from sim.report import figures, figures_graph
from sim.report.html import figure_block, page, table_block
from sim.report.ranking import top_sentences
from sim.report.tables import cost_table, headline_table, ranking_table
from sim.report.verdicts import verdicts
from sim.results import atomic_write_bytes

__all__ = ["write_report"]

log = logging.getLogger(__name__)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _figures(results, sensitivity: pd.DataFrame | None) -> list[tuple[str, str, str, object]]:
    """(section, file name, caption, figure) in reading order; absent ones skipped."""
    wanted = [
        ("Paired lift against the baseline", "forest",
         "Change of each headline KPI at the horizon, % of the baseline, 95 % paired CI",
         figures.forest),
        ("KPI trajectories", "trajectories", "Mean over replications with 95 % bands",
         figures.trajectories),
        ("Money", "spend_by_cause", "Strategy spend by cause, yuan per run", figures.spend),
        ("Money", "cumulative_net_contribution",
         "Cumulative incremental net contribution against the baseline", figures.cumulative_net),
        ("Money", "cost_effectiveness", "Incremental net contribution against incremental spend",
         figures.cost_effect),
        ("Channels and funnel", "channel_shares", "Share of payment volume by channel",
         figures.channels),
        ("Channels and funnel", "funnel", "Acquired, 90 days on, still monthly-active",
         figures.funnel),
        ("The ecosystem", "ecosystem_graph", "Chains and the channels that carry their flow",
         figures_graph.ecosystem),
        ("Sweep", "sweep", "Paired differences along the swept parameter",
         figures_graph.sweep_lines),
    ]
    out = []
    for section, name, caption, fn in wanted:
        fig = fn(results)
        if fig is not None:
            out.append((section, name, caption, fig))
    fig = figures_graph.tornado(sensitivity)
    if fig is not None:
        out.append(("Sensitivity", "tornado", "Morris / Sobol indices per parameter", fig))
    return out


def write_report(out: str | Path, pdf: bool = False) -> Path:
    """Build OUT/report.html (and OUT/report.pdf) from OUT's stored results."""
    from sim import __version__
    from sim.experiment.runner import load_results

    out = Path(out)
    results = load_results(out)
    if results.summary.empty:
        raise FileNotFoundError(f"{out} has no finished baseline cells to report on")
    sens_path = out / "sensitivity.csv"
    sensitivity = pd.read_csv(sens_path) if sens_path.exists() else None
    spec = results.spec
    figs = _figures(results, sensitivity)
    (out / "figures").mkdir(exist_ok=True)
    pngs = []
    for section, name, caption, fig in figs:
        png = _png(fig)
        atomic_write_bytes(out / "figures" / f"{name}.png", png)
        pngs.append((section, caption, png))
    headline = headline_table(results)
    costs = cost_table(results)
    ranking = ranking_table(results)
    tables = {"summary_headline": headline, "cost_effectiveness": costs, "ranking": ranking,
              "ranking_pairs": results.pairs}
    (out / "tables").mkdir(exist_ok=True)
    for name, frame in tables.items():
        atomic_write_bytes(out / "tables" / f"{name}.csv", frame.to_csv(index=False).encode())

    meta = pd.DataFrame({"": ["experiment", "description", "scenario", "horizon",
                              "replications", "seed", "variants", "sim version", "report date"],
                         " ": [spec.name, spec.description, spec.scenario, f"{spec.days} days",
                               spec.replications, spec.seed,
                               ", ".join(v.name for v in spec.variants), __version__,
                               datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")]})
    lines = top_sentences(results) + verdicts(results)
    sections = [("The question", f'<div class="meta">{table_block(meta)}</div>'),
                ("Verdicts", "".join(f'<p class="verdict">{escape(v)}</p>' for v in lines)),
                ("Ranking", "<p>" + escape(
                    "Every variant on each headline KPI. P(best) is the share of 2,000 paired "
                    "bootstrap resamples of the replications in which the variant has the best "
                    "mean; the p-values of the differences between every two variants are "
                    "Holm-adjusted (tables/ranking_pairs.csv).") + "</p>"
                 + table_block(ranking, "{:,.3g}"))]
    if results.failed:
        sections.append(("Failed cells", "<p>" + escape(
            f"{len(results.failed)} cells failed and are left out: "
            + ", ".join(sorted(results.failed))) + "</p>"))
    by_section: dict[str, list[str]] = {}
    for section, caption, png in pngs:
        by_section.setdefault(section, []).append(figure_block(png, caption))
    sections += [(s, "".join(blocks)) for s, blocks in by_section.items()]
    sections.append(("Tables", table_block(costs) + table_block(headline.drop(columns=["unit"]))))
    html_path = out / "report.html"
    atomic_write_bytes(html_path, page(f"Experiment report: {spec.name}", sections).encode())
    if pdf:
        _write_pdf(out / "report.pdf", spec.name, lines, [p for *_, p in pngs])
    return html_path


def _write_pdf(path: Path, title: str, lines: list[str], pngs: list[bytes]) -> None:
    """A PDF: a first page with the verdicts, then one page per figure."""
    import textwrap

    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from sim.report.style import apply_style

    apply_style()
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        text = "\n\n".join(textwrap.fill(line, 95) for line in lines)
        fig.text(0.07, 0.95, f"Experiment report: {title}", fontsize=15, weight="bold", va="top")
        fig.text(0.07, 0.9, text, fontsize=9, va="top")
        pdf.savefig(fig)
        plt.close(fig)
        for png in pngs:
            img = mpimg.imread(io.BytesIO(png), format="png")
            h, w = img.shape[:2]
            fig = plt.figure(figsize=(8.27, 8.27 * h / w))
            fig.figimage(img, resize=True)
            pdf.savefig(fig)
            plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
