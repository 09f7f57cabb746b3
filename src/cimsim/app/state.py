"""The app's controller: plain-Python session state, free of any Solara code.

:class:`Session` holds the chosen scenario, the parameter overrides set by the
controls, the seed, the events a planner scheduled, and one model (or two in compare
mode, stepped in lockstep with the same seed). The Solara page only calls its methods,
so everything here is unit-testable without a browser.
"""

from __future__ import annotations

import json
import threading
import tomllib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from cimsim import sizing
from cimsim.model import CollectiveImpactModel
from cimsim.network import to_networkx
from cimsim.population import CITIZEN
from cimsim.scenario import (
    EVENTS,
    Intervention,
    Scenario,
    ScenarioError,
    apply_overrides,
    bundled_scenarios,
    get_path,
    read_scenario_file,
    validate,
)

DEFAULT_SCENARIO = "malmo"
"""The scenario the page opens with (the model's own default)."""

NETWORK_SAMPLE = 300
"""At most this many stakeholders are drawn in the network view."""

PARAMETERS: dict[str, tuple[str, float, float, float]] = {
    "preconditions.urgency": ("Urgency", 0.0, 1.0, 0.05),
    "preconditions.champion_strength": ("Champion strength", 0.0, 1.0, 0.05),
    "preconditions.resources": ("Resources", 0.0, 1.0, 0.05),
    "settings.initial_trust": ("Initial trust", 0.0, 1.0, 0.05),
    "settings.communication": ("Communication", 0.0, 1.0, 0.05),
    "backbone.capacity": ("Backbone capacity", 0.0, 1.0, 0.05),
}
"""Slider parameters: dotted path -> (label, min, max, step)."""

COMPARE_VARIANTS: dict[str, dict[str, Any]] = {
    "backbone off": {"backbone.enabled": False},
    "no shared measurement": {"measurement.enabled": False},
    "half the resources": {"preconditions.resources": "half"},
    "low initial trust": {"settings.initial_trust": 0.1},
    "no champions": {"preconditions.champions": 0},
}
"""Configuration B in compare mode: A with these overrides ("half" halves A's value)."""

MAX_UPLOAD_BYTES = 64 * 1024
"""Largest scenario file (upload or paste) the app accepts."""
MAX_AGENTS = 50_000
MAX_TIES = 1_000_000
"""Largest model the app builds (agents, ties): a few hundred MB per session at most."""

EVENT_FIELDS: dict[str, tuple[str | None, float | int | None]] = {
    kind: cls.FORM
    for kind, cls in sorted(EVENTS.items(), key=lambda kv: kv[0] != "remove_backbone")
}
"""Event kind -> (its one adjustable field, default value) for the scheduling form."""

_EVENT = TypeAdapter(Intervention)


