"""Trust on ties: builds slowly, breaks fast (Slovic 1993; Pant & Yu 2025).

A contact that ends in agreement raises trust by ``gain * w * (1 - T) * d``, where the
power damping ``d = 1 - power_damping * |influence_u - influence_v|`` applies unless the
contact was mediated by the backbone. A contact that ends in disagreement lowers it by
``loss * w * T * conflict``. Visible small wins raise trust between partners working on
the same issue area (Ansell & Gash 2008). A partner's withdrawal costs trust on its ties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def update_trust(state: Initiative) -> None:
    """Apply gains and losses on this month's contacted ties."""
    pop, ties, s = state.pop, state.ties, state.settings
    idx = state.active_idx
    if idx.size == 0:
        return
    t = ties.trust[idx]
    w = ties.weight[idx]
    power_gap = np.abs(pop.influence[ties.u[idx]] - pop.influence[ties.v[idx]])
    damp = np.where(ties.mediated[idx], 1.0, 1.0 - s.power_damping * power_gap)
    gain = s.trust_gain * w * (1.0 - t) * damp
    loss = s.trust_loss * w * t * state.cal.trust.conflict
    ties.trust[idx] = np.clip(t + np.where(state.agreed, gain, -loss), 0.0, 1.0)


def reward_small_wins(state: Initiative, visible_wins: float) -> None:
    """Visible progress raises trust between engaged partners in the same issue area."""
    pop, ties, s = state.pop, state.ties, state.settings
    if visible_wins <= 0:
        return
    both = np.flatnonzero(state.engaged_ties())
    same = both[pop.area[ties.u[both]] == pop.area[ties.v[both]]]
    t = ties.trust[same]
    ties.trust[same] = t + s.trust_gain * state.cal.trust.win_trust * visible_wins * (1.0 - t)


def withdraw(state: Initiative, leavers: np.ndarray, severity: float | None = None) -> None:
    """Trust on the ties of stakeholders who withdraw drops by ``loss * severity * T``
    (``severity`` defaults to ``calibration.trust.withdrawal``)."""
    if leavers.size == 0:
        return
    if severity is None:
        severity = state.cal.trust.withdrawal
    ties = state.ties
    mask = np.zeros(len(state.pop), bool)
    mask[leavers] = True
    hit = mask[ties.u] | mask[ties.v]
    ties.trust[hit] *= 1.0 - min(1.0, state.settings.trust_loss * severity)
