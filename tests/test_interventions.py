"""Timed interventions fire at their month and change what they should."""

from __future__ import annotations

import numpy as np
from helpers import SEEDS, SMALL, small_model
from scipy.stats import wilcoxon

import cimsim
from cimsim.initiative import Initiative


def _model(
    events: list[dict], name: str = "malmo", **extra: object
) -> cimsim.CollectiveImpactModel:
    return small_model(name, interventions=events, **extra)


def test_remove_and_add_backbone() -> None:
    model = _model(
        [
            {"month": 5, "kind": "remove_backbone"},
            {"month": 9, "kind": "add_backbone", "capacity": 0.3},
        ]
    )
    model.run_for(12)
    support = model.results()["backbone_support"]
    assert (support.iloc[1:5] > 0).all()
    assert (support.iloc[5:9] == 0).all()
    assert (support.iloc[9:] > 0).all() and support.iloc[10] < support.iloc[4]


def _finals(events: list[dict], column: str, months: int, name: str = "malmo") -> np.ndarray:
    """One reporter after ``months`` months, per seed of SEEDS (paired across calls)."""
    scenario = cimsim.load_scenario(name, {**SMALL, "interventions": events})
    return np.array([Initiative(scenario, rng=s).run(months).latest[column] for s in SEEDS])


def test_a_funding_cut_lowers_impact() -> None:
    base = _finals([], "impact", 60)
    cut = _finals([{"month": 12, "kind": "change_funding", "resources": 0.05}], "impact", 60)
    assert (cut < base).mean() >= 0.8
    assert wilcoxon(base - cut, alternative="greater").pvalue < 0.01


def test_champions_leaving_lowers_participation_and_impact() -> None:
    leave = [{"month": 4, "kind": "champion_leaves", "count": 3}]
    for column in ("participation", "impact"):
        base, left = _finals([], column, 36), _finals(leave, column, 36)
        assert wilcoxon(base - left, alternative="greater").pvalue < 0.01, column


def test_workshop_renews_urgency_and_brings_people_in() -> None:
    model = _model([{"month": 6, "kind": "workshop", "reach": 0.5}], "skive")
    model.run_for(5)
    urgency = model.urgency
    model.run_for(1)
    assert model.urgency > urgency
    assert model.results()["meeting_attendance"].iloc[6] > 0.4


def test_workshop_in_one_village() -> None:
    model = _model([{"month": 1, "kind": "workshop", "village": 2, "reach": 1.0}], "skive")
    model.step()
    pop = model.pop
    assert pop.attended[pop.village == 2].all()


def test_launch_measurement() -> None:
    model = _model([{"month": 10, "kind": "launch_measurement", "indicators": 50}], "skive")
    model.run_for(20)
    sm = model.results()["shared_measurement"]
    assert (sm.iloc[:10] == 0).all() and sm.iloc[20] > 0
    assert model.indicators == 50


def test_trust_shock_removes_a_partner_and_cuts_trust() -> None:
    model = _model([{"month": 13, "kind": "trust_shock", "severity": 0.8}])
    model.run_for(12)
    eng = model.pop.engaged
    both = eng[model.ties.u] & eng[model.ties.v]
    before = model.ties.trust[both].mean()
    model.run_for(1)
    after = model.ties.trust[: both.size][both].mean()  # brokered ties are appended
    assert after < before * 0.85
    assert "trust_shock" in model.fired


def test_events_fire_in_month_order() -> None:
    model = _model(
        [
            {"month": 3, "kind": "change_funding", "resources": 0.2},
            {"month": 2, "kind": "remove_backbone"},
        ]
    )
    assert [e.month for e in model.interventions] == [2, 3]
    model.run_for(3)
    assert not model.has_backbone and np.isclose(model.resources, 0.2)
