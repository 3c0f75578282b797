"""Build the ecosystem: populations and social ties as arrays, plus the
networkx graph that describes them.

networkx describes, CSR executes: :func:`build_world` makes the arrays the
daily step uses; :func:`ecosystem_graph` turns the same world into a graph
one can inspect, draw or export to GraphML.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim.agents.customers import CustomerPopulation
from sim.agents.merchants import MerchantBook
from sim.network import small_world_csr
from sim.payments import ChainTable
from sim.rng import Streams
from sim.scenarios.catalog import ACQUIRERS, CASH, CHAIN_CATEGORY, CHAINS
from sim.scenarios.schema import Scenario

__all__ = ["World", "build_world", "ecosystem_graph", "CUSTOMER_NODES_MAX"]

CUSTOMER_NODES_MAX = 2_000  # customers are graph nodes only up to this population


@dataclass
class World:
    """Everything the daily step needs that is built once per model."""

    customers: CustomerPopulation
    merchants: MerchantBook
    chains: ChainTable
    adjacency: sp.csr_matrix | None  # None = fully mixed population
    degree: np.ndarray               # contacts per customer (float32)


def build_world(scenario: Scenario, streams: Streams) -> World:
    """Draw the world of ``scenario`` from the ``world.*`` streams of ``streams``."""
    customers = CustomerPopulation.generate(scenario, streams.get("world.customers"))
    merchants = MerchantBook.generate(scenario, streams.get("world.merchants"))
    _ensure_a_non_bank_channel(merchants)
    rng = streams.get("world.homes")
    for c, name in enumerate(CHAINS):
        if scenario.chains[name].institutional:
            members = customers.members[c]
            members.home[:] = merchants.draw_payees(c, members.customers.size, rng)
    merchants.start_at_steady_state(expected_receipts(scenario, customers, merchants))
    n = customers.n
    if scenario.social.kind == "complete":
        adjacency, degree = None, np.full(n, max(n - 1, 1), np.float32)
    else:
        adjacency = small_world_csr(n, scenario.social.mean_degree, scenario.social.rewire_prob,
                                    streams.get("world.social"))
        degree = np.asarray(adjacency.sum(axis=1)).ravel().astype(np.float32)
    customers.attach_network(adjacency, degree)
    customers.start_at_steady_state(scenario, merchants, streams.get("world.steady"))
    return World(customers, merchants, ChainTable.from_scenario(scenario), adjacency, degree)


def expected_receipts(scenario: Scenario, customers: CustomerPopulation,
                      merchants: MerchantBook) -> np.ndarray:
    """Expected yuan per day each payee receives, from rates and mean amounts.

    A payer of chain c in segment s sends rate_c * rel_activity_s * E[amount_c]
    plus the bill flow (rate_per_day * E[bill] for random bills, E[bill] /
    period_days for periodic ones) to its home payee (institutional chains) or
    spread over the chain's payees in proportion to their weights; each simulated
    payer stands for ``customers.scale`` real ones.
    """
    out = np.zeros(merchants.n)
    for c, name in enumerate(CHAINS):
        p = scenario.chains[name]
        members = customers.members[c]
        if members.customers.size == 0:
            continue
        seg = customers.segment[members.customers]
        flow = p.rate_per_day * customers.activity[seg] * p.amount_mean_yuan
        bill_rate = {"random": p.bill.rate_per_day, "periodic": 1.0 / p.bill.period_days,
                     "none": 0.0}[p.bill.kind]
        flow = (flow + bill_rate * p.bill.amount_mean_yuan) * customers.scale
        if p.institutional:
            out += np.bincount(members.home, weights=flow, minlength=merchants.n)
        else:
            ids = merchants.chain_ids(c)
            w = merchants.weight[ids]
            out[ids] += flow.sum() * w / w.sum()
    return out


def _ensure_a_non_bank_channel(book: MerchantBook) -> None:
    """A payee whose acceptance draw left no channel but the bank app takes cash:
    only an exclusive contract makes the bank app the sole way to pay."""
    nothing = ~book.accepts_base[:, 1:].any(axis=1)
    book.accepts_base[nothing, CASH] = True


def ecosystem_graph(world: World, customer_nodes_max: int = CUSTOMER_NODES_MAX) -> nx.Graph:
    """The ecosystem as a networkx graph.

    Nodes carry ``kind`` in {bank, platform, partner, chain, institution,
    merchant, customer}; chain nodes carry ``category``; payees carry
    ``chain`` and ``acquirer``. Edges: chain - payee (``serves``), payee -
    acquirer (``acquired_by``, for the bank and the platforms), bank -
    platform (``competes``), partner - bank (``builds_for``). Customers,
    their chain memberships and social ties are included only when the
    population is at most ``customer_nodes_max``.
    """
    g = nx.Graph()
    g.add_node("bank", kind="bank", label="Focal bank")
    acquirer_node = {0: "bank", 1: "wechat_pay", 2: "alipay"}
    for name in ("wechat_pay", "alipay"):
        g.add_node(name, kind="platform", label=name)
        g.add_edge("bank", name, relation="competes")
    g.add_node("tech_partner", kind="partner", label="Technology partner")
    g.add_edge("tech_partner", "bank", relation="builds_for")
    book = world.merchants
    for chain in CHAINS:
        g.add_node(f"chain:{chain}", kind="chain", category=CHAIN_CATEGORY[chain], label=chain)
    volume = book.receipts_ema
    for j in range(book.n):
        node = f"payee:{j}"
        chain = CHAINS[book.chain[j]]
        g.add_node(node, kind="institution" if book.is_institution[j] else "merchant",
                   chain=chain, acquirer=ACQUIRERS[book.acquirer[j]],
                   receipts_per_day=float(volume[j]))
        g.add_edge(f"chain:{chain}", node, relation="serves")
        if book.acquirer[j] in acquirer_node:
            g.add_edge(node, acquirer_node[int(book.acquirer[j])], relation="acquired_by")
    pop = world.customers
    if pop.n <= customer_nodes_max:
        for i in range(pop.n):
            g.add_node(f"customer:{i}", kind="customer", has_app=bool(pop.has_app[i]),
                       has_account=bool(pop.has_account[i]))
        for c, chain in enumerate(CHAINS):
            for i in pop.members[c].customers:
                g.add_edge(f"customer:{i}", f"chain:{chain}", relation="pays_in")
        if world.adjacency is not None:
            rows, cols = world.adjacency.nonzero()
            for i, j in zip(rows[rows < cols], cols[rows < cols], strict=True):
                g.add_edge(f"customer:{i}", f"customer:{j}", relation="social")
    return g
