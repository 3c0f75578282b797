"""Reports from result plots: ``write_report(OUT)`` builds OUT/report.html from the
stored results alone; ``pdf=True`` adds an A4 OUT/report.pdf with the same
sections, ``xlsx=True`` the tables as OUT/report.xlsx, ``lang="zh"`` writes them
all in Chinese (:mod:`sim.report.i18n`).

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
from pathlib import Path

import pandas as pd

from sim.report import figures, figures_graph
from sim.report.blocks import SIGNIFICANT, Figure, Section, Table, Text
from sim.report.html import page
from sim.report.i18n import header, language, t
from sim.report.pdf import write_pdf
from sim.report.ranking import top_sentences
from sim.report.robustness import robustness_section
from sim.report.tables import cost_table, headline_table, pairs_table, ranking_table
from sim.report.verdicts import verdicts
from sim.report.workbook import write_workbook
from sim.results import atomic_write_bytes

__all__ = ["write_report", "report_tables"]

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
        ("sec.lift", "forest", "cap.forest", figures.forest),
        ("sec.trajectories", "trajectories", "cap.trajectories", figures.trajectories),
        ("sec.money", "spend_by_cause", "cap.spend", figures.spend),
        ("sec.money", "cumulative_net_contribution", "cap.cumnet", figures.cumulative_net),
        ("sec.money", "cost_effectiveness", "cap.costeff", figures.cost_effect),
        ("sec.channels", "channel_shares", "cap.channels", figures.channels),
        ("sec.channels", "funnel", "cap.funnel", figures.funnel),
        ("sec.ecosystem", "ecosystem_graph", "cap.ecosystem", figures_graph.ecosystem),
        ("sec.sweep", "sweep", "cap.sweep", figures_graph.sweep_lines),
    ]
    one_point = {"forest", "trajectories", "spend_by_cause", "cumulative_net_contribution",
                 "cost_effectiveness", "channel_shares", "funnel"}  # drawn at point 0
    label = results.spec.point_labels()[0]
    out = []
    for section, name, caption, fn in wanted:
        fig = fn(results)
        if fig is not None:
            text = t(caption)
            if label and name in one_point:
                text = t("cap.point", caption=text, label=label)
            out.append((t(section), name, text, fig))
    fig = figures_graph.tornado(sensitivity)
    if fig is not None:
        out.append((t("sec.sensitivity"), "tornado", t("cap.tornado"), fig))
    return out


def report_tables(results, sensitivity: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The report's tables by file name, headers in the current language: headline
    summary, cost-effectiveness, ranking, ranking pairs and, when present, the
    sensitivity indices."""
    tables = {"summary_headline": headline_table(results), "cost_effectiveness":
              cost_table(results), "ranking": ranking_table(results),
              "ranking_pairs": pairs_table(results)}
    if sensitivity is not None and not sensitivity.empty:
        tables["sensitivity"] = sensitivity.rename(columns=header)
    return tables


def write_report(out: str | Path, pdf: bool = False, xlsx: bool = False,
                 lang: str = "en") -> Path:
    """Build OUT/report.html from OUT's stored results, with figures in OUT/figures/
    and tables in OUT/tables/.

    Parameters
    ----------
    out : str or Path
        A results folder written by :func:`sim.experiment.run_experiment`.
    pdf : bool, default False
        Also write OUT/report.pdf: the same report on A4 portrait pages.
    xlsx : bool, default False
        Also write OUT/report.xlsx: the report's tables, one sheet each.
    lang : {"en", "zh"}, default "en"
        Language of headings, verdicts, labels and table headers; names the user gave
        stay as given.

    Returns
    -------
    Path
        OUT/report.html.

    Raises
    ------
    ConfigError
        If ``lang`` is not a supported language.
    FileNotFoundError
        If OUT has no finished baseline cells.
    """
    with language(lang):
        return _write(Path(out), pdf, xlsx, lang)


def _write(out: Path, pdf: bool, xlsx: bool, lang: str) -> Path:
    from sim import __version__
    from sim.experiment.runner import load_results

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
    tables = report_tables(results, sensitivity)
    (out / "tables").mkdir(exist_ok=True)
    for name, frame in tables.items():
        atomic_write_bytes(out / "tables" / f"{name}.csv", frame.to_csv(index=False).encode())

    meta = pd.DataFrame({"": [t(f"meta.{k}") for k in ("experiment", "description", "scenario",
                                                          "horizon", "replications", "seed",
                                                          "variants", "version", "date")],
                         " ": [spec.name, spec.description, spec.scenario,
                               t("meta.days", days=spec.days), spec.replications, spec.seed,
                               ", ".join(v.name for v in spec.variants), __version__,
                               datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")]})
    lines = top_sentences(results) + verdicts(results)
    sections: list[Section] = [
        (t("sec.question"), [Table(meta, meta=True)]),
        (t("sec.verdicts"), [Text(v, "verdict") for v in lines]),
        (t("sec.ranking"), [Text(t("ranking.about")), Table(tables["ranking"], SIGNIFICANT)])]
    robust = robustness_section(results)  # [uncertainty] only
    if robust is not None:
        sections.append(robust)
    if results.failed:
        sections.append((t("sec.failed"), [Text(t("failed", n=len(results.failed),
                                                  cells=", ".join(sorted(results.failed))))]))
    by_section: dict[str, list] = {}
    for section, caption, png in pngs:
        by_section.setdefault(section, []).append(Figure(png, caption))
    sections += list(by_section.items())
    sections.append((t("sec.tables"), [
        Table(tables["cost_effectiveness"]),
        Table(tables["summary_headline"].drop(columns=[header("unit")]))]))
    title = t("title", name=spec.name)
    html_path = out / "report.html"
    atomic_write_bytes(html_path, page(title, sections, lang).encode())
    if xlsx:
        write_workbook(out / "report.xlsx", tables)
    if pdf:
        write_pdf(out / "report.pdf", title, sections)
    return html_path
