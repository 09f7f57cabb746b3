"""Backbone functions: convene meetings, run measurement, match, broker ties, raise funds.

A backbone agent has an effective capacity ``capacity * share * (0.4 + 0.6 * resources)``
split over its functions. Its form decides the split and the reach: a central backbone
does everything for everyone (Malmö), a core team and a steering group divide operations
from convening and fundraising (Mechelen), and village coordination groups do mostly
convening inside their own village (Skive). Without a backbone, engaged government units
convene at a fraction of the reach and pay for it from their own reserves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.mechanisms.agenda import align_in_meetings
from cimsim.network import TIE_PROPENSITY
from cimsim.population import AWARE, CITIZEN, ENGAGED, GOVERNMENT

if TYPE_CHECKING:
    from cimsim.model import CollectiveImpactModel

FUNCTION_SHARES = {
    "central": {"convene": 0.3, "measure": 0.25, "match": 0.2, "broker": 0.15, "fundraise": 0.1},
    "core team": {"measure": 0.4, "match": 0.35, "broker": 0.25},
    "steering group": {"convene": 0.6, "fundraise": 0.4},
    "coordination group": {"convene": 0.45, "broker": 0.2, "match": 0.2, "measure": 0.15},
}
"""How each backbone role splits its capacity over the five backbone functions."""
SEATS_PER_CAPACITY = 0.8
"""Meeting seats per month per unit of convening capacity, as a share of the pool."""
MEETING_SIZE = 12
"""Attendees per meeting."""
BROKER_RATE = 0.5
"""New ties per month per unit of brokering capacity, per engaged organisation."""
PARTNER_REACH = 0.3
"""Convening capacity of government partners without a backbone, relative to the convening
function of a fully staffed central backbone (scaled by the engaged share of government)."""
PARTNER_COST = 0.3
"""Reserve (months of activity) a government unit spends per month convening without one."""


def meeting_pool(model: CollectiveImpactModel, village: int | None) -> np.ndarray:
    """Who can be invited: aware or engaged organisations and engaged citizens."""
    pop = model.pop
    org = pop.sector != CITIZEN
    pool = (org & (pop.engagement >= AWARE)) | (pop.engagement == ENGAGED)
    if village is not None:
        pool &= pop.village == village
    return np.flatnonzero(pool)


def convene(
    model: CollectiveImpactModel, capacity: float, village: int | None, by_influence: bool
) -> int:
    """Hold this month's meetings; return the number of attendees."""
    pop, ties, rng = model.pop, model.ties, model.rng
    pool = meeting_pool(model, village)
    seats = int(round(capacity * SEATS_PER_CAPACITY * pool.size))
    if seats < 2:
        return 0
    weight = pop.influence[pool] + 0.1 if by_influence else np.ones(pool.size)
    keys = np.log(weight) + rng.gumbel(size=pool.size)
    if seats < pool.size:
        top = np.argpartition(-keys, seats - 1)[:seats]
        members = pool[top[np.argsort(-keys[top], kind="stable")]]
    else:
        members = pool[np.argsort(-keys, kind="stable")]
    group = rng.permutation(seats) // MEETING_SIZE
    pop.attended[members] = True
    gid = np.full(len(pop), -1, np.int64)
    gid[members] = group
    gu, gv = gid[ties.u], gid[ties.v]
    together = (gu >= 0) & (gu == gv)
    ties.active |= together
    ties.mediated |= together
    ties.weight[together] = 1.0
    align_in_meetings(model, group, members, np.flatnonzero((gu >= 0) | (gv >= 0)))
    return int(seats)


def convene_without_backbone(model: CollectiveImpactModel) -> int:
    """Engaged government units convene at low reach, paying from their reserves."""
    pop = model.pop
    gov = np.flatnonzero((pop.sector == GOVERNMENT) & pop.engaged & (pop.reserve > PARTNER_COST))
    if gov.size == 0:
        return 0
    share = gov.size / max(int((pop.sector == GOVERNMENT).sum()), 1)
    pop.reserve[gov] -= PARTNER_COST
    full = FUNCTION_SHARES["central"]["convene"]
    return convene(model, PARTNER_REACH * share * full, None, by_influence=True)


def broker(model: CollectiveImpactModel, capacity: float, village: int | None) -> int:
    """Create new cross-sector ties between engaged stakeholders; return how many."""
    pop, rng = model.pop, model.rng
    eng = pop.engaged
    if village is not None:
        eng = eng & (pop.village == village)
    candidates = np.flatnonzero(eng)
    n_orgs = int((pop.sector[candidates] != CITIZEN).sum())
    n_new = int(rng.poisson(capacity * BROKER_RATE * n_orgs))
    if n_new == 0 or candidates.size < 2:
        return 0
    w = TIE_PROPENSITY[pop.sector[candidates]]
    p = w / w.sum()
    a, b = rng.choice(candidates, size=(2, n_new), p=p)
    cross = pop.sector[a] != pop.sector[b]
    return model.ties.add(a[cross], b[cross], model.settings.initial_trust)
