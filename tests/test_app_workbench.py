"""The classroom dashboard's and the planner's workbench's controller and components
(issue 12): guided experiments, plan B of its own, replicate mode with the numbers of
``cimsim compare-plans``, the advanced panel, exports and the network's details."""

from __future__ import annotations

import io
import time
import zipfile

import ipyvuetify as v
import ipywidgets as w
import numpy as np
import pytest
import solara

from cimsim.app import Page, Session, figures
from cimsim.app.components import charts_zip
from cimsim.app.state import EXPERIMENTS, OWN_PLAN
from cimsim.scenario import ScenarioError, load_scenario

SMALL = "name = 'small'\nmonths = 12\n[population]\ncitizens = 200\n"


def render(session: Session, background: bool = False):
    _box, rc = solara.render(Page(session=session, background=background), handle_error=False)
    return rc


def texts_of(rc, css: str) -> list[str]:
    return [str(c) for x in rc.find(v.Html, class_=css).widgets for c in x.children]


def error_text(rc) -> str:
    found = rc.find(v.Alert, class_="cimsim-error")
    return " ".join(str(c) for c in found.widget.children) if found.widgets else ""


# ---------------------------------------------------------------------- experiments


@pytest.mark.parametrize("key", list(EXPERIMENTS))
def test_each_guided_experiment_sets_up_what_it_says(key: str) -> None:
    session = Session(seed=2)
    session.set_param("settings.communication", 0.2)  # cleared by the set-up
    exp = session.setup_experiment(key)
    assert session.scenario_name == exp.scenario and session.month == 0 and session.seed == 2
    assert session.overrides == exp.overrides
    kinds_a = [e.kind for e in session.model.interventions]
    for event in exp.events:
        assert event["kind"] in kinds_a
    assert session.compare == (exp.compare is not None)
    if exp.compare == OWN_PLAN:
        # B is the plain plan: none of the experiment's settings or events
        assert session.model_b is not None
        kinds_b = [e.kind for e in session.model_b.interventions]
        assert all(e["kind"] not in kinds_b for e in exp.events if e["kind"] != "workshop")
        for path, value in exp.overrides.items():
            assert (
                session.model_b.spec.model_dump()[path.split(".")[0]][path.split(".")[1]] != value
            )


def test_a_guided_experiment_button_sets_it_up_and_says_what_to_watch() -> None:
    session = Session()
    rc = render(session)
    rc.find(v.Btn, class_="cimsim-try-backbone_year2").widget.click()
    assert session.experiment == "backbone_year2"
    note = " ".join(texts_of(rc, "cimsim-try-note"))
    assert "Remove the backbone in year 2" in note and "month 24" in note
    session.step(25)
    assert not session.model.has_backbone and session.model_b.has_backbone


def test_slow_actions_show_a_busy_indicator_and_finish() -> None:
    session = Session()
    session.step(3)
    rc = render(session, background=True)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert rc.find(v.Html, class_="cimsim-busy").widgets  # shown at once
    deadline = time.time() + 30
    while rc.find(v.Html, class_="cimsim-busy").widgets and time.time() < deadline:
        time.sleep(0.05)
    assert not rc.find(v.Html, class_="cimsim-busy").widgets
    assert session.month == 0
    assert rc.find(v.Html, class_="cimsim-month").widget.children[0].startswith("Month 0 /")


# ---------------------------------------------------------------------- plan B


def test_plan_b_from_its_own_file_with_its_own_events() -> None:
    session = Session()
    session.load_toml_text(SMALL)
    session.schedule({"kind": "trust_shock", "month": 3})  # A's event
    session.load_plan_b_text(SMALL.replace("citizens = 200", "citizens = 300"), "b.toml")
    assert session.compare and session.variant == OWN_PLAN
    assert session.model_b.spec.population.citizens == 300
    assert session.b_label() == "B (small, its own plan)"
    assert [e.kind for e in session.model_b.interventions] == []  # not A's events
    session.schedule({"kind": "remove_backbone", "month": 2}, plan="B")
    assert [e.kind for e in session.model.interventions] == ["trust_shock"]
    assert [e.kind for e in session.model_b.interventions] == ["remove_backbone"]
    session.step(3)
    assert session.model.has_backbone and not session.model_b.has_backbone
    session.reset()  # B's events survive a reset, in B only
    assert [e.kind for e in session.model_b.interventions] == ["remove_backbone"]
    # a bad file keeps the old plan B
    with pytest.raises(ScenarioError, match="bad.toml"):
        session.load_plan_b_text("months = -3", "bad.toml")
    assert session.plan_b_source == "b.toml"
    session.clear_plan_b()
    assert session.plan_b is None and session.model_b.spec.population.citizens == 200


def test_events_for_b_need_b_to_be_its_own_plan() -> None:
    session = Session()
    session.set_compare(True, "backbone off")
    with pytest.raises(ScenarioError, match="its own plan"):
        session.schedule({"kind": "workshop", "month": 4}, plan="B")


