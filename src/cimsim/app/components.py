"""Solara components of the cimsim page: a classroom dashboard and a planner's workbench.

All model logic lives in :class:`cimsim.app.state.Session`; these components only
call its methods and redraw. The page is built from plain Solara components rather than
Mesa's ``SolaraViz`` because it needs two models stepped in lockstep, scenario uploads,
scheduled events, replicate comparisons and exports, none of which SolaraViz's
single-model controller offers.

Layout: the controls on the left (the player first), the dashboard on the right with
the network, the five building blocks and the outcomes visible at once on a 1440 x 900
screen; on a phone everything stacks. A mistake is shown right under the control that
caused it and disappears on the next success. Slow actions (reset, scenario switch,
guided experiments, replicates) run in a worker thread behind a busy indicator.
"""

from __future__ import annotations

import base64
import io
import itertools
import threading
import time
import tomllib
import zipfile
from collections.abc import Callable
from typing import Any

import ipyvue
import reacton.core
import reacton.ipywidgets as rw
import solara
import traitlets

from cimsim.app import figures, texts
from cimsim.app.state import (
    COMPARE_VARIANTS,
    EVENT_FIELDS,
    EXPERIMENTS,
    LIVE_PARAMETERS,
    OWN_PLAN,
    PARAMETERS,
    REPLICATE_CHOICES,
    Session,
)
from cimsim.scenario import ScenarioError, bundled_scenarios, describe_parameters

DASHBOARD = ("blocks", "outcomes")
"""The charts always on the dashboard, beside the network."""

MORE_CHARTS = {
    "Sectors": "sectors",
    "Issue areas": "areas",
    "Difference A−B": "difference",
    "Replicates B−A": "replicates",
}
"""Tab label -> figure name of the charts under the dashboard (one drawn at a time)."""

MIN_TICK_MS = 80
"""The shortest pause between ticks while playing: a step and its redraw take about 50 ms, so
a shorter pause would queue redraws faster than the page can show them."""

TEXT = {"font-size": "14px", "line-height": "1.35"}
SMALL = {**TEXT, "color": "#444", "margin-bottom": "6px"}
WARN = {**SMALL, "color": "#a04a00", "font-weight": "bold"}

_JOBS = itertools.count(1)


class PlotImage(ipyvue.VueTemplate):
    """A figure as an ``<img>`` that reports clicks (``picked``) and, at most every 150 ms,
    the pointer's position (``hovered``): x and y as fractions of the image's width and
    height from its top left (``picked`` also counts the clicks)."""

    template = traitlets.Unicode(
        """<template>
  <img :src="src" :alt="alt" :class="img_class"
       style="max-width: 100%; display: block; align-self: flex-start; cursor: crosshair"
       @click="onclick" @mousemove="onmove" />
</template>
<script>
module.exports = {
  methods: {
    where(e) {
      const r = e.target.getBoundingClientRect();
      return {x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height};
    },
    onclick(e) {
      const n = (this.picked && this.picked.n) || 0;
      this.picked = Object.assign(this.where(e), {n: n + 1});
    },
    onmove(e) {
      const now = Date.now();
      if (e.target._cimsimLast && now - e.target._cimsimLast < 150) return;
      e.target._cimsimLast = now;
      this.hovered = this.where(e);
    },
  },
};
</script>"""
    ).tag(sync=True)
    src = traitlets.Unicode("").tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)
    img_class = traitlets.Unicode("").tag(sync=True)
    picked = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    hovered = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)


NetworkImage = PlotImage
"""The network view's image (a :class:`PlotImage`)."""


