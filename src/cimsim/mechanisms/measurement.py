"""Shared measurement and feedback: indicator coverage, data quality, visible small wins.

Coverage moves each month toward a target set by who runs the measurement (the
backbone's measurement capacity, or partners at lower efficiency), partners' trust
(willingness to share data) and resources:

    target = runner * (0.4 + 0.6 * trust_engaged) * (0.5 + 0.5 * resources)
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
    from cimsim.model import CollectiveImpactModel

COVERAGE_RATE = 0.08
"""Monthly adjustment rate of indicator coverage toward its target."""
STAFF_PER_UNIT = 8.0
"""Backbone measurement capacity needed for full coverage is 1 / STAFF_PER_UNIT."""
REFERENCE_INDICATORS = 30
"""The indicator count at which the measurement load is 1."""
BACKBONE_QUALITY = 0.9
PARTNER_QUALITY = 0.55
"""Data quality when the backbone runs the measurement vs when partners do."""
PARTNER_EFFICIENCY = 0.35
"""Measurement capacity of engaged government partners without a backbone."""
WORD_OF_MOUTH = 0.15
"""Share of small wins visible without shared measurement."""
WIN_PACE = 0.015
"""Gross progress over the last three months (before erosion) that counts as a full win."""


def measure(model: CollectiveImpactModel) -> float:
    """Update coverage and quality; return the shared_measurement indicator."""
    if not model.measurement_enabled:
        model.coverage *= 1.0 - COVERAGE_RATE
        model.quality = 0.0
        return 0.0
    load = (REFERENCE_INDICATORS / model.indicators) ** 0.25
    staff = model.backbone_function("measure")
    if model.has_backbone:
        runner, quality = min(1.0, staff * STAFF_PER_UNIT * load), BACKBONE_QUALITY
    else:
        runner = min(1.0, PARTNER_EFFICIENCY * model.government_engaged_share() * load)
        quality = PARTNER_QUALITY
    t = model.engaged_trust()
    target = runner * (0.4 + 0.6 * t) * (0.5 + 0.5 * model.resources)
    model.coverage += COVERAGE_RATE * (target - model.coverage)
    model.quality = quality * (0.6 + 0.4 * t)
    return float(model.coverage * model.quality)


def gap_information(model: CollectiveImpactModel, shared_measurement: float) -> float:
    """Probability that an engaged partner knows where the gaps are and is matched to them."""
    richness = model.indicators / (model.indicators + 20.0)
    if model.has_backbone:
        matcher = min(1.0, model.backbone_function("match") * 5.0)
    else:
        matcher = 0.3
    return float(min(1.0, 0.05 + shared_measurement * richness * matcher))


def small_wins(model: CollectiveImpactModel, shared_measurement: float) -> float:
    """Visible small wins in [0, 1]: recent impact gains seen through measurement."""
    wins = float(np.clip(sum(model.gains[-3:]) / WIN_PACE, 0.0, 1.0))
    return wins * (WORD_OF_MOUTH + (1.0 - WORD_OF_MOUTH) * shared_measurement)
