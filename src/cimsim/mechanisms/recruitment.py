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
from numba import njit, prange

from cimsim.calibration import RecruitmentCal
from cimsim.kernels import (
    NUMPY,
    constants,
    join_stretches,
    np_power,
    pairwise_sum,
    rows_of,
    stretch,
    uniforms_on,
    use_threads,
)
from cimsim.mechanisms import trust
from cimsim.mechanisms.trust import _withdraw
from cimsim.population import AWARE, CITIZEN, ENGAGED, INACTIVE

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def become_aware(state: Initiative) -> None:
    """Inactive people become aware through contacts, broadcasts, visits and workshops;
    aware residents who were not reached this month may forget."""
    pop, ties, cal = state.pop, state.ties, state.cal.recruitment
    aware(
        state.rng,
        NUMPY,
        state.active_idx,
        ties.u,
        ties.v,
        ties.counts_u,
        ties.counts_v,
        pop.engagement,
        pop.sector,
        state.reached_by_broadcast,
        state.visited,
        pop.attended,
        cal.neighbour_awareness,
        cal.forgetting,
        use_threads(ties.u.size),
    )


@njit(cache=True)
def aware(
    rng,
    numpy,
    idx,
    u,
    v,
    counts_u,
    counts_v,
    engagement,
    sector,
    broadcast,
    visited,
    attended,
    neighbour_awareness,
    forgetting,
    threads,
):
    """Kernel of :func:`become_aware`: each contact with an engaged person makes an
    inactive one aware with chance ``neighbour_awareness`` (``1 - (1 - a) ** contacts``,
    numpy's power, as the model always had: ``numpy`` is :data:`cimsim.kernels.NUMPY`;
    computed for those with contacts only, the others' chance being 0); broadcasts, visits
    and meetings always do. ``threads``: the contacts are counted on that many of numba's
    threads (:func:`cimsim.kernels.use_threads`; 0: serially)."""
    if threads:
        touched = _engaged_contacts_threads(idx, u, v, counts_u, counts_v, engagement, threads)
    else:
        touched = _engaged_contacts(idx, u, v, counts_u, counts_v, engagement)
    n = engagement.size
    heard = np.empty(n + 1, np.int64)  # who had a contact with an engaged person
    m = 0
    for i in range(n):
        heard[m] = i
        m += touched[i] > 0
    chance = 1.0 - np_power(numpy, 1.0 - neighbour_awareness, touched[heard[:m]])
    draw = uniforms_on(rng, n, threads)
    forget = uniforms_on(rng, n, threads)
    p = np.zeros(n)
    for k in range(m):
        p[heard[k]] = chance[k]
    for i in range(n):  # without a branch per stakeholder: states change at random
        state = engagement[i]
        reached = broadcast[i] | visited[i] | attended[i]
        wakes = (state == INACTIVE) & ((draw[i] < p[i]) | reached)
        forgets = (
            (state == AWARE)
            & (sector[i] == CITIZEN)
            & (touched[i] == 0)
            & ~reached
            & (forget[i] < forgetting)
        )
        engagement[i] = AWARE if wakes else (INACTIVE if forgets else state)


@njit(cache=True)
def _engaged_contacts(idx, u, v, counts_u, counts_v, engagement):
    """Kernel of :func:`become_aware`: per node, this month's contacts with engaged people
    along the ties that count for it (an organisation hears from its peers); whole numbers,
    so their order does not matter."""
    touched = np.zeros(engagement.size)
    for e in idx:
        a, b = u[e], v[e]
        touched[a] += engagement[b] == ENGAGED and counts_u[e]
        touched[b] += engagement[a] == ENGAGED and counts_v[e]
    return touched


@njit(cache=True, parallel=True)
def _engaged_contacts_threads(idx, u, v, counts_u, counts_v, engagement, parts):
    """:func:`_engaged_contacts` on the threads: each counts a stretch of the contacted
    ties into counts of its own, then the counts are added up per node (whole numbers: the
    same counts)."""
    n = engagement.size
    partial = np.zeros((parts, n))
    for c in prange(parts):
        lo, hi = stretch(idx.size, parts, c)
        mine = partial[c]
        for k in range(lo, hi):
            e = idx[k]
            a, b = u[e], v[e]
            mine[a] += engagement[b] == ENGAGED and counts_u[e]
            mine[b] += engagement[a] == ENGAGED and counts_v[e]
    touched = np.empty(n)
    for i in prange(n):
        total = 0.0
        for c in range(parts):
            total += partial[c, i]
        touched[i] = total
    return touched


