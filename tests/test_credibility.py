"""Credibility checks a domain expert would try before believing any effect size.

Resolution invariance, continuity at zero backbone capacity, realistic participation,
Skive's coordination groups, monotone responses, conservation of money, the urgency
structure, honest reporters and tiny cities. Stochastic claims are checked over the fixed
seeds with paired (common random number) comparisons.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from helpers import SEEDS, replicate
from scipy import stats

import cimsim
from cimsim import patterns
from cimsim.calibration import Calibration, calibration_ranges
from cimsim.mechanisms import resources
from cimsim.scenario import ScenarioError

CASES = ("malmo", "mechelen", "skive")


@cache
def finals(name: str, items: tuple = (), seeds: tuple = SEEDS, months: int = 120) -> pd.DataFrame:
    """Final reporters of one condition over seeds (``items`` are (path, value) pairs), run
    on the run engine's processes."""
    runs = replicate(name, dict(items), months=months, seeds=tuple(seeds))
    return pd.DataFrame([run.iloc[-1].to_dict() for run in runs])


def final_runs(df: pd.DataFrame) -> patterns.RunSet:
    """Final reporters (one row per seed) as the pattern suite's run set."""
    return patterns.RunSet({c: df[c].to_numpy()[:, None] for c in df.columns})


def holds(check, alpha: float = 0.01, **conditions: pd.DataFrame) -> patterns.Outcome:
    """The pattern suite's check on these conditions' final reporters."""
    outcome = check({k: final_runs(v) for k, v in conditions.items()}, alpha)
    assert outcome.passed, outcome.detail
    return outcome


def _finer(name: str, factor: int) -> tuple:
    pop = cimsim.load_scenario(name).population
    return (
        ("population.citizens", pop.citizens * factor),
        ("population.residents_per_citizen", pop.residents_per_citizen / factor),
    )


# ---------------------------------------------------------------- resolution


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_same_city_at_four_times_the_resolution_gives_the_same_answer(name: str) -> None:
    seeds = SEEDS[:6]
    holds(
        patterns.check_resolution,
        base=finals(name, (), seeds),
        finer=finals(name, _finer(name, 4), seeds),
    )


def test_interns_are_people_whatever_the_resolution() -> None:
    for rpc in (5.0, 0.5 * 5):
        scenario = cimsim.load_scenario("mechelen", {"population.residents_per_citizen": rpc})
        model = cimsim.CollectiveImpactModel(scenario, rng=0)
        intern_capacity = model.pop.capacity[model.pop.intern].sum()
        assert intern_capacity == pytest.approx(20 * model.cal.population.internship_capacity)


# ---------------------------------------------------------------- continuity


@pytest.mark.parametrize("name", CASES)
def test_backbone_with_zero_capacity_is_no_backbone(name: str) -> None:
    for seed in SEEDS[:2]:
        zero = cimsim.CollectiveImpactModel(
            cimsim.load_scenario(name, {"backbone.capacity": 0.0}), rng=seed
        )
        none = cimsim.CollectiveImpactModel(
            cimsim.load_scenario(name, {"backbone.enabled": False}), rng=seed
        )
        zero.run_for(60)
        none.run_for(60)
        pd.testing.assert_frame_equal(zero.results(), none.results(), check_exact=True)


@pytest.mark.slow
def test_small_backbone_capacity_makes_a_small_difference() -> None:
    seeds = SEEDS[:5]
    none = finals("malmo", (("backbone.enabled", False),), seeds)
    tiny = finals("malmo", (("backbone.capacity", 0.05),), seeds)
    full = finals("malmo", (("backbone.capacity", 1.0),), seeds)
    small_step = abs(tiny["impact"].mean() - none["impact"].mean())
    big_step = full["impact"].mean() - none["impact"].mean()
    assert small_step < 0.25 * big_step


# ---------------------------------------------------------------- realistic levels


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_a_minority_of_residents_takes_part_organisations_far_more(name: str) -> None:
    holds(patterns.check_levels, base=finals(name, (), SEEDS[:5]))


@pytest.mark.slow
def test_resources_matter_for_participation() -> None:
    low, mid, high = (
        finals("malmo", (("preconditions.resources", r),), SEEDS) for r in (0.0, 0.25, 1.0)
    )
    for a, b in ((mid, low), (high, mid)):
        assert (
            stats.ttest_rel(a["participation"], b["participation"], alternative="greater").pvalue
            < 0.01
        )


# ---------------------------------------------------------------- Skive


@pytest.mark.slow
def test_skive_coordination_groups_mobilise_neighbours() -> None:
    none = finals("skive", (("backbone.enabled", False),))
    holds(patterns.check_skive_groups, base=finals("skive"), no_backbone=none)


@pytest.mark.slow
def test_launching_measurement_raises_what_the_groups_achieve() -> None:
    base = [e.model_dump() for e in cimsim.load_scenario("skive").interventions]
    launch = base + [{"month": 24, "kind": "launch_measurement"}]
    seeds = tuple(range(20))  # a difference of differences: twice the usual replicates

    def impact(overrides: dict) -> np.ndarray:
        return np.array([r["impact"].iloc[-1] for r in replicate("skive", overrides, seeds=seeds)])

    effect = {}
    for label, events in (("without", base), ("with", launch)):
        on = impact({"interventions": events})
        off = impact({"interventions": events, "backbone.enabled": False})
        effect[label] = on - off
    assert stats.ttest_rel(effect["with"], effect["without"], alternative="greater").pvalue < 0.01


