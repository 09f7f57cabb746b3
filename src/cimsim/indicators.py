"""The model reporters: building-block indicators, outcome and health measures.

All are floats; shares are in [0, 1]. ``REPORTERS`` fixes their names and order, which
every table (CLI, sweeps, app) uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from cimsim.kernels import (
    NUMPY,
    constants,
    flatnonzero,
    masked_mean,
    mean_at,
    np_dot,
    pairwise_sum,
)
from cimsim.population import AWARE, CITIZEN, ENGAGED, SECTORS

if TYPE_CHECKING:
    from cimsim.initiative import Initiative

UNIFORM_SD = 1.0 / np.sqrt(12.0)
"""Standard deviation of positions spread uniformly over [0, 1] (alignment 0)."""

CORE = (
    "impact",
    "common_agenda",
    "shared_measurement",
    "mutually_reinforcing",
    "communication",
    "backbone_support",
    "trust",
    "participation",
)
"""The eight headline reporters named in the model brief."""

REPORTERS = (
    CORE
    + tuple(f"participation_{s}" for s in SECTORS)
    + (
        "agenda_alignment",
        "partner_coverage",
        "partner_trust",
        "aware",
        "commitment",
        "urgency",
        "reserves",
        "fatigue",
        "dropout",
        "burnout",
        "duplication",
        "area_coverage",
        "gap_information",
        "visible_wins",
        "voice_inequality",
        "meeting_attendance",
        "ties",
        "pool_raised",
        "pool_paid",
    )
)
"""Every model reporter, in table order."""


@njit(cache=True)
def agenda_alignment(x: np.ndarray) -> float:
    """Alignment of the engaged partner organisations (those who sign up to the agenda),
    given their positions ``x``: 1 - sd(position) / sd(uniform), floored at 0; 0 with fewer
    than two engaged."""
    if x.size < 2:
        return 0.0
    dev = x - pairwise_sum(x) / x.size
    sd = np.sqrt(pairwise_sum(dev * dev) / x.size)  # numpy's std, bit for bit
    return max(0.0, 1.0 - sd / UNIFORM_SD)


def communication(state: Initiative) -> float:
    """Share of ties between engaged stakeholders that carried a contact this month."""
    return _communication(flatnonzero(state.engaged_ties()), state.ties.active)


@njit(cache=True)
def _communication(engaged_idx, active):
    """Kernel of :func:`communication`: how many of the ties between engaged stakeholders
    (``engaged_idx``) carried a contact."""
    contacted = 0
    for e in engaged_idx:
        contacted += active[e]
    return contacted / engaged_idx.size if engaged_idx.size else 0.0


def trust(state: Initiative) -> float:
    """Mean trust on this month's contacted ties (all ties if there was no contact)."""
    return _trust(state.ties.trust, state.ties.active, state.active_idx)


@njit(cache=True)
def _trust(trust, active, active_idx):
    """Kernel of :func:`trust` (``active_idx``: the contacted ties, if known)."""
    if trust.size == 0:
        return 0.0
    idx = active_idx if active_idx.size else flatnonzero(active)
    return pairwise_sum(trust[idx]) / idx.size if idx.size else pairwise_sum(trust) / trust.size


@njit(cache=True)
def voice_inequality(shares: np.ndarray) -> float:
    """Gini coefficient of participation rates across sectors present (0 = equal voice)."""
    total = pairwise_sum(shares)
    if shares.size < 2 or total == 0:
        return 0.0
    p = shares.size
    diff = np.empty(p * p)
    for i in range(p):
        for j in range(p):
            diff[i * p + j] = abs(shares[i] - shares[j])
    return pairwise_sum(diff) / (2 * p**2 * (total / p))


def compute(state: Initiative, month: dict[str, float]) -> dict[str, float]:
    """All reporters for the current month; ``month`` carries values the step computed.

    Shares of stakeholders are computed per sector and averaged over the sectors present,
    means over the engaged are weighted by capacity: both are the same at any citizen
    resolution (a citizen agent counts for the residents it stands for).
    """
    pop, ties = state.pop, state.ties
    values = reporters(
        NUMPY,
        pop.sector,
        pop.engagement,
        pop.burnt_out,
        pop.attended,
        pop.position,
        pop.capacity,
        pop.commitment,
        pop.fatigue,
        pop.reserve,
        ties.trust,
        ties.active,
        flatnonzero(state.engaged_ties()),
        flatnonzero(state.partner_ties()),
        state.active_idx,
        state.need,
        state.progress,
        constants(
            month.get("shared_measurement", 0.0),
            month.get("mutually_reinforcing", 0.0),
            min(1.0, state.backbone_support()),
            state.urgency,
            month.get("dropped", 0.0),
            month.get("duplication", 0.0),
            month.get("area_coverage", 0.0),
            month.get("gap_information", 0.0),
            month.get("visible_wins", 0.0),
            state.pool_raised,
            state.pool_paid,
            state.capacity_total,
            state.cal.population.initial_reserve,
            state.settings.initial_trust,
        ),
    )
    return dict(zip(REPORTERS, values.tolist(), strict=True))


