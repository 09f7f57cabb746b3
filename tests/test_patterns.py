"""The six patterns of the model brief, each over the fixed replicate seeds with a statistical test.

Comparisons between conditions are paired by seed (common random numbers) and use a
one-sided paired t-test at alpha = 0.01, unless a pattern needs a shape test.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from helpers import SEEDS, finals, replicate
from scipy import optimize, stats

import cimsim

ALPHA = 0.01

pytestmark = pytest.mark.slow


def greater(a: np.ndarray, b: np.ndarray) -> float:
    """p-value of the one-sided paired t-test that a > b."""
    return float(stats.ttest_rel(a, b, alternative="greater").pvalue)


@cache
def runs(name: str, months: int = 120, **overrides: object) -> list:
    """Cached replicate runs for one condition (keyword names use __ for dots)."""
    ov = {k.replace("__", "."): v for k, v in overrides.items()}
    return replicate(name, ov, months=months)


# ---------------------------------------------------------------- pattern 1


def test_pattern1_missing_backbone_lowers_impact_disperses_agenda_raises_duplication() -> None:
    with_bb = runs("malmo")
    without = runs("malmo", backbone__enabled=False)
    assert greater(finals(with_bb, "impact"), finals(without, "impact")) < ALPHA
    assert greater(finals(with_bb, "common_agenda"), finals(without, "common_agenda")) < ALPHA
    assert greater(finals(without, "duplication"), finals(with_bb, "duplication")) < ALPHA
    # the effect is produced by mechanisms, not a penalty: backbone support is the only switch
    assert finals(without, "backbone_support").max() == 0.0


# ---------------------------------------------------------------- pattern 2


def test_pattern2_weak_champions_never_reach_critical_mass_tipping_point() -> None:
    strengths = np.round(np.arange(0.0, 1.01, 0.1), 2)
    seeds = SEEDS[:5]
    part = np.array(
        [
            finals(
                replicate(
                    "malmo",
                    {"preconditions.champion_strength": float(s), "backbone.enabled": False},
                    seeds=seeds,
                ),
                "participation",
            )
            for s in strengths
        ]
    )
    mean = part.mean(axis=1)
    assert mean[0] < 0.15  # weak champions: no critical mass
    assert mean[-1] > 0.6  # strong champions: the initiative takes off
    # not a straight line: a logistic curve fits far better than a line, and it is steep
    line = np.polyfit(strengths, mean, 1)
    sse_line = float(np.sum((np.polyval(line, strengths) - mean) ** 2))

    def logistic(s, top, k, s0, floor):
        return floor + top / (1.0 + np.exp(-k * (s - s0)))

    fit, _ = optimize.curve_fit(logistic, strengths, mean, p0=[0.8, 10, 0.4, 0.05], maxfev=20000)
    sse_logistic = float(np.sum((logistic(strengths, *fit) - mean) ** 2))
    assert sse_logistic < 0.25 * sse_line
    assert fit[1] > 8.0  # steepness per unit of champion strength
    # the jump is real, not noise: replicates just below and above the tipping point differ
    below = part[np.argmin(np.abs(strengths - (fit[2] - 0.2)))]
    above = part[np.argmin(np.abs(strengths - (fit[2] + 0.2)))]
    assert stats.mannwhitneyu(above, below, alternative="greater").pvalue < 0.01


# ---------------------------------------------------------------- pattern 3


def _engaged_trust_path(seed: int, shock_month: int) -> np.ndarray:
    scenario = cimsim.load_scenario(
        "malmo", {"interventions": [{"month": shock_month, "kind": "trust_shock", "severity": 0.5}]}
    )
    model = cimsim.CollectiveImpactModel(scenario, rng=seed)
    path = []
    for _ in range(shock_month + 24):
        model.step()
        path.append(model.engaged_trust())
    return np.array(path)


def test_pattern3_trust_rises_slowly_and_collapses_fast() -> None:
    shock = 48
    falls, rises, recoveries = [], [], []
    for seed in SEEDS:
        path = _engaged_trust_path(seed, shock)  # path[m - 1] is trust after month m
        before = path[shock - 2]
        rises.append((path[shock - 2] - path[0]) / (shock - 2))  # mean monthly rise
        falls.append(before - path[shock - 1])  # the shock month
        back = np.flatnonzero(path[shock - 1 :] >= before)
        recoveries.append(back[0] if back.size else 24)
    falls, rises = np.array(falls), np.array(rises)
    assert (rises > 0).all()
    assert greater(falls, 5 * rises) < ALPHA  # one month of loss >> a month of gains
    assert np.median(recoveries) >= 6  # and it takes many months to rebuild


# ---------------------------------------------------------------- pattern 4


def test_pattern4_more_communication_more_cooperation() -> None:
    low = runs("malmo", months=60, settings__communication=0.2)
    high = runs("malmo", months=60, settings__communication=0.6)
    for column in ("trust", "participation", "communication"):
        assert greater(finals(high, column), finals(low, column)) < ALPHA, column


def test_pattern4_face_to_face_does_more_than_broadcast() -> None:
    written = runs("malmo", months=60, settings__face_to_face=0.1)
    f2f = runs("malmo", months=60, settings__face_to_face=0.9)
    assert greater(finals(f2f, "trust"), finals(written, "trust")) < ALPHA
    assert greater(finals(f2f, "commitment"), finals(written, "commitment")) < ALPHA


# ---------------------------------------------------------------- pattern 5


def test_pattern5_without_measurement_energy_fades_adding_it_later_sustains() -> None:
    base = cimsim.load_scenario("skive")
    events = [e.model_dump() for e in base.interventions]
    without = runs("skive")
    later = replicate(
        "skive", {"interventions": events + [{"month": 24, "kind": "launch_measurement"}]}
    )
    early_peak = np.array([df["commitment"].iloc[1:25].max() for df in without])
    late_without = np.array([df["commitment"].iloc[96:].mean() for df in without])
    late_with = np.array([df["commitment"].iloc[96:].mean() for df in later])
    assert greater(early_peak, late_without) < ALPHA  # early energy fades
    assert greater(late_with, late_without) < ALPHA  # measurement sustains it
    assert greater(finals(later, "impact"), finals(without, "impact")) < ALPHA
    fatigue_without = np.array([df["fatigue"].iloc[96:].mean() for df in without])
    fatigue_with = np.array([df["fatigue"].iloc[96:].mean() for df in later])
    assert greater(fatigue_without, fatigue_with) < ALPHA


# ---------------------------------------------------------------- pattern 6


def test_pattern6_ansell_gash_cycle_each_link() -> None:
    """Dialogue -> trust -> commitment -> shared understanding -> small wins -> trust."""
    month = 36
    # dialogue -> trust
    quiet = runs("malmo", months=60, settings__communication=0.2)
    talk = runs("malmo", months=60, settings__communication=0.6)
    assert greater(finals(talk, "trust", month), finals(quiet, "trust", month)) < ALPHA
    # trust -> commitment
    low_t = runs("malmo", months=60, settings__initial_trust=0.2)
    high_t = runs("malmo", months=60, settings__initial_trust=0.7)
    assert greater(finals(high_t, "commitment", 24), finals(low_t, "commitment", 24)) < ALPHA
    # commitment and trust -> shared understanding (a common agenda among the engaged)
    assert (
        greater(finals(high_t, "common_agenda", month), finals(low_t, "common_agenda", month))
        < ALPHA
    )
    # shared understanding -> small wins: a narrower confidence bound keeps agendas apart
    narrow = runs("malmo", months=60, settings__confidence=0.1)
    wide = runs("malmo", months=60, settings__confidence=0.4)
    assert (
        greater(finals(wide, "common_agenda", month), finals(narrow, "common_agenda", month))
        < ALPHA
    )
    assert greater(finals(wide, "impact", 60), finals(narrow, "impact", 60)) < ALPHA
    # small wins -> trust: making wins visible (shared measurement) raises trust among partners
    # the last link is small (partner trust +0.007): twice the usual replicates
    hidden = replicate("skive", {}, seeds=range(20))
    shown = replicate("skive", {"measurement.enabled": True}, seeds=range(20))
    assert greater(finals(shown, "visible_wins"), finals(hidden, "visible_wins")) < ALPHA
    t_shown = np.array([df["partner_trust"].iloc[60:].mean() for df in shown])
    t_hidden = np.array([df["partner_trust"].iloc[60:].mean() for df in hidden])
    assert greater(t_shown, t_hidden) < ALPHA
