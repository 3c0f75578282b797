"""Every ready experiment file validates and runs, at reduced size, to a report."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.experiment import load_experiment

EXPERIMENTS = sorted(Path(__file__).resolve().parent.parent.glob("experiments/*.toml"))


def test_the_library_asks_the_articles_questions():
    names = {p.stem for p in EXPERIMENTS}
    assert {"demo", "smart_campus_exclusive", "gov_fees_omnichannel", "utilities_autodebit",
            "official_account_fee_waiver", "promotion_mix", "wholesale_market_qr",
            "canteen_pilot_rollout", "supply_chain_pharma", "budget_split",
            "public_bus", "hospitals", "scenic_tickets", "property_fees",
            "parking_fuel_autodebit", "presale_escrow", "cross_border_mall"} <= names
    for path in EXPERIMENTS:
        assert path.read_text(encoding="utf-8").startswith("# Question:"), path.name


def _horizon(path: Path) -> int:
    """Days enough for every lever of the file to act (it starts, then runs 20 days;
    a lever starting after the horizon is refused): the reduced run stays short."""
    starts = [s.get("start_day", 0) for cell in load_experiment(path, replications=1).cells()
              for s in cell.strategies]
    return min(load_experiment(path).days, max(starts, default=0) + 20)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_experiment_runs_at_reduced_size(path, tmp_path, capsys):
    assert main(["validate", str(path)]) == 0
    if "\n[optimise]" in path.read_text(encoding="utf-8"):
        return  # an optimisation: run end to end by tests/test_optimise.py
    out = tmp_path / path.stem
    report = path.stem == "demo"  # one full report; tests/test_report*.py test the rest
    rc = main(["run", str(path), "--set", "population.agents=2000", "--days",
               str(_horizon(path)), "--replications", "2", "--executor", "serial", "--quiet",
               "--out", str(out)] + ([] if report else ["--no-report"]))
    assert rc == 0
    assert (out / "summary.csv").exists() and (out / "report.html").exists() == report
    printed = capsys.readouterr().out
    assert "monthly-active app users" in printed
