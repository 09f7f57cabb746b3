"""Scenario schema, TOML loading, dotted-path overrides and bundled-scenario lookup.

A scenario is a TOML file validated by one pydantic schema (:class:`Scenario`).
Dotted paths such as ``backbone.enabled`` or ``preconditions.urgency`` are the
parameter names everywhere: in files, in ``cimsim run --set`` and in sweeps.
Every user mistake raises :class:`ScenarioError` with a one-line message that
names the file and the dotted field.
"""

from __future__ import annotations

import copy
import operator
import os
import tomllib
from functools import cache, reduce
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, Field, ValidationError, model_validator

from cimsim.calibration import Calibration, Section, Structure
from cimsim.errors import ScenarioError

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
"""A float in [0, 1]."""


class PopulationSection(Section):
    """How many stakeholders of each sector; citizens are agents standing for residents."""

    government: int = Field(10, ge=1, le=10_000, description="government units (departments)")
    citizens: int = Field(2000, ge=0, le=2_000_000, description="citizen agents")
    businesses: int = Field(100, ge=0, le=100_000, description="business organisations")
    civil_society: int = Field(80, ge=0, le=100_000, description="civil society organisations")
    villages: int = Field(1, ge=1, le=200, description="communities (Skive's village clusters)")
    residents_per_citizen: float = Field(
        1.0,
        gt=0,
        le=1_000_000,
        description="how many residents one citizen agent stands for (the resolution)",
    )


class NetworkSection(Section):
    """The stakeholder network: sector and community blocks joined by bridging ties."""

    mean_degree: float = Field(8.0, ge=1.0, le=100.0, description="mean ties per stakeholder")
    within_group: Unit = Field(0.75, description="share of ties inside the own sector/community")


class PreconditionsSection(Section):
    """The three preconditions of the Collective Impact Model."""

    urgency: Unit = Field(0.6, description="initial external pressure for change")
    urgency_decay: Unit = Field(0.03, description="monthly decay of urgency toward its floor")
    champion_strength: Unit = Field(0.6, description="influence of the champions")
    champions: int = Field(5, ge=0, le=1000, description="number of influential champions")
    resources: Unit = Field(0.6, description="adequacy of budgets (income relative to need)")


class SettingsSection(Section):
    """Trust and communication settings."""

    initial_trust: Unit = Field(0.4, description="trust on every tie at the start")
    trust_gain: Unit = Field(0.10, description="trust gain rate on a good contact")
    trust_loss: Unit = Field(0.30, description="trust loss rate on a bad contact or withdrawal")
    power_damping: Unit = Field(0.5, description="how much power differences damp trust gains")
    communication: Unit = Field(0.5, description="contact intensity along ties")
    face_to_face: Unit = Field(0.5, description="share of contacts that are face to face")
    door_to_door: Unit = Field(0.0, description="street-level outreach to citizens per month")
    confidence: Unit = Field(0.3, description="bounded-confidence threshold for agenda exchange")


class BackboneSection(Section):
    """The backbone organisation: central, split (core team + steering group) or distributed."""

    enabled: bool = Field(True, description="whether a backbone organisation exists")
    capacity: Unit = Field(0.7, description="staff capacity relative to a fully staffed backbone")
    form: Literal["central", "split", "distributed"] = Field(
        "central", description="central, split (core team + steering group) or distributed"
    )


class MeasurementSection(Section):
    """Shared measurement: whether it runs and how many indicators it tracks."""

    enabled: bool = Field(True, description="whether a shared measurement system exists")
    indicators: int = Field(30, ge=1, le=1000, description="number of shared indicators")


class ActivitiesSection(Section):
    """Issue areas the initiative works on, and special contributor programmes."""

    areas: list[str] = Field(
        default_factory=lambda: ["area 1", "area 2", "area 3"],
        min_length=1,
        max_length=50,
        description="names of the issue areas",
    )
    need: list[Annotated[float, Field(gt=0)]] | None = Field(
        None, description="relative need per area (default: equal)"
    )
    internships: int = Field(
        0, ge=0, le=100_000, description="citizens given paid internships (Mechelen's A-team)"
    )
    difficulty: Annotated[float, Field(gt=0.0, le=10.0)] = Field(
        1.0, description="how much effort the goal needs (1 = reference)"
    )

    @model_validator(mode="after")
    def _need_matches_areas(self) -> ActivitiesSection:
        if self.need is not None and len(self.need) != len(self.areas):
            raise ValueError(
                f"need has {len(self.need)} entries but there are {len(self.areas)} areas"
            )
        return self


