"""The model's behavioural constants as one validated ``calibration`` section.

Every number a mechanism uses that is not a scenario fact lives here, grouped by the
mechanism that uses it, and is reachable by a dotted path everywhere parameters are
(``--set calibration.recruitment.social_weight=2.5``, sweeps, Sobol, Morris). Each field
has a validation range (what the model accepts) and a *plausible* range (what a
calibration or a screening should explore), plus one line of meaning and, where there is
one, the source. None is fitted to data: the defaults are plausibility settings chosen so
that the brief's patterns and the credibility checks hold (see ``docs/ODD.md`` §8).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """Base of every scenario and calibration section: validated when a field is assigned,
    and counting the assignments (:attr:`edits`), so constants worked out from the
    sections (:meth:`cimsim.initiative.Initiative.fixed_constants`) are worked out again
    after any change."""

    model_config = ConfigDict(
        extra="forbid", strict=False, validate_assignment=True, allow_inf_nan=False
    )
    edits: ClassVar[int] = 0
    """Assignments to a field of any section so far, in this process."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        Section.edits += 1


def constant(
    default: float, plausible: tuple[float, float], doc: str, *, le: float | None = None
) -> Any:
    """A calibration constant: >= 0 (and <= ``le``), with its plausible range in the schema."""
    lo, hi = plausible
    assert lo <= default <= hi, (default, plausible)
    return Field(
        default,
        ge=0.0,
        le=le,
        description=doc,
        json_schema_extra={"plausible": [lo, hi]},
    )


def share(default: float, plausible: tuple[float, float], doc: str) -> Any:
    """A calibration constant that is a probability or a share in [0, 1]."""
    return constant(default, plausible, doc, le=1.0)


class PopulationCal(Section):
    """Initial attributes of stakeholders (``population.py``)."""

    capacity_government: float = constant(
        1.0, (1.0, 1.0), "monthly effort of a government unit (the unit of capacity)"
    )
    capacity_business: float = constant(0.6, (0.3, 1.0), "mean monthly effort of a business")
    capacity_civil_society: float = constant(
        0.5, (0.25, 1.0), "mean monthly effort of a civil society organisation"
    )
    resident_capacity: float = constant(
        0.002,
        (0.0005, 0.006),
        "monthly effort of one resident; a citizen agent has residents_per_citizen times this",
    )
    capacity_spread: float = constant(0.3, (0.1, 0.5), "sigma of the log-normal spread of capacity")
    influence_government: float = share(0.5, (0.3, 0.7), "mean influence of a government unit")
    influence_citizen: float = share(0.05, (0.01, 0.1), "mean influence of a citizen agent")
    influence_business: float = share(0.35, (0.2, 0.5), "mean influence of a business")
    influence_civil_society: float = share(
        0.3, (0.15, 0.45), "mean influence of a civil society organisation"
    )
    influence_spread: float = constant(
        0.4, (0.2, 0.6), "sigma of the log-normal spread of influence"
    )
    agenda_business: float = share(
        0.3,
        (0.2, 0.45),
        "mean initial agenda position of businesses (others start at 0.5, civil society at 1 - this)",
    )
    agenda_spread: float = constant(
        0.2, (0.1, 0.3), "sd of initial agenda positions around the sector mean"
    )
    popularity_skew: float = constant(
        1.0, (0.5, 1.5), "Zipf exponent of issue-area popularity as personal preference"
    )
    threshold_org_a: float = constant(
        3.0, (2.0, 4.0), "organisations' engagement thresholds ~ Beta(a, b): a (Granovetter 1978)"
    )
    threshold_org_b: float = constant(
        5.0, (4.0, 7.0), "organisations' engagement thresholds ~ Beta(a, b): b"
    )
    threshold_resident_a: float = constant(
        2.0, (1.5, 3.0), "willing residents' engagement thresholds ~ Beta(a, b): a"
    )
    threshold_resident_b: float = constant(
        6.0, (4.0, 8.0), "willing residents' engagement thresholds ~ Beta(a, b): b"
    )
    willing_residents: float = share(
        0.3,
        (0.15, 0.45),
        "share of residents who would ever take part; the rest never do (EU-SILC 2015: 12% active citizenship, 19% volunteering)",
    )
    willing_organisations: float = share(
        0.9, (0.7, 1.0), "share of organisations that would ever take part"
    )
    aware_org_base: float = share(
        0.3, (0.1, 0.5), "chance an organisation is aware at the start, at urgency 0"
    )
    aware_org_urgency: float = share(
        0.5,
        (0.3, 0.7),
        "extra chance per unit of urgency that an organisation is aware at the start",
    )
    aware_resident_urgency: float = share(
        0.1, (0.05, 0.2), "chance per unit of urgency that a resident is aware at the start"
    )
    initial_reserve: float = constant(
        6.0, (3.0, 9.0), "initial reserve in months of full activity, times preconditions.resources"
    )
    initial_commitment: float = share(
        0.5, (0.3, 0.7), "commitment of stakeholders engaged at the start"
    )
    internship_capacity: float = constant(
        0.4, (0.2, 0.6), "monthly effort of one intern (Mechelen's A-team)"
    )
    intern_commitment: float = share(0.6, (0.4, 0.8), "commitment of an intern at the start")


