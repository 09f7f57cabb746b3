"""The model reporters: building-block indicators, outcome and health measures.

All are floats; shares are in [0, 1]. ``REPORTERS`` fixes their names and order, which
every table (CLI, sweeps, app) uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.population import CITIZEN, SECTORS

if TYPE_CHECKING:
    from cimsim.initiative import Initiative

UNIFORM_SD = 1.0 / np.sqrt(12.0)
"""Standard deviation of positions spread uniformly over [0, 1] (alignment 0)."""

CORE = (
    "impact",
    "common_agenda",
    "shared_measurement",
    "mutually_reinforcing",
    "communication",
    "backbone_support",
    "trust",
    "participation",
)
"""The eight headline reporters named in the model brief."""

REPORTERS = (
    CORE
    + tuple(f"participation_{s}" for s in SECTORS)
    + (
        "agenda_alignment",
        "partner_coverage",
        "partner_trust",
        "aware",
        "commitment",
        "urgency",
        "reserves",
        "fatigue",
        "dropout",
        "burnout",
        "duplication",
        "area_coverage",
        "gap_information",
        "visible_wins",
        "voice_inequality",
        "meeting_attendance",
        "ties",
        "pool_raised",
        "pool_paid",
    )
)
"""Every model reporter, in table order."""


def agenda_alignment(state: Initiative) -> float:
    """Alignment of the engaged partner organisations (those who sign up to the agenda):
    1 - sd(position) / sd(uniform), floored at 0; 0 with fewer than two engaged."""
    pop = state.pop
    partners = pop.engaged & (pop.sector != CITIZEN)
    if int(partners.sum()) < 2:
        return 0.0
    return float(max(0.0, 1.0 - pop.position[partners].std() / UNIFORM_SD))


def partner_coverage(state: Initiative) -> float:
    """Share of the organisations (government, businesses, civil society) that are engaged."""
    pop = state.pop
    org = pop.sector != CITIZEN
    return float((pop.engaged & org).sum() / max(int(org.sum()), 1))


def communication(state: Initiative) -> float:
    """Share of ties between engaged stakeholders that carried a contact this month."""
    ties = state.ties
    both = state.engaged_ties()
    n = int(both.sum())
    return float((ties.active & both).sum() / n) if n else 0.0


def trust(state: Initiative) -> float:
    """Mean trust on this month's contacted ties (all ties if there was no contact)."""
    ties = state.ties
    if len(ties) == 0:
        return 0.0
    idx = state.active_idx if state.active_idx.size else np.flatnonzero(ties.active)
    active = ties.trust[idx]
    return float(active.mean() if active.size else ties.trust.mean())


def voice_inequality(shares: np.ndarray) -> float:
    """Gini coefficient of participation rates across sectors present (0 = equal voice)."""
    if shares.size < 2 or shares.sum() == 0:
        return 0.0
    diff = np.abs(shares[:, None] - shares[None, :]).sum()
    return float(diff / (2 * shares.size**2 * shares.mean()))


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = float(weights.sum())
    return float((values * weights).sum() / total) if total > 0 else 0.0


def compute(state: Initiative, month: dict[str, float]) -> dict[str, float]:
    """All reporters for the current month; ``month`` carries values the step computed.

    Shares of stakeholders are computed per sector and averaged over the sectors present,
    means over the engaged are weighted by capacity: both are the same at any citizen
    resolution (a citizen agent counts for the residents it stands for).
    """
    pop = state.pop
    n = len(pop)
    eng = pop.engaged
    sizes = np.bincount(pop.sector, minlength=len(SECTORS))
    present = sizes > 0

    def by_sector(mask: np.ndarray) -> np.ndarray:
        counts = np.bincount(pop.sector[mask], minlength=len(SECTORS))
        return np.where(present, counts / np.maximum(sizes, 1), 0.0)

    rates = by_sector(eng)
    alignment = agenda_alignment(state)
    coverage = partner_coverage(state)
    cap_eng = pop.capacity * eng
    dropped = month.get("dropped", 0.0)
    out = {
        "impact": float(state.need @ state.progress / state.need.sum()),
        "common_agenda": alignment * coverage,
        "shared_measurement": month.get("shared_measurement", 0.0),
        "mutually_reinforcing": month.get("mutually_reinforcing", 0.0),
        "communication": communication(state),
        "backbone_support": float(min(1.0, state.backbone_support())),
        "trust": trust(state),
        "participation": float(rates[present].mean()) if n else 0.0,
    }
    for code, name in enumerate(SECTORS):
        out[f"participation_{name}"] = float(rates[code])
    out.update(
        agenda_alignment=alignment,
        partner_coverage=coverage,
        partner_trust=state.engaged_trust(),
        aware=float(by_sector(pop.engagement >= 1)[present].mean()) if n else 0.0,
        commitment=_weighted_mean(pop.commitment, cap_eng),
        urgency=float(state.urgency),
        reserves=float(np.minimum(pop.reserve / state.cal.population.initial_reserve, 1.0).mean())
        if n
        else 0.0,
        fatigue=_weighted_mean(pop.fatigue, cap_eng),
        dropout=dropped / max(float(cap_eng.sum()) + dropped, 1e-12),
        burnout=float(by_sector(pop.burnt_out)[present].mean()) if n else 0.0,
        duplication=month.get("duplication", 0.0),
        area_coverage=month.get("area_coverage", 0.0),
        gap_information=month.get("gap_information", 0.0),
        visible_wins=month.get("visible_wins", 0.0),
        voice_inequality=voice_inequality(rates[present]),
        meeting_attendance=float(by_sector(pop.attended)[present].mean()) if n else 0.0,
        ties=float(len(state.ties)),
        pool_raised=float(state.pool_raised / state.capacity_total) if n else 0.0,
        pool_paid=float(state.pool_paid / state.capacity_total) if n else 0.0,
    )
    return out
