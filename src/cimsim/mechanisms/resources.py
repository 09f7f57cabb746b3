"""Resources and fatigue: activities consume reserves, income and pooled funds refill them.

Each stakeholder holds a reserve in months of full activity. Its activity intensity is
``a = commitment * min(1, reserve)``; a month costs ``a`` and brings income
``resources * INCOME``. Champions and the backbone's fundraising add to a common pool
shared among engaged partners with low reserves. Fatigue grows with activity, faster
when the reserve is short (depletion burns people out), and recovers with rest and
with visible small wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cimsim.model import CollectiveImpactModel

INCOME = 0.9
"""Monthly income at resources = 1, in months of full activity."""
RESERVE_CAP = 12.0
"""Largest reserve a stakeholder keeps (months of full activity)."""
CHAMPION_FUNDING = 0.3
"""Pool contribution per unit of active champion influence share, times resources."""
FUNDRAISING = 2.0
"""Pool contribution per unit of backbone fundraising capacity."""
FATIGUE_GAIN = 0.1
FATIGUE_RECOVERY = 0.03
WIN_RECOVERY = 0.04
"""Fatigue: += GAIN * a * (1 + 2 * shortfall) - RECOVERY - WIN_RECOVERY * wins each month."""


def activity_intensity(model: CollectiveImpactModel) -> np.ndarray:
    """How hard each stakeholder works this month (0 unless engaged)."""
    pop = model.pop
    return np.where(pop.engaged, pop.commitment * np.minimum(1.0, pop.reserve), 0.0)


def flow_resources(
    model: CollectiveImpactModel, intensity: np.ndarray, visible_wins: float
) -> None:
    """Spend, earn and share resources; accumulate and recover fatigue."""
    pop = model.pop
    champ = pop.champion & pop.engaged
    pool = (
        CHAMPION_FUNDING
        * model.resources
        * pop.influence[champ].sum()
        / max(model.initial_champions, 1)
    )
    pool += FUNDRAISING * model.backbone_function("fundraise")
    needy = pop.engaged & (pop.reserve < 3.0)
    shortfall = np.maximum(0.0, 1.0 - pop.reserve)
    pop.reserve += model.resources * INCOME - intensity + pool * needy
    np.clip(pop.reserve, 0.0, RESERVE_CAP, out=pop.reserve)
    gain = FATIGUE_GAIN * intensity * (1.0 + 2.0 * shortfall)
    recover = FATIGUE_RECOVERY + WIN_RECOVERY * visible_wins + 0.1 * pop.fatigue * ~pop.engaged
    np.clip(pop.fatigue + gain - recover, 0.0, 1.0, out=pop.fatigue)
