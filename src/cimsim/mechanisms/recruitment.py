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
from numba import njit

from cimsim.kernels import masked_sum
from cimsim.mechanisms import trust
from cimsim.population import AWARE, CITIZEN, ENGAGED, INACTIVE

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def become_aware(state: Initiative) -> None:
    """Inactive people become aware through contacts, broadcasts, visits and workshops;
    aware residents who were not reached this month may forget."""
    pop, ties, rng, cal = state.pop, state.ties, state.rng, state.cal.recruitment
    n = len(pop)
    touched = _engaged_contacts(
        state.active_idx, ties.u, ties.v, ties.counts_u, ties.counts_v, pop.engagement == ENGAGED
    )
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


@njit(cache=True)
def _engaged_contacts(idx, u, v, counts_u, counts_v, engaged):
    """Kernel of :func:`become_aware`: per node, this month's contacts with engaged people
    along the ties that count for it (an organisation hears from its peers)."""
    at_u = np.zeros(engaged.size)
    at_v = np.zeros(engaged.size)
    for e in idx:
        at_u[u[e]] += engaged[v[e]] and counts_u[e]
        at_v[v[e]] += engaged[u[e]] and counts_v[e]
    return at_u + at_v


def exposure(state: Initiative) -> np.ndarray:
    """E_i, each stakeholder's pull toward engaging this month (see the module docstring)."""
    pop, ties, cal = state.pop, state.ties, state.cal.recruitment
    if state.spec.structure.urgency == "additive":
        scale, shift = cal.urgency_reference, cal.urgency_weight * state.urgency
    else:
        scale, shift = state.urgency, 0.0
    return _exposure(
        ties.u,
        ties.v,
        ties.counts_u,
        ties.counts_v,
        ties.trust,
        pop.sector != CITIZEN,
        pop.influence,
        pop.engagement == ENGAGED,
        pop.champion,
        pop.exposure,
        pop.attended,
        max(state.initial_champions, 1),
        cal.champion_visibility,
        cal.meeting_pull,
        cal.social_weight,
        scale,
        shift,
    )


@njit(cache=True)
def _exposure(
    u,
    v,
    counts_u,
    counts_v,
    trust,
    org,
    influence,
    engaged,
    champion,
    direct_exposure,
    attended,
    initial_champions,
    visibility_rate,
    meeting_pull,
    social_weight,
    scale,
    shift,
):
    """Kernel of :func:`exposure`: ``scale * drive + shift``, with ``drive`` the social
    share S_i, the champions' pull C_i and the direct exposure X_i.

    S_i is the trust-weighted engaged share among the ties that count for i. A citizen
    counts every neighbour alike; an organisation weighs its peer organisations by their
    influence (organisations follow high-status peers: mimetic isomorphism, DiMaggio &
    Powell 1983), so powerless champions set no example. C_i is the influence of the
    engaged champions tied to i (times trust, at most 1) plus their public visibility.
    """
    n = influence.size
    champ_infl = influence * (champion & engaged)
    visibility = visibility_rate * masked_sum(champ_infl, champion & engaged) / initial_champions
    eng_u, eng_v, all_u, all_v = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    champ_u, champ_v = np.zeros(n), np.zeros(n)
    for e in range(u.size):
        a, b, t = u[e], v[e], trust[e]
        # weight of the neighbour at the other end, seen from a and from b
        w_a = (influence[b] if org[a] else 1.0) * counts_u[e]
        w_b = (influence[a] if org[b] else 1.0) * counts_v[e]
        eng_u[a] += w_a * engaged[b] * t
        eng_v[b] += w_b * engaged[a] * t
        all_u[a] += w_a
        all_v[b] += w_b
        champ_u[a] += champ_infl[b] * t * counts_u[e]
        champ_v[b] += champ_infl[a] * t * counts_v[e]
    e_i = np.empty(n)
    for i in range(n):
        total = all_u[i] + all_v[i]
        social = (eng_u[i] + eng_v[i]) / max(total, 1e-12) if total > 0 else 0.0
        champions = min(champ_u[i] + champ_v[i], 1.0) + visibility
        direct = direct_exposure[i] + meeting_pull * attended[i]
        e_i[i] = scale * (social_weight * social + champions + direct) + shift
    return e_i


