"""``[report] headline``: validated against the KPI registry, stored in the manifest,
and what the verdicts, the ranking and the cost table speak of; sweep points named
by their values."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from sim import ConfigError
from sim.cli import main
from sim.experiment import load_experiment
from sim.experiment.runner import load_results
from sim.experiment.spec import DEFAULT_HEADLINE
from sim.report.ranking import top_sentences
from sim.report.verdicts import verdicts

BASE = {"name": "hl", "scenario": "city", "days": 30, "replications": 2, "seed": 5,
        "overrides": {"population.customers": 1500},
        "variants": [{"name": "baseline"},
                     {"name": "promo", "strategies": [
                         {"kind": "promotion", "type": "spend_save",
                          "chains": ["business_district"], "start_day": 3,
                          "duration_days": 10, "budget": 3000}]}]}
SWEPT = {**BASE, "report": {"headline": ["debit_cards"]},
         "sweep": {"method": "grid", "variants": ["promo"],
                   "parameters": {"strategies[0].duration_days": [5, 25]}}}


@pytest.mark.parametrize("report, field", [
    ({"headline": ["debit_cards", "debit_card"]}, "report.headline[1]"),
    ({"headline": ["debit_cards", "debit_cards"]}, "report.headline[1]"),
    ({"headline": []}, "report.headline"),
    ({"headline": "debit_cards"}, "report.headline"),
    ({"headlines": ["debit_cards"]}, "report.headlines"),
])
def test_a_headline_outside_the_kpi_registry_is_refused(report, field):
    with pytest.raises(ConfigError) as err:
        load_experiment({**BASE, "report": report})
    assert err.value.field == field
    if field == "report.headline[1]" and err.value.value == "debit_card":
        assert "'debit_cards'" in err.value.allowed and "'retail_deposits'" in err.value.allowed


def test_the_command_line_names_the_bad_headline_in_one_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\ndays = 30\n[report]\nheadline = ["app_mau", "cards"]\n'
                    '[[variants]]\nname = "baseline"\n', encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: report.headline[1]: must be one of 'customers'")
    assert "'debit_cards'" in err and err.endswith("got 'cards'")


def test_default_headline_and_a_report_table_that_does_not_change_the_spec_hash():
    plain = load_experiment(BASE)
    assert plain.headline == DEFAULT_HEADLINE == ("app_mau", "net_contribution")
    chosen = load_experiment({**BASE, "report": {"headline": ["debit_cards"]}})
    assert chosen.headline == ("debit_cards",)
    assert chosen.hash == plain.hash  # how results are read does not change them


SWEPT_TOML = """
name = "hl"
scenario = "city"
days = 30
replications = 2
seed = 5
[overrides]
"population.customers" = 1500
[report]
headline = ["debit_cards"]
[[variants]]
name = "baseline"
[[variants]]
name = "promo"
[[variants.strategies]]
kind = "promotion"
type = "spend_save"
chains = ["business_district"]
start_day = 3
duration_days = 10
budget = 3000
[sweep]
method = "grid"
variants = ["promo"]
[sweep.parameters]
"strategies[0].duration_days" = [5, 25]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The experiment run by ``sim run`` (its printout kept), then its report rebuilt."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("hl")
    (folder / "hl.toml").write_text(SWEPT_TOML, encoding="utf-8")
    out = folder / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["run", str(folder / "hl.toml"), "--executor", "serial", "--quiet",
                     "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    return out, load_results(out), printed.getvalue()


def test_the_toml_file_and_the_dict_are_the_same_experiment(tmp_path):
    path = tmp_path / "hl.toml"
    path.write_text(SWEPT_TOML, encoding="utf-8")
    assert load_experiment(path).hash == load_experiment(SWEPT).hash


def test_sim_run_prints_the_ranking_sentence_verdicts_and_ranking(swept):
    out, res, printed = swept
    lines = printed.splitlines()
    assert lines[0].startswith("At duration_days = 5, ") and "debit cards" in lines[0]
    assert "ranking at duration_days = 25 (mean; P(best) by paired bootstrap" in printed
    assert re.search(r"^  debit_cards: 1\. (promo|baseline) [\d,]+ \(p_best \d+%\) \| 2\. ",
                     printed, re.M)


def test_verdicts_and_the_cost_table_speak_of_debit_cards(swept):
    out, res, _ = swept
    lines = verdicts(res)
    assert [line.split(":")[0] for line in lines] == ["promo at duration_days = 5",
                                                      "promo at duration_days = 25"]
    for line in lines:
        assert "debit cards" in line and "monthly-active" not in line
        assert "Budget: promotion used" in line
    cost = pd.read_csv(out / "tables" / "cost_effectiveness.csv")
    assert list(cost["sweep point"]) == ["duration_days = 5", "duration_days = 25"]
    assert "incremental Debit cards (customers)" in cost.columns
    assert "yuan per incremental unit: Debit cards (95 % CI)" in cost.columns
    # cost per debit card = incremental spend / incremental debit cards, recomputed
    s = res.summary.set_index(["point", "variant", "kpi"])["diff"]
    for row in res.cost[res.cost.variant == "promo"].itertuples():
        cards = s[(row.point, "promo", "debit_cards")]
        spend = s[(row.point, "promo", "strategy_spend")]
        assert row.incremental_debit_cards == pytest.approx(cards)
        expected = spend / cards if cards > 0 and spend > 0 else float("nan")
        assert row.cost_per_debit_cards == pytest.approx(expected, nan_ok=True)
        assert "cost_per_app_mau" not in res.cost.columns


def test_ranking_is_written_and_sentences_name_the_kpi_and_the_points(swept):
    out, res, _ = swept
    ranking = pd.read_csv(out / "ranking.csv")
    assert set(ranking.kpi) == {"debit_cards"} and set(ranking.point) == {0, 1}
    assert ranking.groupby("point")["p_best"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    pairs = pd.read_csv(out / "ranking_pairs.csv")
    assert len(pairs) == 2  # one pair (baseline, promo) per point
    top = top_sentences(res)
    assert top[0].startswith("At duration_days = 5, ") and "debit cards" in top[0]
    assert re.fullmatch(r"Across the sweep, promo does best on debit cards at duration_days = "
                        r"(5|25) \(.*best point in \d+% of paired bootstrap resamples\)\.",
                        top[-1])


def test_the_manifest_keeps_the_headline_so_a_rebuilt_report_says_the_same(swept):
    out, res, _ = swept
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["spec"]["report"] == {"headline": ["debit_cards"]}
    again = load_results(out)
    assert again.spec.headline == ("debit_cards",)
    assert verdicts(again) == verdicts(res) and top_sentences(again) == top_sentences(res)
    pd.testing.assert_frame_equal(again.ranking, res.ranking)
    pd.testing.assert_frame_equal(again.cost, res.cost)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Debit cards" in html and "P(best), paired bootstrap" in html
    # figures drawn at one point of the sweep say which
    assert "sweep point shown: duration_days = 5" in html