class _Event(Section):
    month: int = Field(ge=1, le=10_000, description="month at whose start the event happens")

    FORM: ClassVar[tuple[str | None, float | int | None]] = (None, None)
    """The one field the app's scheduling form asks for, and its suggested value."""


class AddBackbone(_Event):
    """A backbone organisation is set up (or restaffed) with this capacity."""

    kind: Literal["add_backbone"]
    capacity: Unit | None = None
    FORM = ("capacity", 0.7)


class RemoveBackbone(_Event):
    """The backbone organisation is dissolved; partners must coordinate alone."""

    kind: Literal["remove_backbone"]


class ChangeFunding(_Event):
    """Budgets change: resources take the new value (e.g. a funding cut)."""

    kind: Literal["change_funding"]
    resources: Unit
    FORM = ("resources", 0.3)


class ChampionLeaves(_Event):
    """This many of the most influential champions leave the initiative."""

    kind: Literal["champion_leaves"]
    count: int = Field(1, ge=1, le=1000)
    FORM = ("count", 1)


class Workshop(_Event):
    """A participatory workshop (like Skive's Fremtidsbutikken) reaches this share, in one
    village or everywhere."""

    kind: Literal["workshop"]
    village: int | None = Field(None, ge=0)
    reach: Unit = 0.3
    FORM = ("reach", 0.3)


class LinkVillages(_Event):
    """A cross-village project (like Skive's Climate Ring) links engaged people of
    different villages; this share of the engaged gets a new tie, and they meet."""

    kind: Literal["link_villages"]
    reach: Unit = 0.3
    FORM = ("reach", 0.3)


class LaunchMeasurement(_Event):
    """A shared measurement system starts with this many indicators."""

    kind: Literal["launch_measurement"]
    indicators: int | None = Field(None, ge=1, le=1000)
    FORM = ("indicators", 30)


class TrustShock(_Event):
    """A major partner withdraws publicly; trust is shaken by this severity."""

    kind: Literal["trust_shock"]
    severity: Unit = 0.5
    FORM = ("severity", 0.5)


EVENT_CLASSES: tuple[type[_Event], ...] = (
    AddBackbone,
    RemoveBackbone,
    ChangeFunding,
    ChampionLeaves,
    Workshop,
    LinkVillages,
    LaunchMeasurement,
    TrustShock,
)
"""Every kind of timed intervention: the one registry the schema, the model
(``interventions.HANDLERS``), the app's form and the documentation follow."""

EVENTS: dict[str, type[_Event]] = {
    get_args(cls.model_fields["kind"].annotation)[0]: cls for cls in EVENT_CLASSES
}
"""Event kind (``add_backbone``, ...) -> its class."""

INTERVENTION_KINDS = tuple(EVENTS)

Intervention = Annotated[reduce(operator.or_, EVENT_CLASSES), Field(discriminator="kind")]
"""One scheduled event of any kind (pydantic picks the class by ``kind``)."""


class Scenario(Section):
    """A complete, validated scenario: the single input of
    :class:`~cimsim.initiative.Initiative` and :class:`~cimsim.model.CollectiveImpactModel`."""

    name: str = Field(
        "custom",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="short name for tables and output folders: letters, digits, '-', '_', '.'",
    )
    title: str = ""
    description: str = ""
    plausibility: str = Field(
        "", description="which settings are plausibility settings rather than fitted data"
    )
    months: int = Field(120, ge=1, le=10_000, description="default run length in months")
    population: PopulationSection = Field(default_factory=PopulationSection)
    network: NetworkSection = Field(default_factory=NetworkSection)
    preconditions: PreconditionsSection = Field(default_factory=PreconditionsSection)
    settings: SettingsSection = Field(default_factory=SettingsSection)
    backbone: BackboneSection = Field(default_factory=BackboneSection)
    measurement: MeasurementSection = Field(default_factory=MeasurementSection)
    activities: ActivitiesSection = Field(default_factory=ActivitiesSection)
    interventions: list[Intervention] = Field(default_factory=list)
    structure: Structure = Field(default_factory=Structure)
    calibration: Calibration = Field(default_factory=Calibration)

    @model_validator(mode="after")
    def _distributed_needs_villages(self) -> Scenario:
        if self.population.villages > 1 and self.population.citizens < self.population.villages:
            raise ValueError("population.citizens must be at least population.villages")
        pop = self.population
        if pop.government + pop.citizens + pop.businesses + pop.civil_society < 2:
            raise ValueError("a scenario needs at least two stakeholders")
        for i, event in enumerate(self.interventions):
            village = getattr(event, "village", None)
            if village is not None and village >= pop.villages:
                raise ValueError(
                    f"interventions.{i}.village: village {village} does not exist (villages "
                    f"are numbered 0 to {pop.villages - 1})"
                )
        return self


