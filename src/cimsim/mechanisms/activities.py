"""Mutually reinforcing activities and impact: who works where, duplication, synergy, progress.

Engaged stakeholders put effort ``capacity * intensity * alignment`` into one issue area
(a citizen agent's capacity is that of the residents it stands for).
With probability ``g`` (the gap information that shared measurement and matching give)
a stakeholder is coordinated and picks an area in proportion to its unmet need; otherwise
it works on its own preferred area. Uncoordinated efforts in an area overlap like random
picks from a finite set of opportunities (balls into bins): of D units spread over
O opportunities, ``O * (1 - exp(-D / O))`` are distinct. Sector diversity in an area adds
synergy. Progress in area a:

    P_a += rate * synergy_a * effective_a / (need_a * capacity_total * difficulty) * (1 - P_a)
           - decay * P_a

with ``rate`` and ``decay`` from ``calibration.activities``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from cimsim.kernels import pairwise_sum
from cimsim.population import ENGAGED

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def alignment(state: Initiative) -> np.ndarray:
    """How far each stakeholder pulls in the shared direction (1 = on the common agenda).

    The agenda is the effort-weighted (capacity-weighted) mean position of the engaged.
    """
    pop = state.pop
    return _alignment(
        pop.engagement == ENGAGED, pop.capacity, pop.position, state.cal.activities.alignment
    )


@njit(cache=True)
def _alignment(engaged, capacity, position, steepness):
    """Kernel of :func:`alignment`."""
    w = capacity[engaged]
    total = pairwise_sum(w)
    centre = pairwise_sum(position[engaged] * w) / total if total > 0 else 0.5
    return np.maximum(0.0, 1.0 - steepness * np.abs(position - centre))


def allocate_activities(state: Initiative, gap_info: float) -> None:
    """Engaged stakeholders choose issue areas: matched to gaps or by own preference."""
    pop, rng = state.pop, state.rng
    eng = np.flatnonzero(pop.engaged)
    coordinated = rng.random(eng.size) < gap_info
    gap = state.need * (1.0 - state.progress) - state.effort_share * state.need.sum()
    gap = np.maximum(gap, 0.0) + state.cal.activities.gap_floor
    cum = np.cumsum(gap / gap.sum())
    picks = np.searchsorted(cum, rng.random(int(coordinated.sum())), side="right")
    _allocate(eng, coordinated, picks, gap.size, pop.coordinated, pop.area, pop.preferred)


@njit(cache=True)
def _allocate(eng, coordinated, picks, n_areas, is_coordinated, area, preferred):
    """Kernel of :func:`allocate_activities`: the coordinated take their picks in turn,
    the others their preferred area."""
    is_coordinated[:] = False
    k = 0
    for j in range(eng.size):
        i = eng[j]
        if coordinated[j]:
            is_coordinated[i] = True
            area[i] = min(picks[k], n_areas - 1)
            k += 1
        else:
            area[i] = preferred[i]


LOG_SECTORS = float(np.log(4.0))
"""Entropy of effort spread evenly over the four sectors (the synergy scale)."""


def make_progress(state: Initiative, intensity: np.ndarray) -> dict[str, float]:
    """Turn this month's effort into progress per area; return duplication and coverage."""
    pop, cal = state.pop, state.cal.activities
    coord, solo, shares = _efforts(
        pop.capacity * intensity * alignment(state),
        pop.area,
        pop.coordinated,
        pop.sector,
        state.need.size,
    )
    opportunities = cal.opportunity * state.need * state.capacity_total
    gain, effective, all_effort, state.effort_share, coverage = _progress(
        coord,
        solo,
        opportunities,
        np.exp(-solo / opportunities),
        shares,
        np.log(np.maximum(shares, 1e-12)),
        state.need,
        state.progress,
        state.need * state.capacity_total * state.spec.activities.difficulty,
        cal.rate,
        cal.synergy,
        cal.decay,
    )
    state.gains.append(float(state.need @ gain))
    return {
        "duplication": 1.0 - effective / all_effort if all_effort > 0 else 0.0,
        "area_coverage": coverage,
        "effort": float(all_effort / state.capacity_total),
    }


@njit(cache=True)
def _progress(
    coord,
    solo,
    opportunities,
    overlap,
    shares,
    log_shares,
    need,
    progress,
    scale,
    rate,
    synergy,
    decay,
):
    """Kernel of :func:`make_progress` (``overlap`` is ``exp(-solo / opportunities)``):
    distinct effort per area, synergy from the sector entropy, progress. Returns the
    gain per area, the distinct and the total effort, the effort shares and the area
    coverage."""
    k = need.size
    gain = np.empty(k)
    effective = np.empty(k)
    total = np.empty(k)
    for a in range(k):
        effective[a] = coord[a] + opportunities[a] * (1.0 - overlap[a])
        total[a] = coord[a] + solo[a]
        plogp = 0.0
        for s in range(shares.shape[1]):
            plogp += shares[a, s] * log_shares[a, s] if shares[a, s] > 0 else 0.0
        boost = 1.0 + synergy * -plogp / LOG_SECTORS  # sector diversity (entropy)
        gain[a] = rate * boost * effective[a] / scale[a] * (1.0 - progress[a])
        progress[a] = min(max(progress[a] + (gain[a] - decay * progress[a]), 0.0), 1.0)
    all_effort = pairwise_sum(total)
    effort_share = total / all_effort if all_effort > 0 else np.zeros(k)
    need_share = need / pairwise_sum(need)
    coverage = pairwise_sum(np.minimum(effort_share, need_share))
    return gain, pairwise_sum(effective), all_effort, effort_share, coverage


@njit(cache=True)
def _efforts(effort, area, coordinated, sector, n_areas):
    """Kernel of :func:`make_progress`: effort per area, coordinated and not, and each
    sector's share of the effort in each area."""
    coord = np.zeros(n_areas)
    solo = np.zeros(n_areas)
    by_sector = np.zeros((n_areas, 4))
    for i in range(effort.size):
        if coordinated[i]:
            coord[area[i]] += effort[i]
        else:
            solo[area[i]] += effort[i]
        by_sector[area[i], sector[i]] += effort[i]
    shares = np.empty_like(by_sector)
    for a in range(n_areas):
        total = 0.0
        for s in range(4):
            total += by_sector[a, s]
        for s in range(4):
            shares[a, s] = by_sector[a, s] / max(total, 1e-12)
    return coord, solo, shares
