"""Seeded generation of the stakeholder network: sector and community blocks with bridges.

The generator is a vectorised degree-weighted stochastic block model: each tie picks a
source in proportion to its sector's tie propensity (organisations are hubs), and a
target in the source's own block (same sector and village) with probability
``network.within_group``, otherwise anywhere (a bridge; with several villages a bridge
stays in the source's village with probability ``BRIDGE_STAYS_IN_VILLAGE``).
All draws come from the model's numpy generator, so the network is a function of the seed.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

TIE_PROPENSITY = np.array([6.0, 1.0, 3.0, 3.0])
"""Relative tie propensity by sector: government, citizen, business, civil society."""

BRIDGE_STAYS_IN_VILLAGE = 0.7
"""With several villages, the share of bridging ties that stay inside the village."""


def _pick_in_groups(
    rng: np.random.Generator, group: np.ndarray, weight: np.ndarray, wanted: np.ndarray
) -> np.ndarray:
    """For each entry of ``wanted`` (a group id) draw one node of that group by weight."""
    order = np.argsort(group, kind="stable")
    cum = np.cumsum(weight[order])
    n_groups = int(group.max()) + 1
    totals = np.bincount(group, weights=weight, minlength=n_groups)
    starts = np.concatenate(([0.0], np.cumsum(totals)[:-1]))
    r = starts[wanted] + rng.random(wanted.size) * totals[wanted]
    idx = np.searchsorted(cum, r, side="right")
    return order[np.minimum(idx, order.size - 1)]


def generate_ties(
    rng: np.random.Generator,
    sector: np.ndarray,
    village: np.ndarray,
    mean_degree: float,
    within_group: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Return undirected ties (u < v, unique, no self-loops) as two int32 arrays."""
    n = sector.size
    if n < 2:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    weight = TIE_PROPENSITY[sector]
    n_ties = int(round(n * mean_degree / 2))
    n_villages = int(village.max()) + 1
    block = sector.astype(np.int64) * n_villages + village
    # government serves the whole municipality: one block regardless of village
    block = np.where(sector == 0, 0, block)
    _, block = np.unique(block, return_inverse=True)

    cum = np.cumsum(weight)
    src = np.searchsorted(cum, rng.random(n_ties) * cum[-1], side="right")
    src = np.minimum(src, n - 1)
    inside = rng.random(n_ties) < within_group
    dst = np.empty(n_ties, dtype=np.int64)
    dst[inside] = _pick_in_groups(rng, block, weight, block[src[inside]])
    bridges = np.flatnonzero(~inside)
    if n_villages > 1:
        local = rng.random(bridges.size) < BRIDGE_STAYS_IN_VILLAGE
        dst[bridges[local]] = _pick_in_groups(rng, village, weight, village[src[bridges[local]]])
        bridges = bridges[~local]
    dst[bridges] = np.minimum(
        np.searchsorted(cum, rng.random(bridges.size) * cum[-1], side="right"), n - 1
    )

    u = np.minimum(src, dst)
    v = np.maximum(src, dst)
    keep = u != v
    # sort + mask instead of np.unique: numpy 2.x's hash-based unique is ~80x slower here
    key = np.sort(u[keep] * n + v[keep])
    key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return (key // n).astype(np.int32), (key % n).astype(np.int32)


def to_networkx(u: np.ndarray, v: np.ndarray, n: int) -> nx.Graph:
    """The tie table as a networkx graph (nodes are stakeholder rows)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    return graph