def exposure(state: Initiative) -> np.ndarray:
    """E_i, each stakeholder's pull toward engaging this month (see the module docstring)."""
    pop, ties = state.pop, state.ties
    return drive(
        ties.u,
        ties.v,
        ties.counts_u,
        ties.counts_v,
        ties.trust,
        pop.sector,
        pop.influence,
        pop.engagement,
        pop.champion,
        pop.exposure,
        pop.attended,
        exposure_params(state),
        np.ones(len(pop), np.bool_),
        ties.index(),
        use_threads(ties.u.size),
    )


def exposure_params(state: Initiative) -> tuple[float, ...]:
    """The constants of :func:`drive`: the initial champions (at least 1), the champions'
    visibility, the pull of a meeting, the social weight, and the scale and shift the
    urgency structure gives the drive."""
    cal = state.cal.recruitment
    if state.spec.structure.urgency == "additive":
        scale, shift = cal.urgency_reference, cal.urgency_weight * state.urgency
    else:
        scale, shift = state.urgency, 0.0
    return constants(
        float(max(state.initial_champions, 1)),
        cal.champion_visibility,
        cal.meeting_pull,
        cal.social_weight,
        scale,
        shift,
    )


@njit(cache=True)
def _add_neighbour(sums, j, i, other, counts, t, people):
    """Add what a neighbour ``other`` brings stakeholder ``i`` (row ``j`` of ``sums``) over
    one tie (trust ``t``; ``counts``: whether it counts for ``i``): its engaged pull (weight
    times trust), its weight (its influence, for an organisation, else 1) and its champion's
    pull. ``people``: sector, influence, engagement and champion of every stakeholder."""
    sector, influence, engagement, champion = people
    w = (influence[other] if sector[i] != CITIZEN else 1.0) * counts
    engaged = engagement[other] == ENGAGED
    sums[0, j] += w * engaged * t
    sums[1, j] += w
    sums[2, j] += influence[other] * (champion[other] and engaged) * t * counts


@njit(cache=True, parallel=True)
def _neighbours_threads(rows, u, v, counts_u, counts_v, trust, people, index, at_u, at_v):
    """The loop over the wanted of :func:`drive`, the wanted shared among the threads (each
    one's sums in its own order, as there)."""
    for j in prange(rows.size):
        i = rows[j]
        for k in range(index.u_start[i], index.u_start[i + 1]):
            e = index.u_ties[k]
            _add_neighbour(at_u, j, i, v[e], counts_u[e], trust[e], people)
        for k in range(index.v_start[i], index.v_start[i + 1]):
            e = index.v_ties[k]
            _add_neighbour(at_v, j, i, u[e], counts_v[e], trust[e], people)