def engage(state: Initiative) -> None:
    """Willing aware stakeholders whose exposure exceeds threshold plus cost engage."""
    pop, rng, cal = state.pop, state.rng, state.cal.recruitment
    n = len(pop)
    e = exposure(state)
    _engage(
        e,
        pop.engagement,
        pop.willing,
        pop.threshold,
        pop.burnt_out,
        pop.commitment,
        rng.random(n),
        rng.random(n),
        cal.engagement_cost * (1.0 - state.resources),
        cal.engage_rate,
        cal.return_after_burnout,
        cal.join_commitment_base,
        cal.join_commitment_slope,
    )


@njit(cache=True)
def _engage(
    e,
    engagement,
    willing,
    threshold,
    burnt_out,
    commitment,
    draw,
    draw_return,
    cost,
    rate,
    return_rate,
    base,
    slope,
):
    """Kernel of :func:`engage`."""
    for i in range(e.size):
        joins = (
            engagement[i] == AWARE and willing[i] and e[i] > threshold[i] + cost and draw[i] < rate
        )
        if joins and (not burnt_out[i] or draw_return[i] < return_rate):
            engagement[i] = ENGAGED
            commitment[i] = min(max(base + slope * e[i], 0.0), 1.0)
            burnt_out[i] = False


def update_commitment(state: Initiative, visible_wins: float) -> None:
    """Commitment of the engaged moves toward trust, urgency, wins and meetings, less fatigue."""
    pop, cal = state.pop, state.cal.recruitment
    _commit(
        pop.engagement,
        state.node_trust(),
        pop.attended,
        pop.fatigue,
        pop.commitment,
        cal.commit_trust,
        cal.commit_urgency * state.urgency,
        cal.commit_wins * visible_wins,
        cal.commit_meeting,
        cal.commit_fatigue,
        cal.commitment_rate,
    )


@njit(cache=True)
def _commit(
    engagement,
    node_trust,
    attended,
    fatigue,
    commitment,
    by_trust,
    urgency,
    wins,
    meeting,
    by_fatigue,
    rate,
):
    """Kernel of :func:`update_commitment` (``urgency`` and ``wins`` are their terms)."""
    for i in range(engagement.size):
        if engagement[i] == ENGAGED:
            target = (
                by_trust * node_trust[i]
                + urgency
                + wins
                + meeting * attended[i]
                - by_fatigue * fatigue[i]
            )
            c = commitment[i]
            commitment[i] = min(max(c + rate * (target - c), 0.0), 1.0)


def drop_out(state: Initiative) -> None:
    """Engaged stakeholders leave (competing demands, fatigue over commitment) or burn out."""
    pop, rng, cal = state.pop, state.rng, state.cal.recruitment
    n = len(pop)
    leaves, burnt = _leave(
        pop.engagement,
        pop.champion,
        pop.intern,
        pop.sector == CITIZEN,
        pop.fatigue,
        pop.commitment,
        rng.random(n),
        cal.dropout_resident,
        cal.dropout_organisation,
        cal.dropout_rate,
        cal.burnout,
    )
    pop.engagement[leaves] = AWARE
    pop.commitment[leaves] = 0.0
    pop.burnt_out[burnt] = True
    trust.withdraw(state, leaves)
    state.dropped = float(pop.capacity[leaves].sum())


@njit(cache=True)
def _leave(
    engagement,
    champion,
    intern,
    citizen,
    fatigue,
    commitment,
    draw,
    resident_rate,
    organisation_rate,
    fatigue_rate,
    burnout,
):
    """Kernel of :func:`drop_out`: who leaves, and who of them burns out (rows)."""
    leaves = np.empty(engagement.size, np.int64)
    burnt = np.empty(engagement.size, np.int64)
    n_leave = n_burnt = 0
    for i in range(engagement.size):
        if engagement[i] != ENGAGED or champion[i] or intern[i]:
            continue
        base = resident_rate if citizen[i] else organisation_rate
        p = base + fatigue_rate * max(0.0, fatigue[i] - commitment[i])
        burns = fatigue[i] > burnout
        if draw[i] < p or burns:
            leaves[n_leave] = i
            n_leave += 1
        if burns:
            burnt[n_burnt] = i
            n_burnt += 1
    return leaves[:n_leave], burnt[:n_burnt]
