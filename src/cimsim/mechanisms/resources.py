"""Resources and fatigue: activities consume reserves, income and pooled funds refill them.

Each stakeholder holds a reserve in months of its own full activity (money = reserve x
capacity). Its activity intensity is ``a = commitment * min(1, reserve)``; a month costs
``a`` and brings income ``resources * income``. Champions and the backbone's fundraising
raise a pool of outside money each month, in proportion to the initiative's size (total
capacity); it is shared among engaged partners whose reserve is below ``needy_reserve``,
in proportion to their shortfall in money, and never pays out more than it holds (what is
not needed is not kept). Fatigue grows with work done and with the frustration of
committed people who cannot act for want of resources, and recovers with rest and with
visible small wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from cimsim.calibration import ResourcesCal
from cimsim.kernels import constants, flatnonzero, masked_sum, pairwise_sum
from cimsim.population import ENGAGED

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def activity_intensity(state: Initiative) -> np.ndarray:
    """How hard each stakeholder works this month (0 unless engaged)."""
    pop = state.pop
    return _intensity(pop.engagement, pop.commitment, pop.reserve)


@njit(cache=True)
def _intensity(engagement, commitment, reserve):
    """Kernel of :func:`activity_intensity`."""
    out = np.zeros(engagement.size)
    for i in range(engagement.size):
        if engagement[i] == ENGAGED:
            out[i] = commitment[i] * min(1.0, reserve[i])
    return out


@njit(cache=True)
def _raise(champion, engagement, influence, initial_champions, by_champions, by_fundraising, size):
    """This month's outside money (in capacity-months) raised by champions and
    fundraising (part of :func:`flow`): the engaged champions' influence (relative to the
    initial champions) times their funding rate, plus fundraising, times the size."""
    strength = masked_sum(influence, champion & (engagement == ENGAGED)) / max(initial_champions, 1)
    return (by_champions * strength + by_fundraising) * size


def share_pool(state: Initiative, pool: float) -> float:
    """Top up the reserves of needy engaged partners from the pool; return what was paid."""
    pop, cal = state.pop, state.cal.resources
    if pool <= 0:
        return 0.0
    return _share(pop.engagement, pop.reserve, pop.capacity, cal.needy_reserve, pool)


@njit(cache=True)
def _share(engagement, reserve, capacity, needy_reserve, pool):
    """Kernel of :func:`share_pool`."""
    needy = flatnonzero((engagement == ENGAGED) & (reserve < needy_reserve))
    if needy.size == 0:
        return 0.0
    months = needy_reserve - reserve[needy]
    wanted = pairwise_sum(months * capacity[needy])
    if wanted <= 0:
        return 0.0
    share = min(1.0, pool / wanted)
    for k in range(needy.size):
        reserve[needy[k]] += months[k] * share
    return wanted * share


def flow_resources(state: Initiative, intensity: np.ndarray, visible_wins: float) -> None:
    """Spend, earn and share resources; accumulate and recover fatigue."""
    pop, cal = state.pop, state.cal.resources
    state.pool_raised, state.pool_paid = flow(
        pop.engagement,
        pop.reserve,
        pop.fatigue,
        pop.commitment,
        pop.champion,
        pop.influence,
        pop.capacity,
        intensity,
        visible_wins,
        state.resources,
        state.initial_champions,
        state.backbone_function("fundraise"),
        state.capacity_total,
        params(cal),
    )


def params(cal: ResourcesCal) -> tuple[float, ...]:
    """The constants of :func:`flow`, in its order."""
    return constants(
        cal.income,
        cal.reserve_cap,
        cal.champion_funding,
        cal.fundraising,
        cal.needy_reserve,
        cal.fatigue_gain,
        cal.frustration,
        cal.fatigue_recovery,
        cal.win_recovery,
        cal.rest_recovery,
    )


@njit(cache=True)
def flow(
    engagement,
    reserve,
    fatigue,
    commitment,
    champion,
    influence,
    capacity,
    intensity,
    visible_wins,
    resources,
    initial_champions,
    fundraise_capacity,
    capacity_total,
    constants,
):
    """Kernel of :func:`flow_resources`: spending and income, the pool raised and shared,
    fatigue. Returns the pool raised and the pool paid out."""
    (
        income,
        reserve_cap,
        champion_funding,
        fundraising,
        needy_reserve,
        fatigue_gain,
        frustration,
        fatigue_recovery,
        win_recovery,
        rest_recovery,
    ) = constants
    # the shortfall that frustrates the committed is the one before this month's flows
    shortfall = _spend(engagement, reserve, intensity, resources * income, reserve_cap)
    raised = _raise(
        champion,
        engagement,
        influence,
        initial_champions,
        champion_funding * resources,
        fundraising * fundraise_capacity,
        capacity_total,
    )
    paid = _share(engagement, reserve, capacity, needy_reserve, raised) if raised > 0 else 0.0
    _tire(
        engagement,
        fatigue,
        commitment,
        intensity,
        shortfall,
        fatigue_gain,
        frustration,
        fatigue_recovery + win_recovery * visible_wins,
        rest_recovery,
    )
    return raised, paid


@njit(cache=True)
def _spend(engagement, reserve, intensity, income, cap):
    """Kernel of :func:`flow_resources`: reserves pay for the month's work and earn
    income; returns each engaged stakeholder's shortfall before the flows."""
    shortfall = np.zeros(reserve.size)
    for i in range(reserve.size):
        if engagement[i] == ENGAGED:
            shortfall[i] = max(0.0, 1.0 - reserve[i])
        reserve[i] = min(max(reserve[i] + (income - intensity[i]), 0.0), cap)
    return shortfall


@njit(cache=True)
def _tire(
    engagement, fatigue, commitment, intensity, shortfall, gain_rate, frustration, recovery, rest
):
    """Kernel of :func:`flow_resources`: fatigue grows with work and frustration and
    recovers (``recovery`` includes visible wins; the disengaged rest)."""
    for i in range(fatigue.size):
        gain = gain_rate * intensity[i] + frustration * commitment[i] * shortfall[i]
        recover = recovery + rest * fatigue[i] * (engagement[i] != ENGAGED)
        fatigue[i] = min(max(fatigue[i] + gain - recover, 0.0), 1.0)
