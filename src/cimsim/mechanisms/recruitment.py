"""Recruitment, commitment and dropout: a threshold (complex) contagion.

Inactive people become aware through contacts with engaged neighbours, broadcasts,
visits, meetings and workshops; aware residents who hear nothing more forget. An aware
stakeholder who would take part at all (``willing``; most residents never do) engages when
its exposure exceeds its own threshold plus the cost of taking part (Granovetter 1978):

    gate structure:      E_i = U * D_i
    additive structure:  E_i = U_ref * D_i + W_U * U
    D_i = SOCIAL_WEIGHT * S_i + C_i + X_i
    engages if E_i > theta_i + COST * (1 - R)

with U the urgency, S_i the trust-weighted share of engaged stakeholders among the ties that
count for i (peer organisations for an organisation, everyone for a citizen), C_i the pull
of champions (ties to champions plus their public visibility), X_i this month's direct
exposure (meetings, workshops, visits, broadcasts) and R the resource level: budgets pay
for what makes taking part affordable. Commitment of the engaged moves toward a target set
by trust, urgency, visible small wins and meetings, minus fatigue; people leave with a
base rate (competing demands, higher for residents than organisations) plus a rate for
fatigue in excess of commitment, and burn out at high fatigue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.mechanisms import trust
from cimsim.population import AWARE, CITIZEN, ENGAGED, INACTIVE

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def become_aware(state: Initiative) -> None:
    """Inactive people become aware through contacts, broadcasts, visits and workshops;
    aware residents who were not reached this month may forget."""
    pop, ties, rng, cal = state.pop, state.ties, state.rng, state.cal.recruitment
    n = len(pop)
    idx = state.active_idx
    u, v = ties.u[idx], ties.v[idx]
    eng = pop.engaged
    # contacts along the ties that count for each end (an organisation hears from its peers)
    at_u = eng[v] & ties.counts_u[idx]
    at_v = eng[u] & ties.counts_v[idx]
    touched = ties.node_sum(at_u, at_v, idx)  # engaged contacts per node
    p = 1.0 - (1.0 - cal.neighbour_awareness) ** touched
    draw = rng.random(n)
    reached = state.reached_by_broadcast | state.visited | pop.attended
    hit = (draw < p) | reached
    inactive = pop.engagement == INACTIVE
    forget = (
        (pop.engagement == AWARE)
        & (pop.sector == CITIZEN)
        & (touched == 0)
        & ~reached
        & (rng.random(n) < cal.forgetting)
    )
    pop.engagement[inactive & hit] = AWARE
    pop.engagement[forget] = INACTIVE


def champion_pull(state: Initiative) -> np.ndarray:
    """C_i: influence of champions tied to i (times trust) plus their public visibility."""
    pop, ties, cal = state.pop, state.ties, state.cal.recruitment
    champ = pop.champion & pop.engaged
    infl = pop.influence * champ
    hit = np.flatnonzero(champ[ties.u] | champ[ties.v])  # only ties to champions count
    u, v, t = ties.u[hit], ties.v[hit], ties.trust[hit]
    direct = ties.node_sum(infl[v] * t * ties.counts_u[hit], infl[u] * t * ties.counts_v[hit], hit)
    n0 = max(state.initial_champions, 1)
    visibility = cal.champion_visibility * infl[champ].sum() / n0
    return np.minimum(direct, 1.0) + visibility


def social_share(state: Initiative) -> np.ndarray:
    """S_i: the trust-weighted engaged share among the ties that count for i.

    A citizen counts every neighbour alike; an organisation weighs its peer organisations
    by their influence (organisations follow high-status peers: mimetic isomorphism,
    DiMaggio & Powell 1983), so powerless champions set no example.
    """
    pop, ties = state.pop, state.ties
    eng = pop.engaged
    org = pop.sector != CITIZEN
    # weight of the neighbour at the other end, seen from u and from v
    w_u = np.where(org[ties.u], pop.influence[ties.v], 1.0) * ties.counts_u
    w_v = np.where(org[ties.v], pop.influence[ties.u], 1.0) * ties.counts_v
    engaged_u = ties.node_sum(w_u * eng[ties.v] * ties.trust, w_v * eng[ties.u] * ties.trust)
    total = ties.node_sum(w_u, w_v)
    return np.where(total > 0, engaged_u / np.maximum(total, 1e-12), 0.0)


def exposure(state: Initiative) -> np.ndarray:
    """E_i, each stakeholder's pull toward engaging this month (see the module docstring)."""
    pop, cal = state.pop, state.cal.recruitment
    social = social_share(state)
    direct = pop.exposure + cal.meeting_pull * pop.attended
    drive = cal.social_weight * social + champion_pull(state) + direct
    if state.spec.structure.urgency == "additive":
        return cal.urgency_reference * drive + cal.urgency_weight * state.urgency
    return state.urgency * drive


def engage(state: Initiative) -> None:
    """Willing aware stakeholders whose exposure exceeds threshold plus cost engage."""
    pop, rng, cal = state.pop, state.rng, state.cal.recruitment
    n = len(pop)
    e = exposure(state)
    cost = cal.engagement_cost * (1.0 - state.resources)
    joins = (
        (pop.engagement == AWARE)
        & pop.willing
        & (e > pop.threshold + cost)
        & (rng.random(n) < cal.engage_rate)
    )
    joins &= ~pop.burnt_out | (rng.random(n) < cal.return_after_burnout)
    pop.engagement[joins] = ENGAGED
    pop.commitment[joins] = np.clip(
        cal.join_commitment_base + cal.join_commitment_slope * e[joins], 0.0, 1.0
    )
    pop.burnt_out[joins] = False


def update_commitment(state: Initiative, visible_wins: float) -> None:
    """Commitment of the engaged moves toward trust, urgency, wins and meetings, less fatigue."""
    pop, cal = state.pop, state.cal.recruitment
    eng = pop.engaged
    trust_i = state.mean_trust_of(np.flatnonzero(eng))
    target = (
        cal.commit_trust * trust_i
        + cal.commit_urgency * state.urgency
        + cal.commit_wins * visible_wins
        + cal.commit_meeting * pop.attended[eng]
        - cal.commit_fatigue * pop.fatigue[eng]
    )
    c = pop.commitment[eng]
    pop.commitment[eng] = np.clip(c + cal.commitment_rate * (target - c), 0.0, 1.0)


def drop_out(state: Initiative) -> None:
    """Engaged stakeholders leave (competing demands, fatigue over commitment) or burn out."""
    pop, rng, cal = state.pop, state.rng, state.cal.recruitment
    n = len(pop)
    eng = pop.engaged & ~pop.champion & ~pop.intern
    base = np.where(pop.sector == CITIZEN, cal.dropout_resident, cal.dropout_organisation)
    p = base + cal.dropout_rate * np.maximum(0.0, pop.fatigue - pop.commitment)
    burnt = eng & (pop.fatigue > cal.burnout)
    leaves = eng & ((rng.random(n) < p) | burnt)
    pop.engagement[leaves] = AWARE
    pop.commitment[leaves] = 0.0
    pop.burnt_out |= burnt
    leavers = np.flatnonzero(leaves)
    trust.withdraw(state, leavers)
    state.dropped = float(pop.capacity[leavers].sum())
