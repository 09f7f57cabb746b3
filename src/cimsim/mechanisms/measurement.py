"""Shared measurement and feedback: indicator coverage, data quality, visible small wins.

Coverage moves each month toward a target set by who runs the measurement, partners'
trust (willingness to share data) and resources. The backbone's measurement capacity and
the partners' own measurement add up; the partners' part fades out as the backbone's
effective capacity grows (``state.partner_share()``), and the data quality is the mean of
the two runners' qualities weighted by what each contributes:

    runner = min(1, backbone_runner + partner_runner * partner_share)
    target = runner * (1 - trust_share + trust_share * trust_partners)
                    * (1 - resource_share + resource_share * R)
    shared_measurement = coverage * quality

More indicators cost more to cover but give finer gap information. Gross progress of the
last three months (what partners achieved, before erosion) makes small wins; they are
visible to partners in proportion to shared measurement (plus word of mouth), and
visible wins feed commitment, trust and recovery from fatigue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def government_engaged_share(state: Initiative) -> float:
    """Share of government units that are engaged."""
    from cimsim.population import GOVERNMENT

    gov = state.pop.sector == GOVERNMENT
    return float((state.pop.engaged & gov).sum() / max(int(gov.sum()), 1))


def measure(state: Initiative) -> float:
    """Update coverage and quality; return the shared_measurement indicator."""
    cal = state.cal.measurement
    if not state.measurement_enabled:
        state.coverage *= 1.0 - cal.coverage_rate
        state.quality = 0.0
        return 0.0
    load = (cal.reference_indicators / state.indicators) ** 0.25
    staff = state.backbone_function("measure")
    backbone_runner = min(1.0, staff * cal.staff_per_unit * load)
    partner_runner = (
        min(1.0, cal.partner_efficiency * government_engaged_share(state) * load)
        * state.partner_share()
    )
    both = backbone_runner + partner_runner
    runner = min(1.0, both)
    quality = (
        (backbone_runner * cal.backbone_quality + partner_runner * cal.partner_quality) / both
        if both > 0
        else cal.partner_quality
    )
    t = state.engaged_trust()
    target = (
        runner
        * (1.0 - cal.trust_share + cal.trust_share * t)
        * (1.0 - cal.resource_share + cal.resource_share * state.resources)
    )
    state.coverage += cal.coverage_rate * (target - state.coverage)
    state.quality = quality * (1.0 - cal.quality_trust + cal.quality_trust * t)
    return float(state.coverage * state.quality)


def gap_information(state: Initiative, shared_measurement: float) -> float:
    """Probability that an engaged partner knows where the gaps are and is matched to them."""
    cal = state.cal.measurement
    richness = state.indicators / (state.indicators + cal.richness_half)
    matcher = min(
        1.0,
        state.backbone_function("match") * cal.matching_per_capacity
        + cal.partner_matching * state.partner_share(),
    )
    return float(min(1.0, cal.gap_base + shared_measurement * richness * matcher))


def small_wins(state: Initiative, shared_measurement: float) -> float:
    """Visible small wins in [0, 1]: recent impact gains seen through measurement."""
    cal = state.cal.measurement
    wins = float(np.clip(sum(state.gains[-3:]) / cal.win_pace, 0.0, 1.0))
    return wins * (cal.word_of_mouth + (1.0 - cal.word_of_mouth) * shared_measurement)
