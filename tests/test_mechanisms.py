"""Unit tests, one group per mechanism: each rule does what docs/ODD.md says."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import small_model

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
from cimsim.population import AWARE, CITIZEN, ENGAGED, INACTIVE, Ties


def _only_tie(model, i: int, j: int, t: float, weight: float = 1.0, mediated: bool = False):
    """Replace the tie table by one contacted tie i-j."""
    org = model.pop.sector != CITIZEN
    model.ties = Ties.make(len(model.pop), np.array([i]), np.array([j]), t, org)
    model.ties.active[:] = True
    model.ties.weight[:] = weight
    model.ties.mediated[:] = mediated
    return model.ties


# ---------------------------------------------------------------- common agenda


def test_agenda_partners_within_bound_converge_beyond_do_not() -> None:
    model = small_model(settings__confidence=0.3)
    _only_tie(model, 0, 1, t=0.5)
    model.pop.position[[0, 1]] = [0.40, 0.60]
    agenda.exchange_agenda(model)
    a, b = model.pop.position[[0, 1]]
    assert 0.40 < a < b < 0.60
    assert a - 0.40 == pytest.approx(0.60 - b)

    model.pop.position[[0, 1]] = [0.1, 0.9]
    agenda.exchange_agenda(model)
    assert tuple(model.pop.position[[0, 1]]) == (0.1, 0.9)


def test_meetings_widen_the_bound() -> None:
    model = small_model(settings__confidence=0.2)
    _only_tie(model, 0, 1, t=0.5)
    model.pop.position[[0, 1]] = [0.35, 0.62]  # gap 0.27 > 0.2 * (0.5 + 0.5) = 0.2
    agenda.exchange_agenda(model)
    assert tuple(model.pop.position[[0, 1]]) == (0.35, 0.62)
    model.ties.mediated[:] = True  # bound + 0.15
    agenda.exchange_agenda(model)
    assert model.pop.position[1] - model.pop.position[0] < 0.27


def test_face_to_face_moves_more_than_written() -> None:
    moves = []
    written = small_model().cal.communication.written_weight
    for w in (communication.FACE_TO_FACE_WEIGHT, written):
        model = small_model()
        _only_tie(model, 0, 1, t=0.6, weight=w)
        model.pop.position[[0, 1]] = [0.45, 0.55]
        agenda.exchange_agenda(model)
        moves.append(model.pop.position[0] - 0.45)
    assert moves[0] > moves[1] > 0
    assert moves[1] / moves[0] == pytest.approx(0.46 / 1.21)


# ---------------------------------------------------------------- trust


def test_trust_gains_scale_with_distrust_and_losses_with_trust() -> None:
    def after(t: float, agree: bool) -> float:
        model = small_model(settings__power_damping=0.0)
        _only_tie(model, 0, 1, t=t)
        model.active_idx = np.array([0])
        model.agreed = np.array([agree])
        trust.update_trust(model)
        return float(model.ties.trust[0])

    assert after(0.2, True) - 0.2 == pytest.approx(0.10 * 0.8)
    assert after(0.8, True) - 0.8 == pytest.approx(0.10 * 0.2)
    conflict = small_model().cal.trust.conflict
    assert 0.8 - after(0.8, False) == pytest.approx(0.30 * 0.8 * conflict)
    # the more trust a tie holds, the more a conflict costs it; the less, the more an
    # agreement gains
    assert 0.8 - after(0.8, False) > 0.2 - after(0.2, False) > 0
    assert after(0.2, True) - 0.2 > after(0.8, True) - 0.8 > 0


def test_power_difference_damps_trust_gain_unless_mediated() -> None:
    gains = {}
    for mediated in (False, True):
        model = small_model(settings__power_damping=0.8)
        _only_tie(model, 0, 1, t=0.3, mediated=mediated)
        model.pop.influence[[0, 1]] = [0.9, 0.1]
        model.active_idx, model.agreed = np.array([0]), np.array([True])
        trust.update_trust(model)
        gains[mediated] = model.ties.trust[0] - 0.3
    assert gains[True] == pytest.approx(0.10 * 0.7)
    assert gains[False] == pytest.approx(0.10 * 0.7 * (1 - 0.8 * 0.8))


def test_withdrawal_costs_trust_on_the_leavers_ties() -> None:
    model = small_model()
    before = model.ties.trust.copy()
    leaver = int(model.ties.u[0])
    trust.withdraw(model, np.array([leaver]))
    hit = (model.ties.u == leaver) | (model.ties.v == leaver)
    share = model.cal.trust.withdrawal
    assert np.allclose(model.ties.trust[hit], before[hit] * (1 - 0.30 * share))
    assert np.array_equal(model.ties.trust[~hit], before[~hit])


# ---------------------------------------------------------------- recruitment


def test_engagement_needs_exposure_above_threshold() -> None:
    model = small_model()
    pop = model.pop
    pop.engagement[:] = AWARE
    pop.willing[:] = True
    pop.champion[:] = False
    pop.threshold[:] = 0.5
    model.urgency = 1.0
    recruitment.engage(model)  # nobody engaged, no champions: exposure 0
    assert not pop.engaged.any()
    pop.attended[:] = True
    pop.exposure[:] = 1.0
    for _ in range(30):
        recruitment.engage(model)
    assert pop.engaged.mean() > 0.95


def test_engaged_neighbours_raise_exposure_complex_contagion() -> None:
    model = small_model()
    pop = model.pop
    pop.champion[:] = False
    pop.engagement[:] = AWARE
    pop.willing[:] = True
    pop.threshold[:] = 0.1
    model.urgency = 1.0
    model.ties.trust[:] = 1.0
    target = int(model.ties.u[0])
    neighbours = np.concatenate(
        (model.ties.v[model.ties.u == target], model.ties.u[model.ties.v == target])
    )
    pop.engagement[neighbours] = ENGAGED
    joined = 0
    for _ in range(20):
        pop.engagement[target] = AWARE
        recruitment.engage(model)
        joined += int(pop.engagement[target] == ENGAGED)
    assert joined >= 2  # engage rate 0.3 per month once above threshold


def test_dropout_grows_with_fatigue_over_commitment() -> None:
    rates = []
    for fatigue in (0.0, 0.8):
        model = small_model()
        pop = model.pop
        pop.engagement[:] = ENGAGED
        pop.champion[:] = False
        pop.commitment[:] = 0.3
        pop.fatigue[:] = fatigue
        recruitment.drop_out(model)
        rates.append(1 - pop.engaged.mean())
    assert rates[0] < 0.03 < rates[1]


def test_inactive_people_become_aware_through_contacts() -> None:
    model = small_model(calibration__recruitment__neighbour_awareness=0.3)
    pop = model.pop
    pop.engagement[:] = INACTIVE
    model.reached_by_broadcast[:] = False
    model.visited[:] = False
    model.active_idx = np.zeros(0, np.int64)
    recruitment.become_aware(model)
    assert (pop.engagement == INACTIVE).all()
    pop.engagement[:] = ENGAGED
    pop.engagement[model.ties.u] = INACTIVE
    model.ties.active[:] = True
    model.active_idx = np.arange(len(model.ties))
    recruitment.become_aware(model)
    # a contact informs along the ties that count for its end: every tie of a citizen
    citizens = model.ties.u[pop.sector[model.ties.u] == CITIZEN]
    assert (pop.engagement[citizens] == AWARE).mean() > 0.25


# ---------------------------------------------------------------- activities


def test_coordination_reduces_duplication_balls_into_bins() -> None:
    dup = {}
    for coordinated in (False, True):
        model = small_model()
        pop = model.pop
        pop.engagement[:] = ENGAGED
        pop.commitment[:] = 1.0
        pop.reserve[:] = 5.0
        pop.area[:] = 0
        pop.coordinated[:] = coordinated
        out = activities.make_progress(model, resources.activity_intensity(model))
        dup[coordinated] = out["duplication"]
    assert dup[True] == pytest.approx(0.0, abs=1e-9)
    assert dup[False] > 0.3


def test_gap_information_steers_coordinated_agents_to_needy_areas() -> None:
    model = small_model()
    pop = model.pop
    pop.engagement[:] = ENGAGED
    model.progress[:] = 0.9
    model.progress[2] = 0.0
    activities.allocate_activities(model, gap_info=1.0)
    assert (pop.area[pop.engaged] == 2).mean() > 0.5
    activities.allocate_activities(model, gap_info=0.0)
    assert np.array_equal(pop.area[pop.engaged], pop.preferred[pop.engaged])


def test_sector_diversity_adds_synergy() -> None:
    gains = {}
    for mixed in (False, True):
        model = small_model()
        pop = model.pop
        pop.engagement[:] = INACTIVE
        chosen = np.flatnonzero(pop.sector == CITIZEN)[:40]
        if mixed:
            chosen = np.concatenate([np.flatnonzero(pop.sector == s)[:10] for s in range(4)])
        pop.engagement[chosen] = ENGAGED
        pop.capacity[:] = 1.0
        pop.commitment[:] = 1.0
        pop.reserve[:] = 5.0
        pop.position[:] = 0.5
        pop.area[:] = 0
        pop.coordinated[:] = True
        activities.make_progress(model, resources.activity_intensity(model))
        gains[mixed] = model.progress[0]
    assert gains[True] > gains[False] * 1.3


def test_misaligned_effort_counts_less() -> None:
    model = small_model()
    pop = model.pop
    pop.engagement[:] = ENGAGED
    pop.position[:] = 0.5
    assert activities.alignment(model).min() == pytest.approx(1.0)
    pop.position[::2] = 0.9
    assert activities.alignment(model).min() < 0.7


# ---------------------------------------------------------------- measurement


def test_no_measurement_system_means_no_shared_measurement() -> None:
    model = small_model("skive")
    assert measurement.measure(model) == 0.0


def test_backbone_runs_measurement_better_than_partners() -> None:
    values = {}
    for enabled in (True, False):
        model = small_model(backbone__enabled=enabled)
        model.pop.engagement[model.pop.sector == 0] = ENGAGED
        for _ in range(60):
            sm = measurement.measure(model)
        values[enabled] = sm
    assert values[True] > 2 * values[False] > 0


def test_wins_are_visible_through_measurement() -> None:
    model = small_model()
    model.gains = [0.01, 0.01, 0.01]
    assert measurement.small_wins(model, 1.0) == pytest.approx(1.0)
    assert measurement.small_wins(model, 0.0) == pytest.approx(model.cal.measurement.word_of_mouth)


# ---------------------------------------------------------------- resources


def test_depleted_reserves_tire_people_faster() -> None:
    fatigue = {}
    for reserve in (0.0, 5.0):
        model = small_model()
        pop = model.pop
        pop.engagement[:] = ENGAGED
        pop.reserve[:] = reserve
        pop.fatigue[:] = 0.2
        intensity = np.full(len(pop), 0.5)
        resources.flow_resources(model, intensity, visible_wins=0.0)
        fatigue[reserve] = pop.fatigue.mean()
    assert fatigue[0.0] > fatigue[5.0]


def test_income_refills_reserves_in_proportion_to_resources() -> None:
    out = {}
    for level in (0.2, 0.9):
        model = small_model(preconditions__resources=level)
        model.pop.reserve[:] = 1.0
        resources.flow_resources(model, np.zeros(len(model.pop)), 0.0)
        out[level] = model.pop.reserve[~model.pop.engaged].mean()
    income = small_model().cal.resources.income
    assert out[0.9] - 1.0 == pytest.approx(0.9 * income)
    assert out[0.2] - 1.0 == pytest.approx(0.2 * income)


# ---------------------------------------------------------------- communication and backbone


def test_more_communication_more_contacts() -> None:
    counts = []
    for level in (0.1, 0.9):
        model = small_model(settings__communication=level)
        model.pop.engagement[:] = ENGAGED
        communication.reset_month(model)
        communication.communicate(model)
        counts.append(model.ties.active.sum())
    assert counts[1] > 4 * counts[0]


def test_backbone_meetings_mediate_ties_and_partners_reach_fewer() -> None:
    attended = {}
    for enabled in (True, False):
        model = small_model(backbone__enabled=enabled)
        model.pop.engagement[:] = ENGAGED
        total = 0
        for _ in range(20):
            communication.reset_month(model)
            for agent in model.backbones:
                agent.convene()
            if enabled:
                assert model.ties.mediated.any()  # facilitated meetings
            else:
                backbone.convene_as_partners(model)
                assert not model.ties.mediated.any()  # partners' meetings are not
            total += int(model.pop.attended.sum())
        attended[enabled] = total
    assert attended[True] > 1.5 * attended[False] > 0


def test_partner_convening_fades_out_as_the_backbone_grows() -> None:
    rates = {}
    for capacity in (0.0, 0.5, 1.0):
        model = small_model(backbone__capacity=capacity, preconditions__resources=1.0)
        model.pop.engagement[:] = ENGAGED
        total = 0
        for _ in range(20):
            communication.reset_month(model)
            total += backbone.convene_as_partners(model)
        rates[capacity] = total
    assert rates[0.0] > rates[0.5] > rates[1.0] == 0


def test_brokering_adds_cross_sector_ties_once() -> None:
    model = small_model()
    model.pop.engagement[:] = ENGAGED
    before = len(model.ties)
    added = backbone.broker(model, capacity=1.0, village=None)
    assert added > 0 and len(model.ties) == before + added
    new_u, new_v = model.ties.u[before:], model.ties.v[before:]
    assert (model.pop.sector[new_u] != model.pop.sector[new_v]).all()
    keys = model.ties.u.astype(np.int64) * len(model.pop) + model.ties.v
    assert np.unique(keys).size == keys.size
    assert model.ties.add(new_u, new_v, 0.5) == 0
