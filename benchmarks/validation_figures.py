"""Reproduce the figures of docs/VALIDATION.md (the same checks as ``pytest -m validation``).

Writes benchmarks/results/validation.json and docs/figures/bass.png.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim import EcosystemModel
from sim.experiment.analysis import t_interval
from sim.metrics import horizon_value

HERE = Path(__file__).parent
CITY = {"population.customers": 20_000}
SEEDS = range(6)


def bass_curve(p, q, f0, days):
    f, out = f0, []
    for _ in range(days):
        f = f + (p + q * f) * (1 - f)
        out.append(f)
    return np.array(out)


def paired(strategies, kpi, days, base=(), overrides=CITY, day=None):
    d = []
    for s in SEEDS:
        a = EcosystemModel("city", seed=s, overrides=overrides, strategies=strategies).run(days)
        b = EcosystemModel("city", seed=s, overrides=overrides, strategies=list(base)).run(days)
        d.append(horizon_value(a, kpi) - horizon_value(b, kpi) if day is None
                 else a[kpi].iloc[day] - b[kpi].iloc[day])
    return dict(zip(("mean", "ci_low", "ci_high"), t_interval(np.array(d)), strict=True))


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict = {"bass": [], "network": {}, "calibration": {}, "effects": {}}
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for p, q in [(0.003, 0.04), (0.001, 0.08), (0.01, 0.02)]:
        k = EcosystemModel("bass", seed=1, overrides={"adoption.external_rate": p,
                                                      "adoption.imitation_rate": q}).run(150)
        share = (k.app_users / k.customers).to_numpy()
        ref = bass_curve(p, q, 0.01, 150)
        out["bass"].append({"p": p, "q": q, "max_abs_error": float(np.abs(share - ref).max())})
        ax.plot(ref, color="black", lw=1)
        ax.plot(share, "--", lw=2, label=f"model, p={p}, q={q}")
    ax.set_xlabel("Day")
    ax.set_ylabel("Adopter share (fraction of customers)")
    ax.set_title("Fully mixed model (dashed) against the discrete Bass recurrence (black)")
    ax.legend(fontsize=8)
    fig.savefig(HERE.parent / "docs" / "figures" / "bass.png", dpi=110, bbox_inches="tight",
                metadata={"Software": None})
    for kind, rewire in (("complete", 0.1), ("small_world", 0.0), ("small_world", 0.1)):
        f = [float((EcosystemModel("bass", seed=s, overrides={
            "population.customers": 20_000, "social.kind": kind, "social.rewire_prob": rewire})
            .run(90).app_users.iloc[-1]) / 20_000) for s in range(3)]
        out["network"][f"{kind}/rewire={rewire}"] = float(np.mean(f))
    alipay, ratio = [], []
    for s in range(5):  # as test_city_calibration_anchors_hold_on_each_seed
        k = EcosystemModel("city", seed=s, overrides={"population.customers": 1_000_000,
                                                      "population.agents": 20_000}).run(180)
        alipay.append(float(k.volume_alipay.sum() / (k.volume_alipay.sum()
                                                     + k.volume_wechat.sum())))
        ratio.append(float((k.app_mau / k.app_users).iloc[30:].mean()))
    out["calibration"] = {"alipay_share_by_seed": alipay, "target": 55.1 / (55.1 + 38.9),
                          "mau_per_app_user_by_seed": ratio}
    campus = [{"kind": "exclusive_channel", "institutions": 4, "start_day": 20,
               "budget": 1_000_000}]
    for kpi in ("corporate_deposits", "retail_deposits", "debit_cards", "app_mau"):
        out["effects"][f"exclusive_campus/{kpi}"] = paired(campus, kpi, 180)
    waiver = [{"kind": "fee_waiver", "merchants": 300, "start_day": 10, "duration_days": 90,
               "budget": 2e6}]
    out["effects"]["fee_waiver/merchants_day99"] = paired(waiver, "merchants_on_bank", 200, day=99)
    out["effects"]["fee_waiver/merchants_day199"] = paired(waiver, "merchants_on_bank", 200)
    promo = [{"kind": "promotion", "type": "spend_save", "chains": ["business_district"],
              "start_day": 20, "duration_days": 60, "budget": 1e6}]
    out["effects"]["spend_save/mau_day60"] = paired(promo, "app_mau", 200, day=60)
    out["effects"]["spend_save/mau_day199"] = paired(promo, "app_mau", 200)
    cashback = {"kind": "promotion", "type": "cashback", "start_day": 10, "duration_days": 60,
                "budget": 1e6}
    guarded = [cashback, {"kind": "risk_control", "strength": 0.8}]
    out["effects"]["risk_control/abuse_loss"] = paired(guarded, "abuse_loss", 90, base=[cashback])
    out["effects"]["risk_control/refused_genuine"] = paired(guarded, "claims_refused_genuine", 90,
                                                            base=[cashback])
    path = HERE / "results" / "validation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