def data_url(png: bytes) -> str:
    """A PNG as a ``data:`` URL for an ``<img>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@solara.component
def Figure(session: Session, live: figures.LiveFigures, name: str, version: int) -> None:
    """One chart of the session as a PNG image, redrawn when ``version`` changes; pointing
    at it (or clicking, on a touch screen) shows the month under the pointer and the
    values of its lines that month."""
    data = solara.use_memo(lambda: live.png(session, name), [name, version, session.generation])
    readout = solara.use_reactive("")

    def show(where: dict | None) -> None:
        if where:
            with session.lock:
                fig = live.figure(session, name)
                readout.set(figures.values_at(fig, float(where["x"])) or "")

    PlotImage.element(
        src=data_url(data),
        alt=name,
        img_class=f"cimsim-plot cimsim-plot-{name}",
        on_hovered=show,
        on_picked=show,
    )
    solara.Text(
        readout.value or "Point at or tap the chart to read the month and values.",
        classes=["cimsim-readout"],
        style={**SMALL, "min-height": "1.4em", "margin": "0 0 0 54px"},
    )


@solara.component
def FieldError(error: solara.Reactive[tuple[str, str] | None], where: str) -> None:
    """The last mistake, shown right under the control that caused it (``where``) until
    the next action succeeds or Play starts."""
    if error.value is not None and error.value[0] == where:
        solara.Error(error.value[1], classes=["cimsim-error"], dense=True)


@solara.component
def ParamSlider(
    session: Session, path: str, act: Callable, error: solara.Reactive, config: int = 0
) -> None:
    """A slider for one unit-interval parameter, marked live or applies-at-reset."""
    label, lo, hi, step = PARAMETERS[path]
    live = path in LIVE_PARAMETERS
    solara.SliderFloat(
        f"{label} ({'live' if live else 'at reset'})",
        value=float(session.get_param(path)),
        min=lo,
        max=hi,
        step=step,
        thumb_label="always",
        on_value=lambda v: act(session.set_param, path, round(float(v), 4), where=path),
    )
    FieldError(error, path)
    solara.Text(
        texts.PARAMETERS[path]
        + (" Applies to the running model at once." if live else " Applies at the next Reset."),
        style=SMALL,
    )
    if path in session.pending:
        solara.Text(
            "Changed while running: applies at the next Reset.",
            classes=["cimsim-pending"],
            style=WARN,
        )


@solara.component
def ScenarioControls(
    session: Session, act: Callable, error: solara.Reactive, config: int = 0
) -> None:
    """Scenario picker, TOML upload (drop or browse) and paste box."""
    bundled = list(bundled_scenarios())
    pasted = solara.use_reactive("")
    current = session.scenario_name if session.source in bundled else None
    solara.Select(
        label="Scenario",
        values=bundled,
        value=current,
        on_value=lambda name: (
            name and act(session.load_bundled, name, where="scenario", slow="Loading the scenario…")
        ),
    )
    FieldError(error, "scenario")
    if current is None:
        solara.Text(f"Your scenario: {session.source}", style=SMALL)
    TomlInput(
        "your own scenario",
        lambda data, name: act(
            session.load_toml_text, data, name, where="upload", slow="Loading your scenario…"
        ),
    )
    FieldError(error, "upload")
    with solara.Details("Paste a scenario (TOML)"):
        with solara.Div(classes=["cimsim-paste"]):
            solara.InputTextArea(
                "TOML",
                value=pasted,
                rows=5,
                auto_grow=False,  # a pasted file scrolls inside the box instead of growing it
                continuous_update=True,
            )
        solara.Button(
            "Load TOML",
            small=True,
            on_click=lambda: act(
                session.load_toml_text, pasted.value, "pasted.toml", where="paste",
                slow="Loading your scenario…",
            ),
        )  # fmt: skip
        FieldError(error, "paste")


@solara.component
def TomlInput(what: str, on_file: Callable[[bytes, str], None], browse: str = "Browse…") -> None:
    """Drag and drop plus a click-to-browse button for one TOML file."""
    solara.FileDrop(
        label=f"Drop {what} (.toml) here, or browse:",
        on_file=lambda f: on_file(f["data"], f["name"]),
        lazy=False,
    )

    def picked(files: Any) -> None:
        if files:
            first = files[0]
            on_file(bytes(first["content"]), first["name"])

    rw.FileUpload(
        accept=".toml", multiple=False, description=browse, icon="folder-open",
        on_value=picked,
    )  # fmt: skip


@solara.component
def Player(
    session: Session,
    act: Callable,
    playing: solara.Reactive[bool],
    version: solara.Reactive[int],
    busy: solara.Reactive[str],
) -> None:
    """Play/Pause, Step and Reset: redrawn on every step, so that Play and Step are disabled
    the moment the run reaches its last month."""
    _ = version.value
    working = bool(busy.value)
    with solara.Row(gap="6px"):
        solara.Button(
            "Pause" if playing.value else "Play",
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=(session.finished or working) and not playing.value,
        )
        solara.Button(
            "Step",
            color="primary",
            on_click=lambda: act(session.step, where="run"),
            disabled=playing.value or session.finished or working,
        )
        solara.Button(
            "Reset",
            color="warning" if session.pending else None,
            on_click=lambda: (
                playing.set(False),
                act(session.reset, where="run", slow="Rebuilding the model…"),
            ),
            disabled=working,
        )
    if session.pending:
        n = len(session.pending)
        solara.Text(
            f"{n} setting{'s' if n > 1 else ''} wait{'' if n > 1 else 's'} for Reset "
            "(the run goes on with the old value).",
            classes=["cimsim-pending-reset"],
            style=WARN,
        )


@solara.component
def RunControls(
    session: Session,
    act: Callable,
    playing: solara.Reactive[bool],
    interval: solara.Reactive[int],
    per_tick: solara.Reactive[int],
    version_live: solara.Reactive[int],
    busy: solara.Reactive[str],
    error: solara.Reactive,
    config: int = 0,
) -> None:
    """Play/pause, step, reset, speed and seed."""
    Player(session, act, playing, version_live, busy)
    FieldError(error, "run")
    solara.SliderInt("Pause between ticks (ms)", value=interval, min=0, max=1000, step=50)
    solara.SliderInt("Months per tick", value=per_tick, min=1, max=12)
    solara.InputText(
        "Seed",
        value=str(session.seed),
        on_value=lambda text: act(session.set_seed, text, where="seed", slow="Rebuilding…"),
        continuous_update=False,
    )
    FieldError(error, "seed")


@solara.component
def Heading(text: str) -> None:
    """A bold label over a group of controls (plain text: no Markdown, so no KaTeX from a CDN)."""
    solara.Text(
        text, style={**TEXT, "font-weight": "bold", "display": "block", "margin-top": "8px"}
    )


@solara.component
def ParameterControls(
    session: Session, act: Callable, error: solara.Reactive, config: int = 0
) -> None:
    """The backbone switch, preconditions and settings."""
    Heading("Backbone")
    solara.Switch(
        label="Backbone organisation (live)",
        color="primary",
        value=bool(session.get_param("backbone.enabled")),
        on_value=lambda on: act(
            session.set_param, "backbone.enabled", bool(on), where="backbone.enabled"
        ),
    )
    FieldError(error, "backbone.enabled")
    solara.Text(texts.PARAMETERS["backbone.enabled"], style=SMALL)
    ParamSlider(session, "backbone.capacity", act, error, config)
    Heading("Preconditions")
    for path in (
        "preconditions.urgency",
        "preconditions.champion_strength",
        "preconditions.resources",
    ):
        ParamSlider(session, path, act, error, config)
    Heading("Settings")
    for path in ("settings.initial_trust", "settings.communication"):
        ParamSlider(session, path, act, error, config)


@solara.component
def Experiments(session: Session, act: Callable, error: solara.Reactive, config: int = 0) -> None:
    """Things to try in class: each button sets up one of the report's experiments."""
    for key, exp in EXPERIMENTS.items():
        solara.Button(
            exp.title,
            small=True,
            outlined=session.experiment != key,
            color="primary",
            classes=[f"cimsim-try-{key}"],
            style={"margin": "2px 0", "text-transform": "none", "justify-content": "flex-start"},
            on_click=lambda key=key: act(
                session.setup_experiment, key, where="try", slow="Setting up the experiment…"
            ),
        )
    FieldError(error, "try")
    if session.experiment is not None:
        exp = EXPERIMENTS[session.experiment]
        solara.Text(
            f"Set up: {exp.title}. Press Play. {exp.watch}",
            classes=["cimsim-try-note"],
            style={**TEXT, "display": "block", "margin-top": "4px"},
        )


