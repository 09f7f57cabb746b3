"""Initiative: the simulation's state and the monthly schedule that calls the mechanisms.

One step is one month (steps 2-12 run as three compiled calls, :meth:`Initiative.talk`,
:meth:`~Initiative.join_and_leave` and :meth:`~Initiative.work_and_learn`, each calling the
mechanisms' kernels in this order; calling the mechanisms' own functions one after
another gives the same month, bit for bit):

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

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from cimsim import indicators
from cimsim.interventions import apply_interventions
from cimsim.kernels import (
    NUMPY_FIELDS,
    NumpyMath,
    constants,
    generator_at,
    generator_handle,
    masked_mean,
    mean_at,
    use_threads,
)
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
from cimsim.population import (
    ENGAGED,
    Population,
    TieIndex,
    engaged_ties_of,
)
from cimsim.scenario import Scenario, Section, load_scenario

if TYPE_CHECKING:
    import pandas as pd


class FixedConstants(NamedTuple):
    """The constants of the month's compiled calls that only the settings and the
    calibration set, each worked out by its mechanism's function (see
    :meth:`Initiative.fixed_constants`)."""

    activity: np.ndarray
    """:func:`communication.channels`: how active each engagement state is on its ties."""
    channels: tuple[float, ...]
    """:func:`communication.channels`: the contact rates, reaches and pulls."""
    partners: tuple[float, ...]
    """:func:`backbone.partner_params`."""
    meeting_size: int
    initial_trust: float
    agenda: tuple[float, ...]
    """:func:`agenda.params`."""
    trust: tuple[float, ...]
    """:func:`trust.params`."""
    awareness: tuple[float, ...]
    """Neighbours' awareness, forgetting, and the trust a leaver's ties keep
    (:func:`trust.keep_after_withdrawal`)."""
    dropout: tuple[float, ...]
    """:func:`recruitment.dropout_params`."""
    feedback: tuple[float, ...]
    """The gap floor, measurement's gap base, win pace and word of mouth, initial trust,
    the trust a visible win gives, and the initial reserve."""
    activities: tuple[float, ...]
    """:func:`activities.params`."""
    measurement: tuple[float, ...]
    """:func:`measurement.params`."""
    commitment: tuple[float, ...]
    """:func:`recruitment.commitment_params`."""
    resources: tuple[float, ...]
    """:func:`resources.params`."""
    brokering: tuple[np.ndarray, float, float]
    """:func:`backbone.broker_params`."""


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
        self._support: float | None = None  # the month's backbone support, inside step()
        self._capacities: dict | None = None  # the month's unit_capacities, inside step()

        self.backbones: list[backbone.BackboneUnit] = []
        if sc.backbone.enabled:
            self.create_backbone()

        self.latest = indicators.compute(self, {})
        """This month's reporters (``indicators.REPORTERS``)."""
        self.history: list[dict[str, float]] = [self.latest]
        """Every month's reporters, month 0 (the initial state) first."""
        self.area_history = [self.progress.copy()]
        self._handle: tuple[np.random.Generator, np.ndarray] | None = None
        self._fixed: tuple[int, object, object, FixedConstants] | None = None
        self._conveners: tuple[list, list, backbone.Conveners] | None = None

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
        month = self._capacities
        if month is None:  # outside step()
            return sum(b.function_capacities()[function] for b in self.backbones)
        return sum(capacities[function] for capacities in month.values())

    def unit_capacities(self, unit: backbone.BackboneUnit) -> dict[str, float]:
        """The capacity a backbone unit gives to each function this month
        (:meth:`backbone.BackboneUnit.function_capacities`). Inside :meth:`step`, once the
        month's events have fired, they are fixed for the month (resources change only at
        its end): worked out once per unit at the start of the month, not at every ask
        (convening, brokering, measurement, matching and fundraising ask)."""
        month = self._capacities
        held = month.get(unit) if month is not None else None
        return held if held is not None else unit.function_capacities()

    def backbone_support(self) -> float:
        """Effective backbone capacity this month (0 when there is none)."""
        if self._support is not None:  # inside step(), after the month's events
            return self._support
        return sum(b.effective_capacity for b in self.backbones)

    def partner_share(self) -> float:
        """How much of the coordination partners do themselves: 1 without a backbone,
        falling linearly to 0 as the backbone's effective capacity reaches 1."""
        return max(0.0, 1.0 - self.backbone_support())

    # ------------------------------------------------------------------ helpers

    def node_trust(self) -> np.ndarray:
        """Each stakeholder's mean trust over the ties that count for it (initial trust if
        it has none): all ties of a citizen, the peer ties of an organisation."""
        return self.ties.neighbourhood_mean(self.ties.trust, self.settings.initial_trust)

    def mean_trust_of(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`node_trust` of the given stakeholders."""
        return self.node_trust()[rows]

    def engaged_ties(self) -> np.ndarray:
        """Mask of ties whose both ends are engaged (cached for the rest of the step)."""
        if self._eng_ties is not None:
            return self._eng_ties
        return self.ties.between(self.pop.engagement == ENGAGED)

    def partner_ties(self) -> np.ndarray:
        """Mask of ties between engaged organisations (cached for the rest of the step)."""
        if self._partner_ties is not None:
            return self._partner_ties
        return self.ties.between(self.pop.engagement == ENGAGED, self.ties.org)

    def engaged_trust(self) -> float:
        """Mean trust on ties between engaged partner organisations (initial trust if none)."""
        return masked_mean(self.ties.trust, self.partner_ties(), self.settings.initial_trust)

    # ------------------------------------------------------------------ the month

    def fixed_constants(self) -> FixedConstants:
        """The compiled calls' constants that only :attr:`settings` and :attr:`cal` set,
        worked out once and again only after a field of any section was assigned
        (:attr:`cimsim.calibration.Section.edits`) or either was replaced: a month no longer
        works them out from the sections (about 15 functions a month)."""
        held = self._fixed
        if (
            held is not None
            and held[0] == Section.edits
            and held[1] is self.settings
            and held[2] is self.cal
        ):
            return held[3]
        cal, settings = self.cal, self.settings
        activity, channels = communication.channels(self)
        fixed = FixedConstants(
            activity=activity,
            channels=channels,
            partners=backbone.partner_params(self),
            meeting_size=int(cal.backbone.meeting_size),
            initial_trust=float(settings.initial_trust),
            agenda=agenda.params(self),
            trust=trust.params(self),
            awareness=constants(
                cal.recruitment.neighbour_awareness,
                cal.recruitment.forgetting,
                trust.keep_after_withdrawal(self),
            ),
            dropout=recruitment.dropout_params(cal.recruitment),
            feedback=constants(
                cal.activities.gap_floor,
                cal.measurement.gap_base,
                cal.measurement.win_pace,
                cal.measurement.word_of_mouth,
                settings.initial_trust,
                settings.trust_gain * cal.trust.win_trust,
                cal.population.initial_reserve,
            ),
            activities=activities.params(cal.activities),
            measurement=measurement.params(cal.measurement),
            commitment=recruitment.commitment_params(cal.recruitment),
            resources=resources.params(cal.resources),
            brokering=backbone.broker_params(cal.backbone, cal.network),
        )
        self._fixed = (Section.edits, settings, cal, fixed)
        return fixed

    def conveners(self) -> backbone.Conveners:
        """The backbone units' convening and brokering as the month's compiled calls take
        them (:func:`backbone.conveners`), worked out again only when the units, or a
        unit's village or role, changed."""
        units = self.backbones
        key = [(unit, unit.village, unit.role) for unit in units]
        held = self._conveners
        if held is None or held[0] is not units or held[1] != key:
            self._conveners = held = (units, key, backbone.conveners(units))
        return held[2]

    def rng_handle(self) -> np.ndarray:
        """:attr:`rng` as the month's compiled calls take it
        (:func:`cimsim.kernels.generator_handle`), made again when ``rng`` is replaced (a
        copy or a pickle of the initiative leaves the handle behind, :meth:`__getstate__`).
        The handle keeps its generator alive, so no other generator's state can sit at that
        address."""
        held = self._handle
        if held is None or held[0] is not self.rng:
            self._handle = held = (self.rng, generator_handle(self.rng))
        return held[1]

    def __getstate__(self) -> dict:
        """The state a copy or a pickle takes: all but the generator handle, which holds an
        address in this process (a copy's ``rng`` is another generator, found again by
        :meth:`rng_handle`), and the fixed constants (worked out again when first asked)."""
        return {**self.__dict__, "_handle": None, "_fixed": None, "_conveners": None}

    def step(self) -> None:
        """Advance the initiative by one month. Once the month's events have fired, the
        backbone's effective capacity is fixed for the month: it is worked out once here
        (the partners' meetings, measurement, matching and resources ask for it), and so
        is each unit's capacity per function (:meth:`unit_capacities`); both are forgotten
        when the month is done."""
        self.begin_month()
        self._support = self.backbone_support()
        self._capacities = {unit: unit.function_capacities() for unit in self.backbones}
        try:
            self.talk()
            self.join_and_leave()
            self.work_and_learn()
        finally:
            self._support = self._capacities = None

    def begin_month(self) -> None:
        """Step 1 of the month: last month's contacts are cleared, the month's events fire
        and urgency decays toward its floor."""
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

    def talk(self) -> None:
        """Steps 2-5 of the month: contacts along ties, broadcasts and visits; the
        backbone's meetings (round by round, :func:`backbone.rounds`), then the government
        partners'; agenda exchange and trust on the contacted ties. One compiled call
        (:func:`_talk`) runs each mechanism's kernel in turn, as the mechanisms' functions
        would."""
        pop, ties, fixed, conveners = self.pop, self.ties, self.fixed_constants(), self.conveners()
        units = conveners.units
        jobs = [unit.invitation() for unit in units]
        # rates and workshop rates in one array (two rows); the partners' rate is worked out
        # in _talk (backbone.partner_invitation)
        rates = np.array([[job[0] for job in jobs] + [0.0], [job[3] for job in jobs] + [0.0]])
        self.reached_by_broadcast, self.visited, attendees, self.active_idx, self.agreed = _talk(
            self.rng_handle(),
            pop.sector,
            pop.village,
            pop.engagement,
            pop.influence,
            pop.represents,
            pop.attended,
            pop.position,
            pop.exposure,
            pop.reserve,
            ties.u,
            ties.v,
            ties.counts_u,
            ties.counts_v,
            ties.degree,
            ties.trust,
            ties.active,
            ties.weight,
            ties.mediated,
            fixed.activity,
            fixed.channels,
            float(self.partner_share()),
            fixed.partners,
            rates[0],
            conveners.villages,
            conveners.by_influence,
            rates[1],
            conveners.bounds,
            fixed.meeting_size,
            fixed.initial_trust,
            fixed.agenda,
            fixed.trust,
            ties.index_fields(),
            use_threads(ties.u.size),
        )
        for unit, n in zip(units, attendees[:-1].tolist(), strict=True):  # [-1]: partners
            unit.meetings_held += n

    def join_and_leave(self) -> None:
        """Steps 6-7 of the month: awareness, engagement and dropout; the backbone brokers
        new ties. One compiled call (:func:`_join_and_leave`) runs each mechanism's kernel
        in turn, as the mechanisms' functions would; the new ties are appended after it."""
        pop, ties, fixed = self.pop, self.ties, self.fixed_constants()
        dropped, a, b, bounds = _join_and_leave(
            self.rng_handle(),
            NUMPY_FIELDS,
            pop.sector,
            pop.village,
            pop.engagement,
            pop.influence,
            pop.champion,
            pop.intern,
            pop.willing,
            pop.threshold,
            pop.burnt_out,
            pop.commitment,
            pop.fatigue,
            pop.capacity,
            pop.exposure,
            pop.attended,
            self.reached_by_broadcast,
            self.visited,
            self.active_idx,
            ties.u,
            ties.v,
            ties.counts_u,
            ties.counts_v,
            ties.trust,
            fixed.awareness,
            recruitment.exposure_params(self),
            recruitment.engage_params(self),
            fixed.dropout,
            np.array([unit.brokerage()[0] for unit in self.backbones], np.float64),
            self.conveners().broker_villages,
            *fixed.brokering,
            ties.index_fields(),
            use_threads(ties.u.size),
        )
        self.dropped = dropped
        backbone.add_introduced(self, self.backbones, a, b, bounds)

    def work_and_learn(self) -> None:
        """Steps 8-12 of the month (engagement and ties are fixed from here on): partners
        work on issue areas, progress is made and measured, feedback and resources flow,
        and the month's reporters are recorded. One compiled call (:func:`_work_and_learn`)
        runs each mechanism's kernel in turn, as the mechanisms' functions would."""
        pop, ties, fixed = self.pop, self.ties, self.fixed_constants()
        load, staff, partners = measurement.runners(self)
        richness, matcher = measurement.matching(self)
        support = float(min(1.0, self.backbone_support()))
        (
            gain,
            self.coverage,
            self.quality,
            self.gap_info,
            wins,
            self.pool_raised,
            self.pool_paid,
            values,
            self._eng_ties,
            self._partner_ties,
        ) = _work_and_learn(
            self.rng_handle(),
            NUMPY_FIELDS,
            pop.sector,
            pop.engagement,
            pop.capacity,
            pop.position,
            pop.area,
            pop.preferred,
            pop.coordinated,
            pop.commitment,
            pop.reserve,
            pop.fatigue,
            pop.attended,
            pop.burnt_out,
            pop.champion,
            pop.influence,
            ties.u,
            ties.v,
            ties.counts_u,
            ties.counts_v,
            ties.degree,
            ties.trust,
            ties.active,
            ties.org,
            self.active_idx,
            self.need,
            self.progress,
            self.effort_share,
            np.array(self.gains[-2:], np.float64),
            (
                *constants(
                    self.gap_info,
                    self.capacity_total,
                    self.spec.activities.difficulty,
                ),
                bool(self.measurement_enabled),
                *constants(
                    self.coverage,
                    load,
                    staff,
                    partners,
                    self.resources,
                    richness,
                    matcher,
                    self.urgency,
                ),
                int(self.initial_champions),
                *constants(self.backbone_function("fundraise"), support, self.dropped),
            ),
            fixed.feedback,
            fixed.activities,
            fixed.measurement,
            fixed.commitment,
            fixed.resources,
            ties.index_fields(),
            use_threads(ties.u.size),
        )
        self.gains.append(gain)
        self.latest = dict(zip(indicators.REPORTERS, values.tolist(), strict=True))
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


@njit(cache=True)
def _work_and_learn(
    generator,
    numpy_fields,
    sector,
    engagement,
    capacity,
    position,
    area,
    preferred,
    coordinated,
    commitment,
    reserve,
    fatigue,
    attended,
    burnt_out,
    champion,
    influence,
    u,
    v,
    counts_u,
    counts_v,
    degree,
    tie_trust,
    active,
    org,
    active_idx,
    need,
    progress,
    effort_share,
    previous_gains,
    state,
    constants,
    activity_constants,
    measurement_constants,
    commitment_constants,
    resource_constants,
    index_fields,
    threads,
):
    """Kernel of :meth:`Initiative.work_and_learn`: steps 8-12, each mechanism's kernel in
    schedule order. ``state`` holds the month's scalars (see the caller); ``index_fields`` is
    :meth:`cimsim.population.Ties.index_fields`, as for the other two calls; ``threads``,
    as for them, :func:`cimsim.kernels.use_threads` of the tie table. Returns the
    month's gross gain, coverage, quality, gap information, visible wins, pool raised and
    paid, the reporters in ``indicators.REPORTERS`` order, and the masks of the ties
    between engaged stakeholders and between engaged organisations (engagement does not
    change after step 7, so they hold for the rest of the month)."""
    rng = generator_at(generator)  # the model's generator (Initiative.rng_handle)
    index = TieIndex(*index_fields)  # named inside: see Ties.index_fields
    numpy = NumpyMath(*numpy_fields)  # see kernels.NUMPY_FIELDS
    (
        gap_info,
        capacity_total,
        difficulty,
        measuring,
        coverage,
        load,
        staff,
        partners,
        resource_level,
        richness,
        matcher,
        urgency,
        initial_champions,
        fundraise_capacity,
        support,
        dropped,
    ) = state
    gap_floor, gap_base, win_pace, word_of_mouth, initial_trust, win_trust, initial_reserve = (
        constants
    )
    # the ties between the engaged and the engaged's trust, read before step 10's rewards
    engaged_tie, partner_tie, engaged_idx, partner_idx, node_trust = engaged_ties_of(
        u, v, counts_u, counts_v, tie_trust, degree, initial_trust, engagement, org, index, threads
    )
    # 8. activity allocation, using last month's gap information
    activities.choose_areas(
        rng,
        engagement,
        gap_info,
        need,
        progress,
        effort_share,
        gap_floor,
        coordinated,
        area,
        preferred,
    )
    intensity = resources._intensity(engagement, commitment, reserve)
    # 9. impact: progress per issue area
    gain, duplication, area_coverage, _ = activities.progress_areas(
        numpy,
        engagement,
        capacity,
        position,
        area,
        coordinated,
        sector,
        intensity,
        need,
        progress,
        effort_share,
        capacity_total,
        difficulty,
        activity_constants,
    )
    # 10. shared measurement and feedback
    partner_trust = mean_at(tie_trust, partner_idx, initial_trust) if measuring else 0.0
    government_share = (
        measurement._government_engaged_share(sector, engagement) if measuring else 0.0
    )
    shared, coverage, quality = measurement.update_coverage(
        measuring,
        coverage,
        load,
        staff,
        partners,
        government_share,
        partner_trust,
        resource_level,
        measurement_constants,
    )
    gap_info = measurement.gap_chance(shared, richness, matcher, gap_base)
    recent = measurement.recent_gains(np.append(previous_gains, gain))
    wins = measurement.visible_wins(recent, shared, win_pace, word_of_mouth)
    # commitment reads the mean trust of the engaged only (node_trust, above)
    recruitment.commit(
        engagement, node_trust, attended, fatigue, commitment, urgency, wins, commitment_constants
    )
    if wins > 0:
        trust._reward(engaged_idx, u, v, area, tie_trust, win_trust * wins)
    # 11. resource flows and fatigue
    raised, paid = resources.flow(
        engagement,
        reserve,
        fatigue,
        commitment,
        champion,
        influence,
        capacity,
        intensity,
        wins,
        resource_level,
        initial_champions,
        fundraise_capacity,
        capacity_total,
        resource_constants,
    )
    # 12. the month's reporters
    values = indicators.reporters(
        numpy,
        sector,
        engagement,
        burnt_out,
        attended,
        position,
        capacity,
        commitment,
        fatigue,
        reserve,
        tie_trust,
        active,
        engaged_idx,
        partner_idx,
        active_idx,
        need,
        progress,
        (
            shared,
            (1.0 - duplication) * area_coverage,
            support,
            urgency,
            dropped,
            duplication,
            area_coverage,
            gap_info,
            wins,
            raised,
            paid,
            capacity_total,
            initial_reserve,
            initial_trust,
        ),
    )
    return gain, coverage, quality, gap_info, wins, raised, paid, values, engaged_tie, partner_tie


@njit(cache=True)
def _talk(
    generator,
    sector,
    village,
    engagement,
    influence,
    represents,
    attended,
    position,
    exposure,
    reserve,
    u,
    v,
    counts_u,
    counts_v,
    degree,
    tie_trust,
    active,
    weight,
    mediated,
    activity,
    channels,
    partner_share,
    partner_constants,
    rates,
    villages,
    by_influence,
    workshops,
    bounds,
    meeting_size,
    initial_trust,
    agenda_constants,
    trust_constants,
    index_fields,
    threads,
):
    """Kernel of :meth:`Initiative.talk`: steps 2-5, each mechanism's kernel in schedule
    order. The conveners' jobs come in rounds (``bounds``); the last round is the
    government partners', whose meetings are not facilitated (their rate is worked out
    here from ``partner_share`` and ``partner_constants``, as
    :func:`cimsim.mechanisms.backbone.partner_invitation` does); ``index_fields``: each
    stakeholder's ties (:meth:`cimsim.population.Ties.index_fields`); ``threads``: how
    many threads the widest passes take (:func:`cimsim.kernels.use_threads`, 0: serially;
    the same results). Returns who was
    reached by a broadcast, who was visited, each job's attendees, the contacted ties and
    which of them agreed."""
    rng = generator_at(generator)  # the model's generator (Initiative.rng_handle)
    index = TieIndex(*index_fields)  # named inside: see Ties.index_fields
    # the government partners' meetings, the last job (backbone.partner_invitation): they
    # pay from their reserves now, before anything else of the month is drawn
    if partner_share > 0:
        rates[-1] = backbone.partner_rate(
            sector, engagement, reserve, influence, partner_share, partner_constants
        )
    # 2. continuous communication
    reached, visited = communication.contact(
        rng, u, v, engagement, sector, activity, channels, active, weight, exposure, threads
    )
    # 3. meetings (trust does not change while they are held; the attendees read theirs)
    attendees = np.zeros(rates.size, np.int64)
    last = bounds.size - 2
    for r in range(bounds.size - 1):
        lo, hi = bounds[r], bounds[r + 1]
        attendees[lo:hi] = backbone.convene_round(
            rng,
            rates[lo:hi],
            villages[lo:hi],
            by_influence[lo:hi],
            workshops[lo:hi],
            r != last,
            sector,
            village,
            engagement,
            influence,
            represents,
            attended,
            position,
            u,
            v,
            active,
            mediated,
            weight,
            meeting_size,
            agenda_constants,
            counts_u,
            counts_v,
            tie_trust,
            degree,
            initial_trust,
            index,
            threads,
        )
    # 4. common agenda on the contacted ties
    idx, agreed = agenda.exchange(
        active,
        u,
        v,
        tie_trust,
        weight,
        mediated,
        counts_u,
        counts_v,
        position,
        agenda_constants,
        threads,
    )
    # 5. trust on the contacted ties
    trust.update(
        idx, agreed, u, v, tie_trust, weight, mediated, influence, trust_constants, threads
    )
    return reached, visited, attendees, idx, agreed


@njit(cache=True)
def _join_and_leave(
    generator,
    numpy_fields,
    sector,
    village,
    engagement,
    influence,
    champion,
    intern,
    willing,
    threshold,
    burnt_out,
    commitment,
    fatigue,
    capacity,
    exposure,
    attended,
    broadcast,
    visited,
    active_idx,
    u,
    v,
    counts_u,
    counts_v,
    tie_trust,
    constants,
    exposure_constants,
    engage_constants,
    dropout_constants,
    broker_capacity,
    broker_villages,
    sector_weight,
    broker_rate,
    residents_rate,
    index_fields,
    threads,
):
    """Kernel of :meth:`Initiative.join_and_leave`: steps 6-7, each mechanism's kernel in
    schedule order (``index_fields``: :meth:`cimsim.population.Ties.index_fields`;
    ``threads``: :func:`cimsim.kernels.use_threads` of the tie table).
    Returns the capacity that dropped out and the brokered pairs (both ends and the
    brokers' bounds in them)."""
    rng = generator_at(generator)  # the model's generator (Initiative.rng_handle)
    index = TieIndex(*index_fields)  # named inside: see Ties.index_fields
    numpy = NumpyMath(*numpy_fields)  # see kernels.NUMPY_FIELDS
    neighbour_awareness, forgetting, keep = constants
    # 6. recruitment (awareness, threshold engagement) and dropout
    recruitment.aware(
        rng,
        numpy,
        active_idx,
        u,
        v,
        counts_u,
        counts_v,
        engagement,
        sector,
        broadcast,
        visited,
        attended,
        neighbour_awareness,
        forgetting,
        threads,
    )
    recruitment.join(
        rng,
        u,
        v,
        counts_u,
        counts_v,
        tie_trust,
        sector,
        influence,
        engagement,
        champion,
        exposure,
        attended,
        willing,
        threshold,
        burnt_out,
        commitment,
        exposure_constants,
        engage_constants,
        index,
        threads,
    )
    dropped = recruitment.leave(
        rng,
        engagement,
        champion,
        intern,
        sector,
        fatigue,
        commitment,
        capacity,
        burnt_out,
        u,
        v,
        tie_trust,
        keep,
        dropout_constants,
        index,
        threads,
    )
    # 7. the backbone brokers new cross-sector ties (who, not yet the ties)
    a, b, bounds = backbone.introduce(
        rng,
        broker_capacity,
        broker_villages,
        sector_weight,
        broker_rate,
        residents_rate,
        engagement,
        sector,
        village,
    )
    return dropped, a, b, bounds