def test_climate_ring_links_villages() -> None:
    events = [e.model_dump() for e in cimsim.load_scenario("skive").interventions]
    ring = events + [{"month": 12, "kind": "link_villages", "reach": 0.5}]
    model = cimsim.CollectiveImpactModel(cimsim.load_scenario("skive", {"interventions": ring}), 0)

    def cross() -> int:
        village, ties = model.pop.village, model.ties
        return int((village[ties.u] != village[ties.v]).sum())

    model.run_for(11)
    before = cross()
    model.step()
    assert cross() > before


# ---------------------------------------------------------------- direction


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_more_of_a_good_thing_does_not_lower_impact(name: str) -> None:
    seeds = SEEDS[:4]
    conditions = {
        f"{path}={v}": finals(name, ((path, v),), seeds)
        for path in patterns.RESPONSE_INPUTS
        for v in (0.25, 0.5, 0.75, 1.0)
    }
    holds(patterns.check_monotone, **conditions)


# ---------------------------------------------------------------- conservation


def test_the_pool_pays_out_no_more_than_it_raises() -> None:
    model = cimsim.CollectiveImpactModel("mechelen", rng=1)
    pop = model.pop
    pop.engagement[:] = 2
    pop.reserve[:] = 0.0
    before = (pop.reserve * pop.capacity).sum()
    paid = resources.share_pool(model, 5.0)
    after = (pop.reserve * pop.capacity).sum()
    assert paid == pytest.approx(5.0)
    assert after - before == pytest.approx(5.0)
    # a pool larger than the need pays exactly the need, and nobody above the needy level
    paid = resources.share_pool(model, 1e9)
    assert pop.reserve.max() <= model.cal.resources.needy_reserve + 1e-9
    assert paid < 1e9


def test_every_month_the_pool_pays_at_most_what_was_raised() -> None:
    model = cimsim.CollectiveImpactModel("skive", rng=2)
    model.run_for(60)
    df = model.results()
    assert (df["pool_paid"] <= df["pool_raised"] + 1e-12).all()
    assert df["pool_raised"].iloc[1:].gt(0).all()


# ---------------------------------------------------------------- urgency structure


def test_urgency_structure_is_an_option() -> None:
    gate = finals("malmo", (("preconditions.urgency", 0.0),), SEEDS[:3], 60)
    additive = finals(
        "malmo", (("preconditions.urgency", 0.0), ("structure.urgency", "additive")), SEEDS[:3], 60
    )
    assert additive["participation_citizens"].mean() > gate["participation_citizens"].mean() + 0.01
    with pytest.raises(ScenarioError, match="structure.urgency"):
        cimsim.load_scenario("malmo", {"structure.urgency": "multiplicative"})


# ---------------------------------------------------------------- reporters


def test_common_agenda_needs_people_not_just_alignment() -> None:
    df = finals("malmo", (("preconditions.urgency", 0.0),), SEEDS[:2], 36)
    assert (df["common_agenda"] <= df["partner_coverage"] + 1e-12).all()
    assert (df["common_agenda"] <= df["agenda_alignment"] + 1e-12).all()
    assert df["partner_coverage"].max() < 0.2


def test_burnout_follows_depleted_resources() -> None:
    poor = finals("skive", (("preconditions.resources", 0.1),), SEEDS[:3])
    rich = finals("skive", (("preconditions.resources", 0.9),), SEEDS[:3])
    assert poor["burnout"].mean() > 0.02
    assert rich["burnout"].mean() < poor["burnout"].mean() / 4


# ---------------------------------------------------------------- calibration and tiny cities


def test_every_calibration_constant_has_a_plausible_range_holding_its_default() -> None:
    ranges = calibration_ranges()
    assert len(ranges) >= 90
    defaults = Calibration().model_dump()
    for path, (lo, hi) in ranges.items():
        _, section, name = path.split(".")
        assert lo <= defaults[section][name] <= hi, path
        cimsim.load_scenario("malmo", {path: (lo + hi) / 2})  # reachable by dotted path


def test_calibration_constants_change_the_model_and_are_validated() -> None:
    base = finals("malmo", (), (0,), 24).iloc[0]
    more = finals("malmo", (("calibration.recruitment.social_weight", 4.0),), (0,), 24).iloc[0]
    assert more["participation"] != base["participation"]
    with pytest.raises(ScenarioError, match="calibration.recruitment.engage_rate"):
        cimsim.load_scenario("malmo", {"calibration.recruitment.engage_rate": 1.5})
    with pytest.raises(ScenarioError, match="calibration.resources.income"):
        cimsim.load_scenario("malmo", {"calibration.resources.income": float("inf")})


@pytest.mark.parametrize(
    "sizes",
    [
        {"government": 1, "citizens": 1, "businesses": 0, "civil_society": 0},
        {"government": 1, "citizens": 0, "businesses": 1, "civil_society": 0},
        {"government": 2, "citizens": 3, "businesses": 0, "civil_society": 0, "villages": 3},
    ],
)
def test_tiny_cities_run(sizes: dict) -> None:
    overrides = {f"population.{k}": v for k, v in sizes.items()}
    for form in ("central", "distributed"):
        overrides["backbone.form"] = form
        model = cimsim.CollectiveImpactModel(cimsim.load_scenario("malmo", overrides), rng=0)
        model.run_for(24)
        assert not model.results().isna().any().any()


def test_a_city_of_one_is_refused_with_one_line() -> None:
    overrides = {
        "population.government": 1,
        "population.citizens": 0,
        "population.businesses": 0,
        "population.civil_society": 0,
    }
    with pytest.raises(ScenarioError, match="at least two stakeholders") as err:
        cimsim.load_scenario("malmo", overrides)
    assert "\n" not in str(err.value)