def test_plan_b_file_picker_on_the_page() -> None:
    from datetime import UTC, datetime

    session = Session()
    rc = render(session)
    text = SMALL.encode()
    picker = rc.find(w.FileUpload, description="Browse for plan B…").widget
    picker.value = ({"name": "b.toml", "type": "", "size": len(text),
                     "content": memoryview(text), "last_modified": datetime.now(UTC)},)  # fmt: skip
    assert session.plan_b_source == "b.toml" and session.compare
    b_line = rc.find(v.Html, class_="cimsim-month-b").widget.children[0]
    assert b_line.startswith("B (small, its own plan)")


def test_the_label_says_until_when_the_variant_holds() -> None:
    session = Session()
    session.load_toml_text(
        SMALL + "[measurement]\nenabled = false\n"
        "[[interventions]]\nkind = 'launch_measurement'\nmonth = 6\n"
    )
    session.set_compare(True, "no shared measurement")
    assert session.b_label() == "B (no shared measurement until month 6)"
    assert "launch measurement at month 6" in (session.variant_warning() or "")
    session.set_compare(True, "backbone off")
    assert session.b_label() == "B (backbone off)" and session.variant_warning() is None


# ---------------------------------------------------------------------- replicates


def test_replicates_give_the_numbers_of_compare_plans_on_the_saved_files(tmp_path) -> None:
    from cimsim.plans import compare_plans
    from cimsim.runs.options import ExecutionOptions

    session = Session(seed=5)
    session.load_toml_text(SMALL)
    session.set_param("preconditions.resources", 0.4)
    session.set_compare(True, "backbone off")
    session.schedule({"kind": "trust_shock", "month": 4})
    levels, diffs = session.replicate(4)
    assert session.replicated is not None and session.replicated[0] == 4
    path_a, path_b = tmp_path / "a.toml", tmp_path / "b.toml"
    path_a.write_bytes(session.toml_bytes())
    path_b.write_bytes(session.toml_bytes("B"))
    assert load_scenario(path_b).backbone.enabled is False
    _, want = compare_plans(
        [str(path_a), str(path_b)], replicates=4, milestones=[0, 6, 12], seed=5,
        options=ExecutionOptions(executor="serial"),
    )  # fmt: skip
    got = diffs.drop(columns="plan").reset_index(drop=True)
    assert np.allclose(
        got[["mean", "ci_low", "ci_high"]].to_numpy(),
        want.drop(columns="plan")[["mean", "ci_low", "ci_high"]].to_numpy(),
        equal_nan=True,
    )
    assert (got["month"] == want["month"]).all() and (got["outcome"] == want["outcome"]).all()
    # the page shows the last month's rows and draws the band
    rc = render(session)
    rows = texts_of(rc, "cimsim-replicate-row")
    assert any(r.startswith("Month 12, impact: B − A = ") for r in rows)
    svg = figures.svg_bytes(figures.make_figure(session, "replicates"))
    assert b"B \xe2\x88\x92 A over 4 seeds" in svg or b"over 4 seeds" in svg


def test_replicates_are_forgotten_when_the_plans_change() -> None:
    session = Session()
    session.load_toml_text(SMALL)
    session.set_compare(True)
    session.replicate(2)
    session.step(2)
    session.set_param("backbone.capacity", 0.3)  # live: the run goes on, the plans changed
    assert session.month == 2 and session.replicated is None
    session.replicate(2)
    session.schedule({"kind": "workshop", "month": 6})
    assert session.replicated is None


def test_replicates_need_compare_mode_and_a_sane_count() -> None:
    session = Session()
    with pytest.raises(ScenarioError, match="compare mode"):
        session.replicate(10)
    session.set_compare(True)
    with pytest.raises(ScenarioError, match="2..50"):
        session.replicate(1)


# ---------------------------------------------------------------------- advanced, exports


def test_the_advanced_panel_sets_any_parameter_and_shows_its_mistakes() -> None:
    session = Session()
    rc = render(session)
    rc.find(v.Select, label="Parameter").widget.v_model = "settings.trust_gain"
    rc.find(v.TextField, label="New value").widget.v_model = "0.07"
    rc.find(v.Btn, children=["Apply"]).widget.click()
    assert session.overrides["settings.trust_gain"] == pytest.approx(0.07)
    assert session.model.spec.settings.trust_gain == pytest.approx(0.07)
    rc.find(v.TextField, label="New value").widget.v_model = "lots"
    rc.find(v.Btn, children=["Apply"]).widget.click()
    assert "settings.trust_gain" in error_text(rc)
    assert session.model.spec.settings.trust_gain == pytest.approx(0.07)


def test_all_charts_export_as_svg_in_one_zip() -> None:
    session = Session()
    session.set_compare(True)
    session.step(3)
    with zipfile.ZipFile(io.BytesIO(charts_zip(session, "svg"))) as zf:
        names = zf.namelist()
        for chart in ("network", "blocks", "outcomes", "sectors", "areas", "difference"):
            name = f"cimsim-malmo-seed0-{chart}.svg"
            assert name in names
            assert b"<svg" in zf.read(name)
    session.set_compare(False)
    with zipfile.ZipFile(io.BytesIO(charts_zip(session, "png"))) as zf:
        assert not any("difference" in n for n in zf.namelist())


