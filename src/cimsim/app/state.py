"""The app's controller: plain-Python session state, free of any Solara code.

:class:`Session` holds the chosen scenario, the parameter overrides set by the
controls, the seed, the events a planner scheduled, and one model (or two in compare
mode, stepped in lockstep with the same seed; B may be a plan of its own), the guided
classroom experiments and the replicate comparison of plans A and B. The Solara page only
calls its methods, so everything here is unit-testable without a browser.
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

OWN_PLAN = "its own plan"
"""The compare variant for a plan B of its own: its own scenario file and its own events."""

OVERRIDING_EVENTS: dict[str, str] = {
    "backbone.enabled": "add_backbone",
    "measurement.enabled": "launch_measurement",
    "preconditions.resources": "change_funding",
}
"""Variant setting -> the event kind that undoes it once it fires (see ``variant_warning``)."""

REPLICATE_CHOICES = (10, 20)
"""Replicate counts offered by the app's replicate mode (a few seconds per 10 at 120 months)."""


@dataclass(frozen=True)
class Experiment:
    """A guided classroom experiment: what it sets up and what to watch for."""

    title: str
    scenario: str
    watch: str
    overrides: dict[str, Any] = field(default_factory=dict)
    events: tuple[dict[str, Any], ...] = ()
    compare: str | None = None


EXPERIMENTS: dict[str, Experiment] = {
    "backbone_year2": Experiment(
        "Remove the backbone in year 2",
        "malmo",
        "After month 24 backbone support collapses; watch whether the other blocks and "
        "participation hold up without their anchor (B keeps its backbone).",
        events=({"kind": "remove_backbone", "month": 24},),
        compare=OWN_PLAN,
    ),
    "weak_champions": Experiment(
        "Weak champions",
        "malmo",
        "Champions at 0.1 instead of Malmö's 0.8 (B): recruitment and the common agenda "
        "start slowly; does the backbone make up for it?",
        overrides={"preconditions.champion_strength": 0.1},
        compare=OWN_PLAN,
    ),
    "trust_shock": Experiment(
        "A trust shock in year 3",
        "malmo",
        "A scandal at month 36: the best-connected partner walks out and trust between "
        "engaged partners drops by about a fifth (trust loss 0.3 x severity 0.6). See how "
        "long trust and participation need to recover, and whether impact stalls (B has no "
        "shock).",
        events=({"kind": "trust_shock", "month": 36, "severity": 0.6},),
        compare=OWN_PLAN,
    ),
    "skive_measurement": Experiment(
        "Skive launches shared measurement",
        "skive",
        "The Skive villages start shared measurement in year 2 (month 24); B never does. "
        "Watch the shared measurement block and impact pull apart after month 24.",
        events=({"kind": "launch_measurement", "month": 24, "indicators": 20},),
        compare=OWN_PLAN,
    ),
    "no_backbone": Experiment(
        "No backbone at all",
        "mechelen",
        "Mechelen with and without a backbone from the start (B has none): the report's "
        '"without it, coordination falls apart" as two curves.',
        compare="backbone off",
    ),
}
"""Guided experiments of the "Things to try in class" panel (key -> experiment)."""

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


