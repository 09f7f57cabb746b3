"""CollectiveImpactModel: the initiative as a Mesa ``Model``.

The state and the monthly schedule live in :class:`cimsim.initiative.Initiative`, which
does not import Mesa; this class wraps one, steps it under Mesa's clock, records every
reporter in a Mesa ``DataCollector`` and offers Mesa agents for those who look:
a :class:`~cimsim.agents.Stakeholder` per population row and a
:class:`~cimsim.agents.Backbone` per backbone unit. The agents are created the first time
``model.agents`` (or ``agents_by_type``) is read, so sweeps and full-scale runs do not pay
for them; they read and write the initiative's arrays, so they are never out of date.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from mesa import DataCollector, Model
from mesa.experimental.scenarios import Scenario as MesaScenario

from cimsim import indicators
from cimsim.agents import STAKEHOLDER_CLASSES, Backbone
from cimsim.initiative import Initiative
from cimsim.scenario import Scenario, load_scenario


def _forward(name: str, doc: str = "") -> property:
    """An attribute of the wrapped initiative, read and written through the model."""

    def get(self: CollectiveImpactModel) -> Any:
        return getattr(self.initiative, name)

    def set_(self: CollectiveImpactModel, value: Any) -> None:
        setattr(self.initiative, name, value)

    return property(get, set_, doc=doc or f"The initiative's ``{name}``.")


class CollectiveImpactModel(Model):
    """A collective impact initiative: stakeholders, their ties, and a backbone.

    Args:
        scenario: a validated :class:`Scenario`, a bundled scenario name or a TOML path
            (default ``case``, else ``"malmo"``). A Mesa ``Scenario`` (what SolaraViz passes
            when it resets a model) gives its ``rng`` only.
        rng: seed (int) or numpy generator; every random draw of the model comes from it.
        case: the scenario by name, for Mesa's tools that reserve ``scenario`` for their
            own object (``SolaraViz(model, model_params={"case": "skive"})``).
        agent_data: also record every stakeholder's ``AGENT_REPORTERS`` each month
            (``datacollector.get_agent_vars_dataframe()``); it creates the Mesa agents.
        **overrides: dotted parameter paths with ``__`` for the dots, as Mesa's
            ``batch_run`` passes them (``preconditions__urgency=0.8``).
    """

    def __init__(
        self,
        scenario: Scenario | str | MesaScenario | None = None,
        rng: int | None = None,
        *,
        case: str | None = None,
        agent_data: bool = False,
        **overrides: Any,
    ) -> None:
        if isinstance(scenario, MesaScenario):  # what Mesa's SolaraViz passes on Reset
            rng = scenario.rng if rng is None else rng
            scenario = None
        spec: Scenario | str = scenario if scenario is not None else (case or "malmo")
        if overrides:  # Mesa's batch_run style: preconditions__urgency=0.8
            dotted = {key.replace("__", "."): value for key, value in overrides.items()}
            spec = load_scenario(spec, dotted)
        super().__init__(rng=rng)
        self.initiative = Initiative(spec, rng=self.rng)
        """The state and the monthly schedule (the same random generator as Mesa's)."""
        self._agents_made = False
        self._backbone_agents: dict[int, Backbone] = {}
        self._trust_cache: tuple[tuple[int, int], np.ndarray] | None = None
        self.datacollector = MonthlyCollector(
            model_reporters={name: partial(_report, name=name) for name in indicators.REPORTERS},
            agent_reporters=AGENT_REPORTERS if agent_data else None,
        )
        self.datacollector.collect(self)

    spec = _forward("spec", "The validated scenario (Mesa's own ``scenario`` is left to Mesa).")
    settings = _forward("settings")
    cal = _forward("cal", "The calibration constants (``calibration.*`` of the scenario).")
    interventions = _forward("interventions")
    urgency = _forward("urgency")
    resources = _forward("resources")
    backbone_capacity = _forward("backbone_capacity")
    measurement_enabled = _forward("measurement_enabled")
    indicators = _forward("indicators")
    pop = _forward("pop", "The stakeholders' arrays (:class:`cimsim.population.Population`).")
    ties = _forward("ties", "The tie table (:class:`cimsim.population.Ties`).")
    initial_champions = _forward("initial_champions")
    capacity_total = _forward("capacity_total")
    need = _forward("need")
    progress = _forward("progress")
    effort_share = _forward("effort_share")
    coverage = _forward("coverage")
    quality = _forward("quality")
    gap_info = _forward("gap_info")
    gains = _forward("gains")
    dropped = _forward("dropped")
    pool_raised = _forward("pool_raised")
    pool_paid = _forward("pool_paid")
    active_idx = _forward("active_idx")
    agreed = _forward("agreed")
    reached_by_broadcast = _forward("reached_by_broadcast")
    visited = _forward("visited")
    fired = _forward("fired", "The kinds of the events that fired this month.")
    latest = _forward("latest", "This month's reporters.")
    history = _forward("history")
    area_history = _forward("area_history")

    # ------------------------------------------------------------------ agents

    def _make_agents(self) -> None:
        """Create the Mesa agents on first use and match the backbone agents to the units."""
        if not self._agents_made:
            self._agents_made = True
            for row, code in enumerate(self.pop.sector.tolist()):
                STAKEHOLDER_CLASSES[code](self, row)
        units = {id(u): u for u in self.initiative.backbones}
        for key in [k for k in self._backbone_agents if k not in units]:
            self._backbone_agents.pop(key).remove()
        for key, unit in units.items():
            if key not in self._backbone_agents:
                self._backbone_agents[key] = Backbone(self, unit)

    @property
    def agents(self):
        """Mesa's set of all agents (created on first use)."""
        self._make_agents()
        return super().agents

    @property
    def agents_by_type(self):
        """Mesa's agents by class (created on first use)."""
        self._make_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """The agent classes present (created on first use)."""
        self._make_agents()
        return super().agent_types

    @property
    def backbones(self) -> list[Backbone]:
        """The backbone agents (one per unit of the backbone organisation)."""
        self._make_agents()
        return [self._backbone_agents[id(u)] for u in self.initiative.backbones]

    # ------------------------------------------------------------------ the initiative

    @property
    def has_backbone(self) -> bool:
        """Whether a backbone organisation currently exists."""
        return self.initiative.has_backbone

    def create_backbone(self) -> None:
        """Create the backbone for the scenario's form (replacing any existing one)."""
        self.initiative.create_backbone()

    def remove_backbone(self) -> None:
        """Dissolve the backbone organisation."""
        self.initiative.remove_backbone()

    def backbone_function(self, function: str) -> float:
        """Total capacity the backbone gives to one function this month."""
        return self.initiative.backbone_function(function)

    def backbone_support(self) -> float:
        """Effective backbone capacity this month (0 when there is none)."""
        return self.initiative.backbone_support()

    def partner_share(self) -> float:
        """How much of the coordination partners do themselves (see ``Initiative``)."""
        return self.initiative.partner_share()

    def node_trust(self) -> np.ndarray:
        """Each stakeholder's mean trust over the ties that count for it (see ``Initiative``)."""
        return self.initiative.node_trust()

    def mean_trust_of(self, rows: np.ndarray) -> np.ndarray:
        """Mean trust over the ties that count for the given stakeholders (computed once per
        month for all of them, so reading every agent's trust costs one pass over the ties)."""
        key = (self.steps, len(self.ties))
        if self._trust_cache is None or self._trust_cache[0] != key:
            everyone = self.initiative.node_trust()
            self._trust_cache = (key, everyone)
        return self._trust_cache[1][rows]

    def engaged_ties(self) -> np.ndarray:
        """Mask of ties whose both ends are engaged."""
        return self.initiative.engaged_ties()

    def engaged_trust(self) -> float:
        """Mean trust on ties between engaged partner organisations."""
        return self.initiative.engaged_trust()

    def step(self) -> None:
        """Advance the initiative by one month and record its reporters."""
        self.initiative.step()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ results

    def results(self):
        """The per-month reporters as a DataFrame indexed by month (0 = initial state)."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "month"
        return df

    def area_progress(self):
        """Progress per issue area per month as a DataFrame (columns are area names)."""
        return self.initiative.area_progress()


AGENT_REPORTERS = {
    "sector": "sector_name",
    "engagement": "engagement",
    "commitment": "commitment",
    "trust": "trust",
    "champion": "champion",
}
"""What ``agent_data=True`` records for every stakeholder agent each month."""


class MonthlyCollector(DataCollector):
    """Mesa's ``DataCollector``, taking the month's reporters (:func:`_report`) from the
    initiative's record as they are: they are floats, which Mesa would deep-copy one by
    one (23 µs a month). Any other reporter, and the agents, are collected by Mesa."""

    _split: tuple[tuple, list, dict] | None = None
    """The reporters last split (:meth:`collect`): the reporters, the lists the month's
    reporters append to with their names, and the other reporters."""

    def collect(self, model: Model) -> None:
        """Record the month (Mesa's ``collect``)."""
        reporters = self.model_reporters
        split = self._split
        if split is None or split[0] != tuple(reporters.items()):  # split again if changed
            ours = [
                (self.model_vars[name], name)
                for name, reporter in reporters.items()
                if isinstance(reporter, partial) and reporter.func is _report
            ]
            kept = {name for _, name in ours}
            others = {name: r for name, r in reporters.items() if name not in kept}
            self._split = split = (tuple(reporters.items()), ours, others)
        _, ours, others = split
        latest = model.initiative.latest
        for values, name in ours:
            values.append(latest[name])
        self.model_reporters = others
        try:
            if reporters and not others and hasattr(self, "_collection_steps"):
                self._collection_steps.append(model.time)  # as Mesa notes a collection
            super().collect(model)
        finally:
            self.model_reporters = reporters


def _report(model: CollectiveImpactModel, name: str) -> float:
    """Model reporter: one value of the month's indicators (computed once per step)."""
    return model.latest[name]
