"""Timed interventions: events a planner schedules at a month.

Each event kind of the scenario schema has one function here. Events fire at the start
of their month, before any mechanism runs, in the order they are listed in the scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.mechanisms import trust
from cimsim.mechanisms.backbone import hold_meetings
from cimsim.population import AWARE, CITIZEN, ENGAGED, INACTIVE, sector_influence
from cimsim.scenario import (
    AddBackbone,
    ChampionLeaves,
    ChangeFunding,
    LaunchMeasurement,
    LinkVillages,
    RemoveBackbone,
    TrustShock,
    Workshop,
)

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def add_backbone(state: Initiative, event: AddBackbone) -> None:
    """Set up (or restaff) the backbone organisation."""
    if event.capacity is not None:
        state.backbone_capacity = event.capacity
    state.create_backbone()


def remove_backbone(state: Initiative, event: RemoveBackbone) -> None:
    """Dissolve the backbone organisation; its functions fall to partners."""
    state.remove_backbone()


def change_funding(state: Initiative, event: ChangeFunding) -> None:
    """Budgets change to a new level of adequacy."""
    state.resources = event.resources


def champion_leaves(state: Initiative, event: ChampionLeaves) -> None:
    """The most influential remaining champions leave; partners feel the withdrawal."""
    pop = state.pop
    champs = np.flatnonzero(pop.champion)
    leaving = champs[np.argsort(-pop.influence[champs], kind="stable")[: event.count]]
    pop.champion[leaving] = False
    pop.influence[leaving] = sector_influence(state.cal.population)[pop.sector[leaving]]
    pop.engagement[leaving] = INACTIVE
    pop.commitment[leaving] = 0.0
    trust.withdraw(state, leaving)


def workshop(state: Initiative, event: Workshop) -> None:
    """A participatory workshop: people attend, become aware, meet, and urgency is renewed."""
    pop, rng = state.pop, state.rng
    where = np.ones(len(pop), bool) if event.village is None else pop.village == event.village
    come = where & (rng.random(len(pop)) < event.reach)
    pop.engagement[come & (pop.engagement == INACTIVE)] = AWARE
    state.urgency = min(1.0, state.urgency + state.cal.urgency.workshop_renewal * event.reach)
    hold_meetings(state, np.flatnonzero(come))


def link_villages(state: Initiative, event: LinkVillages) -> None:
    """A cross-village project: engaged people get ties to engaged people of other villages."""
    pop, rng = state.pop, state.rng
    eng = np.flatnonzero(pop.engaged)
    if eng.size < 2 or int(pop.village.max()) == 0:
        return
    chosen = eng[rng.random(eng.size) < event.reach]
    partner = eng[rng.integers(0, eng.size, chosen.size)]
    other = pop.village[chosen] != pop.village[partner]
    a, b = chosen[other], partner[other]
    state.ties.add(a, b, state.settings.initial_trust)
    hold_meetings(state, np.unique(np.concatenate((a, b))))


def launch_measurement(state: Initiative, event: LaunchMeasurement) -> None:
    """A shared measurement system starts."""
    state.measurement_enabled = True
    if event.indicators is not None:
        state.indicators = event.indicators


def trust_shock(state: Initiative, event: TrustShock) -> None:
    """The best-connected engaged partner organisation withdraws publicly.

    Its ties lose ``loss * (0.5 + severity)`` of their trust and every tie between
    engaged partners loses ``loss * severity`` of its trust.
    """
    pop, ties = state.pop, state.ties
    deg = ties.degree  # an organisation's ties to peer organisations
    cand = np.flatnonzero(pop.engaged & (pop.sector != CITIZEN) & ~pop.champion)
    if cand.size:
        partner = cand[np.argmax(deg[cand])]
        pop.engagement[partner] = INACTIVE
        pop.commitment[partner] = 0.0
        trust.withdraw(state, np.array([partner]), 0.5 + event.severity)
    eng = pop.engagement == ENGAGED
    both = eng[ties.u] & eng[ties.v]
    ties.trust[both] *= 1.0 - min(1.0, state.settings.trust_loss * event.severity)


HANDLERS = {
    "add_backbone": add_backbone,
    "remove_backbone": remove_backbone,
    "change_funding": change_funding,
    "champion_leaves": champion_leaves,
    "workshop": workshop,
    "link_villages": link_villages,
    "launch_measurement": launch_measurement,
    "trust_shock": trust_shock,
}
"""Event kind -> function applying it."""


def apply_interventions(state: Initiative, month: int) -> list[str]:
    """Fire the events scheduled for this month; return their kinds."""
    fired = []
    for event in state.interventions:
        if event.month == month:
            HANDLERS[event.kind](state, event)
            fired.append(event.kind)
    return fired