def parse_toml(text: str | bytes, filename: str) -> dict[str, Any]:
    """Parse and validate a scenario given as TOML text; raise ScenarioError if it is bad,
    empty or larger than ``MAX_UPLOAD_BYTES``."""
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
    return data


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
    models of compare mode in lockstep, never past the last month.

    Plan B is either "A but with" one of ``COMPARE_VARIANTS`` (it then gets A's events
    too) or ``OWN_PLAN``: its own file (:meth:`load_plan_b_text`), else A's file without
    A's settings, with its own events (``schedule(..., plan="B")``). :meth:`replicate`
    runs both plans over several seeds with :func:`cimsim.plans.compare_plans`;
    :meth:`setup_experiment` sets up one of the classroom's ``EXPERIMENTS``.
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
        self.plan_b: dict[str, Any] | None = None
        """Plan B's own scenario data (``OWN_PLAN``); None: B starts from A's file."""
        self.plan_b_source: str | None = None
        self.events_b: list[Any] = []
        """Events scheduled for plan B alone (``OWN_PLAN``)."""
        self.experiment: str | None = None
        """The guided experiment last set up (a key of ``EXPERIMENTS``)."""
        self.replicated: tuple[int, pd.DataFrame, pd.DataFrame] | None = None
        """The last replicate comparison: (replicates, levels, differences)."""
        self.model: CollectiveImpactModel
        self.model_b: CollectiveImpactModel | None = None
        self.network: NetworkView
        self.network_b: NetworkView | None = None
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
        """The validated scenario B of compare mode: A with the chosen variant's overrides,
        or (``OWN_PLAN``) B's own file, else A's file without A's settings."""
        if self.variant == OWN_PLAN:
            data = self.plan_b if self.plan_b is not None else self.base
            return validate(data, self.plan_b_source or f"{self.source} (plan B)")
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
        data = parse_toml(text, filename)
        self._switch(data, data.get("name", filename), filename)

    def load_plan_b_text(self, text: str | bytes, filename: str = "plan-b.toml") -> None:
        """Make plan B a scenario of its own (TOML text) and switch compare mode on with
        B = ``OWN_PLAN``; raise ScenarioError (and keep the old B) if the file is bad."""
        data = parse_toml(text, filename)
        with self.lock:
            old = (self.plan_b, self.plan_b_source, self.events_b, self.compare, self.variant)
            self.plan_b, self.plan_b_source, self.events_b = data, filename, []
            self.compare, self.variant = True, OWN_PLAN
            try:
                self.reset()
            except ScenarioError:
                self.plan_b, self.plan_b_source, self.events_b, self.compare, self.variant = old
                raise

    def clear_plan_b(self) -> None:
        """Forget plan B's own file and events (B starts from A's file again)."""
        with self.lock:
            self.plan_b, self.plan_b_source, self.events_b = None, None, []
            self.reset()

    def setup_experiment(self, key: str) -> Experiment:
        """Set up a guided experiment of ``EXPERIMENTS``: its bundled scenario, settings,
        events and comparison, at month 0 with the current seed."""
        if key not in EXPERIMENTS:
            raise ScenarioError(f"unknown experiment '{key}'")
        exp = EXPERIMENTS[key]
        with self.lock:
            self.base = read_scenario_file(bundled_scenarios()[exp.scenario])
            self.scenario_name = self.source = exp.scenario
            self.overrides = dict(exp.overrides)
            self.events = [parse_event(dict(e)) for e in exp.events]
            self.plan_b, self.plan_b_source, self.events_b = None, None, []
            self.compare = exp.compare is not None
            if exp.compare is not None:
                self.variant = exp.compare
            self.experiment = key
            self.reset()
        return exp

    def _switch(self, data: dict[str, Any], name: str, source: str) -> None:
        with self.lock:
            old = (self.base, self.scenario_name, self.source, self.overrides, self.events)
            self.base, self.scenario_name, self.source = data, str(name), source
            self.overrides, self.events = {}, []
            self.experiment = None
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
            self.replicated = None  # made with the old settings
            if self.month == 0:
                self.reset()
            elif path in LIVE_PARAMETERS:
                apply_live(self.model, path, get_path(self.scenario(), path))
                if self.model_b is not None:
                    apply_live(self.model_b, path, get_path(self.scenario_b(), path))
                self.generation += 1
            else:
                self.pending.add(path)

    def overriding_events(self) -> list[tuple[int, str]]:
        """(month, kind) of B's events that undo B's variant when they fire (e.g. an
        ``add_backbone`` in a plan compared as "backbone off")."""
        if not self.compare or self.variant == OWN_PLAN:
            return []
        kinds = {
            OVERRIDING_EVENTS[p] for p in COMPARE_VARIANTS[self.variant] if p in OVERRIDING_EVENTS
        }
        events = [*self.scenario_b().interventions, *self.events]
        return sorted((int(e.month), e.kind) for e in events if e.kind in kinds)

    def variant_warning(self) -> str | None:
        """Why compare mode's label may mislead: B's own events undo the variant."""
        found = self.overriding_events()
        if not found:
            return None
        month, kind = found[0]
        return (
            f"B's own events {kind.replace('_', ' ')} at month {month}: B is "
            f"'{self.variant}' only until then (the label says so)"
        )

    def b_label(self) -> str:
        """A truthful name of plan B: its variant (and until when it holds) or its plan."""
        if self.variant == OWN_PLAN:
            name = self.scenario_b().name if self.plan_b is not None else self.scenario_name
            return f"B ({name}, its own plan)"
        found = self.overriding_events()
        until = f" until month {found[0][0]}" if found else ""
        return f"B ({self.variant}{until})"

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
            self.model = self._build(spec, self.events)
            self.model_b = self._build(spec_b, self.b_events()) if spec_b is not None else None
            self.replicated = None
            self.network = sample_network(self.model, self.seed)
            self.network_b = (
                sample_network(self.model_b, self.seed) if self.model_b is not None else None
            )
            self.generation += 1

    def b_events(self) -> list[Any]:
        """The page's events that model B gets: A's (B = A but with...) or B's own."""
        return self.events_b if self.variant == OWN_PLAN else self.events

    def _build(self, spec: Scenario, events: list[Any]) -> CollectiveImpactModel:
        n_agents, n_ties = sizing.agents(spec), sizing.ties(spec)
        if n_agents > MAX_AGENTS or n_ties > MAX_TIES:
            raise ScenarioError(
                f"{self.source}: {n_agents:,} agents and about {n_ties:,} ties; the app runs "
                f"models of at most {MAX_AGENTS:,} agents and {MAX_TIES:,} ties (use the "
                "command line for larger ones)"
            )
        model = CollectiveImpactModel(spec, rng=self.seed)
        model.interventions = sorted([*model.interventions, *events], key=lambda e: e.month)
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

    def schedule(self, event: dict[str, Any] | Any, plan: str = "A") -> Any:
        """Schedule an event for a future month in the running model(s) and future resets.

        ``event`` is a dict such as ``{"kind": "remove_backbone", "month": 24}`` or an
        event model; ``plan`` is ``"A"`` (A, and B while B is "A but with ...") or ``"B"``
        (plan B alone, which needs B = its own plan). Raises ScenarioError if the event is
        invalid or its month has passed.
        """
        ev = parse_event(event) if isinstance(event, dict) else parse_event(event.model_dump())
        with self.lock:
            if plan not in ("A", "B"):
                raise ScenarioError(f"unknown plan '{plan}' (A or B)")
            if plan == "B" and not (self.compare and self.variant == OWN_PLAN):
                raise ScenarioError(
                    f"B has events of its own only when compare mode is on with B = '{OWN_PLAN}'"
                )
            if ev.month <= self.month:
                raise ScenarioError(
                    f"month {ev.month} has already passed (the run is at month {self.month}); "
                    "pick a later month or reset"
                )
            if plan == "B":
                self.events_b.append(ev)
                targets = [self.model_b]
            else:
                self.events.append(ev)
                own = self.variant == OWN_PLAN
                targets = [self.model] + ([self.model_b] if self.model_b and not own else [])
            for model in targets:
                if model is not None:
                    model.interventions = sorted([*model.interventions, ev], key=lambda e: e.month)
            self.replicated = None
        return ev

    def clear_events(self) -> None:
        """Forget the events scheduled from the page (A's and B's) and rebuild the model(s)."""
        with self.lock:
            self.events, self.events_b = [], []
            self.reset()

    def timeline(self, plan: str = "A") -> list[tuple[int, str, bool]]:
        """Every event of model A (or B) as (month, description, fired yet)."""
        model = self.model_b if plan == "B" else self.model
        if model is None:
            return []
        out = []
        for ev in model.interventions:
            extra = {k: v for k, v in ev.model_dump().items() if k not in ("kind", "month")}
            detail = ", ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
            text = ev.kind.replace("_", " ") + (f" ({detail})" if detail else "")
            out.append((int(ev.month), text, ev.month <= self.month))
        return out

    def view(self, plan: str = "A") -> tuple[CollectiveImpactModel, NetworkView]:
        """The model and network sample of plan A, or of B in compare mode."""
        if plan == "B" and self.model_b is not None and self.network_b is not None:
            return self.model_b, self.network_b
        return self.model, self.network

    def stakeholder(self, row: int, plan: str = "A") -> dict[str, Any]:
        """What the network view tells about one drawn stakeholder (row of the sample of
        plan A or B): sector, engagement, commitment, mean trust on its ties and the
        champion flag."""
        from cimsim.population import SECTORS

        with self.lock:
            model, view = self.view(plan)
            nodes = view.nodes
            if not 0 <= row < nodes.size:
                raise ScenarioError(f"no stakeholder number {row} in the network view")
            i = int(nodes[row])
            pop, ties = model.pop, model.ties
            mine = (ties.u == i) | (ties.v == i)
            trust = float(ties.trust[mine].mean()) if mine.any() else float("nan")
            return {
                "id": i,
                "sector": SECTORS[int(pop.sector[i])].replace("_", " "),
                "engagement": ("inactive", "aware", "engaged")[int(pop.engagement[i])],
                "commitment": float(pop.commitment[i]),
                "trust": trust,
                "ties": int(mine.sum()),
                "champion": bool(pop.champion[i]),
            }

    def replicate(self, replicates: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Run plan A and plan B over ``replicates`` seeds (common random numbers, root
        seed = the page's seed) with :func:`cimsim.plans.compare_plans`, the function behind
        ``cimsim compare-plans``; keep and return ``(levels, differences)`` (B − A per
        month, with its 95% interval)."""
        from cimsim.plans import compare_plans
        from cimsim.runs.options import ExecutionOptions

        if not 2 <= int(replicates) <= 50:
            raise ScenarioError(f"replicates must lie in 2..50 (got {replicates})")
        with self.lock:
            if not self.compare:
                raise ScenarioError("switch compare mode on: replicate mode runs plan A and B")
            plan_a, plan_b = self.plans()
        horizon = max(plan_a.months, plan_b.months)
        milestones = sorted({*range(0, horizon + 1, 6), horizon})
        levels, diffs = compare_plans(
            [plan_a, plan_b], replicates=int(replicates), milestones=milestones,
            seed=self.seed, options=ExecutionOptions(executor="serial"),
        )  # fmt: skip
        with self.lock:
            self.replicated = (int(replicates), levels, diffs)
            self.generation += 1  # the replicate chart is drawn anew
        return levels, diffs

    def plans(self) -> tuple[Scenario, Scenario]:
        """Plans A and B as complete scenarios (named ``A`` and ``B``), each with every
        event it runs: what ``cimsim compare-plans`` gets from the two downloaded files."""
        out = []
        for name, spec, events in (
            ("A", self.scenario(), self.events),
            ("B", self.scenario_b(), self.b_events()),
        ):
            evs = sorted([*spec.interventions, *events], key=lambda e: e.month)
            out.append(validate({**spec.model_dump(mode="json", exclude_none=True),
                                 "name": name,
                                 "interventions": [e.model_dump(mode="json", exclude_none=True)
                                                   for e in evs]}, f"plan {name}"))  # fmt: skip
        return out[0], out[1]

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
                df.insert(0, "b_plan", self.b_label())
            df.insert(0, "scenario", self.scenario_name)
            df.insert(1, "seed", self.seed)
            # the settings the run was made with, so the file explains itself
            for i, path in enumerate([*PARAMETERS, "backbone.enabled"]):
                df.insert(2 + i, path, get_path(self.model.spec, path))
            events = [e.model_dump(exclude_none=True) for e in self.model.interventions]
            df.insert(3 + len(PARAMETERS), "events", json.dumps(events))
        return df.to_csv().encode("utf-8")

    def toml_bytes(self, plan: str = "A") -> bytes:
        """Scenario A (or B) as a TOML file: the sliders' values and every event, so
        ``cimsim run`` (or an upload) reproduces the run with the same seed, and
        ``cimsim compare-plans A.toml B.toml`` the replicate comparison."""
        import tomli_w

        with self.lock:
            if plan == "B" and self.compare:
                spec, events = self.scenario_b(), self.b_events()
            else:
                spec, events = self.scenario(), self.events
            data = spec.model_dump(mode="json", exclude_none=True)
            evs = sorted([*spec.interventions, *events], key=lambda e: e.month)
            data["interventions"] = [e.model_dump(mode="json", exclude_none=True) for e in evs]
            header = (
                f"# saved from the cimsim app; run it with: cimsim run FILE --seed {self.seed}\n"
            )
        return (header + tomli_w.dumps(data)).encode("utf-8")