# --------------------------------------------------------------------------- lookup


def scenario_dir() -> Path:
    """The folder holding the bundled scenarios (``CIMSIM_SCENARIOS`` overrides it): the
    repository's ``scenarios/``, installed inside the package as ``cimsim.scenarios``."""
    env = os.environ.get("CIMSIM_SCENARIOS")
    if env:
        return Path(env)
    import cimsim.scenarios

    return Path(cimsim.scenarios.__file__).parent


def bundled_scenarios() -> dict[str, Path]:
    """Names and paths of the bundled scenarios (the template is not a scenario)."""
    folder = scenario_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml")) if p.stem != "template"}


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    text = str(name_or_path)
    path = Path(text)
    if text.endswith(".toml") or path.exists() or os.sep in text:
        if not path.is_file():
            raise ScenarioError(f"{text}: no such scenario file")
        return path
    bundled = bundled_scenarios()
    if text in bundled:
        return bundled[text]
    known = ", ".join(bundled) or "none found"
    raise ScenarioError(f"unknown scenario '{text}' (bundled: {known}; or give a .toml path)")


# --------------------------------------------------------------------------- overrides


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as a TOML literal (``true``, ``0.5``, ``[...]``), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``PATH=VALUE`` into a dotted path and a parsed value."""
    if "=" not in text:
        raise ScenarioError(f"--set {text}: expected PATH=VALUE, e.g. backbone.enabled=false")
    path, value = text.split("=", 1)
    return path.strip(), parse_value(value.strip())


@cache
def schema_for(path: str) -> Any:
    """Return the field info for a dotted path or raise ScenarioError naming the path."""
    cls: Any = Scenario
    parts = path.split(".")
    for i, part in enumerate(parts):
        fields = getattr(cls, "model_fields", None)
        if fields is None or part not in fields:
            raise ScenarioError(f"unknown parameter '{path}'")
        info = fields[part]
        if i == len(parts) - 1:
            return info
        cls = info.annotation
    raise ScenarioError(f"unknown parameter '{path}'")


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of raw scenario data with dotted-path overrides set. ``data`` is not
    changed: the tables along each path are copied, the others shared (validation builds
    new containers; a deep copy of all of it took three quarters of the time a sweep spends
    on each design point before it runs)."""
    out = dict(data)
    copied = {id(out)}
    for path, value in overrides.items():
        schema_for(path)
        node = out
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.get(part, {})
            if not isinstance(child, dict):
                raise ScenarioError(f"unknown parameter '{path}'")
            if id(child) not in copied:
                child = dict(child)
                copied.add(id(child))
            node[part] = child
            node = child
        node[parts[-1]] = value
    return out


def _format_error(source: str, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("function-", "tagged")))
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    got = first.get("input")
    shown = "" if isinstance(got, dict | list) or first["type"] == "missing" else f" (got {got!r})"
    more = len(err.errors()) - 1
    tail = f" [+{more} more]" if more else ""
    if not loc:  # a check across fields: its message names the fields
        return f"{source}: {msg}{tail}"
    return f"{source}: {loc}: {msg}{shown}{tail}"


def validate(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate raw scenario data; raise ScenarioError with a one-line message."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_error(source, err)) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning syntax errors into a one-line ScenarioError."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte {err.start}); save the file as UTF-8"
        ) from None
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read: {err.strerror}") from None


