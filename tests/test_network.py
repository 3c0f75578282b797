"""The social-tie generator: symmetric, no self-loops, the degree asked for."""

from __future__ import annotations

import numpy as np

from sim.network import contact_share, small_world_csr


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


def test_contact_share_fully_mixed_and_on_a_network():
    x = np.array([1, 0, 0, 1], bool)
    assert np.allclose(contact_share(None, np.full(4, 3.0), x), 0.5)
    adj = small_world_csr(4, 2, 0.0, np.random.default_rng(2))
    share = contact_share(adj, np.asarray(adj.sum(axis=1)).ravel(), x)
    assert share.shape == (4,) and ((share >= 0) & (share <= 1)).all()