@solara.component
def CompareControls(
    session: Session, act: Callable, error: solara.Reactive, config: int = 0
) -> None:
    """Compare mode: B = A with one change, or B = its own plan (file and events); replicate
    mode runs both plans over several seeds."""
    solara.Switch(
        label="Compare A with B",
        color="primary",
        value=session.compare,
        on_value=lambda on: act(
            session.set_compare, bool(on), where="compare", slow="Building plan B…"
        ),
    )
    solara.Select(
        label="B = A but with",
        values=[*COMPARE_VARIANTS, OWN_PLAN],
        value=session.variant,
        on_value=lambda v: (
            v and act(session.set_compare, session.compare, v, where="compare", slow="Building B…")
        ),
    )
    FieldError(error, "compare")
    warning = session.variant_warning()
    if warning:
        solara.Text(warning, classes=["cimsim-variant-warning"], style=WARN)
    with solara.Details("Plan B from its own file"):
        TomlInput(
            "plan B",
            lambda data, name: act(
                session.load_plan_b_text, data, name, where="plan-b", slow="Loading plan B…"
            ),
            browse="Browse for plan B…",
        )
        FieldError(error, "plan-b")
        if session.plan_b_source:
            solara.Text(f"Plan B: {session.plan_b_source}", style=SMALL)
            solara.Button(
                "Forget plan B's file",
                small=True,
                on_click=lambda: act(session.clear_plan_b, where="plan-b", slow="Rebuilding…"),
            )
    Heading("Replicate mode")
    solara.Text(
        "Runs A and B over several seeds (the same seeds for both) and shows B − A with its "
        "95% band: the numbers of `cimsim compare-plans A.toml B.toml`.",
        style=SMALL,
    )
    with solara.Row(gap="6px"):
        for n in REPLICATE_CHOICES:
            solara.Button(
                f"Run {n} seeds",
                small=True,
                disabled=not session.compare,
                on_click=lambda n=n: act(
                    session.replicate, n, where="replicate",
                    slow=f"Running plans A and B over {n} seeds…",
                ),
            )  # fmt: skip
    FieldError(error, "replicate")
    if session.replicated is not None:
        n, _levels, diffs = session.replicated
        last = diffs[diffs.month == diffs.month.max()]
        for _, row in last.iterrows():
            solara.Text(
                f"Month {row.month}, {row.outcome}: B − A = {row['mean']:+.3f} "
                f"[{row.ci_low:+.3f}, {row.ci_high:+.3f}]",
                classes=["cimsim-replicate-row"],
                style=SMALL,
            )