class NetworkCal(Section):
    """The stakeholder network (``network.py``)."""

    propensity_government: float = constant(
        6.0, (3.0, 9.0), "tie propensity of a government unit among organisations"
    )
    propensity_business: float = constant(
        3.0, (1.5, 4.5), "tie propensity of a business among organisations"
    )
    propensity_civil_society: float = constant(
        3.0, (1.5, 4.5), "tie propensity of a civil society organisation among organisations"
    )
    bridge_stays_in_village: float = share(
        0.7, (0.5, 0.9), "share of bridging ties that stay inside the village"
    )
    resident_org_share: float = share(
        0.5,
        (0.25, 0.75),
        "share of a resident's bridging ties that go to organisations (employer, school, association, municipal service)",
    )


class CommunicationCal(Section):
    """Contacts, channels, broadcasts and door-to-door (``mechanisms/communication.py``)."""

    contact_rate: float = share(
        0.6,
        (0.4, 0.8),
        "monthly contact chance of a tie between two engaged ends at communication = 1",
    )
    activity_inactive: float = share(
        0.15, (0.05, 0.3), "contact propensity of an inactive stakeholder (engaged = 1)"
    )
    activity_aware: float = share(
        0.5, (0.3, 0.7), "contact propensity of an aware stakeholder (engaged = 1)"
    )
    written_weight: float = share(
        0.46 / 1.21,
        (0.25, 0.5),
        "effect of a written contact relative to face to face (Balliet 2010: d = 0.46 vs 1.21)",
    )
    broadcast_reach: float = share(
        0.06, (0.02, 0.1), "monthly chance a broadcast at full intensity reaches one person"
    )
    door_to_door_reach: float = share(
        0.08, (0.04, 0.12), "monthly share of residents visited at door_to_door = 1"
    )
    broadcast_pull: float = constant(
        0.3, (0.15, 0.45), "direct engagement exposure of a broadcast (times written weight)"
    )
    visit_pull: float = constant(
        0.4, (0.2, 0.6), "direct engagement exposure of a door-to-door visit"
    )


class AgendaCal(Section):
    """Bounded-confidence agenda exchange (``mechanisms/agenda.py``)."""

    convergence: float = share(
        0.3, (0.1, 0.5), "Deffuant mu: share of the gap closed at trust 1, face to face"
    )
    meeting_widening: float = constant(
        0.15, (0.05, 0.25), "how much a facilitated meeting widens the confidence bound"
    )
    bound_base: float = constant(
        0.5, (0.3, 0.7), "confidence bound = confidence * (bound_base + trust)"
    )


class TrustCal(Section):
    """Trust on ties (``mechanisms/trust.py``)."""

    conflict: float = share(
        0.25, (0.1, 0.4), "share of the loss rate applied when a contact ends in disagreement"
    )
    withdrawal: float = share(
        0.5, (0.25, 0.75), "share of the loss rate applied to the ties of a stakeholder who leaves"
    )
    win_trust: float = constant(
        0.5,
        (0.25, 0.75),
        "share of the gain rate per unit of visible wins on co-working ties (Ansell & Gash 2008)",
    )