MAX_BASE_DEPTH = 8
"""How many ``base`` files a scenario may stand on (a chain, not a cycle)."""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge key by key, everything else (values,
    lists such as ``interventions``) is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_scenario_file(path: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A scenario file's data, on top of its ``base`` if it names one.

    ``base = "mechelen"`` (a bundled name) or ``base = "city.toml"`` (a path relative to
    this file) starts from that scenario; this file's tables then change it field by
    field, and its lists (``interventions``, ``activities.areas``) replace the base's.
    """
    data = read_toml(path)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise ScenarioError(
            f"{path}: base: expected a scenario name or a .toml path (got {base!r})"
        )
    here = path.resolve()
    if here in _chain or len(_chain) >= MAX_BASE_DEPTH:
        raise ScenarioError(f"{path}: base: {base!r} makes a cycle or a chain deeper than 8")
    target: str | Path = base
    if base.endswith(".toml") and not Path(base).is_absolute():
        target = path.parent / base
    try:
        base_path = _resolve(target)
    except ScenarioError as err:
        raise ScenarioError(f"{path}: base: {err}") from None
    return _merge(read_scenario_file(base_path, (*_chain, here)), data)


def load_scenario(
    name_or_path: str | os.PathLike[str] | Scenario,
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Load a bundled scenario by name or a TOML file by path, with dotted-path overrides.

    >>> load_scenario("malmo", overrides={"backbone.enabled": False}).backbone.enabled
    False
    """
    if isinstance(name_or_path, Scenario):
        data = name_or_path.model_dump()
        source = f"<scenario {name_or_path.name}>"
    else:
        path = _resolve(name_or_path)
        data = read_scenario_file(path)
        source = str(path)
    if overrides:
        data = apply_overrides(data, overrides)
        source = f"{source} (with overrides)"
    return validate(data, source)


def get_path(scenario: Scenario, path: str) -> Any:
    """Read the value at a dotted path of a scenario."""
    schema_for(path)
    node: Any = scenario
    for part in path.split("."):
        node = getattr(node, part)
    return node


def numeric_parameters(scenario: Scenario | None = None) -> dict[str, tuple[float, float]]:
    """Dotted paths of the bounded numeric parameters with their [lo, hi] ranges.

    These are the unit-interval floats; counts are left out (they change the model's size).
    """
    out: dict[str, tuple[float, float]] = {}
    for section in ("preconditions", "settings", "backbone", "network"):
        cls = Scenario.model_fields[section].annotation
        for name, info in cls.model_fields.items():
            if info.annotation is not float:
                continue
            lo = hi = None
            for meta in info.metadata:
                lo = getattr(meta, "ge", lo)
                hi = getattr(meta, "le", hi)
            if (lo, hi) == (0.0, 1.0):
                out[f"{section}.{name}"] = (0.0, 1.0)
    return out


def _bounds(info: Any) -> str:
    lo = hi = None
    lo_open = hi_open = False
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            lo = meta.ge
        if getattr(meta, "gt", None) is not None:
            lo, lo_open = meta.gt, True
        if getattr(meta, "le", None) is not None:
            hi = meta.le
        if getattr(meta, "lt", None) is not None:
            hi, hi_open = meta.lt, True
    if lo is None and hi is None:
        return ""
    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    low = "-inf" if lo is None else f"{lo:,}" if isinstance(lo, int) else f"{lo:g}"
    high = "inf" if hi is None else f"{hi:,}" if isinstance(hi, int) else f"{hi:g}"
    return f"{left}{low}, {high}{right}"


def _type_name(annotation: Any) -> str:
    """A short name: ``float``, ``int or none``, ``list of numbers``, ``'a' | 'b'``."""
    if isinstance(annotation, type):
        return annotation.__name__
    args = get_args(annotation)
    literal = [a for a in args if isinstance(a, str)]
    if literal:
        return " | ".join(repr(a) for a in literal)
    if "list" in str(annotation):
        text = "list of numbers" if "float" in str(annotation) else "list"
    else:
        text = " or ".join(a.__name__ for a in args if isinstance(a, type) and a is not type(None))
    return text + (" or none" if type(None) in args else "")


def describe_parameters(scenario: Scenario | None = None) -> list[dict[str, Any]]:
    """Every dotted path a scenario (or ``--set``, ``--grid``) may set: its type, range,
    value (the scenario's, else the default) and one line of meaning."""
    rows: list[dict[str, Any]] = []

    def walk(cls: Any, node: Any, prefix: str) -> None:
        for name, info in cls.model_fields.items():
            annotation = info.annotation
            value = (
                getattr(node, name)
                if node is not None
                else info.get_default(call_default_factory=True)
            )
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, value, f"{prefix}{name}.")
                continue
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="json")
            elif isinstance(value, list):
                value = [
                    v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value
                ]
            kind_text = _type_name(info.annotation)
            if f"{prefix}{name}" == "interventions":
                kind_text = "list of events"
            rows.append(
                {
                    "path": f"{prefix}{name}",
                    "type": kind_text,
                    "range": _bounds(info),
                    "value": value,
                    "meaning": " ".join((info.description or _MEANINGS.get(name, "")).split()),
                }
            )

    walk(Scenario, scenario, "")
    return rows


def _plain_value(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


_MEANINGS = {
    "title": "full title",
    "description": "one line, shown by `cimsim scenarios`",
    "interventions": "timed events; kinds: " + ", ".join(EVENTS),
}


def late_events(scenario: Scenario, steps: int) -> list[str]:
    """Warnings for events scheduled after a run's last month (they never fire)."""
    return [
        f"event {e.kind} at month {e.month} is after the run's last month ({steps}); "
        "it will not fire"
        for e in scenario.interventions
        if e.month > steps
    ]
