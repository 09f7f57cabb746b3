"""Recruitment, commitment and dropout: a threshold (complex) contagion.

Inactive people become aware through contacts, broadcasts, visits and workshops. An
aware stakeholder engages when its exposure exceeds its own threshold (Granovetter 1978):

    E_i = U * (3 * S_i + C_i + X_i) + X_i

with U the urgency, S_i the trust-weighted share of engaged neighbours, C_i the pull of
champions (ties to champions plus their public visibility) and X_i this month's direct
exposure (meetings, workshops, visits, broadcasts). Commitment of the engaged moves
toward a target set by trust, urgency, visible small wins and meetings, minus fatigue;
people drop out when fatigue exceeds commitment, and burn out at high fatigue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.mechanisms import trust
from cimsim.population import AWARE, ENGAGED, INACTIVE

if TYPE_CHECKING:
    from cimsim.model import CollectiveImpactModel

NEIGHBOUR_AWARENESS = 0.3
"""Chance that a contact with an aware or engaged neighbour makes an inactive person aware."""
SOCIAL_WEIGHT = 3.0
"""Weight of the trust-weighted engaged-neighbour share in the exposure."""
CHAMPION_VISIBILITY = 0.2
"""Pull of the champions on people who have no tie to them, relative to a direct tie."""
MEETING_PULL = 0.3
"""Direct exposure from attending a meeting or workshop."""
ENGAGE_RATE = 0.3
"""Monthly chance that an aware stakeholder whose exposure exceeds its threshold engages."""
COMMITMENT_RATE = 0.15
"""Monthly adjustment rate of commitment toward its target."""
DROPOUT_BASE = 0.005
DROPOUT_RATE = 0.25
"""Monthly dropout chance: base + rate * max(0, fatigue - commitment)."""
BURNOUT = 0.9
"""Fatigue above which an engaged stakeholder burns out and leaves."""


def become_aware(model: CollectiveImpactModel) -> None:
    """Inactive people become aware through contacts, broadcasts, visits and workshops."""
    pop, ties, rng = model.pop, model.ties, model.rng
    n = len(pop)
    idx = model.active_idx
    u, v = ties.u[idx], ties.v[idx]
    informed = pop.engagement != INACTIVE
    touched = np.bincount(u[informed[v]], minlength=n) + np.bincount(v[informed[u]], minlength=n)
    p = 1.0 - (1.0 - NEIGHBOUR_AWARENESS) ** touched
    hit = rng.random(n) < p
    hit |= model.reached_by_broadcast | model.visited | pop.attended
    pop.engagement[(pop.engagement == INACTIVE) & hit] = AWARE


def champion_pull(model: CollectiveImpactModel) -> np.ndarray:
    """C_i: influence of champions tied to i (times trust) plus their public visibility."""
    pop, ties = model.pop, model.ties
    n = len(pop)
    champ = pop.champion & pop.engaged
    infl = pop.influence * champ
    hit = np.flatnonzero(champ[ties.u] | champ[ties.v])  # only ties to champions count
    u, v, t = ties.u[hit], ties.v[hit], ties.trust[hit]
    direct = np.bincount(u, weights=infl[v] * t, minlength=n) + np.bincount(
        v, weights=infl[u] * t, minlength=n
    )
    n0 = max(model.initial_champions, 1)
    visibility = CHAMPION_VISIBILITY * infl[champ].sum() / n0
    return np.minimum(direct, 1.0) + visibility


def engage(model: CollectiveImpactModel) -> None:
    """Aware stakeholders whose exposure exceeds their threshold engage."""
    pop, ties, rng = model.pop, model.ties, model.rng
    n = len(pop)
    eng = pop.engaged.astype(float)
    deg = ties.degree
    social = (
        np.bincount(ties.u, weights=eng[ties.v] * ties.trust, minlength=n)
        + np.bincount(ties.v, weights=eng[ties.u] * ties.trust, minlength=n)
    ) / np.maximum(deg, 1)
    direct = pop.exposure + MEETING_PULL * pop.attended
    exposure = model.urgency * (SOCIAL_WEIGHT * social + champion_pull(model) + direct)
    joins = (pop.engagement == AWARE) & (exposure > pop.threshold) & (rng.random(n) < ENGAGE_RATE)
    joins &= ~pop.burnt_out | (rng.random(n) < 0.1)
    pop.engagement[joins] = ENGAGED
    pop.commitment[joins] = np.clip(0.3 + 0.4 * exposure[joins], 0.0, 1.0)
    pop.burnt_out[joins] = False


def update_commitment(model: CollectiveImpactModel, visible_wins: float) -> None:
    """Commitment of the engaged moves toward trust, urgency, wins and meetings, less fatigue."""
    pop = model.pop
    eng = pop.engaged
    trust_i = model.mean_trust_of(np.flatnonzero(eng))
    target = (
        0.35 * trust_i
        + 0.3 * model.urgency
        + 0.35 * visible_wins
        + 0.15 * pop.attended[eng]
        - 0.2 * pop.fatigue[eng]
    )
    c = pop.commitment[eng]
    pop.commitment[eng] = np.clip(c + COMMITMENT_RATE * (target - c), 0.0, 1.0)


def drop_out(model: CollectiveImpactModel) -> None:
    """Engaged stakeholders leave when fatigue exceeds commitment, or burn out."""
    pop, rng = model.pop, model.rng
    n = len(pop)
    eng = pop.engaged & ~pop.champion
    p = DROPOUT_BASE + DROPOUT_RATE * np.maximum(0.0, pop.fatigue - pop.commitment)
    burnt = eng & (pop.fatigue > BURNOUT)
    leaves = eng & ((rng.random(n) < p) | burnt)
    pop.engagement[leaves] = AWARE
    pop.commitment[leaves] = 0.0
    pop.burnt_out |= burnt
    leavers = np.flatnonzero(leaves)
    trust.withdraw(model, leavers)
    model.dropped = int(leaves.sum())
