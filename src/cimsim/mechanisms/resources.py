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

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def activity_intensity(state: Initiative) -> np.ndarray:
    """How hard each stakeholder works this month (0 unless engaged)."""
    pop = state.pop
    return np.where(pop.engaged, pop.commitment * np.minimum(1.0, pop.reserve), 0.0)


def raise_pool(state: Initiative) -> float:
    """This month's outside money (in capacity-months) raised by champions and fundraising."""
    pop, cal = state.pop, state.cal.resources
    champ = pop.champion & pop.engaged
    strength = pop.influence[champ].sum() / max(state.initial_champions, 1)
    rate = cal.champion_funding * state.resources * strength
    rate += cal.fundraising * state.backbone_function("fundraise")
    return float(rate * state.capacity_total)


def share_pool(state: Initiative, pool: float) -> float:
    """Top up the reserves of needy engaged partners from the pool; return what was paid."""
    pop, cal = state.pop, state.cal.resources
    needy = np.flatnonzero(pop.engaged & (pop.reserve < cal.needy_reserve))
    if pool <= 0 or needy.size == 0:
        return 0.0
    months = cal.needy_reserve - pop.reserve[needy]
    money = months * pop.capacity[needy]
    wanted = float(money.sum())
    if wanted <= 0:
        return 0.0
    share = min(1.0, pool / wanted)
    pop.reserve[needy] += months * share
    return wanted * share


def flow_resources(state: Initiative, intensity: np.ndarray, visible_wins: float) -> None:
    """Spend, earn and share resources; accumulate and recover fatigue."""
    pop, cal = state.pop, state.cal.resources
    shortfall = np.where(pop.engaged, np.maximum(0.0, 1.0 - pop.reserve), 0.0)
    pop.reserve += state.resources * cal.income - intensity
    np.clip(pop.reserve, 0.0, cal.reserve_cap, out=pop.reserve)
    state.pool_raised = raise_pool(state)
    state.pool_paid = share_pool(state, state.pool_raised)
    gain = cal.fatigue_gain * intensity + cal.frustration * pop.commitment * shortfall
    recover = (
        cal.fatigue_recovery
        + cal.win_recovery * visible_wins
        + cal.rest_recovery * pop.fatigue * ~pop.engaged
    )
    np.clip(pop.fatigue + gain - recover, 0.0, 1.0, out=pop.fatigue)