def parse_seed(text: str | int) -> int:
    """Coerce a seed typed into a text box to a non-negative int or raise ScenarioError."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ScenarioError(f"seed must be a whole number (got {text!r})") from None
    if seed < 0:
        raise ScenarioError(f"seed must be zero or positive (got {seed})")
    return seed


def parse_event(data: dict[str, Any]) -> Any:
    """Validate one scheduled event (a dict with ``kind`` and ``month``); one-line errors."""
    try:
        return _EVENT.validate_python(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"][1:] if not str(p).startswith("tagged"))
        got = first.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        raise ScenarioError(
            f"event {data.get('kind')}: {loc or 'kind'}: {first['msg']}{shown}"
        ) from None


@dataclass
class NetworkView:
    """A seeded sample of stakeholders with a fixed layout (computed once per reset)."""

    nodes: np.ndarray
    pos: np.ndarray
    index: dict[int, int] = field(default_factory=dict)


def sample_network(
    model: CollectiveImpactModel, seed: int, size: int = NETWORK_SAMPLE
) -> NetworkView:
    """Pick up to ``size`` stakeholders (organisations first, then citizens) and lay them out.

    Organisations get up to half the slots so that the sectors stay visible next to
    thousands of citizens; the layout is a seeded spring layout of the induced subgraph.
    """
    import networkx as nx

    rng = np.random.default_rng(seed)
    n = len(model.pop)
    ties = model.ties
    if n <= size:
        nodes = np.arange(n)
    else:
        orgs = np.flatnonzero(model.pop.sector != CITIZEN)
        cits = np.flatnonzero(model.pop.sector == CITIZEN)
        k_org = min(orgs.size, max(size // 2, size - cits.size))
        pick_org = rng.choice(orgs, k_org, replace=False) if k_org < orgs.size else orgs
        # citizens tied to the sampled organisations first, so the sample shows bridges
        in_org = np.zeros(n, bool)
        in_org[pick_org] = True
        near = np.unique(np.concatenate([ties.v[in_org[ties.u]], ties.u[in_org[ties.v]]]))
        near = near[model.pop.sector[near] == CITIZEN]
        k_cit = min(cits.size, size - pick_org.size)
        first = rng.permutation(near)[:k_cit]
        rest = np.setdiff1d(cits, first)
        pick_cit = np.concatenate([first, rng.choice(rest, k_cit - first.size, replace=False)])
        nodes = np.sort(np.concatenate([pick_org, pick_cit]))
    inside = np.zeros(n, bool)
    inside[nodes] = True
    keep = inside[ties.u] & inside[ties.v]
    graph = to_networkx(ties.u[keep], ties.v[keep], n).subgraph(nodes.tolist())
    k = 2.0 / np.sqrt(max(nodes.size, 1))
    layout = nx.spring_layout(graph, seed=seed, iterations=50, k=k)
    pos = np.array([layout[int(i)] for i in nodes]) if nodes.size else np.zeros((0, 2))
    return NetworkView(nodes=nodes, pos=pos, index={int(r): i for i, r in enumerate(nodes)})


LIVE_PARAMETERS = frozenset(
    {"preconditions.resources", "backbone.capacity", "backbone.enabled", "settings.communication"}
)
"""Settings a running model takes on at once (budgets, the backbone's staff and existence,
communication intensity). The others (urgency, champions, initial trust) shape the model
when it is built: changed mid-run they apply at the next Reset."""


def apply_live(model: CollectiveImpactModel, path: str, value: Any) -> None:
    """Give a running model a new value of one of ``LIVE_PARAMETERS``."""
    state = model.initiative
    if path == "preconditions.resources":
        state.resources = float(value)
    elif path == "backbone.capacity":
        state.backbone_capacity = float(value)
    elif path == "settings.communication":
        state.settings = state.settings.model_copy(update={"communication": float(value)})
    elif path == "backbone.enabled":
        if value and not state.has_backbone:
            state.create_backbone()
        elif not value and state.has_backbone:
            state.remove_backbone()
    else:
        raise ValueError(f"{path} is not a live parameter")


class Session:
    """One user's simulation: scenario, overrides, seed, scheduled events and the model(s).

    A change of scenario or seed rebuilds the model(s) at month 0. A parameter change does
    too before the first step; after it, a live parameter changes the running model(s) at
    once and any other waits in ``pending`` for the next Reset. :meth:`step` advances both
    models of compare mode in lockstep.
    """

    def __init__(self, scenario: str = DEFAULT_SCENARIO, seed: int = 0) -> None:
        self.lock = threading.RLock()
        bundled = bundled_scenarios()
        if scenario not in bundled:
            raise ScenarioError(f"unknown scenario '{scenario}' (bundled: {', '.join(bundled)})")
        self.scenario_name = scenario
        self.base: dict[str, Any] = read_scenario_file(bundled[scenario])
        self.source = scenario
        self.overrides: dict[str, Any] = {}
        self.seed = seed
        self.events: list[Any] = []
        self.compare = False
        self.variant = "backbone off"
        self.model: CollectiveImpactModel
        self.model_b: CollectiveImpactModel | None = None
        self.network: NetworkView
        self.generation = 0
        """Counts model rebuilds; figures built for an older generation are stale."""
        self.pending: set[str] = set()
        """Parameters changed mid-run that apply at the next Reset."""
        self.reset()

    # ------------------------------------------------------------------ scenarios

    def scenario(self, extra: dict[str, Any] | None = None) -> Scenario:
        """The validated scenario A (or A plus ``extra`` overrides)."""
        overrides = {**self.overrides, **(extra or {})}
        data = apply_overrides(self.base, overrides) if overrides else self.base
        tail = " (with your settings)" if overrides else ""
        return validate(data, f"{self.source}{tail}")

    def scenario_b(self) -> Scenario:
        """The validated scenario B of compare mode: A with the chosen variant's overrides."""
        extra = {}
        for path, value in COMPARE_VARIANTS[self.variant].items():
            if value == "half":
                value = float(get_path(self.scenario(), path)) / 2
            extra[path] = value
        return self.scenario(extra)

    def load_bundled(self, name: str) -> None:
        """Switch to a bundled scenario; keeps the seed, clears overrides and own events."""
        bundled = bundled_scenarios()
        if name not in bundled:
            raise ScenarioError(f"unknown scenario '{name}' (bundled: {', '.join(bundled)})")
        self._switch(read_scenario_file(bundled[name]), name, name)

    def load_toml_text(self, text: str | bytes, filename: str = "uploaded.toml") -> None:
        """Switch to a user's scenario given as TOML text; raise ScenarioError if it is bad
        or larger than ``MAX_UPLOAD_BYTES``."""
        size = len(text.encode("utf-8") if isinstance(text, str) else text)
        if size > MAX_UPLOAD_BYTES:
            raise ScenarioError(
                f"{filename}: {size / 1024:.0f} KiB; the app accepts scenario files of at "
                f"most {MAX_UPLOAD_BYTES // 1024} KiB"
            )
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ScenarioError(f"{filename}: not a UTF-8 text file") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ScenarioError(f"{filename}: not valid TOML: {err}") from None
        if not data:  # an empty paste would silently become an all-defaults city
            raise ScenarioError(f"{filename}: empty; paste or upload a scenario file")
        validate(data, filename)
        self._switch(data, data.get("name", filename), filename)

    def _switch(self, data: dict[str, Any], name: str, source: str) -> None:
        with self.lock:
            old = (self.base, self.scenario_name, self.source, self.overrides, self.events)
            self.base, self.scenario_name, self.source = data, str(name), source
            self.overrides, self.events = {}, []
            try:
                self.reset()
            except ScenarioError:
                self.base, self.scenario_name, self.source, self.overrides, self.events = old
                raise

    # ------------------------------------------------------------------ controls

    def get_param(self, path: str) -> Any:
        """The current value of a dotted parameter of scenario A."""
        return get_path(self.scenario(), path)

    def set_param(self, path: str, value: Any) -> None:
        """Set a dotted parameter (invalid values raise ScenarioError): before the first
        step the model(s) are rebuilt; later a live parameter changes the running model(s)
        and any other is kept for the next Reset (``pending``)."""
        with self.lock:
            new = {**self.overrides, path: value}
            data = apply_overrides(self.base, new)
            validate(data, f"{self.source} (with {path} = {value!r})")
            self.overrides = new
            if self.month == 0:
                self.reset()
            elif path in LIVE_PARAMETERS:
                apply_live(self.model, path, get_path(self.scenario(), path))
                if self.model_b is not None:
                    apply_live(self.model_b, path, get_path(self.scenario_b(), path))
                self.generation += 1
            else:
                self.pending.add(path)

    def variant_warning(self) -> str | None:
        """Why compare mode's label may mislead: B's own events undo the variant."""
        if not self.compare or self.variant != "backbone off":
            return None
        adds = [e.month for e in self.scenario_b().interventions if e.kind == "add_backbone"]
        if not adds:
            return None
        return (
            f"B's own events set up a backbone at month {adds[0]}: B has no backbone only "
            "until then"
        )

    def set_seed(self, text: str | int) -> None:
        """Set the seed from a text box value and rebuild the model(s)."""
        seed = parse_seed(text)
        with self.lock:
            self.seed = seed
            self.reset()

    def set_compare(self, on: bool, variant: str | None = None) -> None:
        """Switch compare mode on/off (B = A with ``variant``'s overrides) and rebuild."""
        if variant is not None and variant not in COMPARE_VARIANTS:
            raise ScenarioError(f"unknown comparison '{variant}'")
        with self.lock:
            self.compare = bool(on)
            if variant is not None:
                self.variant = variant
            self.reset()

    def reset(self) -> None:
        """Rebuild the model(s) at month 0 with the current settings, seed and events."""
        with self.lock:
            self.pending = set()
            spec = self.scenario()
            spec_b = self.scenario_b() if self.compare else None
            self.model = self._build(spec)
            self.model_b = self._build(spec_b) if spec_b is not None else None
            self.network = sample_network(self.model, self.seed)
            self.generation += 1

    def _build(self, spec: Scenario) -> CollectiveImpactModel:
        n_agents, n_ties = sizing.agents(spec), sizing.ties(spec)
        if n_agents > MAX_AGENTS or n_ties > MAX_TIES:
            raise ScenarioError(
                f"{self.source}: {n_agents:,} agents and about {n_ties:,} ties; the app runs "
                f"models of at most {MAX_AGENTS:,} agents and {MAX_TIES:,} ties (use the "
                "command line for larger ones)"
            )
        model = CollectiveImpactModel(spec, rng=self.seed)
        model.interventions = sorted([*model.interventions, *self.events], key=lambda e: e.month)
        return model

    def step(self, months: int = 1) -> None:
        """Advance the model (and B in compare mode) by ``months`` months, never past the
        scenario's last month (a Step or a tick at the end does nothing)."""
        with self.lock:
            for _ in range(max(0, min(months, self.months - self.month))):
                self.model.step()
                if self.model_b is not None:
                    self.model_b.step()

    @property
    def month(self) -> int:
        """The last month simulated (0 = initial state)."""
        return int(self.model.steps)

    @property
    def months(self) -> int:
        """The scenario's run length in months."""
        return int(self.model.spec.months)

    @property
    def finished(self) -> bool:
        """Whether the run has reached the scenario's length."""
        return self.month >= self.months

    # ------------------------------------------------------------------ interventions

    def schedule(self, event: dict[str, Any] | Any) -> Any:
        """Schedule an event for a future month in the running model(s) and future resets.

        ``event`` is a dict such as ``{"kind": "remove_backbone", "month": 24}`` or an
        event model; raises ScenarioError if it is invalid or its month has passed.
        """
        ev = parse_event(event) if isinstance(event, dict) else parse_event(event.model_dump())
        with self.lock:
            if ev.month <= self.month:
                raise ScenarioError(
                    f"month {ev.month} has already passed (the run is at month {self.month}); "
                    "pick a later month or reset"
                )
            self.events.append(ev)
            for model in self.models():
                model.interventions = sorted([*model.interventions, ev], key=lambda e: e.month)
        return ev

    def clear_events(self) -> None:
        """Forget the events scheduled from the page and rebuild the model(s)."""
        with self.lock:
            self.events = []
            self.reset()

    def timeline(self) -> list[tuple[int, str, bool]]:
        """Every event of model A as (month, description, fired yet)."""
        out = []
        for ev in self.model.interventions:
            extra = {k: v for k, v in ev.model_dump().items() if k not in ("kind", "month")}
            detail = ", ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
            text = ev.kind.replace("_", " ") + (f" ({detail})" if detail else "")
            out.append((int(ev.month), text, ev.month <= self.month))
        return out

    # ------------------------------------------------------------------ results

    def models(self) -> list[CollectiveImpactModel]:
        """Model A, and B in compare mode."""
        return [self.model] + ([self.model_b] if self.model_b is not None else [])

    def results(self) -> pd.DataFrame:
        """Model A's per-month reporters."""
        return self.model.results()

    def results_b(self) -> pd.DataFrame | None:
        """Model B's per-month reporters (None outside compare mode)."""
        return self.model_b.results() if self.model_b is not None else None

    def difference(self) -> pd.DataFrame | None:
        """A minus B per month for every reporter (None outside compare mode)."""
        b = self.results_b()
        return None if b is None else self.results() - b

    def csv_bytes(self) -> bytes:
        """The run's time series as CSV (A's columns, plus B's prefixed ``b_`` in compare mode)."""
        with self.lock:
            df = self.results().copy()
            areas = self.model.area_progress().add_prefix("area: ")
            df = df.join(areas)
            b = self.results_b()
            if b is not None:
                df = df.join(b.add_prefix("b_"))
            df.insert(0, "scenario", self.scenario_name)
            df.insert(1, "seed", self.seed)
            # the settings the run was made with, so the file explains itself
            for i, path in enumerate([*PARAMETERS, "backbone.enabled"]):
                df.insert(2 + i, path, get_path(self.model.spec, path))
            events = [e.model_dump(exclude_none=True) for e in self.model.interventions]
            df.insert(3 + len(PARAMETERS), "events", json.dumps(events))
        return df.to_csv().encode("utf-8")

    def toml_bytes(self) -> bytes:
        """The current scenario A as a TOML file: the sliders' values and every event, so
        ``cimsim run`` (or an upload) reproduces the run with the same seed."""
        import tomli_w

        with self.lock:
            data = self.scenario().model_dump(mode="json", exclude_none=True)
            data["interventions"] = [
                e.model_dump(mode="json", exclude_none=True) for e in self.model.interventions
            ]
            header = (
                f"# saved from the cimsim app; run it with: cimsim run FILE --seed {self.seed}\n"
            )
        return (header + tomli_w.dumps(data)).encode("utf-8")