@solara.component
def EventControls(
    session: Session,
    act: Callable,
    version_live: solara.Reactive[int],
    error: solara.Reactive,
    config: int = 0,
) -> None:
    """Schedule an event at a future month (for A, or for B's own plan) and list the
    timeline."""
    kind = solara.use_reactive("remove_backbone")
    month = solara.use_reactive("24")
    value = solara.use_reactive("")
    plan = solara.use_reactive("A")
    field, default = EVENT_FIELDS[kind.value]
    own_b = session.compare and session.variant == OWN_PLAN

    def schedule() -> None:
        def do() -> None:
            try:
                m = int(month.value.strip())
            except ValueError:
                raise ScenarioError(f"month must be a whole number (got {month.value!r})") from None
            event: dict[str, Any] = {"kind": kind.value, "month": m}
            if field is not None:
                raw = value.value.strip() or str(default)
                try:
                    event[field] = int(raw) if isinstance(default, int) else float(raw)
                except ValueError:
                    raise ScenarioError(f"{field} must be a number (got {raw!r})") from None
            session.schedule(event, plan.value if own_b else "A")

        act(do, where="events")

    solara.Select(label="Event", values=list(EVENT_FIELDS), value=kind)
    solara.Text(texts.EVENTS[kind.value], style=SMALL)
    with solara.Row(gap="6px"):
        solara.InputText("At month", value=month, continuous_update=True)
        if field is not None:
            solara.InputText(f"{field} (default {default})", value=value, continuous_update=True)
    if own_b:
        solara.ToggleButtonsSingle(value=plan, values=["A", "B"], dense=True)
    with solara.Row(gap="6px"):
        solara.Button("Schedule", color="primary", small=True, on_click=schedule)
        solara.Button(
            "Clear my events",
            small=True,
            on_click=lambda: act(session.clear_events, where="events", slow="Rebuilding…"),
        )
    FieldError(error, "events")
    Timeline(session, version_live)


