"""Mesa agents: Government, Citizen, Business, CivilSociety and Backbone.

Stakeholder agents are the public face of one row of :class:`cimsim.population.Population`:
their attributes read and write that row, while the monthly rules run vectorised over all
rows in :mod:`cimsim.mechanisms`. The backbone organisation is a handful of agents that
act in their own methods (convene, run measurement, match activities, broker ties, raise
funds); without a backbone, government units convene in its place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from cimsim.population import ENGAGED, SECTORS

if TYPE_CHECKING:
    from cimsim.mechanisms.backbone import BackboneUnit
    from cimsim.model import CollectiveImpactModel


class Stakeholder(mesa.Agent):
    """A stakeholder whose state lives in row ``row`` of the model's population arrays."""

    sector_name = "stakeholder"

    def __init__(self, model: CollectiveImpactModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    def _get(self, column: str) -> float:
        return getattr(self.model.pop, column)[self.row].item()

    def _set(self, column: str, value: float) -> None:
        getattr(self.model.pop, column)[self.row] = value

    @property
    def engagement(self) -> str:
        """'inactive', 'aware' or 'engaged'."""
        return ("inactive", "aware", "engaged")[int(self._get("engagement"))]

    @property
    def engaged(self) -> bool:
        """Whether the stakeholder is engaged in the initiative."""
        return int(self._get("engagement")) == ENGAGED

    commitment = property(
        lambda self: self._get("commitment"), lambda self, v: self._set("commitment", v)
    )
    position = property(
        lambda self: self._get("position"), lambda self, v: self._set("position", v)
    )
    reserve = property(lambda self: self._get("reserve"), lambda self, v: self._set("reserve", v))
    influence = property(
        lambda self: self._get("influence"), lambda self, v: self._set("influence", v)
    )
    capacity = property(
        lambda self: self._get("capacity"), lambda self, v: self._set("capacity", v)
    )
    fatigue = property(lambda self: self._get("fatigue"), lambda self, v: self._set("fatigue", v))

    @property
    def champion(self) -> bool:
        """Whether this stakeholder is an influential champion."""
        return bool(self._get("champion"))

    @property
    def area(self) -> str:
        """The issue area the stakeholder currently works on."""
        return self.model.spec.activities.areas[int(self._get("area"))]

    @property
    def village(self) -> int:
        """The community (village cluster) the stakeholder belongs to."""
        return int(self._get("village"))

    @property
    def trust(self) -> float:
        """Mean trust on the stakeholder's ties."""
        return float(self.model.mean_trust_of(np.array([self.row]))[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(row={self.row}, {self.engagement})"


class Government(Stakeholder):
    """A government unit (department); convenes partners when there is no backbone."""

    sector_name = SECTORS[0]


class Citizen(Stakeholder):
    """A citizen agent, standing for ``population.residents_per_citizen`` residents."""

    sector_name = SECTORS[1]


class Business(Stakeholder):
    """A business, e.g. a signatory of Malmö's climate contract."""

    sector_name = SECTORS[2]


class CivilSociety(Stakeholder):
    """A civil society organisation (association, NGO, village group)."""

    sector_name = SECTORS[3]


STAKEHOLDER_CLASSES = (Government, Citizen, Business, CivilSociety)
"""Agent class by sector code."""


class Backbone(mesa.Agent):
    """The backbone organisation, or one part of it (core team, steering group, village
    group): the Mesa face of a :class:`cimsim.mechanisms.backbone.BackboneUnit`.

    Its effective capacity is ``capacity * share * (funding_base + (1 - funding_base) *
    resources)``, split over the functions of its role (see ``FUNCTION_SHARES``); a village
    coordination group serves its own village. Its actions are the unit's: ``convene`` and
    ``broker_ties``, called by the monthly schedule.
    """

    sector_name = "backbone"
    engagement = "engaged"
    commitment = float("nan")
    trust = float("nan")
    champion = False
    """The stakeholder reporters' fields (``model.AGENT_REPORTERS``): the backbone is
    engaged by definition; commitment and trust are the partners', not its own."""

    def __init__(self, model: CollectiveImpactModel, unit: BackboneUnit) -> None:
        super().__init__(model)
        self.unit = unit

    role = property(lambda self: self.unit.role, doc="'backbone', 'core team', ... ")
    share = property(lambda self: self.unit.share, doc="Its share of the backbone capacity.")
    village = property(lambda self: self.unit.village, doc="The village it serves, if one.")
    served = property(lambda self: self.unit.served, doc="Share of the population it serves.")
    meetings_held = property(lambda self: self.unit.meetings_held, doc="Attendees so far.")
    ties_brokered = property(lambda self: self.unit.ties_brokered, doc="Ties brokered so far.")

    @property
    def effective_capacity(self) -> float:
        """Staff capacity this month after funding."""
        return self.unit.effective_capacity

    def function_capacity(self, function: str) -> float:
        """Capacity this agent gives to one function this month."""
        return self.unit.function_capacity(function)

    def convene(self) -> None:
        """Hold this month's facilitated meetings (and a village group's workshops)."""
        self.unit.convene()

    def broker_ties(self) -> None:
        """Introduce engaged stakeholders of different sectors to each other."""
        self.unit.broker_ties()

    def __repr__(self) -> str:
        where = "" if self.village is None else f", village={self.village}"
        return f"Backbone({self.role!r}{where})"
