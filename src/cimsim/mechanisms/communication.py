"""Continuous communication: contacts along ties, channels, broadcast and door-to-door.

Each month a tie is contacted with a probability that grows with the communication
setting and the engagement of both ends. A contact is face to face with probability
``settings.face_to_face``, otherwise written; the effect weight of a written contact is
``calibration.communication.written_weight`` (0.46 / 1.21 of a face-to-face one; Balliet
2010: d = 0.46 vs 1.21). Broadcasts reach people who have no contact yet; door-to-door
visits reach citizens face to face. Every chance is per person (per agent), so the share of
residents reached is the same at any resolution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from cimsim.kernels import (
    constants,
    join_stretches,
    stretch,
    uniforms_on,
    use_threads,
)
from cimsim.population import CITIZEN

if TYPE_CHECKING:
    from cimsim.initiative import Initiative

FACE_TO_FACE_WEIGHT = 1.0
"""Effect weight of a face-to-face contact (the reference)."""


def reset_month(state: Initiative) -> None:
    """Clear last month's contacts, meeting attendance and channel exposure."""
    pop, ties = state.pop, state.ties
    clear(ties.active, ties.weight, ties.mediated, pop.attended, pop.exposure)


@njit(cache=True)
def clear(active, weight, mediated, attended, exposure):
    """Kernel of :func:`reset_month` (one compiled call where five numpy calls cost more
    at the default sizes). It runs before the month's events, which hold meetings
    (``interventions.workshop``, ``link_villages``) and so write these columns."""
    active[:] = False
    weight[:] = 0.0
    mediated[:] = False
    attended[:] = False
    exposure[:] = 0.0


def communicate(state: Initiative) -> None:
    """Draw this month's contacts along ties, broadcasts and door-to-door visits."""
    pop, ties = state.pop, state.ties
    activity, constants = channels(state)
    state.reached_by_broadcast, state.visited = contact(
        state.rng,
        ties.u,
        ties.v,
        pop.engagement,
        pop.sector,
        activity,
        constants,
        ties.active,
        ties.weight,
        pop.exposure,
        use_threads(ties.u.size),
    )


def channels(state: Initiative) -> tuple[np.ndarray, tuple[float, ...]]:
    """What :func:`contact` needs of the settings: how active each engagement state is on
    its ties, and the contact rate, face-to-face share, written weight, broadcast reach,
    door-to-door reach and the pulls of a broadcast and a visit."""
    s, cal = state.settings, state.cal.communication
    return np.array([cal.activity_inactive, cal.activity_aware, 1.0]), constants(
        s.communication * cal.contact_rate,
        s.face_to_face,
        cal.written_weight,
        s.communication * (1.0 - s.face_to_face) * cal.broadcast_reach,
        s.door_to_door * cal.door_to_door_reach,
        cal.written_weight * cal.broadcast_pull,
        FACE_TO_FACE_WEIGHT * cal.visit_pull,
    )


@njit(cache=True)
def contact(rng, u, v, engagement, sector, activity, constants, active, weight, exposure, threads):
    """Kernel of :func:`communicate` (see :func:`channels` for ``constants``). A tie is
    contacted with chance ``rate`` times the activity of each end (by engagement state); a
    contact is face to face with chance ``face_to_face``. Broadcasts reach anyone, visits
    citizens; both add exposure. Returns who was reached by a broadcast and who was
    visited. ``threads``: the draws are drawn and the ties picked on that many of numba's
    threads (:func:`cimsim.kernels.use_threads`; 0: serially; the same draws and ties)."""
    rate, face_to_face, written_weight, broadcast, door_to_door, broadcast_pull, visit_pull = (
        constants
    )
    chance = uniforms_on(rng, u.size, threads)  # one draw per tie, in tie order
    n = engagement.size
    pair, states = _pair_chances(activity, rate), activity.size
    if threads:
        contacted = _contacted_threads(chance, u, v, engagement, pair, states, threads)
        k = contacted.size
    else:
        contacted = np.empty(u.size, np.int64)
        k = 0
        # no branch per tie: whether a tie is contacted cannot be predicted (this pass with
        # its draws took 91 µs a month of Malmö with the branch, 62 without)
        for e in range(u.size):
            contacted[k] = e
            k += chance[e] < pair[states * engagement[u[e]] + engagement[v[e]]]
    face = uniforms_on(rng, k, threads)
    if threads:  # the contacted ties' marks in stretches on the threads
        _meet_contacted_threads(
            contacted, face, face_to_face, written_weight, active, weight, threads
        )
    else:
        _mark_contacted(contacted, face, face_to_face, written_weight, active, weight, 0, k)
    broadcast_draw = uniforms_on(rng, n, threads)  # the broadcasts' draws, then the visits'
    visit_draw = uniforms_on(rng, n, threads)
    reached = np.empty(n, np.bool_)
    visited = np.empty(n, np.bool_)
    reach = (broadcast, door_to_door, broadcast_pull, visit_pull)
    if threads:
        _reach_threads(
            broadcast_draw, visit_draw, sector, exposure, reach, reached, visited, threads
        )
    else:
        _reach(broadcast_draw, visit_draw, sector, exposure, reach, reached, visited, 0, n)
    return reached, visited


