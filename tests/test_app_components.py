"""Component tests of the Solara page (solara.render) and of its plain-Python controller."""

from __future__ import annotations

import argparse

import ipyvuetify as v
import ipywidgets as w
import pytest
import solara

from cimsim.app import Page, Session, figures, serve
from cimsim.app.components import NetworkImage
from cimsim.scenario import ScenarioError, load_scenario


def render(session: Session | None = None):
    session = session or Session()
    box, rc = solara.render(Page(session=session, background=False), handle_error=False)
    return session, rc


def month_text(rc) -> str:
    return rc.find(v.Html, class_="cimsim-month").widget.children[0]


def images(rc) -> list[bytes]:
    """The network image (a clickable template) and every chart image on the page."""
    net = [n.src.encode() for n in rc.find(NetworkImage).widgets]
    return net + [bytes(img.value) for img in rc.find(w.Image).widgets]


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def type_text(rc, label: str, text: str) -> None:
    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    if any(k.startswith("keyup.enter") for k in field._event_handlers_map):
        field.fire_event("keyup.enter", None)  # fields that update on Enter/blur only


def error_text(rc) -> str:
    found = rc.find(v.Alert, class_="cimsim-error")
    return " ".join(str(c) for c in found.widget.children) if found.widgets else ""


# ---------------------------------------------------------------------- page


def test_step_advances_model_plots_and_network() -> None:
    session, rc = render()
    assert month_text(rc).startswith("Month 0 /")
    before = images(rc)
    assert len(before) == 4  # network, building blocks, outcomes and the lower chart
    click(rc, "Step")
    assert session.month == 1
    assert month_text(rc).startswith("Month 1 /")
    after = images(rc)
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_slider_changes_model_parameter() -> None:
    session, rc = render()
    slider = rc.find(v.Slider, label="Urgency (at reset)").widget
    slider.v_model = 0.2
    assert session.model.spec.preconditions.urgency == pytest.approx(0.2)
    assert session.overrides["preconditions.urgency"] == pytest.approx(0.2)
    rc.find(v.Switch, label="Backbone organisation (live)").widget.v_model = False
    assert session.model.spec.backbone.enabled is False
    assert not session.model.has_backbone
    assert "backbone no" in month_text(rc)


def test_reset_rebuilds_model() -> None:
    session, rc = render()
    for _ in range(3):
        click(rc, "Step")
    old = session.model
    assert session.month == 3
    click(rc, "Reset")
    assert session.model is not old
    assert session.month == 0
    assert month_text(rc).startswith("Month 0 /")


def test_compare_mode_steps_both_models() -> None:
    session, rc = render()
    rc.find(v.Switch, label="Compare A with B").widget.v_model = True
    assert session.model_b is not None
    assert session.model_b.spec.backbone.enabled is False
    click(rc, "Step")
    click(rc, "Step")
    assert session.model.steps == session.model_b.steps == 2
    assert rc.find(v.Btn, children=["Difference A−B"]).widgets
    b_text = rc.find(v.Html, class_="cimsim-month-b").widget.children[0]
    assert b_text.startswith("B (backbone off)")
    rc.find(v.Btn, children=["Difference A−B"]).widget.click()
    diff = session.difference()
    assert diff is not None and diff.loc[2, "backbone_support"] > 0


def test_intervention_fires_at_its_month() -> None:
    session, rc = render()
    rc.find(v.Select, label="Event").widget.v_model = "remove_backbone"
    type_text(rc, "At month", "2")
    click(rc, "Schedule")
    assert error_text(rc) == ""
    assert [e.kind for e in session.model.interventions] == ["remove_backbone"]
    click(rc, "Step")
    assert session.model.has_backbone
    click(rc, "Step")
    assert not session.model.has_backbone
    assert session.model.fired == ["remove_backbone"]
    assert "remove backbone happened" in str(rc.find(v.Alert).widgets[-1].children)
    # the month has passed now: scheduling it again is refused with a message
    click(rc, "Schedule")
    assert "already passed" in error_text(rc)