@njit(cache=True)
def drive(
    u,
    v,
    counts_u,
    counts_v,
    trust,
    sector,
    influence,
    engagement,
    champion,
    direct_exposure,
    attended,
    constants,
    wanted,
    index,
    threads,
):
    """Kernel of :func:`exposure`: ``scale * drive + shift``, with ``drive`` the social
    share S_i, the champions' pull C_i and the direct exposure X_i, for the stakeholders
    ``wanted`` (the others get NaN), summed over their own ties (``index``, a
    :class:`cimsim.population.TieIndex`) in tie order; ``threads``: the wanted are shared
    among numba's threads (:func:`cimsim.kernels.use_threads`; each one's sums the same).

    S_i is the trust-weighted engaged share among the ties that count for i. A citizen
    counts every neighbour alike; an organisation weighs its peer organisations by their
    influence (organisations follow high-status peers: mimetic isomorphism, DiMaggio &
    Powell 1983), so powerless champions set no example. C_i is the influence of the
    engaged champions tied to i (times trust, at most 1) plus their public visibility.
    """
    initial_champions, visibility_rate, meeting_pull, social_weight, scale, shift = constants
    n = influence.size
    # the wanted stakeholders, numbered 0..m-1 (in join, the few whose engage draw
    # succeeded): only their ties are read
    rows = rows_of(wanted, threads)
    m = rows.size
    slot = np.full(n, -1, np.int64)
    for j in range(m):
        slot[rows[j]] = j
    champions_engaged = np.empty(n + 1)  # their influence, in row order
    n_champions = 0
    for i in range(n):
        champions_engaged[n_champions] = influence[i]
        n_champions += champion[i] and engagement[i] == ENGAGED
    visibility = visibility_rate * pairwise_sum(champions_engaged[:n_champions]) / initial_champions
    people = (sector, influence, engagement, champion)
    # per wanted stakeholder, at its u ends and at its v ends: engaged pull, weight, champions
    at_u, at_v = np.zeros((3, m)), np.zeros((3, m))
    if threads:
        _neighbours_threads(rows, u, v, counts_u, counts_v, trust, people, index, at_u, at_v)
    else:
        for j in range(m):  # each one's ties through the index, at its u end, then its v end
            i = rows[j]
            for k in range(index.u_start[i], index.u_start[i + 1]):
                e = index.u_ties[k]
                _add_neighbour(at_u, j, i, v[e], counts_u[e], trust[e], people)
            for k in range(index.v_start[i], index.v_start[i + 1]):
                e = index.v_ties[k]
                _add_neighbour(at_v, j, i, u[e], counts_v[e], trust[e], people)
    for e in range(index.u_ties.size, u.size):  # ties appended since the index was made
        a, b = u[e], v[e]
        if slot[a] >= 0:
            _add_neighbour(at_u, slot[a], a, b, counts_u[e], trust[e], people)
        if slot[b] >= 0:
            _add_neighbour(at_v, slot[b], b, a, counts_v[e], trust[e], people)
    e_i = np.full(n, np.nan)
    for i in range(n):
        j = slot[i]
        if j < 0:
            continue
        total = at_u[1, j] + at_v[1, j]
        social = (at_u[0, j] + at_v[0, j]) / max(total, 1e-12) if total > 0 else 0.0
        champions = min(at_u[2, j] + at_v[2, j], 1.0) + visibility
        direct = direct_exposure[i] + meeting_pull * attended[i]
        e_i[i] = scale * (social_weight * social + champions + direct) + shift
    return e_i


def engage(state: Initiative) -> None:
    """Willing aware stakeholders whose exposure exceeds threshold plus cost engage."""
    pop, ties = state.pop, state.ties
    join(
        state.rng,
        ties.u,
        ties.v,
        ties.counts_u,
        ties.counts_v,
        ties.trust,
        pop.sector,
        pop.influence,
        pop.engagement,
        pop.champion,
        pop.exposure,
        pop.attended,
        pop.willing,
        pop.threshold,
        pop.burnt_out,
        pop.commitment,
        exposure_params(state),
        engage_params(state),
        ties.index(),
        use_threads(ties.u.size),
    )


def engage_params(state: Initiative) -> tuple[float, ...]:
    """The constants of :func:`join`: the cost of taking part at this resource level, the
    engage rate, the chance of returning after a burnout, and the commitment of a
    newcomer (base and slope in its exposure)."""
    cal = state.cal.recruitment
    return constants(
        cal.engagement_cost * (1.0 - state.resources),
        cal.engage_rate,
        cal.return_after_burnout,
        cal.join_commitment_base,
        cal.join_commitment_slope,
    )


@njit(cache=True)
def join(
    rng,
    u,
    v,
    counts_u,
    counts_v,
    trust,
    sector,
    influence,
    engagement,
    champion,
    direct_exposure,
    attended,
    willing,
    threshold,
    burnt_out,
    commitment,
    exposure_constants,
    constants,
    index,
    threads,
):
    """Kernel of :func:`engage` (``index``: :meth:`cimsim.population.Ties.index`). Only the
    willing aware whose engage draw succeeds can join this month, so only their exposure
    is computed (:func:`drive`; on numba's threads where ``threads``)."""
    rate = constants[1]  # the engage rate (engage_params); the rest is _join_stretch's
    draw = uniforms_on(rng, engagement.size, threads)
    draw_return = uniforms_on(rng, engagement.size, threads)
    candidate = np.empty(engagement.size, np.bool_)
    if threads:
        _candidates_threads(engagement, willing, draw, rate, candidate, threads)
    else:
        _candidates(engagement, willing, draw, rate, candidate, 0, engagement.size)
    e = drive(
        u,
        v,
        counts_u,
        counts_v,
        trust,
        sector,
        influence,
        engagement,
        champion,
        direct_exposure,
        attended,
        exposure_constants,
        candidate,
        index,
        threads,
    )
    if threads:
        _join_threads(
            candidate, e, threshold, burnt_out, draw_return, engagement, commitment,
            constants, threads,
        )  # fmt: skip
    else:
        _join_stretch(
            candidate, e, threshold, burnt_out, draw_return, engagement, commitment,
            constants, 0, engagement.size,
        )  # fmt: skip


