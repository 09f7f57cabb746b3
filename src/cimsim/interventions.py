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
    from cimsim.model import CollectiveImpactModel


def add_backbone(model: CollectiveImpactModel, event: AddBackbone) -> None:
    """Set up (or restaff) the backbone organisation."""
    if event.capacity is not None:
        model.backbone_capacity = event.capacity
    model.create_backbone()


def remove_backbone(model: CollectiveImpactModel, event: RemoveBackbone) -> None:
    """Dissolve the backbone organisation; its functions fall to partners."""
    model.remove_backbone()


def change_funding(model: CollectiveImpactModel, event: ChangeFunding) -> None:
    """Budgets change to a new level of adequacy."""
    model.resources = event.resources


def champion_leaves(model: CollectiveImpactModel, event: ChampionLeaves) -> None:
    """The most influential remaining champions leave; partners feel the withdrawal."""
    pop = model.pop
    champs = np.flatnonzero(pop.champion)
    leaving = champs[np.argsort(-pop.influence[champs], kind="stable")[: event.count]]
    pop.champion[leaving] = False
    pop.influence[leaving] = sector_influence(model.cal.population)[pop.sector[leaving]]
    pop.engagement[leaving] = INACTIVE
    pop.commitment[leaving] = 0.0
    trust.withdraw(model, leaving)


def workshop(model: CollectiveImpactModel, event: Workshop) -> None:
    """A participatory workshop: people attend, become aware, meet, and urgency is renewed."""
    pop, rng = model.pop, model.rng
    where = np.ones(len(pop), bool) if event.village is None else pop.village == event.village
    come = where & (rng.random(len(pop)) < event.reach)
    pop.engagement[come & (pop.engagement == INACTIVE)] = AWARE
    model.urgency = min(1.0, model.urgency + model.cal.urgency.workshop_renewal * event.reach)
    hold_meetings(model, np.flatnonzero(come))


def link_villages(model: CollectiveImpactModel, event: LinkVillages) -> None:
    """A cross-village project: engaged people get ties to engaged people of other villages."""
    pop, rng = model.pop, model.rng
    eng = np.flatnonzero(pop.engaged)
    if eng.size < 2 or int(pop.village.max()) == 0:
        return
    chosen = eng[rng.random(eng.size) < event.reach]
    partner = eng[rng.integers(0, eng.size, chosen.size)]
    other = pop.village[chosen] != pop.village[partner]
    a, b = chosen[other], partner[other]
    model.ties.add(a, b, model.settings.initial_trust)
    hold_meetings(model, np.unique(np.concatenate((a, b))))


def launch_measurement(model: CollectiveImpactModel, event: LaunchMeasurement) -> None:
    """A shared measurement system starts."""
    model.measurement_enabled = True
    if event.indicators is not None:
        model.indicators = event.indicators


def trust_shock(model: CollectiveImpactModel, event: TrustShock) -> None:
    """The best-connected engaged partner organisation withdraws publicly.

    Its ties lose ``loss * (0.5 + severity)`` of their trust and every tie between
    engaged partners loses ``loss * severity`` of its trust.
    """
    pop, ties = model.pop, model.ties
    deg = ties.degree  # an organisation's ties to peer organisations
    cand = np.flatnonzero(pop.engaged & (pop.sector != CITIZEN) & ~pop.champion)
    if cand.size:
        partner = cand[np.argmax(deg[cand])]
        pop.engagement[partner] = INACTIVE
        pop.commitment[partner] = 0.0
        trust.withdraw(model, np.array([partner]), 0.5 + event.severity)
    eng = pop.engagement == ENGAGED
    both = eng[ties.u] & eng[ties.v]
    ties.trust[both] *= 1.0 - min(1.0, model.settings.trust_loss * event.severity)


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


def apply_interventions(model: CollectiveImpactModel, month: int) -> list[str]:
    """Fire the events scheduled for this month; return their kinds."""
    fired = []
    for event in model.interventions:
        if event.month == month:
            HANDLERS[event.kind](model, event)
            fired.append(event.kind)
    return fired
