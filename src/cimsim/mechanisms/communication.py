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
    pop, ties, rng, s = state.pop, state.ties, state.rng, state.settings
    cal = state.cal.communication
    act = np.array([cal.activity_inactive, cal.activity_aware, 1.0])[pop.engagement]
    p = s.communication * cal.contact_rate * act[ties.u] * act[ties.v]
    contact = np.flatnonzero(rng.random(len(ties)) < p)
    f2f = rng.random(contact.size) < s.face_to_face
    ties.active[contact] = True
    ties.weight[contact] = np.where(f2f, FACE_TO_FACE_WEIGHT, cal.written_weight)

    n = len(pop)
    broadcast = s.communication * (1.0 - s.face_to_face) * cal.broadcast_reach
    reached = rng.random(n) < broadcast
    pop.exposure[reached] += cal.written_weight * cal.broadcast_pull
    state.reached_by_broadcast = reached

    visited = (pop.sector == CITIZEN) & (rng.random(n) < s.door_to_door * cal.door_to_door_reach)
    pop.exposure[visited] += FACE_TO_FACE_WEIGHT * cal.visit_pull
    state.visited = visited