@njit(cache=True)
def _candidates(engagement, willing, draw, rate, candidate, lo, hi):
    """The candidates of :func:`join` among stakeholders ``lo`` to ``hi``: the willing aware
    whose engage draw is below the rate."""
    for i in range(lo, hi):
        candidate[i] = engagement[i] == AWARE and willing[i] and draw[i] < rate


@njit(cache=True, parallel=True)
def _candidates_threads(engagement, willing, draw, rate, candidate, parts):
    """:func:`_candidates` in ``parts`` stretches of the stakeholders on the threads."""
    for c in prange(parts):
        lo, hi = stretch(engagement.size, parts, c)
        _candidates(engagement, willing, draw, rate, candidate, lo, hi)


@njit(cache=True)
def _join_stretch(
    candidate, e, threshold, burnt_out, draw_return, engagement, commitment, constants, lo, hi
):
    """Who of the stakeholders ``lo`` to ``hi`` joins (the last loop of :func:`join`): a
    candidate whose exposure clears its threshold plus the cost, a burnt-out one only on a
    successful return draw. Serially one stretch of all; on the threads one per thread
    (:func:`_join_threads`). A call per stretch, not per stakeholder: a rule shared per
    stakeholder through a function numba inlines made the serial loop of :func:`leave`
    five times as slow."""
    cost, _, return_rate, base, slope = constants
    for i in range(lo, hi):
        joins = candidate[i] and e[i] > threshold[i] + cost
        if joins and (not burnt_out[i] or draw_return[i] < return_rate):
            engagement[i] = ENGAGED
            commitment[i] = min(max(base + slope * e[i], 0.0), 1.0)
            burnt_out[i] = False


@njit(cache=True, parallel=True)
def _join_threads(
    candidate, e, threshold, burnt_out, draw_return, engagement, commitment, constants, parts
):
    """:func:`_join_stretch` in ``parts`` stretches of the stakeholders on the threads."""
    for c in prange(parts):
        lo, hi = stretch(engagement.size, parts, c)
        _join_stretch(
            candidate, e, threshold, burnt_out, draw_return, engagement, commitment,
            constants, lo, hi,
        )  # fmt: skip


def update_commitment(state: Initiative, visible_wins: float) -> None:
    """Commitment of the engaged moves toward trust, urgency, wins and meetings, less fatigue."""
    pop = state.pop
    commit(
        pop.engagement,
        state.node_trust(),
        pop.attended,
        pop.fatigue,
        pop.commitment,
        state.urgency,
        visible_wins,
        commitment_params(state.cal.recruitment),
    )


def commitment_params(cal: RecruitmentCal) -> tuple[float, ...]:
    """The constants of :func:`commit`, in its order."""
    return constants(
        cal.commit_trust,
        cal.commit_urgency,
        cal.commit_wins,
        cal.commit_meeting,
        cal.commit_fatigue,
        cal.commitment_rate,
    )


@njit(cache=True)
def commit(engagement, node_trust, attended, fatigue, commitment, urgency, wins, constants):
    """Kernel of :func:`update_commitment`."""
    by_trust, by_urgency, by_wins, meeting, by_fatigue, rate = constants
    urgency_term = by_urgency * urgency
    wins_term = by_wins * wins
    for i in range(engagement.size):
        if engagement[i] == ENGAGED:
            target = (
                by_trust * node_trust[i]
                + urgency_term
                + wins_term
                + meeting * attended[i]
                - by_fatigue * fatigue[i]
            )
            c = commitment[i]
            commitment[i] = min(max(c + rate * (target - c), 0.0), 1.0)