def test_funding_cut_with_value() -> None:
    session, rc = render()
    rc.find(v.Select, label="Event").widget.v_model = "change_funding"
    type_text(rc, "At month", "1")
    type_text(rc, "resources (default 0.3)", "0.1")
    click(rc, "Schedule")
    click(rc, "Step")
    assert session.model.resources == pytest.approx(0.1)
    type_text(rc, "resources (default 0.3)", "lots")
    type_text(rc, "At month", "5")
    click(rc, "Schedule")
    assert "resources must be a number" in error_text(rc)


def test_malformed_toml_shows_error_and_app_keeps_running() -> None:
    session, rc = render()
    rc.find(v.Textarea, label="TOML").widget.v_model = "name = [unclosed"
    click(rc, "Load TOML")
    assert "not valid TOML" in error_text(rc)
    assert session.scenario_name == "malmo"
    rc.find(v.Textarea, label="TOML").widget.v_model = "[preconditions]\nurgency = 3.0"
    click(rc, "Load TOML")
    assert "preconditions.urgency" in error_text(rc)
    click(rc, "Step")
    assert session.month == 1
    assert error_text(rc) == ""


def test_valid_toml_upload_switches_scenario() -> None:
    session, rc = render()
    text = 'name = "mine"\nmonths = 24\n[population]\ncitizens = 200\n'
    rc.find(v.Textarea, label="TOML").widget.v_model = text
    click(rc, "Load TOML")
    assert error_text(rc) == ""
    assert session.scenario_name == "mine"
    assert month_text(rc).startswith("Month 0 / 24")


def test_seed_input_is_coerced_and_validated() -> None:
    session, rc = render()
    type_text(rc, "Seed", "abc")
    assert "seed must be a whole number" in error_text(rc)
    type_text(rc, "Seed", " 7 ")
    assert session.seed == 7
    assert error_text(rc) == ""


def test_scenario_picker_switches_bundled_case() -> None:
    session, rc = render()
    rc.find(v.Select, label="Scenario").widget.v_model = "skive"
    assert session.model.spec.name == "skive"
    assert len(session.model.interventions) >= 3


# ---------------------------------------------------------------------- controller


def test_session_same_seed_same_run_and_compare_lockstep() -> None:
    a, b = Session(seed=3), Session(seed=3)
    a.step(5)
    b.step(5)
    assert a.results().equals(b.results())
    a.set_compare(True, "no shared measurement")
    a.step(3)
    assert a.model.steps == a.model_b.steps == 3
    assert not a.model_b.spec.measurement.enabled


def test_session_rejects_bad_values() -> None:
    s = Session()
    with pytest.raises(ScenarioError, match="preconditions.urgency"):
        s.set_param("preconditions.urgency", 1.5)
    assert "preconditions.urgency" not in s.overrides
    with pytest.raises(ScenarioError, match="unknown parameter"):
        s.set_param("preconditions.nonsense", 1)
    with pytest.raises(ScenarioError):
        s.schedule({"kind": "trust_shock", "month": 4, "severity": 2})
    with pytest.raises(ScenarioError):
        s.schedule({"kind": "meteor", "month": 4})
    with pytest.raises(ScenarioError, match="UTF-8"):
        s.load_toml_text(b"\xff\xfe", "bad.toml")
    with pytest.raises(ScenarioError, match="unknown scenario"):
        Session("atlantis")
    # what solara.FileDrop hands over: the file's bytes and name
    s.load_toml_text(b'name = "dropped"\nmonths = 12\n', "dropped.toml")
    assert s.scenario_name == "dropped" and s.months == 12


def test_scheduled_events_survive_reset() -> None:
    s = Session()
    s.schedule({"kind": "launch_measurement", "month": 3, "indicators": 12})
    s.step(4)
    assert s.model.indicators == 12
    s.reset()
    assert [e.kind for e in s.model.interventions] == ["launch_measurement"]
    s.clear_events()
    assert s.model.interventions == []


