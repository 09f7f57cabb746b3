"""The model reporters: building-block indicators, outcome and health measures.

All are floats; shares are in [0, 1]. ``REPORTERS`` fixes their names and order, which
every table (CLI, sweeps, app) uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cimsim.population import SECTORS

if TYPE_CHECKING:
    from cimsim.model import CollectiveImpactModel

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
        "aware",
        "commitment",
        "urgency",
        "resources",
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
    )
)
"""Every model reporter, in table order."""


def common_agenda(model: CollectiveImpactModel) -> float:
    """Alignment of engaged stakeholders: 1 - sd(position) / sd(uniform), floored at 0."""
    pop = model.pop
    x = pop.position[pop.engaged]
    if x.size < 2:
        return 0.0
    return float(max(0.0, 1.0 - x.std() / UNIFORM_SD))


def communication(model: CollectiveImpactModel) -> float:
    """Share of ties between engaged stakeholders that carried a contact this month."""
    ties = model.ties
    both = model.engaged_ties()
    n = int(both.sum())
    return float((ties.active & both).sum() / n) if n else 0.0


def trust(model: CollectiveImpactModel) -> float:
    """Mean trust on this month's contacted ties (all ties if there was no contact)."""
    ties = model.ties
    if len(ties) == 0:
        return 0.0
    idx = model.active_idx if model.active_idx.size else np.flatnonzero(ties.active)
    active = ties.trust[idx]
    return float(active.mean() if active.size else ties.trust.mean())


def voice_inequality(shares: np.ndarray) -> float:
    """Gini coefficient of participation rates across sectors present (0 = equal voice)."""
    if shares.size < 2 or shares.sum() == 0:
        return 0.0
    diff = np.abs(shares[:, None] - shares[None, :]).sum()
    return float(diff / (2 * shares.size**2 * shares.mean()))


def compute(model: CollectiveImpactModel, month: dict[str, float]) -> dict[str, float]:
    """All reporters for the current month; ``month`` carries values the step computed."""
    pop = model.pop
    n = len(pop)
    eng = pop.engaged
    n_eng = int(eng.sum())
    out = {
        "impact": float(model.need @ model.progress / model.need.sum()),
        "common_agenda": common_agenda(model),
        "shared_measurement": month.get("shared_measurement", 0.0),
        "mutually_reinforcing": month.get("mutually_reinforcing", 0.0),
        "communication": communication(model),
        "backbone_support": float(min(1.0, model.backbone_support())),
        "trust": trust(model),
        "participation": n_eng / n if n else 0.0,
    }
    rates = []
    sizes = np.bincount(pop.sector, minlength=len(SECTORS))
    engaged_by_sector = np.bincount(pop.sector[eng], minlength=len(SECTORS))
    for code, name in enumerate(SECTORS):
        size = int(sizes[code])
        rate = float(int(engaged_by_sector[code]) / size) if size else 0.0
        out[f"participation_{name}"] = rate
        if size:
            rates.append(rate)
    out.update(
        aware=float((pop.engagement >= 1).sum() / n) if n else 0.0,
        commitment=float(pop.commitment[eng].mean()) if n_eng else 0.0,
        urgency=float(model.urgency),
        resources=float(np.minimum(pop.reserve / 6.0, 1.0).mean()) if n else 0.0,
        fatigue=float(pop.fatigue[eng].mean()) if n_eng else 0.0,
        dropout=month.get("dropped", 0.0) / max(n_eng + month.get("dropped", 0.0), 1.0),
        burnout=float(pop.burnt_out.sum() / n) if n else 0.0,
        duplication=month.get("duplication", 0.0),
        area_coverage=month.get("area_coverage", 0.0),
        gap_information=month.get("gap_information", 0.0),
        visible_wins=month.get("visible_wins", 0.0),
        voice_inequality=voice_inequality(np.array(rates)),
        meeting_attendance=float(pop.attended.sum() / n) if n else 0.0,
        ties=float(len(model.ties)),
    )
    return out
