"""The command line: runs, writes results, and fails cleanly on bad input."""

from __future__ import annotations

import json

import networkx as nx
import pandas as pd

from sim.cli import main


def test_single_run_writes_kpis_ledger_and_manifest(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["run", "--scenario", "city", "--days", "5", "--seed", "3", "--quiet",
               "--set", "population.customers=800", "--out", str(out)])
    assert rc == 0
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert len(kpis) == 5 and "app_mau" in kpis
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    assert "net_contribution" in capsys.readouterr().out


def test_bad_override_exits_2_naming_the_key(tmp_path, capsys):
    rc = main(["run", "--days", "2", "--quiet", "--set", "population.customer=10",
               "--out", str(tmp_path / "x")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "population.customer" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_graph_export_is_graphml_with_kinds(tmp_path):
    path = tmp_path / "city.graphml"
    assert main(["graph", "city", "--set", "population.customers=300", "--out", str(path)]) == 0
    g = nx.read_graphml(path)
    kinds = {d["kind"] for _, d in g.nodes(data=True)}
    assert {"bank", "platform", "partner", "chain", "customer"} <= kinds


def test_scenarios_lists_chains(capsys):
    assert main(["scenarios", "city", "--chains"]) == 0
    out = capsys.readouterr().out
    assert "wholesale_market" in out and "industry_chain" in out