@solara.component
def Timeline(session: Session, version: solara.Reactive[int]) -> None:
    """The scheduled events of A (and B), each pending or done: redrawn on every step (it
    reads the step counter itself), while the rest of the form follows setting changes."""
    _ = version.value
    for plan in ("A", "B") if session.model_b is not None else ("A",):
        timeline = session.timeline(plan)
        if not timeline:
            continue
        with solara.Column(gap="2px", classes=[f"cimsim-timeline{'-b' if plan == 'B' else ''}"]):
            if session.model_b is not None:
                solara.Text(f"Plan {plan}:", style={**TEXT, "font-weight": "bold"})
            for m, text, fired in timeline:
                solara.Text(
                    f"month {m}: {text} — {'done' if fired else 'pending'}",
                    style={**TEXT, "font-weight": "bold"} if fired else TEXT,
                )


@solara.component
def AdvancedControls(
    session: Session, act: Callable, error: solara.Reactive, config: int = 0
) -> None:
    """Every scenario parameter: pick a dotted path, type a value (TOML syntax: 0.4, true,
    "text", [1, 2]); model-building parameters apply at the next Reset once the run has
    started."""
    rows = solara.use_memo(lambda: describe_parameters(), [])
    paths = [r["path"] for r in rows if r["path"] not in ("interventions", "name")]
    path = solara.use_reactive("preconditions.urgency_decay")
    text = solara.use_reactive("")
    info = next(r for r in rows if r["path"] == path.value)

    def apply() -> None:
        raw = text.value.strip()
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a plain word is taken as text
        act(session.set_param, path.value, value, where="advanced")

    solara.Select(label="Parameter", values=paths, value=path)
    try:
        current = session.get_param(path.value)
    except ScenarioError:
        current = info["value"]
    solara.Text(
        f"{info['type']} {info['range']}; now {current!r}. {info['meaning']}",
        classes=["cimsim-advanced-info"],
        style=SMALL,
    )
    with solara.Row(gap="6px", style={"align-items": "center"}):
        solara.InputText("New value", value=text, continuous_update=True)
        solara.Button("Apply", small=True, color="primary", on_click=apply)
    FieldError(error, "advanced")


def stem(session: Session) -> str:
    """The file name stem of the session's exports."""
    return f"cimsim-{session.scenario_name}-seed{session.seed}"


def charts_zip(session: Session, fmt: str) -> bytes:
    """Every chart of the session (the difference and replicates in compare mode) as SVG
    or PNG files in one zip archive."""
    buf = io.BytesIO()
    with session.lock, zipfile.ZipFile(buf, "w") as zf:
        for name in figures.BUILDERS:
            if name in ("difference", "replicates", "network_b") and not session.compare:
                continue
            fig = figures.make_figure(session, name)
            data = figures.png_bytes(fig) if fmt == "png" else figures.svg_bytes(fig)
            zf.writestr(f"{stem(session)}-{name}.{fmt}", data)
    return buf.getvalue()


@solara.component
def Exports(session: Session, config: int) -> None:
    """CSV of the time series, the scenario(s) as TOML and every chart as SVG or PNG."""
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.FileDownload(
            session.csv_bytes, filename=f"{stem(session)}.csv", label="Time series (CSV)"
        )
        solara.FileDownload(
            session.toml_bytes, filename=f"{stem(session)}.toml", label="Download scenario (TOML)"
        )
        if session.compare:
            solara.FileDownload(
                lambda: session.toml_bytes("B"),
                filename=f"{stem(session)}-plan-b.toml",
                label="Plan B (TOML)",
            )
        solara.FileDownload(
            lambda: charts_zip(session, "svg"),
            filename=f"{stem(session)}-charts-svg.zip",
            label="All charts (SVG)",
        )
        solara.FileDownload(
            lambda: charts_zip(session, "png"),
            filename=f"{stem(session)}-charts-png.zip",
            label="All charts (PNG)",
        )


