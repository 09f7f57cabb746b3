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

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def confidence_bound(state: Initiative, trust: np.ndarray) -> np.ndarray:
    """Bound within which two stakeholders listen to each other: eps * (base + trust)."""
    return state.settings.confidence * (state.cal.agenda.bound_base + trust)


def exchange_agenda(state: Initiative) -> None:
    """Move positions of contacted partners toward each other when within the bound."""
    pop, ties, cal = state.pop, state.ties, state.cal.agenda
    idx = np.flatnonzero(ties.active)
    state.active_idx = idx
    if idx.size == 0:
        state.agreed = np.zeros(0, bool)
        return
    u, v, t, w = ties.u[idx], ties.v[idx], ties.trust[idx], ties.weight[idx]
    cu, cv = ties.counts_u[idx], ties.counts_v[idx]
    gap = pop.position[v] - pop.position[u]
    bound = confidence_bound(state, t) + cal.meeting_widening * ties.mediated[idx]
    agree = np.abs(gap) < bound
    pull = cal.convergence * w * t * gap * agree
    delta = ties.node_sum(pull * cu, -(pull * cv), idx)
    # Hegselmann-Krause: average over the contacts within the bound (the others are ignored)
    count = ties.node_sum(cu * agree, cv * agree, idx)
    pop.position += delta / np.maximum(count, 1)
    np.clip(pop.position, 0.0, 1.0, out=pop.position)
    state.agreed = agree


def align_in_meetings(
    state: Initiative, group: np.ndarray, members: np.ndarray, facilitated: bool
) -> None:
    """Attendees move toward their meeting's mean position (face to face; a facilitated
    meeting widens the bound)."""
    pop, cal = state.pop, state.cal.agenda
    if members.size == 0:
        return
    n_groups = int(group.max()) + 1
    x = pop.position[members]
    mean = np.bincount(group, weights=x, minlength=n_groups) / np.maximum(
        np.bincount(group, minlength=n_groups), 1
    )
    gap = mean[group] - x
    trust = state.mean_trust_of(members)
    bound = confidence_bound(state, trust) + cal.meeting_widening * facilitated
    moved = x + cal.convergence * trust * gap * (np.abs(gap) < bound)
    pop.position[members] = np.clip(moved, 0, 1)
