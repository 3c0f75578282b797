"""Reports: self-contained HTML, escaped names, deterministic figures, a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from sim.cli import main
from sim.experiment import run_experiment
from sim.report import write_report

EVIL = "<script>alert(1)</script>"
SPEC = {
    "name": "report-test", "scenario": "city", "days": 30, "replications": 2, "seed": 3,
    "overrides": {"population.customers": 1500},
    "variants": [
        {"name": "baseline"},
        {"name": EVIL, "strategies": [{"kind": "promotion", "type": "spend_save",
                                       "start_day": 5, "duration_days": 20, "budget": 30_000}]},
        {"name": "校园独家", "strategies": [{"kind": "exclusive_channel", "institutions": 1,
                                         "start_day": 3, "budget": 300_000}]},
    ],
}


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "out"
    run_experiment(SPEC, out=out, executor="serial")
    write_report(out)
    return out


def test_report_is_self_contained(report_dir):
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)
    assert "@import" not in html and "url(" not in html
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(imgs) >= 8
    for name in ("forest", "trajectories", "spend_by_cause", "cumulative_net_contribution",
                 "cost_effectiveness", "channel_shares", "funnel", "ecosystem_graph"):
        assert (report_dir / "figures" / f"{name}.png").stat().st_size > 5_000
    assert (report_dir / "tables" / "summary_headline.csv").exists()


def test_user_strings_are_escaped(report_dir):
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert EVIL not in html
    assert "校园独家" in html


def test_verdicts_speak_plainly(report_dir):
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "monthly-active app users" in html and "95 % CI" in html


def test_regenerating_gives_the_same_figures(report_dir):
    before = {p.name: p.read_bytes() for p in (report_dir / "figures").glob("*.png")}
    assert main(["report", str(report_dir), "--pdf"]) == 0
    after = {p.name: p.read_bytes() for p in (report_dir / "figures").glob("*.png")}
    assert before == after
    assert (report_dir / "report.pdf").read_bytes()[:4] == b"%PDF"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("chromium not installed (CI installs it)")
    shot = tmp_path / "page.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,9000",
                    f"--screenshot={shot}", (report_dir / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[..., :3]
    colourful = (img.max(axis=2) - img.min(axis=2)) > 0.25  # plot lines, bars, nodes; not text
    assert colourful.mean() > 0.005
    # colour appears in many separate bands down the page: the figures, one after another
    bands = colourful.reshape(-1, 100, img.shape[1]).any(axis=(1, 2))
    assert bands.sum() >= 20
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom",
                          (report_dir / "report.html").as_uri()],
                         check=True, capture_output=True, timeout=120, text=True).stdout
    assert dom.count("<img") == len(list((report_dir / "figures").glob("*.png")))
    assert np.isfinite(img).all()
