"""Continuous communication: contacts along ties, channels, broadcast and door-to-door.

Each month a tie is contacted with a probability that grows with the communication
setting and the engagement of both ends. A contact is face to face with probability
``settings.face_to_face``, otherwise written; the effect weight of a written contact is
0.46 / 1.21 of a face-to-face one (Balliet 2010: d = 0.46 vs 1.21). Broadcasts reach
people who have no contact yet; door-to-door visits reach citizens face to face.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.population import CITIZEN

if TYPE_CHECKING:
    from cimsim.model import CollectiveImpactModel

FACE_TO_FACE_WEIGHT = 1.0
WRITTEN_WEIGHT = 0.46 / 1.21
"""Effect of a written or broadcast contact relative to face to face (Balliet 2010)."""
CONTACT_RATE = 0.6
"""Monthly contact probability of a tie between two engaged ends at communication = 1."""
ACTIVITY = np.array([0.15, 0.5, 1.0])
"""Contact propensity by engagement level: inactive, aware, engaged."""
BROADCAST_REACH = 0.06
"""Monthly chance that a broadcast at full intensity reaches one person."""
DOOR_TO_DOOR_REACH = 0.08
"""Monthly share of citizens visited at ``settings.door_to_door`` = 1."""
BROADCAST_PULL = 0.3
VISIT_PULL = 0.4
"""Direct engagement exposure of a broadcast and of a door-to-door visit (before weights)."""


def reset_month(model: CollectiveImpactModel) -> None:
    """Clear last month's contacts, meeting attendance and channel exposure."""
    pop, ties = model.pop, model.ties
    ties.active[:] = False
    ties.weight[:] = 0.0
    ties.mediated[:] = False
    pop.attended[:] = False
    pop.exposure[:] = 0.0


def communicate(model: CollectiveImpactModel) -> None:
    """Draw this month's contacts along ties, broadcasts and door-to-door visits."""
    pop, ties, rng, s = model.pop, model.ties, model.rng, model.settings
    act = ACTIVITY[pop.engagement]
    p = s.communication * CONTACT_RATE * act[ties.u] * act[ties.v]
    contact = np.flatnonzero(rng.random(len(ties)) < p)
    f2f = rng.random(contact.size) < s.face_to_face
    ties.active[contact] = True
    ties.weight[contact] = np.where(f2f, FACE_TO_FACE_WEIGHT, WRITTEN_WEIGHT)

    n = len(pop)
    broadcast = s.communication * (1.0 - s.face_to_face) * BROADCAST_REACH
    reached = rng.random(n) < broadcast
    pop.exposure[reached] += WRITTEN_WEIGHT * BROADCAST_PULL
    model.reached_by_broadcast = reached

    visited = (pop.sector == CITIZEN) & (rng.random(n) < s.door_to_door * DOOR_TO_DOOR_REACH)
    pop.exposure[visited] += FACE_TO_FACE_WEIGHT * VISIT_PULL
    model.visited = visited
