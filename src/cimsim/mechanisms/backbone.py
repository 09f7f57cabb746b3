"""Backbone functions: convene meetings, run measurement, match, broker ties, raise funds.

A backbone agent has an effective capacity ``capacity * share * (funding_base + (1 -
funding_base) * resources)`` split over its functions. Its form decides the split and the
reach: a central backbone does everything for everyone (Malmö), a core team and a steering
group divide operations from convening and fundraising (Mechelen), and village
coordination groups convene partners and hold resident workshops inside their own village
(Skive). Each agent works per capita: its rates are its capacity divided by the share of
the population it serves, so eight village groups of one eighth each do, in their villages,
what one central backbone of the same total capacity does city-wide.

Partners coordinate too: engaged government units convene at a fraction of a backbone's
reach and pay for it from their own reserves. Their share fades out linearly as the
backbone's effective capacity grows (``state.partner_share()``), so a backbone with no
capacity is the same as none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cimsim.mechanisms.agenda import align_in_meetings
from cimsim.network import propensity
from cimsim.population import AWARE, CITIZEN, ENGAGED, GOVERNMENT

if TYPE_CHECKING:
    from cimsim.initiative import Initiative

FUNCTION_SHARES = {
    "central": {"convene": 0.3, "measure": 0.25, "match": 0.2, "broker": 0.15, "fundraise": 0.1},
    "core team": {"measure": 0.4, "match": 0.35, "broker": 0.25},
    "steering group": {"convene": 0.6, "fundraise": 0.4},
    "coordination group": {"convene": 0.45, "broker": 0.2, "match": 0.2, "measure": 0.15},
}
"""How each backbone role splits its capacity over the five backbone functions."""

FORMS = {
    "central": (("backbone", 1.0),),
    "split": (("core team", 0.6), ("steering group", 0.4)),
    "distributed": (("coordination group", 1.0),),
}
"""The backbone agents of each ``backbone.form``: (role, share of the capacity). A
distributed backbone has one coordination group per village, sharing its entry equally."""


def meeting_pool(state: Initiative, village: int | None) -> np.ndarray:
    """Who can be invited: aware or engaged organisations and engaged citizens."""
    pop = state.pop
    org = pop.sector != CITIZEN
    pool = (org & (pop.engagement >= AWARE)) | (pop.engagement == ENGAGED)
    if village is not None:
        pool &= pop.village == village
    return np.flatnonzero(pool)


def _invite(state: Initiative, pool: np.ndarray, rate: float, by_influence: bool) -> np.ndarray:
    """Each pool member attends with chance ``rate`` (times relative influence if asked)."""
    pop, rng = state.pop, state.rng
    if pool.size == 0 or rate <= 0:
        return pool[:0]
    chance = np.full(pool.size, rate)
    if by_influence:
        w = pop.influence[pool] + 0.1
        chance = rate * w / np.average(w, weights=pop.represents[pool])
    return pool[rng.random(pool.size) < np.minimum(chance, 1.0)]


def hold_meetings(state: Initiative, members: np.ndarray, facilitated: bool = True) -> None:
    """Attendees meet in groups of ``meeting_size``: organisations with organisations,
    residents with residents. Ties inside a meeting are contacted face to face; attendees
    align toward their meeting's mean position. A facilitated meeting (the backbone's, a
    workshop) mediates: it widens the confidence bound and lifts the power damping of
    trust gains; a meeting government partners convene themselves does neither."""
    pop, ties, rng = state.pop, state.ties, state.rng
    if members.size < 2:
        return
    size = state.cal.backbone.meeting_size
    is_cit = pop.sector[members] == CITIZEN
    group = np.empty(members.size, np.int64)
    n_org = int((~is_cit).sum())
    group[~is_cit] = rng.permutation(n_org) // size
    offset = (n_org + size - 1) // size
    group[is_cit] = offset + rng.permutation(members.size - n_org) // size
    pop.attended[members] = True
    gid = np.full(len(pop), -1, np.int64)
    gid[members] = group
    gu, gv = gid[ties.u], gid[ties.v]
    together = (gu >= 0) & (gu == gv)
    ties.active |= together
    if facilitated:
        ties.mediated |= together
    ties.weight[together] = 1.0
    align_in_meetings(state, group, members, facilitated)


def convene(
    state: Initiative,
    rate: float,
    village: int | None,
    by_influence: bool,
    workshop_rate: float = 0.0,
    facilitated: bool = True,
) -> int:
    """Hold this month's meetings; return the number of attendees.

    ``rate`` is the chance that a member of the meeting pool is invited; ``workshop_rate``
    the chance that a resident of the village who is not engaged comes to a workshop.
    """
    pop = state.pop
    members = _invite(state, meeting_pool(state, village), rate, by_influence)
    if workshop_rate > 0:
        residents = (pop.sector == CITIZEN) & (pop.engagement != ENGAGED)
        if village is not None:
            residents &= pop.village == village
        come = _invite(state, np.flatnonzero(residents), workshop_rate, False)
        pop.engagement[come[pop.engagement[come] < AWARE]] = AWARE
        members = np.concatenate((members, come))
    hold_meetings(state, members, facilitated)
    return int(members.size)


def convene_as_partners(state: Initiative) -> int:
    """Engaged government units convene in proportion to the partners' share of
    coordination and to their influence, at low reach, paying from their reserves."""
    pop, cal = state.pop, state.cal.backbone
    fade = state.partner_share()
    if fade <= 0:
        return 0
    cost = cal.partner_cost * fade
    gov = np.flatnonzero((pop.sector == GOVERNMENT) & pop.engaged & (pop.reserve > cost))
    if gov.size == 0:
        return 0
    # convening power: the engaged units' influence relative to the government's usual
    # influence (a powerless champion cannot bring partners to the table)
    usual = state.cal.population.influence_government * int((pop.sector == GOVERNMENT).sum())
    share = min(1.0, float(pop.influence[gov].sum()) / max(usual, 1e-12))
    pop.reserve[gov] -= cost
    full = FUNCTION_SHARES["central"]["convene"]
    rate = cal.partner_reach * share * full * fade * cal.seats_per_capacity
    return convene(state, rate, None, by_influence=True, facilitated=False)


def broker(state: Initiative, capacity: float, village: int | None) -> int:
    """Introduce engaged stakeholders of different sectors to each other; return new ties.

    ``capacity`` is the brokering capacity per unit of population served. Engaged
    organisations meet other engaged organisations (Poisson draws per organisation);
    each engaged citizen is introduced to an engaged organisation with a fixed chance.
    """
    pop, rng, cal = state.pop, state.rng, state.cal.backbone
    eng = pop.engaged
    if village is not None:
        eng = eng & (pop.village == village)
    org = pop.sector != CITIZEN
    orgs = np.flatnonzero(eng & org)
    if orgs.size == 0 or capacity <= 0:
        return 0
    n_new = int(rng.poisson(capacity * cal.broker_rate * orgs.size))
    w = propensity(pop.sector[orgs], state.cal.network)
    a, b = rng.choice(orgs, size=(2, n_new), p=w / w.sum())
    cross = pop.sector[a] != pop.sector[b]
    cits = np.flatnonzero(eng & ~org)
    lucky = cits[rng.random(cits.size) < min(1.0, capacity * cal.broker_residents)]
    partner = rng.choice(orgs, size=lucky.size, p=w / w.sum())
    return state.ties.add(
        np.concatenate((a[cross], lucky)),
        np.concatenate((b[cross], partner)),
        state.settings.initial_trust,
    )


@dataclass(eq=False)
class BackboneUnit:
    """The backbone organisation, or one part of it (core team, steering group, village
    coordination group), as the monthly schedule sees it.

    Its effective capacity is ``capacity * share * (funding_base + (1 - funding_base) *
    resources)``, split over the functions of its role (``FUNCTION_SHARES``). A village
    coordination group serves its own village (``served`` = 1 / villages): its rates per
    person are its capacity divided by that share. :class:`cimsim.agents.Backbone` is its
    Mesa face.
    """

    state: Initiative
    role: str
    share: float
    village: int | None = None
    served: float = 1.0
    meetings_held: int = 0
    ties_brokered: int = 0

    @property
    def effective_capacity(self) -> float:
        """Staff capacity this month after funding."""
        st = self.state
        base = st.cal.backbone.funding_base
        return st.backbone_capacity * self.share * (base + (1.0 - base) * st.resources)

    def function_capacity(self, function: str) -> float:
        """Capacity this unit gives to one function this month."""
        shares = FUNCTION_SHARES["central" if self.role == "backbone" else self.role]
        if not self.state.measurement_enabled:
            shares = {k: v for k, v in shares.items() if k != "measure"}
        total = sum(shares.values())
        return self.effective_capacity * shares.get(function, 0.0) / total if total else 0.0

    def convene(self) -> None:
        """Hold facilitated meetings (widened agenda bound, mediated trust, recruitment);
        a village coordination group also holds workshops for the residents of its village."""
        cal = self.state.cal.backbone
        rate = self.function_capacity("convene") / self.served * cal.seats_per_capacity
        workshops = rate * cal.workshop_reach if self.role == "coordination group" else 0.0
        self.meetings_held += convene(
            self.state,
            rate,
            self.village,
            by_influence=self.role == "steering group",
            workshop_rate=workshops,
        )

    def broker_ties(self) -> None:
        """Introduce engaged stakeholders of different sectors to each other."""
        self.ties_brokered += broker(
            self.state, self.function_capacity("broker") / self.served, self.village
        )


def form_units(state: Initiative, form: str, villages: int) -> list[BackboneUnit]:
    """The backbone units of a ``backbone.form`` (see ``FORMS``)."""
    if form == "distributed":
        return [
            BackboneUnit(state, "coordination group", 1.0 / villages, v, 1.0 / villages)
            for v in range(villages)
        ]
    return [BackboneUnit(state, role, share) for role, share in FORMS[form]]
