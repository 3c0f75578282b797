"""Print and share: the A4 PDF, the Excel workbook, the Chinese report, CJK glyphs in
figures, `sim strategies`, feasible bands and human cause labels."""

from __future__ import annotations

import io
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiment import run_experiment
from sim.experiment.runner import load_results
from sim.report.i18n import cause_label, language, money
from sim.report.pdf import A4_POINTS, text_width, wrap
from sim.report.plotdata import daily_band, feasible_range
from sim.strategies import STRATEGY_KINDS

SPEC = {
    "name": "share-test", "scenario": "city", "days": 30, "replications": 2, "seed": 5,
    "overrides": {"population.customers": 1500},
    "variants": [
        {"name": "baseline"},
        {"name": "满减活动", "strategies": [{"kind": "promotion", "type": "spend_save",
                                         "start_day": 5, "duration_days": 20,
                                         "budget": 30_000}]},
        {"name": "campus", "strategies": [{"kind": "exclusive_channel", "institutions": 1,
                                           "start_day": 3, "budget": 300_000}]},
    ],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same results reported twice: in English with PDF and workbook, and in Chinese."""
    root = tmp_path_factory.mktemp("share")
    en, zh = root / "en", root / "zh"
    run_experiment(SPEC, out=en, executor="serial", quiet=True)
    shutil.copytree(en, zh)
    assert main(["report", str(en), "--pdf", "--xlsx"]) == 0
    assert main(["report", str(zh), "--lang", "zh", "--pdf"]) == 0
    return en, zh


def _pdf_text(path) -> tuple[list, str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return reader.pages, "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_is_a4_with_the_report_as_text(runs):
    en, _ = runs
    pages, text = _pdf_text(en / "report.pdf")
    assert len(pages) >= 3
    for page in pages:  # every page A4 portrait
        assert float(page.mediabox.width) == pytest.approx(A4_POINTS[0], abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(A4_POINTS[1], abs=0.5)
    assert round(A4_POINTS[0]) == 595 and round(A4_POINTS[1]) == 842
    for heading in ("The question", "Verdicts", "Ranking", "Tables"):
        assert heading in text
    assert "95 % CI" in text and "满减活动" in text
    cost = pd.read_csv(en / "tables" / "cost_effectiveness.csv")
    for spend in cost["incremental spend (yuan)"]:  # the table's numbers, as printed
        assert f"{spend:,.2f}" in text
    ranking = pd.read_csv(en / "tables" / "ranking.csv")
    assert f"{ranking['mean'].iloc[0]:,.3g}" in text


def test_workbook_holds_the_tables_as_numbers(runs):
    from openpyxl import load_workbook

    en, _ = runs
    book = load_workbook(en / "report.xlsx")
    assert book.sheetnames == ["summary_headline", "cost_effectiveness", "ranking",
                               "ranking_pairs"]
    for name in book.sheetnames:
        frame = pd.read_csv(en / "tables" / f"{name}.csv")
        sheet = book[name]
        assert [c.value for c in sheet[1]] == list(frame.columns)
        assert sheet.max_row == len(frame) + 1
    cost = pd.read_csv(en / "tables" / "cost_effectiveness.csv")
    sheet = book["cost_effectiveness"]
    col = list(cost.columns).index("incremental net contribution (yuan)") + 1
    for i, value in enumerate(cost["incremental net contribution (yuan)"], start=2):
        cell = sheet.cell(i, col).value
        assert isinstance(cell, float) and cell == pytest.approx(value, rel=1e-12)
    assert sheet.cell(2, 1).value == cost["variant"].iloc[0]


def test_chinese_report_speaks_chinese(runs):
    _, zh = runs
    html = (zh / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in html
    for heading in ("实验报告：share-test", "问题", "结论", "排名", "表格", "资金"):
        assert f">{heading}<" in html
    assert "App 月活用户" in html and "95 % 置信区间" in html and "满减活动" in html
    assert ">Verdicts<" not in html and "monthly-active" not in html
    _, text = _pdf_text(zh / "report.pdf")
    assert "结论" in text and "投资回报率" in text
    cost = pd.read_csv(zh / "tables" / "cost_effectiveness.csv")
    assert "增量支出（元）" in cost.columns


def test_english_report_unchanged_by_chinese_run(runs):
    en, _ = runs
    html = (en / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and ">Verdicts<" in html and "结论" not in html


def test_chinese_names_render_with_no_missing_glyph():
    import matplotlib.pyplot as plt

    from sim.report.fonts import cjk_fonts
    from sim.report.style import new_figure

    assert cjk_fonts(), "no CJK font: mplfonts (a dependency) should bring Noto Sans CJK SC"
    with warnings.catch_warnings(record=True) as caught, language("zh"):
        warnings.simplefilter("always")
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1], label="满减活动")
        ax.set_title("校园独家：钱花在哪里")
        ax.legend()
        fig.savefig(io.BytesIO(), format="png")
        fig.savefig(io.BytesIO(), format="pdf")
        plt.close(fig)
    assert not [w for w in caught if "missing from" in str(w.message)]


def test_strategies_lists_every_kind_with_defaults(capsys):
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    for kind, cls in STRATEGY_KINDS.items():
        assert f"{kind} ({cls.__name__}):" in out
    assert main(["strategies", "fee_waiver"]) == 0
    one = capsys.readouterr().out
    assert "promotion (" not in one
    row = next(line for line in one.splitlines() if line.split()[:1] == ["switching_subsidy_yuan"])
    assert row.split()[1:3] == ["yuan", "300"] and "number >= 0" in row
    merchants = next(line for line in one.splitlines() if line.split()[:1] == ["merchants"])
    assert "required" in merchants and "integer >= 1" in merchants
    assert main(["strategies", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'fee_waiver'" in err


@pytest.mark.parametrize("command", ["run", "report", "strategies", "scenarios", "validate"])
def test_help_shows_examples(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and f"sim {command}" in out.split("examples:")[1]


def test_bands_stay_in_the_feasible_range():
    days = np.repeat(np.arange(3), 2)
    kpis = pd.DataFrame({"variant": "v", "point": 0, "replication": np.tile([0, 1], 3),
                         "day": days, "debit_cards": [0.0, 10.0] * 3,
                         "bank_channel_share": [0.9, 1.0] * 3,
                         "net_contribution": [-5.0, 5.0] * 3})
    stock = daily_band(kpis, "debit_cards", bounds=feasible_range("debit_cards"))["v"]
    assert (stock["low"] == 0).all() and (stock["mean"] == 5).all()
    unclipped = daily_band(kpis, "debit_cards")["v"]
    assert (unclipped["low"] < -50).all()  # t(1 df) = 12.7: the raw band goes far below 0
    share = daily_band(kpis, "bank_channel_share",
                       bounds=feasible_range("bank_channel_share"))["v"]
    assert (share["high"] == 1).all() and (share["low"] >= 0).all()
    assert feasible_range("net_contribution") == (-np.inf, np.inf)
    assert feasible_range("retail_deposits") == (0.0, np.inf)


def test_trajectory_bands_are_clipped_in_the_figure(runs):
    from sim.report import figures

    en, _ = runs
    fig = figures.trajectories(load_results(en))
    for ax in fig.axes:
        for poly in ax.collections:
            ys = np.concatenate([p.vertices[:, 1] for p in poly.get_paths()])
            assert ys.min() >= 0
            if "share" in ax.get_title():
                assert ys.max() <= 1


def test_cause_labels_are_human(runs):
    assert cause_label("exclusive_channel:development") == "Development fee (Exclusive channel)"
    assert cause_label("promotion#2:abuse") == "Paid to bonus hunters (Promotion #2)"
    assert cause_label("spring offer:payout") == "Payouts (spring offer)"
    assert cause_label("exclusive_channel:development", with_owner=False) == "Development fee"
    with language("zh"):
        assert cause_label("exclusive_channel:development") == "开发费（独家渠道）"
    from sim.report import figures

    en, _ = runs
    fig = figures.spend(load_results(en))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Development fee (Exclusive channel)" in labels
    assert not [label for label in labels if ":" in label]


def test_money_and_wrapping_in_chinese():
    assert money(2_115) == "2.1 K yuan" and money(-0.2) == "0 yuan"
    with language("zh"):
        assert money(35_000) == "3.5 万元" and money(2.5e8) == "2.50 亿元"
        assert money(950) == "950 元"
    text = "净贡献无可与零区分的变化" * 10
    lines = wrap(text, 100, 9)
    assert "".join(lines) == text and len(lines) > 5
    assert all(text_width(line, 9) <= 100 for line in lines)


def test_no_cjk_font_warns_once_and_clearly(monkeypatch):
    from matplotlib import font_manager

    from sim.report import fonts

    monkeypatch.setattr(fonts, "_packaged", lambda: None)
    monkeypatch.setattr(fonts, "SYSTEM_CJK_FONTS", ("No Such CJK Font",))
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: [])
    with pytest.warns(UserWarning, match="no CJK font found.*boxes.*pip install"):
        assert fonts.cjk_fonts.__wrapped__() == ()


def test_single_run_refuses_report_options(tmp_path, capsys):
    assert main(["run", "--scenario", "city", "--days", "2", "--pdf",
                 "--out", str(tmp_path / "o")]) == 2
    assert "experiment file only" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
