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

from cimsim.calibration import ActivitiesCal
from cimsim.kernels import (
    NUMPY,
    constants,
    flatnonzero,
    np_dot,
    np_exp,
    np_log,
    pairwise_sum,
    uniforms,
)
from cimsim.population import ENGAGED

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def alignment(state: Initiative) -> np.ndarray:
    """How far each stakeholder pulls in the shared direction (1 = on the common agenda).

    The agenda is the effort-weighted (capacity-weighted) mean position of the engaged.
    """
    pop = state.pop
    return _alignment(pop.engagement, pop.capacity, pop.position, state.cal.activities.alignment)


@njit(cache=True)
def _alignment(engagement, capacity, position, steepness):
    """Kernel of :func:`alignment`."""
    centre = _agenda(engagement, capacity, position)
    return np.maximum(0.0, 1.0 - steepness * np.abs(position - centre))


@njit(cache=True)
def _agenda(engagement, capacity, position):
    """The capacity-weighted mean position of the engaged (0.5 without capacity): the
    engaged's capacities and weighted positions in order, summed as numpy would."""
    n = capacity.size
    w, pw = np.empty(n), np.empty(n)
    k = 0
    for i in range(n):
        if engagement[i] == ENGAGED:
            w[k] = capacity[i]
            pw[k] = position[i] * capacity[i]
            k += 1
    total = pairwise_sum(w[:k])
    return pairwise_sum(pw[:k]) / total if total > 0 else 0.5


@njit(cache=True)
def _aligned_effort(engagement, capacity, intensity, position, steepness):
    """``capacity * intensity * _alignment(...)`` in one pass, without the temporaries of
    that array expression (eight arrays a stakeholder long; the same numbers)."""
    centre = _agenda(engagement, capacity, position)
    effort = np.empty(capacity.size)
    for i in range(capacity.size):
        pull = 1.0 - steepness * abs(position[i] - centre)
        effort[i] = capacity[i] * intensity[i] * (0.0 if 0.0 >= pull else pull)  # np.maximum
    return effort


def allocate_activities(state: Initiative, gap_info: float) -> None:
    """Engaged stakeholders choose issue areas: matched to gaps or by own preference."""
    pop = state.pop
    choose_areas(
        state.rng,
        pop.engagement,
        gap_info,
        state.need,
        state.progress,
        state.effort_share,
        state.cal.activities.gap_floor,
        pop.coordinated,
        pop.area,
        pop.preferred,
    )


@njit(cache=True)
def choose_areas(
    rng,
    engagement,
    gap_info,
    need,
    progress,
    effort_share,
    gap_floor,
    is_coordinated,
    area,
    preferred,
):
    """Kernel of :func:`allocate_activities`: each engaged stakeholder is coordinated with
    chance ``gap_info``; the coordinated, in turn, pick an area in proportion to its unmet
    need (plus ``gap_floor``), the others take their preferred area."""
    eng = flatnonzero(engagement == ENGAGED)
    coordinated = uniforms(rng, eng.size) < gap_info
    total_need = pairwise_sum(need)
    gap = np.empty(need.size)
    for a in range(need.size):
        gap[a] = max(need[a] * (1.0 - progress[a]) - effort_share[a] * total_need, 0.0) + gap_floor
    cum = np.cumsum(gap / pairwise_sum(gap))
    picks = np.searchsorted(cum, uniforms(rng, np.count_nonzero(coordinated)), side="right")
    is_coordinated[:] = False
    k = 0
    for j in range(eng.size):
        i = eng[j]
        if coordinated[j]:
            is_coordinated[i] = True
            area[i] = min(picks[k], need.size - 1)
            k += 1
        else:
            area[i] = preferred[i]


LOG_SECTORS = float(np.log(4.0))
"""Entropy of effort spread evenly over the four sectors (the synergy scale)."""


def make_progress(state: Initiative, intensity: np.ndarray) -> dict[str, float]:
    """Turn this month's effort into progress per area; return duplication and coverage."""
    pop, cal = state.pop, state.cal.activities
    gain, duplication, coverage, effort = progress_areas(
        NUMPY,
        pop.engagement,
        pop.capacity,
        pop.position,
        pop.area,
        pop.coordinated,
        pop.sector,
        intensity,
        state.need,
        state.progress,
        state.effort_share,
        state.capacity_total,
        state.spec.activities.difficulty,
        params(cal),
    )
    state.gains.append(gain)
    return {"duplication": duplication, "area_coverage": coverage, "effort": effort}


def params(cal: ActivitiesCal) -> tuple[float, float, float, float, float]:
    """The constants of :func:`progress_areas`: alignment steepness, opportunity, rate,
    synergy and decay."""
    return constants(cal.alignment, cal.opportunity, cal.rate, cal.synergy, cal.decay)


@njit(cache=True)
def progress_areas(
    numpy,
    engagement,
    capacity,
    position,
    area,
    coordinated,
    sector,
    intensity,
    need,
    progress,
    effort_share,
    capacity_total,
    difficulty,
    constants,
):
    """Kernel of :func:`make_progress`: effort per area, its overlap, synergy and progress
    (``progress`` and ``effort_share`` are updated in place). Returns the month's gross
    gain (need-weighted), the duplication, the area coverage and the effort per capacity.
    ``exp``, ``log`` and the dot product are numpy's own (``numpy``:
    :data:`cimsim.kernels.NUMPY`), as the model always had."""
    steepness, opportunity, rate, synergy, decay = constants
    effort = _aligned_effort(engagement, capacity, intensity, position, steepness)
    coord, solo, shares = _efforts(effort, area, coordinated, sector, need.size)
    opportunities = opportunity * need * capacity_total
    overlap = np_exp(numpy, -solo / opportunities)
    log_shares = np_log(numpy, np.maximum(shares, 1e-12).ravel()).reshape(shares.shape)
    gain, effective, all_effort, share, coverage = _progress(
        coord,
        solo,
        opportunities,
        overlap,
        shares,
        log_shares,
        need,
        progress,
        need * capacity_total * difficulty,
        rate,
        synergy,
        decay,
    )
    effort_share[:] = share
    gross = np_dot(numpy, need, gain)
    duplication = 1.0 - effective / all_effort if all_effort > 0 else 0.0
    return gross, duplication, coverage, all_effort / capacity_total


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