@njit(cache=True)
def reporters(
    numpy,
    sector,
    engagement,
    burnt_out,
    attended,
    position,
    capacity,
    commitment,
    fatigue,
    reserve,
    tie_trust,
    active,
    engaged_idx,
    partner_idx,
    active_idx,
    need,
    progress,
    month,
):
    """Kernel of :func:`compute`: every reporter, in ``REPORTERS`` order. ``month`` holds
    the month's scalars: shared measurement, mutually reinforcing, backbone support,
    urgency, capacity dropped, duplication, area coverage, gap information, visible wins,
    pool raised and paid, total capacity, initial reserve and initial trust."""
    (
        shared_measurement,
        mutually_reinforcing,
        backbone_support,
        urgency,
        dropped,
        duplication,
        area_coverage,
        gap_information,
        wins,
        pool_raised,
        pool_paid,
        capacity_total,
        initial_reserve,
        initial_trust,
    ) = month
    n = sector.size
    rates, sector_means, voice, coverage, alignment = _census(
        sector, engagement, burnt_out, attended, position
    )
    weight, commit, tired, reserves = _engaged_means(
        engagement, capacity, commitment, fatigue, reserve, initial_reserve
    )
    impact = np_dot(numpy, need, progress) / pairwise_sum(need)  # numpy's @ and sum
    out = np.empty(len(REPORTERS))
    out[:8] = (  # CORE
        impact,
        alignment * coverage,
        shared_measurement,
        mutually_reinforcing,
        _communication(engaged_idx, active),
        backbone_support,
        _trust(tie_trust, active, active_idx),
        sector_means[0],
    )
    out[8 : 8 + len(SECTORS)] = rates
    out[8 + len(SECTORS) :] = (
        alignment,
        coverage,
        mean_at(tie_trust, partner_idx, initial_trust),
        sector_means[1],
        commit,
        urgency,
        reserves if n else 0.0,
        tired,
        dropped / max(weight + dropped, 1e-12),
        sector_means[2],
        duplication,
        area_coverage,
        gap_information,
        wins,
        voice,
        sector_means[3],
        float(tie_trust.size),
        pool_raised / capacity_total if n else 0.0,
        pool_paid / capacity_total if n else 0.0,
    )
    return out


@njit(cache=True)
def _census(sector, engagement, burnt_out, attended, position):
    """Kernel of :func:`compute` for the shares of stakeholders: each sector's rate of
    participation; the mean over the sectors present of the shares engaged, aware or
    engaged, burnt out and at a meeting; voice inequality; the engaged share of the
    organisations; and their agenda alignment."""
    counts = np.zeros((4, len(SECTORS)), np.int64)
    sizes = np.zeros(len(SECTORS), np.int64)
    partner_positions = np.empty(sector.size + 1)  # the engaged organisations', in order
    n_partners = 0
    for i in range(sector.size):
        s = sector[i]
        sizes[s] += 1
        counts[0, s] += engagement[i] == ENGAGED
        counts[1, s] += engagement[i] >= AWARE
        counts[2, s] += burnt_out[i]
        counts[3, s] += attended[i]
        partner_positions[n_partners] = position[i]
        n_partners += engagement[i] == ENGAGED and s != CITIZEN
    present = sizes > 0
    shares = np.zeros((4, len(SECTORS)))
    for s in range(len(SECTORS)):
        if present[s]:
            shares[:, s] = counts[:, s] / max(sizes[s], 1)
    means = np.zeros(4)
    for k in range(4):
        means[k] = masked_mean(shares[k], present, 0.0)
    organisations = engaged_organisations = 0
    for s in range(len(SECTORS)):
        if s != CITIZEN:
            organisations += sizes[s]
            engaged_organisations += counts[0, s]
    return (
        shares[0],
        means,
        voice_inequality(shares[0][present]),
        engaged_organisations / max(organisations, 1),
        agenda_alignment(partner_positions[:n_partners]),
    )


@njit(cache=True)
def _engaged_means(engagement, capacity, commitment, fatigue, reserve, initial_reserve):
    """The capacity of the engaged, their capacity-weighted mean commitment and fatigue,
    and everyone's mean reserve relative to the initial reserve (capped at 1)."""
    n = engagement.size
    terms = np.empty((4, n))  # the arrays numpy would sum, made in one pass
    for i in range(n):
        w = capacity[i] * (engagement[i] == ENGAGED)
        relative = reserve[i] / initial_reserve
        terms[0, i] = w
        terms[1, i] = commitment[i] * w
        terms[2, i] = fatigue[i] * w
        terms[3, i] = relative if relative < 1.0 or relative != relative else 1.0  # np.minimum
    total = pairwise_sum(terms[0])
    commit = pairwise_sum(terms[1]) / total if total > 0 else 0.0
    tired = pairwise_sum(terms[2]) / total if total > 0 else 0.0
    reserves = pairwise_sum(terms[3]) / max(n, 1)
    return total, commit, tired, reserves
