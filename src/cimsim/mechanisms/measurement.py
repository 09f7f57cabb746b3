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
from numba import njit

from cimsim.calibration import MeasurementCal
from cimsim.kernels import constants
from cimsim.population import ENGAGED, GOVERNMENT

if TYPE_CHECKING:
    from cimsim.initiative import Initiative


def government_engaged_share(state: Initiative) -> float:
    """Share of government units that are engaged."""
    return _government_engaged_share(state.pop.sector, state.pop.engagement)


@njit(cache=True)
def _government_engaged_share(sector, engagement):
    """Kernel of :func:`government_engaged_share`."""
    units = engaged = 0
    for i in range(sector.size):
        if sector[i] == GOVERNMENT:
            units += 1
            engaged += engagement[i] == ENGAGED
    return engaged / max(units, 1)


def runners(state: Initiative) -> tuple[float, float, float]:
    """What the month's measurement needs from the backbone and the indicators: the
    workload of the indicator set (``(reference / indicators) ** 0.25``), the backbone's
    measurement capacity and the partners' share of coordination."""
    load = (state.cal.measurement.reference_indicators / state.indicators) ** 0.25
    return load, state.backbone_function("measure"), state.partner_share()


def measure(state: Initiative) -> float:
    """Update coverage and quality; return the shared_measurement indicator."""
    load, staff, partners = runners(state)
    shared, state.coverage, state.quality = update_coverage(
        state.measurement_enabled,
        state.coverage,
        load,
        staff,
        partners,
        government_engaged_share(state) if state.measurement_enabled else 0.0,
        state.engaged_trust() if state.measurement_enabled else 0.0,
        state.resources,
        params(state.cal.measurement),
    )
    return shared


def params(cal: MeasurementCal) -> tuple[float, ...]:
    """The constants of :func:`update_coverage`, in its order."""
    return constants(
        cal.coverage_rate,
        cal.staff_per_unit,
        cal.partner_efficiency,
        cal.backbone_quality,
        cal.partner_quality,
        cal.trust_share,
        cal.resource_share,
        cal.quality_trust,
    )


@njit(cache=True)
def update_coverage(
    enabled, coverage, load, staff, partners, government_share, trust, resources, constants
):
    """Kernel of :func:`measure`: the month's coverage, quality and shared measurement
    (``trust`` is the engaged partners' mean trust). Returns (shared measurement,
    coverage, quality)."""
    (
        coverage_rate,
        staff_per_unit,
        partner_efficiency,
        backbone_quality,
        partner_quality,
        trust_share,
        resource_share,
        quality_trust,
    ) = constants
    if not enabled:
        return 0.0, coverage * (1.0 - coverage_rate), 0.0
    backbone_runner = min(1.0, staff * staff_per_unit * load)
    partner_runner = min(1.0, partner_efficiency * government_share * load) * partners
    both = backbone_runner + partner_runner
    runner = min(1.0, both)
    quality = (
        (backbone_runner * backbone_quality + partner_runner * partner_quality) / both
        if both > 0
        else partner_quality
    )
    target = (
        runner
        * (1.0 - trust_share + trust_share * trust)
        * (1.0 - resource_share + resource_share * resources)
    )
    coverage += coverage_rate * (target - coverage)
    quality = quality * (1.0 - quality_trust + quality_trust * trust)
    return coverage * quality, coverage, quality


def matching(state: Initiative) -> tuple[float, float]:
    """The richness of the indicator set and the capacity to match partners to gaps
    (backbone matching plus the partners' own, at most 1)."""
    cal = state.cal.measurement
    richness = state.indicators / (state.indicators + cal.richness_half)
    matcher = min(
        1.0,
        state.backbone_function("match") * cal.matching_per_capacity
        + cal.partner_matching * state.partner_share(),
    )
    return richness, matcher


def gap_information(state: Initiative, shared_measurement: float) -> float:
    """Probability that an engaged partner knows where the gaps are and is matched to them."""
    richness, matcher = matching(state)
    return gap_chance(shared_measurement, richness, matcher, state.cal.measurement.gap_base)


@njit(cache=True)
def gap_chance(shared_measurement, richness, matcher, gap_base):
    """Kernel of :func:`gap_information`."""
    return min(1.0, gap_base + shared_measurement * richness * matcher)


def small_wins(state: Initiative, shared_measurement: float) -> float:
    """Visible small wins in [0, 1]: recent impact gains seen through measurement."""
    cal = state.cal.measurement
    recent = recent_gains(np.array(state.gains[-3:], np.float64))
    return visible_wins(recent, shared_measurement, cal.win_pace, cal.word_of_mouth)


@njit(cache=True)
def recent_gains(gains):
    """The sum of the last months' gains, compensated as Python's ``sum`` of floats
    computes it (Neumaier 1974; Python >= 3.12)."""
    total = correction = 0.0
    for k in range(gains.size):
        x = gains[k]
        if k == 0:
            total = 0.0 + x
            continue
        t = total + x
        if abs(total) >= abs(x):
            correction += (total - t) + x
        else:
            correction += (x - t) + total
        total = t
    if correction != 0.0 and np.isfinite(correction):
        total += correction
    return total


@njit(cache=True)
def visible_wins(recent_gains, shared_measurement, win_pace, word_of_mouth):
    """Kernel of :func:`small_wins`: the gains of the last three months against the
    pace that counts as a win, seen through measurement or word of mouth."""
    wins = min(max(recent_gains / win_pace, 0.0), 1.0)
    return wins * (word_of_mouth + (1.0 - word_of_mouth) * shared_measurement)