class RecruitmentCal(Section):
    """Awareness, engagement, commitment and dropout (``mechanisms/recruitment.py``)."""

    neighbour_awareness: float = share(
        0.15,
        (0.05, 0.3),
        "chance that a contact with an engaged neighbour makes an inactive person aware",
    )
    forgetting: float = share(
        0.03,
        (0.01, 0.06),
        "monthly chance an aware but never-reached person forgets the initiative",
    )
    social_weight: float = constant(
        3.0, (2.0, 4.0), "weight of the trust-weighted engaged-neighbour share in the exposure"
    )
    champion_visibility: float = constant(
        0.2, (0.1, 0.3), "pull of champions on people with no tie to them, relative to a direct tie"
    )
    meeting_pull: float = constant(
        0.6, (0.3, 0.9), "direct exposure from attending a meeting or workshop"
    )
    engage_rate: float = share(
        0.3, (0.15, 0.45), "monthly chance that an aware stakeholder above threshold engages"
    )
    engagement_cost: float = constant(
        0.3,
        (0.1, 0.5),
        "extra exposure needed to engage when budgets are nil (preconditions.resources = 0); falls linearly to 0 at resources = 1",
    )
    urgency_weight: float = constant(
        0.4, (0.2, 0.6), "additive urgency structure: exposure gained per unit of urgency"
    )
    urgency_reference: float = share(
        0.6,
        (0.4, 0.8),
        "additive urgency structure: the urgency at which the drive counts as in the gate structure",
    )
    join_commitment_base: float = share(
        0.3, (0.2, 0.4), "commitment at joining: base + slope * exposure"
    )
    join_commitment_slope: float = constant(
        0.4, (0.2, 0.6), "commitment at joining per unit of exposure"
    )
    commitment_rate: float = share(
        0.15, (0.08, 0.25), "monthly adjustment rate of commitment toward its target"
    )
    commit_trust: float = constant(
        0.35, (0.2, 0.5), "weight of mean trust in the commitment target"
    )
    commit_urgency: float = constant(
        0.3, (0.15, 0.45), "weight of urgency in the commitment target"
    )
    commit_wins: float = constant(
        0.35, (0.2, 0.5), "weight of visible small wins in the commitment target"
    )
    commit_meeting: float = constant(
        0.15, (0.05, 0.25), "weight of attending a meeting in the commitment target"
    )
    commit_fatigue: float = constant(
        0.2, (0.1, 0.3), "weight of fatigue (negative) in the commitment target"
    )
    dropout_resident: float = share(
        0.015,
        (0.005, 0.03),
        "monthly base dropout of residents (competing demands: moving, work, family)",
    )
    dropout_organisation: float = share(0.005, (0.0, 0.01), "monthly base dropout of organisations")
    dropout_rate: float = constant(
        0.25, (0.1, 0.4), "monthly dropout per unit of fatigue in excess of commitment"
    )
    burnout: float = share(
        0.5, (0.4, 0.7), "fatigue above which an engaged stakeholder burns out and leaves"
    )
    return_after_burnout: float = share(
        0.1, (0.0, 0.3), "relative chance that a burnt-out stakeholder engages again"
    )


class ActivitiesCal(Section):
    """Activities, duplication, synergy and progress (``mechanisms/activities.py``)."""

    opportunity: float = constant(
        0.5,
        (0.25, 1.0),
        "distinct opportunities per area as a share of the area's need in capacity units",
    )
    synergy: float = constant(0.5, (0.25, 0.75), "extra effect of full sector diversity in an area")
    rate: float = constant(
        0.07, (0.04, 0.12), "progress rate per unit of effective effort relative to need"
    )
    decay: float = share(0.01, (0.005, 0.02), "monthly erosion of progress that is not maintained")
    alignment: float = constant(
        2.0, (1.0, 3.0), "effort is scaled by max(0, 1 - alignment * |position - agenda|)"
    )
    gap_floor: float = share(
        0.001, (0.0001, 0.01), "floor added to every area's gap when matched partners pick areas"
    )


class MeasurementCal(Section):
    """Shared measurement, gap information and small wins (``mechanisms/measurement.py``)."""

    coverage_rate: float = share(
        0.08, (0.04, 0.15), "monthly adjustment rate of indicator coverage toward its target"
    )
    staff_per_unit: float = constant(
        8.0, (4.0, 12.0), "full coverage needs 1/staff_per_unit of measurement capacity"
    )
    reference_indicators: float = constant(
        30.0, (15.0, 60.0), "indicator count at which the measurement load is 1"
    )
    backbone_quality: float = share(
        0.9, (0.75, 1.0), "data quality when the backbone runs the measurement"
    )
    partner_quality: float = share(0.55, (0.4, 0.7), "data quality when partners run it")
    partner_efficiency: float = share(
        0.35, (0.2, 0.5), "measurement capacity of engaged government partners without a backbone"
    )
    trust_share: float = share(
        0.6, (0.4, 0.8), "how much the coverage target depends on trust (data sharing)"
    )
    resource_share: float = share(
        0.5, (0.3, 0.7), "how much the coverage target depends on resources"
    )
    quality_trust: float = share(0.4, (0.2, 0.6), "how much data quality depends on trust")
    richness_half: float = constant(
        20.0, (10.0, 40.0), "indicator count at which gap information is half as rich as it can be"
    )
    gap_base: float = share(0.05, (0.0, 0.1), "gap information everyone has without measurement")
    matching_per_capacity: float = constant(
        5.0, (3.0, 8.0), "matching strength per unit of backbone matching capacity"
    )
    partner_matching: float = share(
        0.3, (0.15, 0.45), "matching strength of partners without a backbone"
    )
    word_of_mouth: float = share(
        0.15, (0.05, 0.3), "share of small wins visible without shared measurement"
    )
    win_pace: float = constant(
        0.015, (0.008, 0.03), "gross progress over three months that counts as a full small win"
    )


