"""Initiative: the simulation's state and the monthly schedule that calls the mechanisms.

One step is one month:

1. reset last month's contacts; timed interventions; urgency decays toward its floor
2. continuous communication: contacts along ties, broadcasts, door-to-door
3. backbone convenes meetings (or government partners do, at lower reach and own cost)
4. common agenda: bounded-confidence exchange on contacted ties
5. trust updates on contacted ties
6. recruitment (awareness, threshold engagement) and dropout
7. backbone brokers new cross-sector ties
8. activity allocation, using last month's gap information
9. impact: progress per issue area
10. shared measurement and feedback: coverage, small wins, commitment, trust
11. resource flows and fatigue
12. every reporter is recorded in ``history``

This module does not import Mesa, pandas or networkx: the run engine's workers and the
command line use it directly. :class:`cimsim.model.CollectiveImpactModel` is the same
initiative as a Mesa ``Model``, with agents and a DataCollector for those who look.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim import indicators
from cimsim.interventions import apply_interventions
from cimsim.kernels import masked_mean
from cimsim.mechanisms import (
    activities,
    agenda,
    backbone,
    communication,
    measurement,
    recruitment,
    resources,
    trust,
)
from cimsim.population import ENGAGED, Population
from cimsim.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import pandas as pd


class Initiative:
    """A collective impact initiative: stakeholders, their ties, and a backbone.

    Args:
        scenario: a validated :class:`Scenario`, a bundled scenario name or a TOML path.
        rng: seed (int) or numpy generator; every random draw comes from it.
    """

    def __init__(
        self, scenario: Scenario | str = "malmo", rng: int | np.random.Generator | None = None
    ) -> None:
        self.spec: Scenario = (
            scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        )
        """The validated scenario."""
        self.rng: np.random.Generator = np.random.default_rng(rng)
        sc = self.spec
        self.month = 0
        """Months simulated so far."""
        self.settings = sc.settings
        self.cal = sc.calibration
        """The calibration constants (``calibration.*`` of the scenario)."""
        self.interventions = sorted(sc.interventions, key=lambda e: e.month)
        self.urgency = sc.preconditions.urgency
        self.resources = sc.preconditions.resources
        self.backbone_capacity = sc.backbone.capacity
        self.measurement_enabled = sc.measurement.enabled
        self.indicators = sc.measurement.indicators

        self.pop, self.ties = Population.build(sc, self.rng)
        self.initial_champions = int(self.pop.champion.sum())
        self.capacity_total = float(self.pop.capacity.sum())
        need = sc.activities.need or [1.0] * len(sc.activities.areas)
        self.need = np.asarray(need, float) / np.sum(need)
        self.progress = np.zeros(self.need.size)
        self.effort_share = np.zeros(self.need.size)
        self.coverage = 0.0
        self.quality = 0.0
        self.gap_info = 0.05
        self.gains: list[float] = []
        self.dropped = 0.0
        self.pool_raised = 0.0
        self.pool_paid = 0.0
        self.active_idx = np.zeros(0, np.int64)
        self.agreed = np.zeros(0, bool)
        self.reached_by_broadcast = np.zeros(len(self.pop), bool)
        self.visited = np.zeros(len(self.pop), bool)
        self.fired: list[str] = []
        self._eng_ties: np.ndarray | None = None
        self._partner_ties: np.ndarray | None = None
        self._node_trust: np.ndarray | None = None

        self.backbones: list[backbone.BackboneUnit] = []
        if sc.backbone.enabled:
            self.create_backbone()

        self.latest = indicators.compute(self, {})
        """This month's reporters (``indicators.REPORTERS``)."""
        self.history: list[dict[str, float]] = [self.latest]
        """Every month's reporters, month 0 (the initial state) first."""
        self.area_history = [self.progress.copy()]

    # ------------------------------------------------------------------ backbone

    @property
    def has_backbone(self) -> bool:
        """Whether a backbone organisation currently exists."""
        return bool(self.backbones)

    def create_backbone(self) -> None:
        """Create the backbone units for the scenario's form (replacing any existing ones)."""
        self.backbones = backbone.form_units(
            self, self.spec.backbone.form, self.spec.population.villages
        )

    def remove_backbone(self) -> None:
        """Dissolve the backbone organisation."""
        self.backbones = []

    def backbone_function(self, function: str) -> float:
        """Total capacity the backbone gives to one function this month."""
        return sum(b.function_capacity(function) for b in self.backbones)

    def backbone_support(self) -> float:
        """Effective backbone capacity this month (0 when there is none)."""
        return sum(b.effective_capacity for b in self.backbones)

    def partner_share(self) -> float:
        """How much of the coordination partners do themselves: 1 without a backbone,
        falling linearly to 0 as the backbone's effective capacity reaches 1."""
        return max(0.0, 1.0 - self.backbone_support())

    # ------------------------------------------------------------------ helpers

    def node_trust(self) -> np.ndarray:
        """Each stakeholder's mean trust over the ties that count for it (initial trust if
        it has none): all ties of a citizen, the peer ties of an organisation."""
        mean = self._node_trust
        if mean is None:
            mean = self.ties.neighbourhood_mean(self.ties.trust, self.settings.initial_trust)
        return mean

    def mean_trust_of(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`node_trust` of the given stakeholders."""
        return self.node_trust()[rows]

    def engaged_ties(self) -> np.ndarray:
        """Mask of ties whose both ends are engaged (cached for the rest of the step)."""
        if self._eng_ties is not None:
            return self._eng_ties
        return self.ties.between(self.pop.engagement == ENGAGED)

    def engaged_trust(self) -> float:
        """Mean trust on ties between engaged partner organisations (initial trust if none)."""
        ties = self.ties
        both = self._partner_ties
        if both is None:
            both = ties.between(self.pop.engagement == ENGAGED, ties.org)
        return masked_mean(ties.trust, both, self.settings.initial_trust)

    # ------------------------------------------------------------------ the month

    def step(self) -> None:
        """Advance the initiative by one month."""
        self.month += 1
        self._eng_ties = self._partner_ties = None
        communication.reset_month(self)
        self.fired = apply_interventions(self, self.month)
        u0 = self.spec.preconditions.urgency
        floor = self.cal.urgency.floor * u0
        decay = self.spec.preconditions.urgency_decay
        self.urgency = (
            floor + (self.urgency - floor) * (1.0 - decay) if self.urgency > floor else self.urgency
        )

        communication.communicate(self)
        # trust does not change while meetings are held: compute each node's mean once
        self._node_trust = self.ties.neighbourhood_mean(
            self.ties.trust, self.settings.initial_trust
        )
        backbone.convene_units(self, self.backbones)
        backbone.convene_as_partners(self)
        self._node_trust = None

        agenda.exchange_agenda(self)
        trust.update_trust(self)

        recruitment.become_aware(self)
        recruitment.engage(self)
        recruitment.drop_out(self)
        backbone.broker_units(self, self.backbones)
        # engagement and ties are fixed from here on
        self._eng_ties = self.engaged_ties()
        self._partner_ties = self.ties.between(self.pop.engagement == ENGAGED, self.ties.org)

        activities.allocate_activities(self, self.gap_info)
        intensity = resources.activity_intensity(self)
        month_values = activities.make_progress(self, intensity)

        sm = measurement.measure(self)
        self.gap_info = measurement.gap_information(self, sm)
        wins = measurement.small_wins(self, sm)
        recruitment.update_commitment(self, wins)
        trust.reward_small_wins(self, wins)
        resources.flow_resources(self, intensity, wins)

        month_values.update(
            shared_measurement=sm,
            mutually_reinforcing=(1.0 - month_values["duplication"])
            * month_values["area_coverage"],
            gap_information=self.gap_info,
            visible_wins=wins,
            dropped=self.dropped,
        )
        self.latest = indicators.compute(self, month_values)
        self.history.append(self.latest)
        self.area_history.append(self.progress.copy())

    def run(self, months: int) -> Initiative:
        """Advance ``months`` months; return self."""
        for _ in range(months):
            self.step()
        return self

    # ------------------------------------------------------------------ results

    def series(self) -> np.ndarray:
        """Every recorded month's reporters as an array (months x ``indicators.REPORTERS``)."""
        return np.array(
            [[row[name] for name in indicators.REPORTERS] for row in self.history], np.float64
        )

    def results(self) -> pd.DataFrame:
        """The per-month reporters as a DataFrame indexed by month (0 = initial state)."""
        import pandas as pd

        return pd.DataFrame(self.history, columns=list(indicators.REPORTERS)).rename_axis("month")

    def area_progress(self) -> pd.DataFrame:
        """Progress per issue area per month as a DataFrame (columns are area names)."""
        import pandas as pd

        return pd.DataFrame(
            np.array(self.area_history),
            columns=list(self.spec.activities.areas),
        ).rename_axis("month")

    def __repr__(self) -> str:
        return f"Initiative({self.spec.name!r}, month={self.month})"


WARM_UP = {
    "population.citizens": 40,
    "population.businesses": 6,
    "population.government": 4,
    "population.civil_society": 4,
}
"""Overrides that make the scenarios tiny for :func:`warm_up`."""


def warm_up() -> None:
    """Load (or compile, the first time) every kernel of the monthly step: two tiny
    initiatives, one with a central backbone, one with village groups, run a few months."""
    for name in ("malmo", "skive"):
        Initiative(load_scenario(name, WARM_UP), rng=0).run(3)
