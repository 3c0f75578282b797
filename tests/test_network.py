"""The social-tie generator: symmetric, no self-loops, the degree asked for."""

from __future__ import annotations

import numpy as np

from sim import EcosystemModel
from sim.network import small_world_csr


def test_small_world_is_symmetric_simple_and_has_the_mean_degree():
    adj = small_world_csr(5000, 10, 0.1, np.random.default_rng(0))
    assert (adj != adj.T).nnz == 0
    assert adj.diagonal().sum() == 0
    assert set(np.unique(adj.data)) == {1.0}
    degree = np.asarray(adj.sum(axis=1)).ravel()
    assert abs(degree.mean() - 10) < 0.2


def test_ring_lattice_without_rewiring_is_regular():
    adj = small_world_csr(100, 4, 0.0, np.random.default_rng(1))
    assert set(np.asarray(adj.sum(axis=1)).ravel()) == {4.0}


def test_incremental_peer_counts_equal_a_recount_after_installs_and_uninstalls():
    """Counts kept up to date install by install equal a fresh A @ has_app."""
    model = EcosystemModel("city", seed=4, overrides={
        "population.customers": 3000, "adoption.uninstall_rate_per_day": 0.05},
        strategies=[{"kind": "referral", "start_day": 1, "duration_days": 40,
                     "invite_rate_per_day": 0.2}])
    pop = model.customers
    before = pop.has_app.copy()
    model.run(60)
    assert (pop.has_app != before).sum() > 100  # plenty of changes both ways
    recount = pop.adjacency @ pop.has_app.astype(np.float32)
    np.testing.assert_array_equal(pop.app_contacts, recount)
    assert pop.app_count == int(pop.has_app.sum())
    share = pop.peer_share()
    assert ((share >= 0) & (share <= 1)).all()


def test_fully_mixed_peer_share_is_the_population_share():
    model = EcosystemModel("bass", seed=0, overrides={"population.customers": 500})
    model.run(5)
    pop = model.customers
    assert np.allclose(pop.peer_share(), pop.has_app.mean())