@solara.component
def Summary(session: Session, version: int) -> None:
    """Month counter and the headline numbers of A (and B)."""
    latest = session.model.latest
    text = (
        f"Month {session.month} / {session.months}: impact {latest['impact']:.2f}, "
        f"participation {latest['participation']:.0%}, trust {latest['trust']:.2f}, "
        f"backbone {'yes' if session.model.has_backbone else 'no'}"
    )
    solara.Text(text, classes=["cimsim-month"], style={**TEXT, "font-weight": "bold"})
    if session.model_b is not None:
        lb = session.model_b.latest
        solara.Text(
            f"{session.b_label()}: impact {lb['impact']:.2f}, participation "
            f"{lb['participation']:.0%}, trust {lb['trust']:.2f}, "
            f"backbone {'yes' if session.model_b.has_backbone else 'no'}",
            classes=["cimsim-month-b"],
            style=TEXT,
        )
    if session.model.fired:
        solara.Info(
            f"Month {session.month}: "
            + ", ".join(k.replace("_", " ") for k in session.model.fired)
            + " happened"
        )


@solara.component
def Explanations() -> None:
    """The five building blocks and the outcomes in the report's words."""
    with solara.Details("What the building blocks mean"):
        for title, text in [*texts.BUILDING_BLOCKS.values(), *texts.OUTCOMES.values()]:
            with solara.Div(style={**TEXT, "margin-bottom": "6px"}):
                solara.Text(f"{title}. ", style={"font-weight": "bold"})
                solara.Text(text)


def chart_names(session: Session) -> list[str]:
    """The tabs of the lower chart (difference and replicates only in compare mode)."""
    extra = ("difference", "replicates")
    return [k for k, n in MORE_CHARTS.items() if n not in extra or session.compare]


@solara.component
def NetworkLegend() -> None:
    """What the network's marks mean."""
    dot = {"display": "inline-block", "width": "12px", "height": "12px", "border-radius": "50%"}
    with solara.Div(classes=["cimsim-legend"], style={**TEXT, "max-width": "425px"}):
        with solara.Row(gap="10px", style={"flex-wrap": "wrap"}):
            for colour, label in zip(figures.SECTOR_COLOURS, figures.SECTOR_LABELS, strict=True):
                with solara.Row(gap="4px", style={"align-items": "center"}):
                    solara.Div(style={**dot, "background": colour})
                    solara.Text(label)
        solara.Text(
            "Fill: solid with a dark rim = engaged, pale = aware, white = inactive. "
            "Size: influence. Line width: trust on the tie. Click a node for its details.",
            style={"display": "block"},
        )


@solara.component
def NetworkView(
    session: Session, live: figures.LiveFigures, version: int, picked: solara.Reactive
) -> None:
    """The clickable network image (plan A's, or B's in compare mode) and, for a clicked
    node, that stakeholder's state."""
    which = solara.use_reactive("A")
    plan = which.value if session.compare else "A"
    name = "network_b" if plan == "B" else "network"
    png = solara.use_memo(lambda: live.png(session, name), [name, version, session.generation])

    def on_pick(where: dict | None) -> None:
        if not where:
            return
        with session.lock:
            fig = live.figure(session, name)
            row = figures.node_at(fig, session, float(where["x"]), float(where["y"]), plan=plan)
        picked.set((session.generation, plan, row))

    if session.compare:
        solara.ToggleButtonsSingle(
            value=which, values=["A", "B"], dense=True, classes=["cimsim-network-plan"]
        )
    NetworkImage.element(
        src=data_url(png),
        alt=figures.network_caption(session, plan),
        img_class="cimsim-network-img",
        on_picked=on_pick,
    )
    solara.Text(figures.network_caption(session, plan), classes=["cimsim-caption"], style=SMALL)
    NetworkLegend()
    fresh = picked.value is not None and picked.value[0] == session.generation
    fresh = fresh and picked.value[1] == plan
    row = picked.value[2] if fresh else None
    if fresh and row is None:
        solara.Text("No stakeholder there: click on a dot.", style=SMALL)
    elif row is not None:
        info = session.stakeholder(row, plan)
        solara.Text(
            f"Stakeholder #{info['id']} of plan {plan}: {info['sector']}, "
            f"{info['engagement']}; commitment {info['commitment']:.2f}; mean trust on its "
            f"{info['ties']} ties {info['trust']:.2f}; "
            f"{'a champion' if info['champion'] else 'not a champion'}",
            classes=["cimsim-node"],
            style={**TEXT, "display": "block", "background": "#eef4fb", "padding": "4px"},
        )