class BackboneCal(Section):
    """Backbone functions and the partners' fallback (``mechanisms/backbone.py``)."""

    funding_base: float = share(
        0.4,
        (0.2, 0.6),
        "effective capacity = capacity * share * (funding_base + (1 - funding_base) * resources)",
    )
    seats_per_capacity: float = constant(
        0.8,
        (0.4, 1.2),
        "share of the meeting pool invited per month per unit of convening capacity",
    )
    meeting_size: int = Field(
        12,
        ge=2,
        le=200,
        description="attendees per meeting",
        json_schema_extra={"plausible": [6, 30]},
    )
    workshop_reach: float = constant(
        0.2,
        (0.1, 0.4),
        "chance per unit of a coordination group's invitation rate that a resident of its village who is not engaged comes to a workshop (Fremtidsbutikken)",
    )
    broker_rate: float = constant(
        0.5,
        (0.25, 0.75),
        "new ties per month per unit of brokering capacity, per engaged organisation",
    )
    broker_residents: float = share(
        0.05,
        (0.02, 0.1),
        "monthly chance per unit of brokering capacity that an engaged resident is introduced to a partner",
    )
    partner_reach: float = share(
        0.3,
        (0.15, 0.45),
        "convening of government partners without a backbone, relative to a fully staffed central backbone",
    )
    partner_cost: float = constant(
        0.3,
        (0.15, 0.45),
        "reserve (months) a government unit spends per month convening without a backbone",
    )


class ResourcesCal(Section):
    """Reserves, income, the funding pool and fatigue (``mechanisms/resources.py``)."""

    income: float = constant(
        0.9, (0.6, 1.2), "monthly income at resources = 1, in months of full activity"
    )
    reserve_cap: float = constant(
        12.0, (6.0, 18.0), "largest reserve kept (months of full activity)"
    )
    needy_reserve: float = constant(
        3.0, (1.0, 6.0), "engaged partners with less reserve than this can draw on the pool"
    )
    champion_funding: float = constant(
        0.02,
        (0.01, 0.04),
        "pool per month raised by champions at full strength and resources, as a share of total capacity",
    )
    fundraising: float = constant(
        0.3,
        (0.15, 0.5),
        "pool per month per unit of backbone fundraising capacity, as a share of total capacity",
    )
    fatigue_gain: float = constant(0.08, (0.04, 0.12), "fatigue per month of full activity")
    frustration: float = constant(
        0.1,
        (0.05, 0.15),
        "fatigue per month of a committed stakeholder who cannot act for want of resources",
    )
    fatigue_recovery: float = share(0.03, (0.01, 0.05), "monthly recovery from fatigue")
    win_recovery: float = share(0.04, (0.02, 0.06), "extra recovery per unit of visible small wins")
    rest_recovery: float = share(
        0.1, (0.05, 0.2), "share of fatigue shed per month by those not engaged"
    )


class UrgencyCal(Section):
    """Urgency and its renewal (``model.py``, ``interventions.py``)."""

    floor: float = share(0.5, (0.3, 0.7), "urgency decays toward this share of its initial value")
    workshop_renewal: float = constant(
        0.3, (0.1, 0.5), "urgency renewal per unit of workshop reach"
    )


class Calibration(Section):
    """All behavioural constants, one section per mechanism."""

    population: PopulationCal = Field(default_factory=PopulationCal)
    network: NetworkCal = Field(default_factory=NetworkCal)
    communication: CommunicationCal = Field(default_factory=CommunicationCal)
    agenda: AgendaCal = Field(default_factory=AgendaCal)
    trust: TrustCal = Field(default_factory=TrustCal)
    recruitment: RecruitmentCal = Field(default_factory=RecruitmentCal)
    activities: ActivitiesCal = Field(default_factory=ActivitiesCal)
    measurement: MeasurementCal = Field(default_factory=MeasurementCal)
    backbone: BackboneCal = Field(default_factory=BackboneCal)
    resources: ResourcesCal = Field(default_factory=ResourcesCal)
    urgency: UrgencyCal = Field(default_factory=UrgencyCal)


class Structure(Section):
    """Structural choices: alternative formulations a researcher can compare."""

    urgency: Literal["gate", "additive"] = Field(
        "gate",
        description=(
            "gate: urgency multiplies every pull toward engagement (no urgency, no movement); "
            "additive: urgency is one push among the others"
        ),
    )


def calibration_ranges() -> dict[str, tuple[float, float]]:
    """Dotted paths of every calibration constant with its plausible range.

    Constants whose plausible range is a single value (the unit of capacity) are left out.
    """
    out: dict[str, tuple[float, float]] = {}
    for section, info in Calibration.model_fields.items():
        for name, field in info.annotation.model_fields.items():
            extra = field.json_schema_extra or {}
            lo, hi = extra.get("plausible", (None, None))
            if lo is not None and hi > lo:
                out[f"calibration.{section}.{name}"] = (float(lo), float(hi))
    return out
