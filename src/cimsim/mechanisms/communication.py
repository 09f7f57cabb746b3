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
from numba import njit

from cimsim.population import CITIZEN

if TYPE_CHECKING:
    from cimsim.initiative import Initiative

FACE_TO_FACE_WEIGHT = 1.0
"""Effect weight of a face-to-face contact (the reference)."""


def reset_month(state: Initiative) -> None:
    """Clear last month's contacts, meeting attendance and channel exposure."""
    pop, ties = state.pop, state.ties
    ties.active[:] = False
    ties.weight[:] = 0.0
    ties.mediated[:] = False
    pop.attended[:] = False
    pop.exposure[:] = 0.0


def communicate(state: Initiative) -> None:
    """Draw this month's contacts along ties, broadcasts and door-to-door visits."""
    pop, ties, s = state.pop, state.ties, state.settings
    cal = state.cal.communication
    state.reached_by_broadcast, state.visited = _communicate(
        state.rng,
        ties.u,
        ties.v,
        pop.engagement,
        pop.sector == CITIZEN,
        np.array([cal.activity_inactive, cal.activity_aware, 1.0]),
        s.communication * cal.contact_rate,
        s.face_to_face,
        cal.written_weight,
        s.communication * (1.0 - s.face_to_face) * cal.broadcast_reach,
        s.door_to_door * cal.door_to_door_reach,
        cal.written_weight * cal.broadcast_pull,
        FACE_TO_FACE_WEIGHT * cal.visit_pull,
        ties.active,
        ties.weight,
        pop.exposure,
    )


@njit(cache=True)
def _communicate(
    rng,
    u,
    v,
    engagement,
    citizen,
    activity,
    rate,
    face_to_face,
    written_weight,
    broadcast,
    door_to_door,
    broadcast_pull,
    visit_pull,
    active,
    weight,
    exposure,
):
    """Kernel of :func:`communicate`. A tie is contacted with chance ``rate`` times the
    activity of each end (by engagement state); a contact is face to face with chance
    ``face_to_face``. Broadcasts reach anyone, visits citizens; both add exposure.
    Returns who was reached by a broadcast and who was visited."""
    contact = np.empty(u.size, np.int64)
    k = 0
    for e in range(u.size):
        if rng.random() < rate * activity[engagement[u[e]]] * activity[engagement[v[e]]]:
            contact[k] = e
            k += 1
    for j in range(k):
        active[contact[j]] = True
        weight[contact[j]] = FACE_TO_FACE_WEIGHT if rng.random() < face_to_face else written_weight
    n = engagement.size
    reached = np.empty(n, np.bool_)
    for i in range(n):
        reached[i] = rng.random() < broadcast
        if reached[i]:
            exposure[i] += broadcast_pull
    visited = np.empty(n, np.bool_)
    for i in range(n):
        visited[i] = rng.random() < door_to_door and citizen[i]
        if visited[i]:
            exposure[i] += visit_pull
    return reached, visited
