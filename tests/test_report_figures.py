"""Figures that can be read: legends beside the data, the bank's channel share on a
scale of its own, the ecosystem of a chosen or the best variant, a page that fits
800 px; and ``sim run --lang zh`` speaking Chinese on the console."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sim import ConfigError
from sim.cli import main
from sim.experiment import load_experiment
from sim.experiment.runner import load_results
from sim.report import figures, figures_graph
from sim.report.plotdata import channel_shares

TOML = """
name = "figs"
days = 30
replications = 2
seed = 3
[overrides]
"population.customers" = 1500
[[variants]]
name = "baseline"
[[variants]]
name = "promo"
[[variants.strategies]]
kind = "promotion"
type = "spend_save"
start_day = 5
duration_days = 20
budget = 30000
[[variants]]
name = "schools"
[[variants.strategies]]
kind = "exclusive_channel"
institutions = 1
start_day = 3
budget = 300000
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The experiment run from the command line with ``--lang zh``: its folder and what
    it printed."""
    folder = tmp_path_factory.mktemp("figs")
    path = folder / "figs.toml"
    path.write_text(TOML, encoding="utf-8")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["run", str(path), "--executor", "serial", "--quiet", "--lang", "zh",
                     "--out", str(folder / "out")])
    assert code == 0
    return folder / "out", printed.getvalue()


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("draw", [figures.forest, figures.trajectories, figures.spend,
                                  figures.cumulative_net, figures.cost_effect, figures.channels,
                                  figures.funnel, figures_graph.ecosystem])
def test_no_legend_covers_a_plotting_area(run, draw):
    fig = draw(load_results(run[0]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    assert legends, "every one of these figures has a legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible():
                assert not _overlaps(box, ax.get_window_extent(renderer)), ax.get_title()
    plt.close(fig)


def test_the_bank_share_fills_its_own_panel(run):
    res = load_results(run[0])
    fig = figures.channels(res)
    banks = [ax for ax in fig.axes if ax.get_visible() and ax.get_ylabel().startswith("Bank app")]
    assert len(banks) == 3  # one per variant, under its stacked panel
    tops = {ax.get_ylim()[1] for ax in banks}
    assert len(tops) == 1  # one scale: variants compare at a glance
    top = tops.pop()
    bank = {v: channel_shares(res.kpis, v)["volume_bank_app"].to_numpy()
            for v in ("baseline", "promo", "schools")}
    for ax, v in zip(banks, bank, strict=True):  # the line is the bank's share, recomputed
        assert ax.get_title() == "" and (ax.lines[0].get_ydata() == bank[v]).all()
    highest = max(b.max() for b in bank.values())
    assert highest < 0.15  # a sliver of the stack ...
    assert highest / top > 0.8  # ... that fills most of its own panel
    assert all(ax.get_ylim()[0] == 0 for ax in banks)
    plt.close(fig)


def test_the_ecosystem_is_the_best_variant_by_default_or_the_chosen_one(run):
    res = load_results(run[0])
    r = res.ranking[res.ranking.kpi == "app_mau"]
    best = r.loc[r["mean"].idxmax(), "variant"]
    fig = figures_graph.ecosystem(res)
    title = fig.axes[0].get_title()
    assert f": {best} (best on monthly-active app users)" in title
    plt.close(fig)
    chosen = next(v for v in ("baseline", "promo", "schools") if v != best)
    manifest = dict(res.spec.source, report={"headline": ["app_mau"], "graph_variant": chosen})
    res.spec = load_experiment(manifest)
    fig = figures_graph.ecosystem(res)
    assert f": {chosen} (chosen in [report] graph_variant)" in fig.axes[0].get_title()
    plt.close(fig)


def test_an_unknown_graph_variant_is_refused_in_one_line(run, tmp_path, capsys):
    with pytest.raises(ConfigError) as err:
        load_experiment(dict(load_results(run[0]).spec.source,
                             report={"graph_variant": "school"}))
    assert err.value.field == "report.graph_variant"
    assert err.value.allowed == "one of 'baseline', 'promo', 'schools'"
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.replace("[overrides]", '[report]\ngraph_variant = "x"\n[overrides]'),
                   encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: report.graph_variant:") and len(err.splitlines()) == 1


def test_sim_run_lang_zh_prints_its_verdicts_in_chinese(run):
    _, printed = run
    assert "App 月活用户" in printed and "95 % 置信区间" in printed
    assert "排名（均值；P(最佳)" in printed and "报告：" in printed
    assert re.search(r"^  App 月活用户：1\. \S+ [\d,]+（P\(最佳\) \d+%）", printed, re.M)
    for english in ("95 % CI", "monthly-active", "ranking (mean", "Budget:", "report:"):
        assert english not in printed
    assert "promo" in printed and "schools" in printed  # names stay as given


def test_the_page_fits_800_pixels(run, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (CI installs it)")
    html = (run[0] / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html
    probe = tmp_path / "probe.html"  # the report plus a script that writes the page width
    probe.write_text(html.replace("</body>", (
        "<script>window.addEventListener('load', () => document.body.setAttribute("
        "'data-width', document.documentElement.scrollWidth + 'x' + "
        "document.documentElement.clientWidth));</script></body>")), encoding="utf-8")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          "--no-first-run", "--disable-background-networking",
                          f"--user-data-dir={tmp_path / 'profile'}", "--window-size=800,900",
                          "--hide-scrollbars", "--virtual-time-budget=5000", "--dump-dom",
                          probe.as_uri()],
                         check=True, capture_output=True, timeout=120, text=True).stdout
    scroll, client = map(int, re.search(r'data-width="(\d+)x(\d+)"', dom).groups())
    assert client == 800 and scroll <= client
    assert "overflow-x:auto" in html  # a wide table scrolls in its own box


def test_the_tornado_draws_its_indices_per_kpi():
    sens = pd.DataFrame({"variant": "promo", "kpi": ["app_mau"] * 2 + ["debit_cards"] * 2,
                         "parameter": ["strategies[0].rate", "adoption.imitation_rate"] * 2,
                         "mu_star": [3.0, 1.0, 0.5, 2.0]})
    fig = figures_graph.tornado(sens)
    first, second = fig.axes
    assert first.get_xlabel() == "Morris mu*"
    widths = {t.get_text(): bar.get_width()
              for t, bar in zip(first.get_yticklabels(), first.patches, strict=True)}
    assert widths == {"adoption.imitation_rate": 1.0, "strategies[0].rate": 3.0}
    assert [bar.get_width() for bar in second.patches] == [0.5, 2.0]
    plt.close(fig)


def test_mixed_scale_tables_never_print_scientific_notation():
    from sim.report.blocks import SIGNIFICANT, cell_text

    assert [cell_text(x, SIGNIFICANT) for x in (309111.0, -2000.0, 0.94, 0.0412, float("nan"))] \
        == ["309,111", "-2,000", "0.94", "0.0412", ""]
