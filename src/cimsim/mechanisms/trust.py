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
from numba import njit, prange

from cimsim.kernels import constants, flatnonzero, use_threads

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def update_trust(state: Initiative) -> None:
    """Apply gains and losses on this month's contacted ties."""
    ties = state.ties
    update(
        state.active_idx,
        state.agreed,
        ties.u,
        ties.v,
        ties.trust,
        ties.weight,
        ties.mediated,
        state.pop.influence,
        params(state),
        use_threads(ties.u.size),
    )


def params(state: Initiative) -> tuple[float, float, float, float]:
    """The constants of :func:`update`: power damping, trust gain, trust loss, conflict."""
    s = state.settings
    return constants(s.power_damping, s.trust_gain, s.trust_loss, state.cal.trust.conflict)


@njit(cache=True)
def update(idx, agreed, u, v, trust, weight, mediated, influence, constants, threads):
    """Kernel of :func:`update_trust` (``threads``: the ties shared among numba's threads,
    :func:`cimsim.kernels.use_threads`; the same rule per tie)."""
    if threads:
        _update_threads(idx, agreed, u, v, trust, weight, mediated, influence, constants)
        return
    damping, gain, loss, conflict = constants
    for k in range(idx.size):
        e = idx[k]
        t, w = trust[e], weight[e]
        if agreed[k]:
            damp = 1.0 if mediated[e] else 1.0 - damping * abs(influence[u[e]] - influence[v[e]])
            t = t + gain * w * (1.0 - t) * damp
        else:
            t = t + -(loss * w * t * conflict)
        trust[e] = min(max(t, 0.0), 1.0)


@njit(cache=True, parallel=True)
def _update_threads(idx, agreed, u, v, trust, weight, mediated, influence, constants):
    """:func:`update` with the contacted ties shared among the threads: the same rule,
    written out again in the loop (a kernel called per tie costs its arguments' reference
    counts every time: three times as long)."""
    damping, gain, loss, conflict = constants
    for k in prange(idx.size):
        e = idx[k]
        t, w = trust[e], weight[e]
        if agreed[k]:
            damp = 1.0 if mediated[e] else 1.0 - damping * abs(influence[u[e]] - influence[v[e]])
            t = t + gain * w * (1.0 - t) * damp
        else:
            t = t + -(loss * w * t * conflict)
        trust[e] = min(max(t, 0.0), 1.0)


def reward_small_wins(state: Initiative, visible_wins: float) -> None:
    """Visible progress raises trust between engaged partners in the same issue area."""
    pop, ties, s = state.pop, state.ties, state.settings
    if visible_wins <= 0:
        return
    gain = s.trust_gain * state.cal.trust.win_trust * visible_wins
    _reward(flatnonzero(state.engaged_ties()), ties.u, ties.v, pop.area, ties.trust, gain)


@njit(cache=True)
def _reward(engaged_idx, u, v, area, trust, gain):
    """Kernel of :func:`reward_small_wins` (``engaged_idx``: the ties between engaged
    stakeholders)."""
    for e in engaged_idx:
        if area[u[e]] == area[v[e]]:
            trust[e] = trust[e] + gain * (1.0 - trust[e])


def withdraw(state: Initiative, leavers: np.ndarray, severity: float | None = None) -> None:
    """Trust on the ties of stakeholders who withdraw drops by ``loss * severity * T``
    (``severity`` defaults to ``calibration.trust.withdrawal``)."""
    if leavers.size == 0:
        return
    ties = state.ties
    keep = keep_after_withdrawal(state, severity)
    _withdraw(leavers, len(state.pop), ties.u, ties.v, ties.trust, keep, ties.index())


def keep_after_withdrawal(state: Initiative, severity: float | None = None) -> float:
    """The share of trust a leaver's ties keep: ``1 - loss * severity`` (at least 0;
    ``severity`` defaults to ``calibration.trust.withdrawal``)."""
    if severity is None:
        severity = state.cal.trust.withdrawal
    return 1.0 - min(1.0, state.settings.trust_loss * severity)


@njit(cache=True)
def _withdraw(leavers, n, u, v, trust, keep, index):
    """Kernel of :func:`withdraw`: trust on every tie of a leaver is multiplied by ``keep``,
    once (a tie between two leavers too), reading the leavers' own ties (``index``:
    :meth:`cimsim.population.Ties.index`; ties appended since are scanned)."""
    left = np.zeros(n, np.bool_)
    for i in leavers:
        left[i] = True
    done = np.zeros(n, np.bool_)
    for i in leavers:
        if done[i]:
            continue
        done[i] = True
        for k in range(index.u_start[i], index.u_start[i + 1]):
            trust[index.u_ties[k]] *= keep
        for k in range(index.v_start[i], index.v_start[i + 1]):
            e = index.v_ties[k]
            if not left[u[e]]:  # else done at its u end
                trust[e] *= keep
    for e in range(index.u_ties.size, u.size):
        if left[u[e]] or left[v[e]]:
            trust[e] *= keep