def test_exports_csv_and_png() -> None:
    s = Session()
    s.set_compare(True)
    s.step(4)
    text = s.csv_bytes().decode()
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["month", "scenario", "seed"]
    assert "impact" in header and "b_impact" in header
    assert any(h.startswith("area: ") for h in header)
    assert len(text.splitlines()) == 6
    assert "preconditions.resources" in header and "events" in header  # the settings used
    for name in figures.BUILDERS:
        png = figures.png_bytes(figures.make_figure(s, name))
        assert png.startswith(b"\x89PNG")


def test_network_sample_is_seeded_and_bounded() -> None:
    a, b = Session(seed=5), Session(seed=5)
    assert a.network.nodes.size == 300
    assert (a.network.nodes == b.network.nodes).all()
    assert (a.network.pos == b.network.pos).all()
    small = Session()
    small.load_toml_text("[population]\ncitizens = 20\nbusinesses = 5\ncivil_society = 5\n")
    assert small.network.nodes.size == len(small.model.pop)


def test_serve_runs_solara(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, envs = [], []

    class FakeProc:
        def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
            calls.append(cmd)
            envs.append(env)

        def wait(self, timeout: float | None = None) -> int:
            return 0

        def poll(self) -> int:
            return 0

    monkeypatch.setattr(serve.subprocess, "Popen", FakeProc)
    args = argparse.Namespace(host="127.0.0.1", port=9999, max_sessions=5)
    assert serve.cmd_app(args) == 0
    assert envs[0]["SOLARA_KERNEL_MAX_COUNT"] == "5"  # sessions are bounded
    assert envs[0]["SOLARA_KERNEL_CULL_TIMEOUT"] == "2m"  # a closed tab's model is freed
    cmd = calls[0]
    assert cmd[-6:] == ["cimsim.app", "--host", "127.0.0.1", "--port", "9999", "--production"]


def test_step_stops_at_the_last_month() -> None:
    session, rc = render()
    session.step(session.months + 5)  # a tick or a Step at the end must not go past it
    assert session.month == session.months
    click(rc, "Step")  # the page was drawn before: this Step is the one past the end
    assert session.month == session.months
    assert f"Month {session.months} / {session.months}" in month_text(rc)
    assert rc.find(v.Btn, children=["Step"]).widget.disabled


def test_the_timeline_follows_steps() -> None:
    session = Session()
    session.schedule({"kind": "trust_shock", "month": 2})
    _, rc = render(session)

    def timeline() -> str:
        return " ".join(str(c) for w in rc.find(v.Html, tag="span").widgets for c in w.children)

    assert "month 2: trust shock (severity=0.5) — pending" in timeline()
    click(rc, "Step")
    click(rc, "Step")
    assert "month 2: trust shock (severity=0.5) — done" in timeline()


def test_play_with_no_pause_ends_at_the_last_month() -> None:
    import time

    session = Session()
    session.load_toml_text("name = 'short'\nmonths = 6\n[population]\ncitizens = 200\n")
    _, rc = render(session)
    rc.find(v.Slider, label="Pause between ticks (ms)").widget.v_model = 0
    click(rc, "Play")
    deadline = time.time() + 30
    while not session.finished and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a loop that overshoots would step again here
    assert session.month == 6
    assert "Month 6 / 6" in month_text(rc)


def test_a_slider_mid_run_changes_the_running_model_or_waits_for_reset() -> None:
    session, rc = render()
    session.step(10)
    session.set_param("preconditions.resources", 0.1)  # live: the budget changes now
    assert session.month == 10 and session.model.resources == 0.1
    session.set_param("backbone.enabled", False)  # live: the backbone is dissolved now
    assert session.month == 10 and not session.model.has_backbone
    session.set_param("settings.initial_trust", 0.2)  # shapes the model at build time
    assert session.month == 10 and session.pending == {"settings.initial_trust"}
    assert session.model.spec.settings.initial_trust != 0.2
    session.reset()
    assert session.month == 0 and not session.pending
    assert session.model.spec.settings.initial_trust == 0.2
    assert session.model.resources == 0.1 and not session.model.has_backbone


def test_the_page_marks_which_sliders_are_live_and_what_waits() -> None:
    session, rc = render()
    click(rc, "Step")
    labels = [w.label for w in rc.find(v.Slider).widgets if w.label]
    assert "Resources (live)" in labels and "Initial trust (at reset)" in labels
    slider = rc.find(v.Slider, label="Initial trust (at reset)").widget
    slider.v_model = 0.2
    assert session.month == 1  # the run goes on
    texts = [str(c) for w in rc.find(v.Html, tag="span").widgets for c in w.children]
    assert "Changed while running: applies at the next Reset." in texts


def test_compare_warns_when_b_sets_up_a_backbone_itself() -> None:
    session = Session()
    session.load_toml_text(
        "name = 'late'\n[backbone]\nenabled = false\n[population]\ncitizens = 200\n"
        "[[interventions]]\nkind = 'add_backbone'\nmonth = 24\n"
    )
    session.set_compare(True, "backbone off")
    assert "month 24" in (session.variant_warning() or "")
    session.set_compare(True, "low initial trust")
    assert session.variant_warning() is None


def test_a_mistake_is_shown_in_the_card_of_its_control_and_play_clears_it() -> None:
    import time

    session, rc = render()
    type_text(rc, "Seed", "not-a-number")  # a mistake in the Run card

    def has_alert(widget: object) -> bool:
        if isinstance(widget, v.Alert):
            return True
        children = getattr(widget, "children", None) or []
        return any(has_alert(c) for c in children if not isinstance(c, str))

    def cards_with_error() -> list[str]:
        return [
            str(card.children[0].children[0])  # the card's title
            for card in rc.find(v.Card).widgets
            if has_alert(card)
        ]

    assert cards_with_error() == ["Run"]
    click(rc, "Play")
    deadline = time.time() + 10
    while cards_with_error() and time.time() < deadline:
        time.sleep(0.05)
    click(rc, "Pause")
    assert cards_with_error() == []


def test_the_saved_scenario_reproduces_the_run(tmp_path, capsys) -> None:
    import json

    from cimsim.cli import main

    s = Session(seed=3)
    s.set_param("preconditions.resources", 0.35)
    s.set_param("settings.initial_trust", 0.25)
    s.schedule({"kind": "trust_shock", "month": 5})
    s.step(12)
    path = tmp_path / "saved.toml"
    path.write_bytes(s.toml_bytes())
    saved = load_scenario(path)
    assert saved.preconditions.resources == 0.35 and saved.settings.initial_trust == 0.25
    assert "trust_shock" in [e.kind for e in saved.interventions]
    assert main(["run", str(path), "--seed", "3", "--steps", "12", "--json"]) == 0
    final = json.loads(capsys.readouterr().out)["final"]
    assert final["impact"] == s.model.latest["impact"]  # the same run, bit for bit


def test_a_scenario_file_can_be_picked_by_browsing() -> None:
    session, rc = render()
    picker = rc.find(w.FileUpload, description="Browse…").widget
    text = b"name = 'picked'\n[population]\ncitizens = 150\n"
    from datetime import UTC, datetime

    picker.value = ({"name": "picked.toml", "type": "", "size": len(text),
                     "content": memoryview(text), "last_modified": datetime.now(UTC)},)  # fmt: skip
    assert session.model.spec.name == "picked"
    assert session.model.spec.population.citizens == 150


def test_charts_export_as_svg_too() -> None:
    s = Session()
    s.step(2)
    for name in figures.BUILDERS:
        svg = figures.svg_bytes(figures.make_figure(s, name))
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    _, rc = render(s)
    labels = []
    for button in rc.find(v.Btn).widgets:
        for child in button.children:
            inner = child.children if hasattr(child, "children") else [child]
            labels += [x for x in inner if isinstance(x, str)]
    assert "All charts (SVG)" in labels and "All charts (PNG)" in labels