@njit(cache=True)
def _mark_contacted(contacted, face, face_to_face, written_weight, active, weight, lo, hi):
    """Contacted ties ``lo`` to ``hi`` of :func:`contact` marked: contacted, face to face
    where their draw ``face`` is below ``face_to_face``, else written."""
    for j in range(lo, hi):
        e = contacted[j]
        active[e] = True
        weight[e] = FACE_TO_FACE_WEIGHT if face[j] < face_to_face else written_weight


@njit(cache=True, parallel=True)
def _meet_contacted_threads(contacted, face, face_to_face, written_weight, active, weight, parts):
    """:func:`_mark_contacted` in stretches on the threads (each tie is contacted once: no
    two stretches write one tie)."""
    for c in prange(parts):
        lo, hi = stretch(contacted.size, parts, c)
        _mark_contacted(contacted, face, face_to_face, written_weight, active, weight, lo, hi)


@njit(cache=True)
def _reach(broadcast_draw, visit_draw, sector, exposure, reach, reached, visited, lo, hi):
    """The broadcasts and visits of :func:`contact` for stakeholders ``lo`` to ``hi``
    (``reach``: the broadcast's reach, the visits' reach, the pull of a broadcast and of a
    visit): anyone is reached on a draw below the broadcast's reach, a citizen visited on a
    draw below the visits'; each one's exposure gains the broadcast's pull, then the
    visit's. Serially one stretch of all; on the threads one per thread
    (:func:`_reach_threads`)."""
    broadcast, door_to_door, broadcast_pull, visit_pull = reach
    for i in range(lo, hi):
        reached[i] = broadcast_draw[i] < broadcast
        if reached[i]:
            exposure[i] += broadcast_pull
        visited[i] = visit_draw[i] < door_to_door and sector[i] == CITIZEN
        if visited[i]:
            exposure[i] += visit_pull


@njit(cache=True, parallel=True)
def _reach_threads(broadcast_draw, visit_draw, sector, exposure, reach, reached, visited, parts):
    """:func:`_reach` in ``parts`` stretches of the stakeholders on the threads."""
    for c in prange(parts):
        lo, hi = stretch(sector.size, parts, c)
        _reach(broadcast_draw, visit_draw, sector, exposure, reach, reached, visited, lo, hi)


@njit(cache=True)
def _pair_chances(activity, rate):
    """The chance that a tie is contacted, by the engagement states of its ends: entry
    ``states * a + b`` is ``rate * activity[a] * activity[b]`` (the same product, in the same
    order, as for each tie). The pass over the ties looks a tie's chance up by its ends'
    states, one byte a stakeholder, where it looked up each end's activity (8 bytes a
    stakeholder) and multiplied: :func:`contact` 174 → 158 µs a Malmö month (15,364
    ties); at full scale the states stay in the cache where the activities do not."""
    states = activity.size
    pair = np.empty(states * states)
    for a in range(states):
        for b in range(states):
            pair[states * a + b] = rate * activity[a] * activity[b]
    return pair


@njit(cache=True, parallel=True)
def _contacted_threads(chance, u, v, engagement, pair, states, parts):
    """The contacted ties of :func:`contact`, in tie order, picked on the threads in
    ``parts`` stretches of the ties (:func:`cimsim.kernels.join_stretches`); each tie's
    chance looked up by its ends' states (:func:`_pair_chances`). The two-line pick is
    written out here and in :func:`contact`: shared per stretch as the other threaded
    loops' rules are, the serial pass was 1.1-1.5% slower (faster in 278-289 of 600 paired
    Malmö and Skive calls), inlined 2-5%."""
    rows = np.empty(u.size + parts, np.int64)
    counts = np.zeros(parts + 1, np.int64)
    for c in prange(parts):
        lo, hi = stretch(u.size, parts, c)
        k = lo + c
        for e in range(lo, hi):
            rows[k] = e
            k += chance[e] < pair[states * engagement[u[e]] + engagement[v[e]]]
        counts[c + 1] = k - lo - c
    return join_stretches(rows, counts)
