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

from cimsim.mechanisms import backbone as functions
from cimsim.population import ENGAGED, SECTORS

if TYPE_CHECKING:
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
    """The backbone organisation, or one part of it (core team, steering group, village group).

    Its effective capacity is ``capacity * share * (funding_base + (1 - funding_base) *
    resources)``, split over the functions of its role (see ``FUNCTION_SHARES``). A village
    coordination group serves its own village (``served`` = 1 / villages of the population):
    its rates per person are its capacity divided by that share.
    """

    def __init__(
        self,
        model: CollectiveImpactModel,
        role: str,
        share: float,
        village: int | None = None,
        served: float = 1.0,
    ) -> None:
        super().__init__(model)
        self.role = role
        self.share = share
        self.village = village
        self.served = served
        self.meetings_held = 0
        self.ties_brokered = 0

    @property
    def effective_capacity(self) -> float:
        """Staff capacity this month after funding."""
        m = self.model
        base = m.cal.backbone.funding_base
        return m.backbone_capacity * self.share * (base + (1.0 - base) * m.resources)

    def function_capacity(self, function: str) -> float:
        """Capacity this agent gives to one function this month."""
        shares = functions.FUNCTION_SHARES["central" if self.role == "backbone" else self.role]
        if not self.model.measurement_enabled:
            shares = {k: v for k, v in shares.items() if k != "measure"}
        total = sum(shares.values())
        return self.effective_capacity * shares.get(function, 0.0) / total if total else 0.0

    def convene(self) -> None:
        """Hold facilitated meetings (widened agenda bound, mediated trust, recruitment);
        a village coordination group also holds workshops for the residents of its village."""
        cal = self.model.cal.backbone
        rate = self.function_capacity("convene") / self.served * cal.seats_per_capacity
        workshops = rate * cal.workshop_reach if self.role == "coordination group" else 0.0
        self.meetings_held += functions.convene(
            self.model,
            rate,
            self.village,
            by_influence=self.role == "steering group",
            workshop_rate=workshops,
        )

    def broker_ties(self) -> None:
        """Introduce engaged stakeholders of different sectors to each other."""
        self.ties_brokered += functions.broker(
            self.model, self.function_capacity("broker") / self.served, self.village
        )

    def __repr__(self) -> str:
        where = "" if self.village is None else f", village={self.village}"
        return f"Backbone({self.role!r}{where})"
