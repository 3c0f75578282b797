"""Shared fixtures: small, fast models (a few thousand customers)."""

from __future__ import annotations

import pytest

from sim import EcosystemModel

SMALL = {"population.customers": 3000}


@pytest.fixture(scope="session")
def baseline_run():
    """A 3,000-customer city run for 60 days (model, kpis), shared read-only."""
    model = EcosystemModel("city", seed=7, overrides=SMALL)
    kpis = model.run(60)
    return model, kpis
