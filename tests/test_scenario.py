"""Scenario schema, loading, overrides and one-line errors naming file and field."""

from __future__ import annotations

import pytest

import cimsim
from cimsim.scenario import (
    ScenarioError,
    apply_overrides,
    get_path,
    load_scenario,
    numeric_parameters,
    parse_assignment,
    validate,
)


def test_bundled_scenarios_load_and_say_they_are_plausibility_settings() -> None:
    names = cimsim.bundled_scenarios()
    assert {"malmo", "mechelen", "skive"} <= set(names)
    assert "template" not in names
    for name in ("malmo", "mechelen", "skive"):
        sc = load_scenario(name)
        assert sc.name == name
        assert "plausib" in sc.plausibility.lower()


def test_report_facts_are_in_the_case_files() -> None:
    malmo, mechelen, skive = (load_scenario(n) for n in ("malmo", "mechelen", "skive"))
    assert len(malmo.activities.areas) == 7
    assert 250 <= malmo.population.businesses + malmo.population.civil_society <= 320
    assert malmo.backbone.form == "central"
    assert len(mechelen.activities.areas) == 3
    assert mechelen.measurement.indicators == 86
    assert mechelen.backbone.form == "split"
    assert mechelen.settings.door_to_door > 0 and mechelen.activities.internships > 0
    assert skive.backbone.form == "distributed" and skive.population.villages > 1
    assert not skive.measurement.enabled
    assert any(e.kind == "workshop" for e in skive.interventions)


def test_template_is_a_valid_commented_scenario() -> None:
    path = cimsim.scenario.scenario_dir() / "template.toml"
    text = path.read_text()
    assert text.count("#") > 30
    sc = load_scenario(path)
    assert sc.name


def test_overrides_use_dotted_paths() -> None:
    sc = load_scenario("malmo", {"backbone.enabled": False, "preconditions.urgency": 0.2})
    assert sc.backbone.enabled is False
    assert get_path(sc, "preconditions.urgency") == 0.2


