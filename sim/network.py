"""Social ties among customers, generated straight into sparse CSR arrays.

The hot loop only needs, for each customer, how many contacts have the bank
app: counted once with the adjacency matrix built here, then kept up to date
as apps are installed and removed (CustomerPopulation). networkx is not
involved, so the generator scales to millions of customers.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sim.kernels._base import jit

__all__ = ["small_world_csr"]


def small_world_csr(n: int, mean_degree: float, rewire_prob: float,
                    rng: np.random.Generator) -> sp.csr_matrix:
    """Undirected small-world graph (Watts & Strogatz 1998) as a CSR 0/1 matrix.

    Parameters
    ----------
    n : int
        Number of nodes (customers).
    mean_degree : float
        Target mean degree k; each node links to its ``round(k / 2)`` nearest
        successors on a ring.
    rewire_prob : float
        Probability beta that each ring edge has its far end moved to a
        uniformly random node. 0 gives a ring lattice (clustered, slow
        diffusion); 1 gives a random graph.
    rng : numpy.random.Generator
        The stream to draw from (the model's ``"world.social"`` stream).

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric n x n matrix of float32 ones, no self-loops, duplicates merged.

    Notes
    -----
    Customers are placed on the ring in random order, so ring neighbours are
    unrelated to segment. Rewiring keeps the edge count (n * round(k/2)) except
    for the few edges that collapse into self-loops or duplicates.

    References
    ----------
    Watts, D. J. & Strogatz, S. H. (1998). Collective dynamics of
    'small-world' networks. Nature 393, 440-442.
    """
    half = max(1, int(round(mean_degree / 2)))
    half = min(half, max(1, (n - 1) // 2))
    order = rng.permutation(n)
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = rng.random(src.size) < rewire_prob
    dst[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    keep = src != dst
    src, dst = order[src[keep]], order[dst[keep]]
    indptr, indices = _symmetric_csr(n, src, dst)
    return sp.csr_matrix((np.ones(indices.size, dtype=np.float32), indices, indptr),
                         shape=(n, n))


@jit
def _symmetric_csr(n, src, dst):
    """CSR structure (indptr, indices) of the undirected edges src[e]-dst[e]:
    both directions, each row's columns sorted, duplicate edges merged.

    A counting sort by row and an insertion sort within each (short) row:
    linear in the edges, where scipy's COO-to-CSR conversion with duplicate
    merging took most of a second per million customers.
    """
    start = np.zeros(n + 1, np.int64)
    for e in range(src.size):
        start[src[e] + 1] += 1
        start[dst[e] + 1] += 1
    start = np.cumsum(start)
    filled = start[:-1].copy()
    cols = np.empty(start[-1], np.int32)
    for e in range(src.size):
        cols[filled[src[e]]] = dst[e]
        filled[src[e]] += 1
        cols[filled[dst[e]]] = src[e]
        filled[dst[e]] += 1
    indptr = np.zeros(n + 1, np.int64)
    kept = 0
    for i in range(n):
        lo, hi = start[i], start[i + 1]
        for a in range(lo + 1, hi):
            v, b = cols[a], a - 1
            while b >= lo and cols[b] > v:
                cols[b + 1] = cols[b]
                b -= 1
            cols[b + 1] = v
        for a in range(lo, hi):
            if a == lo or cols[a] != cols[a - 1]:
                cols[kept] = cols[a]
                kept += 1
        indptr[i + 1] = kept
    return indptr, cols[:kept].copy()