def test_csv_and_toml_record_plan_b() -> None:
    session = Session()
    session.load_toml_text(SMALL)
    session.load_plan_b_text(SMALL.replace("citizens = 200", "citizens = 250"), "b.toml")
    session.schedule({"kind": "workshop", "month": 5}, plan="B")
    session.step(2)
    header = session.csv_bytes().decode().splitlines()[0].split(",")
    assert "b_plan" in header and "b_impact" in header
    assert "B (small, its own plan)" in session.csv_bytes().decode()
    import tomllib

    saved = tomllib.loads(session.toml_bytes("B").decode())
    assert saved["population"]["citizens"] == 250
    assert [e["kind"] for e in saved["interventions"]] == ["workshop"]


# ---------------------------------------------------------------------- network details


def test_a_click_on_a_node_finds_that_stakeholder() -> None:
    session = Session()
    live = figures.LiveFigures()
    fig = live.figure(session, "network")
    px = fig.axes[0].transData.transform(session.network.pos[7])
    x, y = px[0] / fig.bbox.width, 1 - px[1] / fig.bbox.height
    row = figures.node_at(fig, session, x, y)
    assert row is not None
    assert np.allclose(session.network.pos[row], session.network.pos[7], atol=0.02)
    assert figures.node_at(fig, session, 0.0, 0.0) is None  # an empty corner
    info = session.stakeholder(row)
    assert set(info) >= {"sector", "engagement", "commitment", "trust", "champion"}
    assert info["engagement"] in ("inactive", "aware", "engaged")
    with pytest.raises(ScenarioError):
        session.stakeholder(10_000)


def test_the_page_shows_the_clicked_stakeholder() -> None:
    from cimsim.app.components import PlotImage

    session = Session()
    rc = render(session)
    live = figures.LiveFigures()
    fig = live.figure(session, "network")
    px = fig.axes[0].transData.transform(session.network.pos[3])
    net = rc.find(PlotImage, img_class="cimsim-network-img").widget
    net.picked = {"x": px[0] / fig.bbox.width, "y": 1 - px[1] / fig.bbox.height, "n": 1}
    details = " ".join(texts_of(rc, "cimsim-node"))
    assert details.startswith("Stakeholder #")
    assert "commitment" in details and "champion" in details


def test_pointing_at_a_chart_reads_the_month_and_values() -> None:
    from cimsim.app.components import PlotImage

    session = Session()
    session.set_compare(True)
    session.step(30)
    live = figures.LiveFigures()
    fig = live.figure(session, "outcomes")
    ax = fig.axes[0]
    x = ax.transData.transform((12, 0))[0] / fig.bbox.width
    text = figures.values_at(fig, x)
    row = session.results().loc[12]
    row_b = session.results_b().loc[12]
    assert text.startswith("Month 12: impact ")
    assert f"trust {row['trust']:.2f} (B {row_b['trust']:.2f})" in text
    assert f"participation {row['participation']:.2f}" in text
    assert figures.values_at(fig, 0.99) is None  # right of the last month simulated
    rc = render(session)
    blocks = rc.find(PlotImage, img_class="cimsim-plot cimsim-plot-blocks").widget
    blocks.hovered = {"x": x, "y": 0.5}
    readouts = texts_of(rc, "cimsim-readout")
    assert any(r.startswith("Month 12: common agenda ") for r in readouts), readouts


def test_plan_b_has_its_own_network_view() -> None:
    from cimsim.app.components import PlotImage

    session = Session()
    session.load_toml_text(SMALL)
    session.load_plan_b_text(SMALL.replace("citizens = 200", "citizens = 40"), "b.toml")
    model_b, view_b = session.view("B")
    assert model_b is session.model_b and len(model_b.pop) < len(session.model.pop)
    assert view_b.nodes.size == len(model_b.pop)  # a small plan is drawn whole
    rc = render(session)
    net = rc.find(PlotImage, img_class="cimsim-network-img").widget
    caption_a, src_a = texts_of(rc, "cimsim-caption")[0], net.src
    rc.find(v.BtnToggle, class_="cimsim-network-plan").widget.v_model = "B"
    caption_b = texts_of(rc, "cimsim-caption")[0]
    assert caption_a != caption_b and f"all {len(model_b.pop)} stakeholders" in caption_b
    assert rc.find(PlotImage, img_class="cimsim-network-img").widget.src != src_a
    fig = figures.LiveFigures().figure(session, "network_b")
    px = fig.axes[0].transData.transform(view_b.pos[0])
    row = figures.node_at(fig, session, px[0] / fig.bbox.width,
                          1 - px[1] / fig.bbox.height, plan="B")  # fmt: skip
    assert row is not None and session.stakeholder(row, "B")["id"] == int(view_b.nodes[row])
