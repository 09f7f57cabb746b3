"""Seeded generation of the stakeholder network: sector and community blocks with bridges.

Three kinds of ties are drawn, each vectorised from the model's numpy generator, so the
network is a function of the seed:

- among organisations: ``mean_degree / 2`` draws per organisation, the source weighted by
  its sector's tie propensity (government units are hubs); the target is in the source's
  block (same sector and village; government is one municipality-wide block) with
  probability ``network.within_group``, otherwise a bridge to any organisation;
- among residents: a citizen agent has ``mean_degree`` ties on average, a share
  ``within_group`` of them to citizens of its own village; of its bridging ties a share
  ``calibration.network.resident_org_share`` go to organisations, the rest to citizens
  anywhere;
- with several villages, a bridge stays inside the village with probability
  ``calibration.network.bridge_stays_in_village`` (where the village has a target).

Every count is per agent, so a finer resolution (more citizen agents standing for fewer
residents each) keeps each citizen's neighbourhood the same and lets an organisation know
the same *share* of residents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.calibration import NetworkCal
from cimsim.kernels import searchsorted_right, sort_keys

if TYPE_CHECKING:
    import networkx as nx

CITIZEN = 1
"""Sector code of citizens (``population.CITIZEN``; population imports this module)."""


def propensity_by_sector(cal: NetworkCal) -> np.ndarray:
    """Relative tie propensity of each sector, by sector code (citizen agents = 1)."""
    return np.array(
        [cal.propensity_government, 1.0, cal.propensity_business, cal.propensity_civil_society]
    )


def propensity(sector: np.ndarray, cal: NetworkCal) -> np.ndarray:
    """Relative tie propensity of each stakeholder (citizen agents = 1)."""
    return propensity_by_sector(cal)[sector]


def _pick(
    rng: np.random.Generator,
    nodes: np.ndarray,
    weight: np.ndarray,
    group: np.ndarray,
    wanted: np.ndarray,
) -> np.ndarray:
    """For each entry of ``wanted`` draw one of ``nodes`` in that group, by weight.

    ``group`` holds each node's group id (>= 0); a wanted group with no weight falls back to
    a draw over all nodes.
    """
    if wanted.size == 0 or nodes.size == 0:
        return np.zeros(0, np.int64)
    n_groups = int(max(group.max(), wanted.max())) + 1
    order = np.argsort(group, kind="stable")
    cum = np.cumsum(weight[order])
    totals = np.bincount(group, weights=weight, minlength=n_groups)
    starts = np.concatenate(([0.0], np.cumsum(totals)[:-1]))
    empty = totals[wanted] <= 0
    lo = np.where(empty, 0.0, starts[wanted])
    width = np.where(empty, cum[-1], totals[wanted])
    idx = searchsorted_right(cum, lo + rng.random(wanted.size) * width)
    return nodes[order[np.minimum(idx, order.size - 1)]]


def _draw(
    rng: np.random.Generator,
    src: np.ndarray,
    targets: np.ndarray,
    weight: np.ndarray,
    village: np.ndarray,
    block: np.ndarray | None,
    inside: float,
    stays: float,
) -> np.ndarray:
    """Targets for the sources ``src`` among ``targets``: own block, own village or anywhere."""
    dst = np.empty(src.size, np.int64)
    if src.size == 0:
        return dst
    roll = rng.random(src.size)
    in_block = roll < inside if block is not None else np.zeros(src.size, bool)
    multi = int(village.max()) > 0
    in_village = ~in_block & (rng.random(src.size) < stays) if multi else np.zeros(src.size, bool)
    anywhere = ~in_block & ~in_village
    weight = weight[targets]
    if in_block.any():
        dst[in_block] = _pick(rng, targets, weight, block[targets], block[src[in_block]])
    if in_village.any():
        dst[in_village] = _pick(
            rng, targets, weight, village[targets].astype(np.int64), village[src[in_village]]
        )
    if anywhere.any():
        dst[anywhere] = _pick(
            rng,
            targets,
            weight,
            np.zeros(targets.size, np.int64),
            np.zeros(int(anywhere.sum()), np.int64),
        )
    return dst


def generate_ties(
    rng: np.random.Generator,
    sector: np.ndarray,
    village: np.ndarray,
    mean_degree: float,
    within_group: float,
    cal: NetworkCal | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return undirected ties (u < v, unique, no self-loops) as two int32 arrays."""
    cal = cal or NetworkCal()
    n = sector.size
    if n < 2:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    weight = propensity(sector, cal)
    village = village.astype(np.int64)
    n_villages = int(village.max()) + 1
    block = np.where(sector == 0, 0, sector.astype(np.int64) * n_villages + village + 1)
    orgs = np.flatnonzero(sector != CITIZEN)
    cits = np.flatnonzero(sector == CITIZEN)
    stays = cal.bridge_stays_in_village
    us, vs = [], []

    if orgs.size >= 2:  # among organisations
        m = int(round(orgs.size * mean_degree / 2))
        cum = np.cumsum(weight[orgs])
        src = orgs[np.minimum(searchsorted_right(cum, rng.random(m) * cum[-1]), orgs.size - 1)]
        us.append(src)
        vs.append(_draw(rng, src, orgs, weight, village, block, within_group, stays))
    if cits.size >= 1:
        k_bridge = mean_degree * (1.0 - within_group)
        n_cc = (
            cits.size * (mean_degree * within_group + k_bridge * (1.0 - cal.resident_org_share)) / 2
        )
        n_cc = int(round(n_cc)) if cits.size >= 2 else 0
        inside_share = mean_degree * within_group / (2 * n_cc / cits.size) if n_cc else 0.0
        src = cits[rng.integers(0, cits.size, n_cc)]
        us.append(src)
        vs.append(_draw(rng, src, cits, weight, village, block, min(inside_share, 1.0), stays))
        if orgs.size:
            m = int(round(cits.size * k_bridge * cal.resident_org_share))
            src = cits[rng.integers(0, cits.size, m)]
            us.append(src)
            vs.append(_draw(rng, src, orgs, weight, village, None, 0.0, stays))

    if not us:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    a, b = np.concatenate(us), np.concatenate(vs)
    u, v = np.minimum(a, b), np.maximum(a, b)
    keep = u != v
    # sort (a radix sort: kernels.sort_keys) + mask instead of np.unique: numpy 2.x's
    # hash-based unique is ~80x slower here
    key = sort_keys(u[keep] * n + v[keep])
    key = key[np.concatenate(([True], key[1:] != key[:-1]))] if key.size else key
    return (key // n).astype(np.int32), (key % n).astype(np.int32)


def to_networkx(u: np.ndarray, v: np.ndarray, n: int) -> nx.Graph:
    """The tie table as a networkx graph (nodes are stakeholder rows)."""
    import networkx as nx  # only here: the command line and the run workers never need it

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    return graph