@solara.component
def Views(
    session: Session,
    version: solara.Reactive[int],
    chart: solara.Reactive[str],
    picked: solara.Reactive,
) -> None:
    """The dashboard: month counter, network, the five building blocks and the outcomes
    at once, then one more chart chosen by tab.

    Besides the player buttons and the event timeline, this is the only component that
    reads ``version``, so a step re-renders little; the controls follow the settings.
    """
    v = version.value
    live = solara.use_memo(figures.LiveFigures, [])
    Summary(session, v)
    with solara.Row(gap="12px", style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Column(
            classes=["cimsim-network"], gap="2px", style={"flex": "1 1 360px", "min-width": "0",
                                                          "max-width": "440px"}
        ):  # fmt: skip
            NetworkView(session, live, v, picked)
        with solara.Column(
            classes=["cimsim-dashboard"], gap="4px", style={"flex": "1 1 480px", "min-width": "0"}
        ):
            for name in DASHBOARD:
                with solara.Div(classes=[f"cimsim-chart-{name}"]):
                    Figure(session, live, name, v)
    names = chart_names(session)
    shown = chart.value if chart.value in names else names[0]
    with solara.Column(classes=["cimsim-chart"], gap="4px", style={"min-width": "0"}):
        solara.ToggleButtonsSingle(
            value=shown,
            values=names,
            on_value=chart.set,
            dense=True,
            style={"flex-wrap": "wrap", "height": "auto"},
        )
        Figure(session, live, MORE_CHARTS[shown], v)


@solara.component
def Busy(busy: solara.Reactive[str]) -> None:
    """A progress bar and a line while a slow action runs."""
    if busy.value:
        with solara.Div(classes=["cimsim-busy"]):
            solara.ProgressLinear(True)
            solara.Text(busy.value, style={**TEXT, "font-weight": "bold"})


@solara.component
def Controls(
    session: Session,
    act: Callable,
    version: solara.Reactive[int],
    config: solara.Reactive[int],
    playing: solara.Reactive[bool],
    interval: solara.Reactive[int],
    per_tick: solara.Reactive[int],
    error: solara.Reactive[tuple[str, str] | None],
    busy: solara.Reactive[str],
) -> None:
    """The control column (redrawn when settings change, not on every step)."""
    c = config.value
    with solara.Card("Run", margin=0, classes=["cimsim-run-card"]):
        RunControls(session, act, playing, interval, per_tick, version, busy, error, c)
    with solara.Card("Things to try in class", margin=0, classes=["cimsim-try"]):
        Experiments(session, act, error, c)
    with solara.Card("Backbone, preconditions and settings", margin=0):
        ParameterControls(session, act, error, c)
    with solara.Card("Compare and replicate", margin=0):
        CompareControls(session, act, error, c)
    with solara.Card("Schedule an event", margin=0):
        EventControls(session, act, version, error, c)
    with solara.Card("Scenario", margin=0):
        ScenarioControls(session, act, error, c)
    with solara.Card("Advanced: every parameter", margin=0):
        with solara.Details("Show all scenario parameters"):
            AdvancedControls(session, act, error, c)


CSS = """
.cimsim-paste textarea { max-height: 12em; overflow-y: auto !important; resize: vertical; }
.cimsim-controls .v-card-title { font-size: 16px; }
.cimsim-page img { max-width: 100%; height: auto; }
@media (max-width: 700px) {
  .cimsim-page { flex-direction: column !important; flex-wrap: nowrap !important; }
  .cimsim-controls, .cimsim-controls > .v-sheet { display: contents !important; }
  .cimsim-controls > .v-sheet > * { order: 3; width: 100% !important; }
  .cimsim-controls > .v-sheet > .cimsim-run-card { order: 1; }
  .cimsim-views { order: 2; width: 100% !important; flex: 0 0 auto !important; }
  .cimsim-network { max-width: 100% !important; flex-basis: 100% !important; }
}
"""
"""Page CSS: a bounded paste box and images that never overflow; on a phone everything
stacks at full width: the player, then the dashboard, then the other controls."""


@solara.component
def AppPage(session: Session | None = None, background: bool = True) -> None:
    """The cimsim page: controls on the left, the dashboard on the right.

    ``session`` lets tests pass in their own controller; the served page makes a fresh
    one per browser tab. ``background=False`` runs slow actions inline instead of in a
    worker thread (for tests that click and check at once).
    """
    session = solara.use_memo(lambda: session if session is not None else Session(), [])
    version = solara.use_reactive(0)
    config = solara.use_reactive(0)
    error = solara.use_reactive(None)
    playing = solara.use_reactive(False)
    interval = solara.use_reactive(200)
    per_tick = solara.use_reactive(1)
    chart = solara.use_reactive("Sectors")
    busy = solara.use_reactive("")
    job = solara.use_reactive(None)
    picked = solara.use_reactive(None)

    render_context = reacton.core.get_render_context()

    def run(fn: Callable, args: tuple, where: str) -> None:
        with render_context:  # one render pass for all the state set here
            try:
                fn(*args)
                error.set(None)
            except ScenarioError as err:
                error.set((where, str(err)))
            version.set(version.value + 1)
            if fn != session.step:
                config.set(config.value + 1)

    def act(fn: Callable, *args: Any, where: str, slow: str | None = None) -> None:
        """Run a control's action; a mistake is shown under that control (``where``).
        A ``slow`` action runs in a worker thread while ``slow`` is shown as busy."""
        if slow is None or not background:
            run(fn, args, where)
            return
        playing.set(False)
        busy.set(slow)
        job.set((next(_JOBS), fn, args, where))

    def worker(cancel: threading.Event) -> None:
        todo = job.value
        if todo is None:
            return
        try:
            run(todo[1], todo[2], todo[3])
        except Exception as err:  # shown to the user; the page keeps running
            error.set((todo[3], f"{type(err).__name__}: {err}"))
        finally:
            busy.set("")

    solara.use_thread(worker, dependencies=[job.value and job.value[0]], intrusive_cancel=False)

    def loop(cancel: threading.Event) -> None:
        if playing.value and error.value is not None:
            error.set(None)  # a new run of the player: the last mistake is history
        while playing.value and not cancel.is_set():
            # a pause of 0 still leaves the page time to draw each month
            time.sleep(max(interval.value, MIN_TICK_MS) / 1000)
            if cancel.is_set() or not playing.value:
                break
            session.step(per_tick.value)  # never past the last month
            with render_context:
                version.set(version.value + 1)
                if session.finished:
                    playing.set(False)

    solara.use_thread(loop, dependencies=[playing.value], intrusive_cancel=False)

    solara.Title("cimsim — collective impact simulator")
    solara.Style(CSS)
    with solara.Row(
        gap="12px",
        classes=["cimsim-page"],
        style={"align-items": "flex-start", "flex-wrap": "wrap", "max-width": "100%"},
    ):
        with solara.Column(
            gap="8px",
            classes=["cimsim-controls"],
            style={"flex": "0 1 340px", "min-width": "0", "max-width": "100%"},
        ):
            Controls(session, act, version, config, playing, interval, per_tick, error, busy)
        with solara.Column(
            gap="6px", classes=["cimsim-views"], style={"flex": "1 1 600px", "min-width": "0"}
        ):
            c = config.value
            spec = session.model.spec
            # the scenario's own text is the user's: shown as text, never as Markdown/HTML
            solara.Text(spec.title or spec.name, style={"font-size": "22px", "font-weight": "bold"})
            Busy(busy)
            Views(session, version, chart, picked)
            with solara.Card("Export", margin=0):
                Exports(session, c)
            if spec.description:
                solara.Text(spec.description, style=SMALL)
            solara.Text(texts.INTRO, style=SMALL)
            Explanations()
