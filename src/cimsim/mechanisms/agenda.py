"""Common agenda: trust-weighted bounded-confidence exchange of agenda positions.

On every contacted tie the two ends compare positions; if they lie within the
confidence bound, each moves toward the other (Deffuant et al. 2000), by an amount
scaled by trust and channel weight and averaged over the node's contacts this month
that lie within the bound (Hegselmann & Krause 2002). An organisation moves only through
contacts with peer organisations (and in meetings); a citizen through all its contacts.
Trust widens the bound. In meetings all attendees move toward the meeting's mean position; meetings
facilitated by the backbone (and workshops) widen the bound further, meetings that
government partners convene themselves do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from cimsim.kernels import constants, flatnonzero, rows_of, stretch, use_threads

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def confidence_bound(state: Initiative, trust: np.ndarray) -> np.ndarray:
    """Bound within which two stakeholders listen to each other: eps * (base + trust)."""
    return state.settings.confidence * (state.cal.agenda.bound_base + trust)


def exchange_agenda(state: Initiative) -> None:
    """Move positions of contacted partners toward each other when within the bound."""
    pop, ties = state.pop, state.ties
    state.active_idx, state.agreed = exchange(
        ties.active,
        ties.u,
        ties.v,
        ties.trust,
        ties.weight,
        ties.mediated,
        ties.counts_u,
        ties.counts_v,
        pop.position,
        params(state),
        use_threads(ties.u.size),
    )


def params(state: Initiative) -> tuple[float, float, float, float]:
    """The constants of :func:`exchange`: the confidence setting, the bound's base, the
    widening of a mediated contact and the convergence rate."""
    cal = state.cal.agenda
    return constants(
        state.settings.confidence, cal.bound_base, cal.meeting_widening, cal.convergence
    )


@njit(cache=True)
def exchange(
    active, u, v, trust, weight, mediated, counts_u, counts_v, position, constants, threads
):
    """Kernel of :func:`exchange_agenda`: pulls summed per node over the contacted ties,
    then each position moves by its mean pull. Returns the contacted ties and which of
    them agreed. ``threads``: the pulls are worked out and the positions moved on numba's
    threads (:func:`cimsim.kernels.use_threads`; :func:`_exchange_threads`)."""
    if threads:
        return _exchange_threads(
            active, u, v, trust, weight, mediated, counts_u, counts_v, position, constants, threads
        )
    confidence, base, widening, rate = constants
    idx = flatnonzero(active)
    n = position.size
    pull_u, pull_v = np.zeros(n), np.zeros(n)
    count_u, count_v = np.zeros(n), np.zeros(n)
    agree = np.empty(idx.size, np.bool_)
    if idx.size == 0:
        return idx, agree
    for k in range(idx.size):
        e = idx[k]
        a, b, t = u[e], v[e], trust[e]
        gap = position[b] - position[a]
        bound = confidence * (base + t) + widening * mediated[e]
        agree[k] = abs(gap) < bound
        pull = rate * weight[e] * t * gap * agree[k]
        pull_u[a] += pull * counts_u[e]
        pull_v[b] += -(pull * counts_v[e])
        count_u[a] += counts_u[e] and agree[k]
        count_v[b] += counts_v[e] and agree[k]
    for i in range(n):
        moved = position[i] + (pull_u[i] + pull_v[i]) / max(count_u[i] + count_v[i], 1.0)
        position[i] = min(max(moved, 0.0), 1.0)
    return idx, agree


@njit(cache=True)
def _exchange_threads(
    active, u, v, trust, weight, mediated, counts_u, counts_v, position, constants, threads
):
    """:func:`exchange` on the threads: the pulls are worked out there (with the contacted
    ties' ends copied into rows of their own, :func:`_pulls_threads`), then added up and
    the positions moved there (:func:`_move_threads`). The same rule, written out again (a
    kernel called per tie costs its arguments' reference counts every time)."""
    idx = rows_of(active, threads)
    agree = np.empty(idx.size, np.bool_)
    if idx.size == 0:
        return idx, agree
    pulls, a_of, b_of, at_a, at_b = _pulls_threads(
        idx, u, v, trust, weight, mediated, counts_u, counts_v, position, constants, agree
    )
    _move_threads(position, pulls, a_of, b_of, at_a, at_b, agree, threads)
    return idx, agree


@njit(cache=True, parallel=True)
def _pulls_threads(
    idx, u, v, trust, weight, mediated, counts_u, counts_v, position, constants, agree
):
    """Whether each contacted tie's ends agree (into ``agree``) and the pull of its v end on
    its u end, on the threads; with its ends and whether it counts for each, in rows of
    their own (row ``k`` for tie ``idx[k]``)."""
    confidence, base, widening, rate = constants
    m = idx.size
    pulls = np.empty(m)
    a_of, b_of = np.empty(m, u.dtype), np.empty(m, v.dtype)
    at_a, at_b = np.empty(m, counts_u.dtype), np.empty(m, counts_v.dtype)
    for k in prange(m):
        e = idx[k]
        a, b, t = u[e], v[e], trust[e]
        gap = position[b] - position[a]
        bound = confidence * (base + t) + widening * mediated[e]
        agree[k] = abs(gap) < bound
        pulls[k] = rate * weight[e] * t * gap * agree[k]
        a_of[k], b_of[k], at_a[k], at_b[k] = a, b, counts_u[e], counts_v[e]
    return pulls, a_of, b_of, at_a, at_b


@njit(cache=True, parallel=True)
def _move_threads(position, pulls, a_of, b_of, at_a, at_b, agree, parts):
    """The pulls of :func:`_pulls_threads` added up per node and each position moved by
    its mean pull, as in :func:`exchange`, in ``parts`` stretches of the nodes on the
    threads: each stretch reads every contacted tie in tie order and adds those with an end
    among its nodes, so every node's sums are the serial ones (in tie order), and moves its
    nodes (their sums are then complete). Adding them up on one thread took 4% of a
    full-scale month on two threads (scattered over 360,000 nodes)."""
    n, m = position.size, pulls.size
    pull_u, pull_v = np.empty(n), np.empty(n)
    count_u, count_v = np.empty(n), np.empty(n)
    for c in prange(parts):
        lo, hi = stretch(n, parts, c)
        for i in range(lo, hi):
            pull_u[i] = pull_v[i] = count_u[i] = count_v[i] = 0.0
        for k in range(m):
            a, b, pull = a_of[k], b_of[k], pulls[k]
            if lo <= a < hi:
                pull_u[a] += pull * at_a[k]
                count_u[a] += at_a[k] and agree[k]
            if lo <= b < hi:
                pull_v[b] += -(pull * at_b[k])
                count_v[b] += at_b[k] and agree[k]
        for i in range(lo, hi):
            moved = position[i] + (pull_u[i] + pull_v[i]) / max(count_u[i] + count_v[i], 1.0)
            position[i] = min(max(moved, 0.0), 1.0)


@njit(cache=True)
def align(members, group, n_groups, position, node_trust, confidence, base, widening, rate):
    """Attendees move toward their meeting's mean position (face to face; a facilitated
    meeting widens the bound: ``widening``); one pass for the means, one for the moves.
    Part of :func:`cimsim.mechanisms.backbone.meet`."""
    total = np.zeros(n_groups)
    count = np.zeros(n_groups)
    for k in range(members.size):
        total[group[k]] += position[members[k]]
        count[group[k]] += 1.0
    for k in range(members.size):
        i = members[k]
        x = position[i]
        gap = total[group[k]] / max(count[group[k]], 1.0) - x
        t = node_trust[i]
        bound = confidence * (base + t) + widening
        moved = x + rate * t * gap * (abs(gap) < bound)
        position[i] = min(max(moved, 0.0), 1.0)