def drop_out(state: Initiative) -> None:
    """Engaged stakeholders leave (competing demands, fatigue over commitment) or burn out."""
    pop, ties = state.pop, state.ties
    state.dropped = leave(
        state.rng,
        pop.engagement,
        pop.champion,
        pop.intern,
        pop.sector,
        pop.fatigue,
        pop.commitment,
        pop.capacity,
        pop.burnt_out,
        ties.u,
        ties.v,
        ties.trust,
        trust.keep_after_withdrawal(state),
        dropout_params(state.cal.recruitment),
        ties.index(),
        use_threads(ties.u.size),
    )


def dropout_params(cal: RecruitmentCal) -> tuple[float, float, float, float]:
    """The constants of :func:`leave`: the base dropout rates of residents and of
    organisations, the rate per unit of fatigue over commitment, the burnout level."""
    return constants(cal.dropout_resident, cal.dropout_organisation, cal.dropout_rate, cal.burnout)


@njit(cache=True)
def leave(
    rng,
    engagement,
    champion,
    intern,
    sector,
    fatigue,
    commitment,
    capacity,
    burnt_out,
    u,
    v,
    trust,
    keep,
    constants,
    index,
    threads,
):
    """Kernel of :func:`drop_out`: who leaves and who burns out; the trust on leavers'
    ties is multiplied by ``keep`` (``index``: :meth:`cimsim.population.Ties.index`).
    Returns the capacity that left. ``threads``: the draws and the stakeholders in
    stretches on numba's threads (:func:`cimsim.kernels.use_threads`; 0: serially; the
    same leavers in the same order)."""
    draw = uniforms_on(rng, engagement.size, threads)
    if threads:
        leaves = _leave_threads(
            draw, engagement, champion, intern, sector, fatigue, commitment, burnt_out,
            constants, threads,
        )  # fmt: skip
    else:
        leaves = np.empty(engagement.size, np.int64)
        n_leave = _leave_stretch(
            draw, engagement, champion, intern, sector, fatigue, commitment, burnt_out,
            constants, 0, engagement.size, leaves, 0,
        )  # fmt: skip
        leaves = leaves[:n_leave]
    if leaves.size:
        _withdraw(leaves, engagement.size, u, v, trust, keep, index)
    return pairwise_sum(capacity[leaves])


@njit(cache=True)
def _leave_stretch(
    draw, engagement, champion, intern, sector, fatigue, commitment, burnt_out, constants,
    lo, hi, rows, k,
):  # fmt: skip
    """Who of the stakeholders ``lo`` to ``hi`` leaves (the loop of :func:`leave`): an
    engaged one who is neither a champion nor an intern, on a draw against its sector's
    rate plus the fatigue beyond its commitment, or when burnt out. The leavers' rows are
    written into ``rows`` from ``k`` on; returns where they end. Serially one stretch of
    all; on the threads one per thread (:func:`_leave_threads`)."""
    resident_rate, organisation_rate, fatigue_rate, burnout = constants
    for i in range(lo, hi):
        if engagement[i] != ENGAGED or champion[i] or intern[i]:
            continue
        base = resident_rate if sector[i] == CITIZEN else organisation_rate
        p = base + fatigue_rate * max(0.0, fatigue[i] - commitment[i])
        burns = fatigue[i] > burnout
        if draw[i] < p or burns:
            rows[k] = i
            k += 1
            engagement[i] = AWARE
            commitment[i] = 0.0
        if burns:
            burnt_out[i] = True
    return k


@njit(cache=True, parallel=True)
def _leave_threads(
    draw, engagement, champion, intern, sector, fatigue, commitment, burnt_out, constants, parts
):
    """:func:`_leave_stretch` in ``parts`` stretches of the stakeholders on the threads;
    the leavers in row order (:func:`cimsim.kernels.join_stretches`)."""
    n = engagement.size
    rows = np.empty(n + parts, np.int64)
    counts = np.zeros(parts + 1, np.int64)
    for c in prange(parts):
        lo, hi = stretch(n, parts, c)
        end = _leave_stretch(
            draw, engagement, champion, intern, sector, fatigue, commitment, burnt_out,
            constants, lo, hi, rows, lo + c,
        )  # fmt: skip
        counts[c + 1] = end - lo - c
    return join_stretches(rows, counts)