def test_parse_assignment_reads_toml_literals() -> None:
    assert parse_assignment("backbone.enabled=false") == ("backbone.enabled", False)
    assert parse_assignment("settings.communication=0.7") == ("settings.communication", 0.7)
    assert parse_assignment("backbone.form=split") == ("backbone.form", "split")
    path, value = parse_assignment('interventions=[{month=3, kind="remove_backbone"}]')
    assert value == [{"month": 3, "kind": "remove_backbone"}]
    with pytest.raises(ScenarioError, match="PATH=VALUE"):
        parse_assignment("backbone.enabled")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"backbone.enabeld": True}, "unknown parameter 'backbone.enabeld'"),
        ({"nonsense": 1}, "unknown parameter 'nonsense'"),
        ({"backbone.capacity": 1.5}, "backbone.capacity: Input should be less than or equal to 1"),
        ({"preconditions.urgency": -0.1}, "preconditions.urgency"),
        ({"population.citizens": "many"}, "population.citizens"),
        ({"backbone.enabled": "perhaps"}, "backbone.enabled"),
        ({"backbone.form": "circular"}, "backbone.form"),
        ({"interventions": [{"month": 3, "kind": "magic"}]}, "interventions.0"),
        ({"interventions": [{"month": 0, "kind": "workshop"}]}, "interventions.0.workshop.month"),
    ],
)
def test_bad_values_give_one_line_naming_file_and_field(overrides: dict, fragment: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("malmo", overrides)
    msg = str(err.value)
    assert "\n" not in msg
    assert fragment in msg
    if not msg.startswith("unknown parameter"):
        assert "malmo.toml" in msg


def test_bad_files_name_the_file_and_field(tmp_path) -> None:
    bad = tmp_path / "city.toml"
    bad.write_text('name = "x"\n[backbone]\nenabled = true\ncolour = "red"\n')
    with pytest.raises(ScenarioError, match=r"city.toml: backbone.colour: unknown field"):
        load_scenario(bad)
    bad.write_text("[backbone\nenabled = true\n")
    with pytest.raises(ScenarioError, match=r"city.toml: not valid TOML"):
        load_scenario(bad)
    bad.write_text("[settings]\ninitial_trust = 2.0\n")
    with pytest.raises(ScenarioError, match=r"city.toml: settings.initial_trust"):
        load_scenario(bad)
    bad.write_text('[activities]\nareas = ["a", "b"]\nneed = [1.0]\n')
    with pytest.raises(ScenarioError, match=r"city.toml: activities"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ScenarioError, match="unknown scenario 'atlantis'"):
        load_scenario("atlantis")


def test_apply_overrides_does_not_touch_the_input() -> None:
    data = {"backbone": {"enabled": True}}
    out = apply_overrides(data, {"backbone.enabled": False})
    assert data["backbone"]["enabled"] is True and out["backbone"]["enabled"] is False


def test_apply_overrides_copies_the_tables_it_changes_only() -> None:
    """Tables along an override's path are copied (the input stays as it was, whatever is
    set), the others shared; the result validates to what a deep copy would give."""
    import copy

    data = load_scenario("skive").model_dump()
    before = copy.deepcopy(data)
    overrides = {
        "settings.confidence": 0.5,
        "settings.initial_trust": 0.4,
        "calibration.trust.win_trust": 0.3,
        "calibration.network.resident_org_share": 0.2,
    }
    out = apply_overrides(data, overrides)
    assert data == before
    assert out["settings"] is not data["settings"] and out["calibration"] is not data["calibration"]
    assert out["calibration"]["trust"] is not data["calibration"]["trust"]
    assert out["population"] is data["population"]  # untouched: shared
    deep = copy.deepcopy(data)
    for path, value in overrides.items():
        *tables, name = path.split(".")
        node = deep
        for table in tables:
            node = node[table]
        node[name] = value
    assert validate(out) == validate(deep)
    assert validate(out).settings.confidence == 0.5


def test_numeric_parameters_are_the_unit_interval_settings() -> None:
    params = numeric_parameters()
    for path in (
        "backbone.capacity",
        "preconditions.urgency",
        "preconditions.champion_strength",
        "preconditions.resources",
        "settings.initial_trust",
        "settings.communication",
    ):
        assert params[path] == (0.0, 1.0)
    assert "population.citizens" not in params


def test_scenario_guide_documents_every_field() -> None:
    from pathlib import Path

    from cimsim.scenario import INTERVENTION_KINDS, Scenario

    guide = (Path(__file__).resolve().parents[1] / "docs" / "scenario-guide.md").read_text()
    for section in ("population", "network", "preconditions", "settings", "backbone"):
        cls = Scenario.model_fields[section].annotation
        for name in cls.model_fields:
            assert f"`{section}.{name}`" in guide, f"{section}.{name}"
    for section in ("measurement", "activities"):
        for name in Scenario.model_fields[section].annotation.model_fields:
            assert f"`{section}.{name}`" in guide, f"{section}.{name}"
    for kind in INTERVENTION_KINDS:
        assert f"`{kind}`" in guide


def test_every_event_kind_has_a_handler_a_form_and_a_text() -> None:
    from cimsim.app import texts
    from cimsim.app.state import EVENT_FIELDS
    from cimsim.interventions import HANDLERS
    from cimsim.scenario import EVENTS, INTERVENTION_KINDS

    assert set(HANDLERS) == set(EVENTS) == set(EVENT_FIELDS) == set(texts.EVENTS)
    assert INTERVENTION_KINDS == tuple(EVENTS)
    for kind, cls in EVENTS.items():
        field, _ = cls.FORM
        assert field is None or field in cls.model_fields, kind
        event = cls(kind=kind, month=3, **({field: cls.FORM[1]} if field else {}))
        assert event.kind == kind


def test_scenario_guide_tables_every_calibration_constant() -> None:
    from pathlib import Path

    from cimsim.calibration import Calibration

    guide = (Path(__file__).resolve().parents[1] / "docs" / "scenario-guide.md").read_text()
    for section, info in Calibration.model_fields.items():
        for name in info.annotation.model_fields:
            assert f"`calibration.{section}.{name}`" in guide, f"calibration.{section}.{name}"
    assert "`structure.urgency`" in guide


def test_a_plan_file_can_start_from_a_base(tmp_path) -> None:
    from cimsim.scenario import load_scenario

    plan = tmp_path / "late.toml"
    plan.write_text(
        'base = "mechelen"\nname = "late"\n[backbone]\nenabled = false\n'
        '[[interventions]]\nkind = "add_backbone"\nmonth = 24\n'
    )
    late, city = load_scenario(plan), load_scenario("mechelen")
    assert late.name == "late" and not late.backbone.enabled
    assert late.backbone.form == city.backbone.form == "split"  # tables merge field by field
    assert late.population == city.population and late.settings == city.settings
    assert [e.kind for e in late.interventions] == ["add_backbone"]
    child = tmp_path / "child.toml"  # a relative base and a chain
    child.write_text('base = "late.toml"\nname = "child"\n[settings]\ninitial_trust = 0.2\n')
    assert load_scenario(child).backbone.enabled is False
    assert load_scenario(child).settings.initial_trust == 0.2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('base = "atlantis"\n', "base: unknown scenario 'atlantis'"),
        ('base = "loop.toml"\n', "cycle"),
        ("base = 3\n", "base: expected a scenario name"),
        ('base = "mechelen"\n[backbone]\ncolour = "red"\n', "backbone.colour: unknown field"),
    ],
)
def test_a_bad_base_is_one_line_naming_the_file(tmp_path, text: str, fragment: str) -> None:
    from cimsim.scenario import load_scenario

    path = tmp_path / "loop.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="loop.toml") as err:
        load_scenario(path)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_a_file_that_is_not_utf8_is_one_line(tmp_path) -> None:
    from cimsim.scenario import load_scenario

    path = tmp_path / "latin.toml"
    path.write_bytes('title = "Malmö"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match="latin.toml: not UTF-8"):
        load_scenario(path)
