"""Common agenda: trust-weighted bounded-confidence exchange of agenda positions.

On every contacted tie the two ends compare positions; if they lie within the
confidence bound, each moves toward the other (Deffuant et al. 2000), by an amount
scaled by trust and channel weight and averaged over the node's contacts this month
(Hegselmann & Krause 2002). Trust widens the bound; backbone-mediated meetings widen it
further and let all attendees of a meeting move toward the meeting's mean position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cimsim.model import CollectiveImpactModel

CONVERGENCE = 0.3
"""Deffuant convergence parameter mu (share of the gap closed at trust 1, face to face)."""
MEETING_WIDENING = 0.15
"""How much a facilitated meeting widens the confidence bound."""


def confidence_bound(model: CollectiveImpactModel, trust: np.ndarray) -> np.ndarray:
    """Bound within which two stakeholders listen to each other: eps * (0.5 + trust)."""
    return model.settings.confidence * (0.5 + trust)


def exchange_agenda(model: CollectiveImpactModel) -> None:
    """Move positions of contacted partners toward each other when within the bound."""
    pop, ties = model.pop, model.ties
    idx = np.flatnonzero(ties.active)
    if idx.size == 0:
        model.agreed = np.zeros(0, bool)
        model.active_idx = idx
        return
    u, v, t, w = ties.u[idx], ties.v[idx], ties.trust[idx], ties.weight[idx]
    gap = pop.position[v] - pop.position[u]
    bound = confidence_bound(model, t) + MEETING_WIDENING * ties.mediated[idx]
    agree = np.abs(gap) < bound
    pull = CONVERGENCE * w * t * gap * agree
    n = len(pop)
    delta = np.bincount(u, weights=pull, minlength=n) - np.bincount(v, weights=pull, minlength=n)
    count = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    pop.position += delta / np.maximum(count, 1)
    np.clip(pop.position, 0.0, 1.0, out=pop.position)
    model.agreed = agree
    model.active_idx = idx


def align_in_meetings(
    model: CollectiveImpactModel,
    group: np.ndarray,
    members: np.ndarray,
    incident: np.ndarray | None = None,
) -> None:
    """Attendees move toward their meeting's mean position (widened bound, face to face)."""
    pop = model.pop
    if members.size == 0:
        return
    n_groups = int(group.max()) + 1
    x = pop.position[members]
    mean = np.bincount(group, weights=x, minlength=n_groups) / np.maximum(
        np.bincount(group, minlength=n_groups), 1
    )
    gap = mean[group] - x
    trust = model.mean_trust_of(members, incident)
    bound = confidence_bound(model, trust) + MEETING_WIDENING
    pop.position[members] = np.clip(x + CONVERGENCE * trust * gap * (np.abs(gap) < bound), 0, 1)
