"""The model as a whole: agents, network, reporters, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import small_model

import cimsim
from cimsim.agents import Backbone, Business, Citizen, CivilSociety, Government
from cimsim.indicators import CORE, REPORTERS


def test_agents_are_mesa_agents_one_class_per_kind() -> None:
    model = small_model()
    sc = model.spec.population
    counts = {cls: len(model.agents_by_type[cls]) for cls in model.agents_by_type}
    assert counts[Government] == sc.government
    assert counts[Citizen] == sc.citizens
    assert counts[Business] == sc.businesses
    assert counts[CivilSociety] == sc.civil_society
    assert counts[Backbone] == 1


def test_agent_attributes_read_and_write_their_row() -> None:
    model = small_model()
    agent = next(iter(model.agents_by_type[Citizen]))
    agent.position = 0.123
    assert model.pop.position[agent.row] == pytest.approx(0.123)
    assert agent.engagement in ("inactive", "aware", "engaged")
    assert agent.area in model.spec.activities.areas
    assert 0.0 <= agent.trust <= 1.0


@pytest.mark.parametrize(("form", "n"), [("central", 1), ("split", 2), ("distributed", 4)])
def test_backbone_forms(form: str, n: int) -> None:
    model = small_model(backbone__form=form, population__villages=4)
    assert len(model.backbones) == n
    assert sum(b.share for b in model.backbones) == pytest.approx(1.0)
    if form == "distributed":
        assert sorted(b.village for b in model.backbones) == [0, 1, 2, 3]


def test_reporters_are_named_floats_in_unit_interval() -> None:
    model = small_model()
    model.run_for(24)
    df = model.results()
    assert list(df.columns) == list(REPORTERS)
    assert len(df) == 25 and df.index.name == "month"
    for name in CORE + tuple(c for c in REPORTERS if c.startswith("participation_")):
        assert df[name].between(0.0, 1.0).all(), name
    assert not df.isna().any().any()


def test_same_seed_gives_bit_identical_series_and_other_seeds_differ() -> None:
    runs = []
    for seed in (7, 7, 8):
        model = small_model("skive", seed=seed)
        model.run_for(36)
        runs.append(model.results())
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
    assert not runs[0].equals(runs[2])


def test_no_global_random_state_is_used() -> None:
    np.random.seed(1)
    a = small_model(seed=3)
    a.run_for(12)
    np.random.seed(999)
    import random

    random.seed(999)
    b = small_model(seed=3)
    b.run_for(12)
    pd.testing.assert_frame_equal(a.results(), b.results(), check_exact=True)


def test_network_is_seeded_sector_clustered_and_simple() -> None:
    a, b = small_model(seed=1), small_model(seed=1)
    assert np.array_equal(a.ties.u, b.ties.u) and np.array_equal(a.ties.v, b.ties.v)
    u, v = a.ties.u, a.ties.v
    assert (u < v).all()
    assert np.unique(u.astype(np.int64) * len(a.pop) + v).size == u.size
    same = (a.pop.sector[u] == a.pop.sector[v]).mean()
    assert same > 0.6  # within_group = 0.7 plus chance
    graph = cimsim.network.to_networkx(u, v, len(a.pop))
    assert graph.number_of_edges() == u.size


def test_villages_cluster_ties() -> None:
    model = small_model("skive")
    pop, ties = model.pop, model.ties
    citizens = (pop.sector[ties.u] == 1) & (pop.sector[ties.v] == 1)
    same_village = (pop.village[ties.u] == pop.village[ties.v])[citizens].mean()
    assert same_village > 0.8  # 8 villages: chance alone would give 1/8


def test_run_for_matches_step_loop() -> None:
    a, b = small_model(seed=5), small_model(seed=5)
    a.run_for(10)
    for _ in range(10):
        b.step()
    pd.testing.assert_frame_equal(a.results(), b.results(), check_exact=True)
    assert a.steps == 10


def test_area_progress_has_one_column_per_area() -> None:
    model = small_model("mechelen")
    model.run_for(6)
    areas = model.area_progress()
    assert list(areas.columns) == model.spec.activities.areas
    assert len(areas) == 7
    assert model.results()["impact"].iloc[-1] == pytest.approx(
        float(np.average(areas.iloc[-1], weights=model.need))
    )


def test_mesa_batch_run_takes_dotted_paths_with_double_underscores() -> None:
    import pandas as pd
    from mesa.batchrunner import batch_run

    rows = batch_run(
        cimsim.CollectiveImpactModel,
        parameters={
            "scenario": "mechelen",
            "preconditions__urgency": [0.2, 0.9],
            "population__citizens": 300,
        },  # fmt: skip
        rng=[1, 2],
        max_steps=24,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df) == 4 and set(df["preconditions__urgency"]) == {0.2, 0.9}
    impact = df.groupby("preconditions__urgency")["impact"].mean()
    assert impact[0.9] > impact[0.2]  # more urgency, more impact: the override took effect


def test_mesa_solaraviz_steps_and_resets_the_model() -> None:
    import ipyvuetify as v
    import solara
    from mesa.visualization.solara_viz import ModelController

    model = solara.reactive(
        cimsim.CollectiveImpactModel(case="skive", rng=3, population__citizens=300)
    )
    params = solara.reactive({"case": "skive", "population__citizens": 300})

    @solara.component
    def Page() -> None:
        ModelController(
            model,
            model_parameters=params,
            play_interval=solara.reactive(10),
            render_interval=solara.reactive(1),
            use_threads=solara.reactive(False),
        )

    _, rc = solara.render(Page(), handle_error=False)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.value.steps == 1
    rc.find(v.Btn, children=["Reset"]).widget.click()  # Mesa passes its own scenario=...
    assert model.value.steps == 0 and model.value.spec.name == "skive"
    assert model.value.spec.population.citizens == 300


def test_the_data_collector_records_every_month_as_the_initiative_does() -> None:
    """The month's reporters are taken as they are (no deep copy), the steps noted as Mesa
    notes them (its batch_run reads them), and a reporter a user adds is collected by
    Mesa."""
    model = small_model("mechelen", seed=4)
    model.datacollector._new_model_reporter("double_impact", lambda m: 2 * m.latest["impact"])
    for _ in range(6):
        model.step()
    recorded = model.datacollector.model_vars
    table = np.array([recorded[name] for name in REPORTERS]).T
    assert np.array_equal(table, model.initiative.series())
    assert model.datacollector._collection_steps == list(range(7))
    assert recorded["double_impact"] == [2 * x for x in recorded["impact"][1:]]


def test_agent_reporters_on_request() -> None:
    model = small_model("mechelen", seed=2)
    assert model.datacollector.agent_reporters == {}  # none unless asked: sweeps stay lean
    model = cimsim.CollectiveImpactModel(
        "mechelen", rng=2, agent_data=True, population__citizens=200
    )
    for _ in range(3):
        model.step()
    table = model.datacollector.get_agent_vars_dataframe()
    assert set(table.columns) == {"sector", "engagement", "commitment", "trust", "champion"}
    last = table.xs(3, level="Step")
    stakeholders = last[last["sector"] != "backbone"]
    assert len(stakeholders) == len(model.pop)
    assert (stakeholders["engagement"] == "engaged").sum() == int(model.pop.engaged.sum())
    rows = np.arange(len(model.pop))
    np.testing.assert_allclose(
        stakeholders["trust"].to_numpy(), model.initiative.mean_trust_of(rows)
    )
