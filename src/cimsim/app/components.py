"""Solara components of the cimsim page: controls, views, compare mode, events, exports.

All model logic lives in :class:`cimsim.app.state.Session`; these components only
call its methods and redraw. The page is built from plain Solara components rather than
Mesa's ``SolaraViz`` because it needs two models stepped in lockstep, scenario uploads,
scheduled events and exports, none of which SolaraViz's single-model controller offers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import reacton.ipywidgets as rw
import solara

from cimsim.app import figures, texts
from cimsim.app.state import (
    COMPARE_VARIANTS,
    EVENT_FIELDS,
    LIVE_PARAMETERS,
    PARAMETERS,
    Session,
)
from cimsim.scenario import ScenarioError, bundled_scenarios

CHARTS = {
    "Building blocks": "blocks",
    "Outcomes": "outcomes",
    "Sectors": "sectors",
    "Issue areas": "areas",
    "Difference A−B": "difference",
}
"""Chart tab label -> figure name (only the selected chart is drawn, to keep steps fast)."""

MIN_TICK_MS = 80
"""The shortest pause between ticks while playing: a step and its redraw take about 50 ms, so
a shorter pause would queue redraws faster than the page can show them."""

SMALL = {"font-size": "12px", "color": "#555", "line-height": "1.25", "margin-bottom": "6px"}


@solara.component
def Figure(session: Session, live: figures.LiveFigures, name: str, version: int) -> None:
    """One figure of the session as a PNG image, redrawn when ``version`` changes."""
    data = solara.use_memo(lambda: live.png(session, name), [name, version, session.generation])
    rw.Image(value=data, format="png", layout={"max_width": "100%"})


@solara.component
def ParamSlider(session: Session, path: str, act: Callable, version: int) -> None:
    """A slider for one unit-interval parameter, with its explanation."""
    label, lo, hi, step = PARAMETERS[path]
    solara.SliderFloat(
        f"{label} ({'live' if path in LIVE_PARAMETERS else 'at reset'})",
        value=float(session.get_param(path)),
        min=lo,
        max=hi,
        step=step,
        thumb_label="always",
        on_value=lambda v: act(session.set_param, path, round(float(v), 4), where="params"),
    )
    solara.Text(texts.PARAMETERS[path], style=SMALL)
    if path in session.pending:
        solara.Text(
            "Changed while running: applies at the next Reset.",
            classes=["cimsim-pending"],
            style={**SMALL, "color": "#b35900", "font-weight": "bold"},
        )


@solara.component
def ScenarioControls(session: Session, act: Callable, version: int) -> None:
    """Scenario picker, TOML upload and paste box."""
    bundled = list(bundled_scenarios())
    pasted = solara.use_reactive("")
    current = session.scenario_name if session.source in bundled else None
    solara.Select(
        label="Scenario",
        values=bundled,
        value=current,
        on_value=lambda name: name and act(session.load_bundled, name, where="scenario"),
    )
    if current is None:
        solara.Text(f"Your scenario: {session.source}", style=SMALL)
    solara.FileDrop(
        label="…or drop your own scenario .toml here",
        on_file=lambda f: act(session.load_toml_text, f["data"], f["name"], where="scenario"),
        lazy=False,
    )

    def picked(files: Any) -> None:
        if files:
            first = files[0]
            act(session.load_toml_text, bytes(first["content"]), first["name"], where="scenario")

    rw.FileUpload(
        accept=".toml", multiple=False, description="Browse…", icon="folder-open",
        on_value=picked,
    )  # fmt: skip
    with solara.Details("Paste a scenario (TOML)"):
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
                session.load_toml_text, pasted.value, "pasted.toml", where="scenario"
            ),
        )


@solara.component
def Player(
    session: Session,
    act: Callable,
    playing: solara.Reactive[bool],
    version: solara.Reactive[int],
) -> None:
    """Play/Pause, Step and Reset: redrawn on every step, so that Play and Step are disabled
    the moment the run reaches its last month."""
    _ = version.value
    with solara.Row(gap="6px"):
        solara.Button(
            "Pause" if playing.value else "Play",
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=session.finished and not playing.value,
        )
        solara.Button(
            "Step",
            color="primary",
            on_click=lambda: act(session.step, where="run"),
            disabled=playing.value or session.finished,
        )
        solara.Button(
            "Reset", on_click=lambda: (playing.set(False), act(session.reset, where="run"))
        )


@solara.component
def RunControls(
    session: Session,
    act: Callable,
    playing: solara.Reactive[bool],
    interval: solara.Reactive[int],
    per_tick: solara.Reactive[int],
    version: int,
    version_live: solara.Reactive[int],
) -> None:
    """Play/pause, step, reset, speed and seed."""
    Player(session, act, playing, version_live)
    solara.SliderInt("Pause between ticks (ms)", value=interval, min=0, max=1000, step=50)
    solara.SliderInt("Months per tick", value=per_tick, min=1, max=12)
    solara.InputText(
        "Seed",
        value=str(session.seed),
        on_value=lambda text: act(session.set_seed, text, where="run"),
        continuous_update=False,
    )


@solara.component
def Heading(text: str) -> None:
    """A bold label over a group of controls (plain text: no Markdown, so no KaTeX from a CDN)."""
    solara.Text(text, style={"font-weight": "bold", "display": "block", "margin-top": "8px"})


@solara.component
def ParameterControls(session: Session, act: Callable, version: int) -> None:
    """Preconditions, settings and backbone controls."""
    Heading("Preconditions")
    for path in (
        "preconditions.urgency",
        "preconditions.champion_strength",
        "preconditions.resources",
    ):
        ParamSlider(session, path, act, version)
    Heading("Settings")
    for path in ("settings.initial_trust", "settings.communication"):
        ParamSlider(session, path, act, version)
    Heading("Backbone")
    solara.Switch(
        label="Backbone organisation (live)",
        color="primary",
        value=bool(session.get_param("backbone.enabled")),
        on_value=lambda on: act(session.set_param, "backbone.enabled", bool(on), where="params"),
    )
    solara.Text(texts.PARAMETERS["backbone.enabled"], style=SMALL)
    ParamSlider(session, "backbone.capacity", act, version)


@solara.component
def CompareControls(session: Session, act: Callable, version: int) -> None:
    """Compare mode: B = A with one change, same seed, stepped in lockstep."""
    solara.Switch(
        label="Compare A with B",
        color="primary",
        value=session.compare,
        on_value=lambda on: act(session.set_compare, bool(on), where="compare"),
    )
    solara.Select(
        label="B = A but with",
        values=list(COMPARE_VARIANTS),
        value=session.variant,
        on_value=lambda v: v and act(session.set_compare, session.compare, v, where="compare"),
    )
    warning = session.variant_warning()
    if warning:
        solara.Text(
            warning, classes=["cimsim-variant-warning"], style={**SMALL, "color": "#b35900"}
        )


@solara.component
def EventControls(
    session: Session, act: Callable, version: int, version_live: solara.Reactive[int]
) -> None:
    """Schedule an event at a future month and list the timeline."""
    kind = solara.use_reactive("remove_backbone")
    month = solara.use_reactive("24")
    value = solara.use_reactive("")
    field, default = EVENT_FIELDS[kind.value]

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
            session.schedule(event)

        act(do, where="events")

    solara.Select(label="Event", values=list(EVENT_FIELDS), value=kind)
    solara.Text(texts.EVENTS[kind.value], style=SMALL)
    with solara.Row(gap="6px"):
        solara.InputText("At month", value=month, continuous_update=True)
        if field is not None:
            solara.InputText(f"{field} (default {default})", value=value, continuous_update=True)
    with solara.Row(gap="6px"):
        solara.Button("Schedule", color="primary", small=True, on_click=schedule)
        solara.Button(
            "Clear my events",
            small=True,
            on_click=lambda: act(session.clear_events, where="events"),
        )
    Timeline(session, version_live)


@solara.component
def Timeline(session: Session, version: solara.Reactive[int]) -> None:
    """The scheduled events, each pending or fired: redrawn on every step (it reads the
    step counter itself), while the rest of the form is redrawn only on setting changes."""
    _ = version.value
    timeline = session.timeline()
    if timeline:
        with solara.Column(gap="2px", classes=["cimsim-timeline"]):
            for m, text, fired in timeline:
                solara.Text(
                    f"month {m}: {text} — {'fired' if fired else 'pending'}",
                    style={"font-weight": "bold"} if fired else {},
                )


@solara.component
def Exports(session: Session, chart: str, config: int) -> None:
    """CSV of the time series and PNGs of the figures on the page."""

    def csv() -> bytes:
        return session.csv_bytes()

    def render(name: str, fmt: str) -> Callable[[], bytes]:
        def make() -> bytes:
            with session.lock:
                fig = figures.make_figure(session, name)
                return figures.png_bytes(fig) if fmt == "png" else figures.svg_bytes(fig)

        return make

    stem = f"cimsim-{session.scenario_name}-seed{session.seed}"
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.FileDownload(csv, filename=f"{stem}.csv", label="Time series (CSV)")
        solara.FileDownload(session.toml_bytes, filename=f"{stem}.toml", label="Scenario (TOML)")
        for fmt in ("png", "svg"):
            solara.FileDownload(
                render("network", fmt), filename=f"{stem}-network.{fmt}",
                label=f"Network ({fmt.upper()})",
            )  # fmt: skip
            solara.FileDownload(
                render(chart, fmt), filename=f"{stem}-{chart}.{fmt}",
                label=f"Chart ({fmt.upper()})",
            )  # fmt: skip


@solara.component
def Summary(session: Session, version: int) -> None:
    """Month counter and the headline numbers of A (and B)."""
    latest = session.model.latest
    text = (
        f"Month {session.month} / {session.months}: impact {latest['impact']:.2f}, "
        f"participation {latest['participation']:.0%}, trust {latest['trust']:.2f}, "
        f"backbone {'yes' if session.model.has_backbone else 'no'}"
    )
    solara.Text(text, classes=["cimsim-month"], style={"font-weight": "bold"})
    if session.model_b is not None:
        lb = session.model_b.latest
        solara.Text(
            f"B ({session.variant}): impact {lb['impact']:.2f}, participation "
            f"{lb['participation']:.0%}, trust {lb['trust']:.2f}",
            classes=["cimsim-month-b"],
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
            with solara.Div(style={"margin-bottom": "6px"}):
                solara.Text(f"{title}. ", style={"font-weight": "bold"})
                solara.Text(text)


def chart_names(session: Session) -> list[str]:
    """The chart tabs on offer (the difference only in compare mode)."""
    return [k for k, n in CHARTS.items() if n != "difference" or session.compare]


@solara.component
def Views(session: Session, version: solara.Reactive[int], chart: solara.Reactive[str]) -> None:
    """The main area: month counter, network and the selected chart.

    Besides the player buttons and the event timeline, this is the only component that
    reads ``version``, so a step re-renders little; the controls, the header and the
    exports follow the settings.
    """
    v = version.value
    live = solara.use_memo(figures.LiveFigures, [])
    names = chart_names(session)
    shown = chart.value if chart.value in names else names[0]
    Summary(session, v)
    # side by side when there is room, one above the other on a narrow screen
    with solara.Row(gap="12px", style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Column(
            classes=["cimsim-network"], gap="2px", style={"flex": "5 1 320px", "min-width": "0"}
        ):
            Figure(session, live, "network", v)
            Caption(session, v)
        with solara.Column(classes=["cimsim-chart"], style={"flex": "6 1 360px", "min-width": "0"}):
            solara.ToggleButtonsSingle(
                value=shown,
                values=names,
                on_value=chart.set,
                dense=True,
                style={"flex-wrap": "wrap", "height": "auto"},
            )
            Figure(session, live, CHARTS[shown], v)


@solara.component
def Caption(session: Session, version: int) -> None:
    """The line under the network view."""
    solara.Text(figures.network_caption(session), classes=["cimsim-caption"], style=SMALL)


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
) -> None:
    """The control column (redrawn when settings change, not on every step)."""
    c = config.value
    with solara.Card("Scenario", margin=0):
        CardError(error, "scenario")
        ScenarioControls(session, act, c)
    with solara.Card("Run", margin=0):
        CardError(error, "run")
        RunControls(session, act, playing, interval, per_tick, c, version)
    with solara.Card("Compare", margin=0):
        CardError(error, "compare")
        CompareControls(session, act, c)
    with solara.Card("Schedule an event", margin=0):
        CardError(error, "events")
        EventControls(session, act, c, version)
    with solara.Card("Preconditions and settings", margin=0):
        CardError(error, "params")
        ParameterControls(session, act, c)


@solara.component
def CardError(error: solara.Reactive[tuple[str, str] | None], where: str) -> None:
    """The last mistake, shown in the card of the control that caused it (until the next
    action succeeds or Play starts)."""
    if error.value is not None and error.value[0] == where:
        solara.Error(error.value[1], classes=["cimsim-error"], dense=True)


@solara.component
def AppPage(session: Session | None = None) -> None:
    """The cimsim page: controls on the left, network and charts on the right.

    ``session`` lets tests pass in their own controller; the served page makes a fresh
    one per browser tab.
    """
    session = solara.use_memo(lambda: session if session is not None else Session(), [])
    version = solara.use_reactive(0)
    config = solara.use_reactive(0)
    error = solara.use_reactive(None)
    playing = solara.use_reactive(False)
    interval = solara.use_reactive(200)
    per_tick = solara.use_reactive(1)
    chart = solara.use_reactive("Building blocks")

    def act(fn: Callable, *args: Any, where: str) -> None:
        """Run a control's action; a mistake is shown in that control's card (``where``)."""
        try:
            fn(*args)
            error.set(None)
        except ScenarioError as err:
            error.set((where, str(err)))
        version.set(version.value + 1)
        if fn != session.step:
            config.set(config.value + 1)

    def loop(cancel: threading.Event) -> None:
        if playing.value and error.value is not None:
            error.set(None)  # a new run of the player: the last mistake is history
        while playing.value and not cancel.is_set():
            # a pause of 0 still leaves the page time to draw each month
            time.sleep(max(interval.value, MIN_TICK_MS) / 1000)
            if cancel.is_set() or not playing.value:
                break
            session.step(per_tick.value)  # never past the last month
            version.set(version.value + 1)
            if session.finished:
                playing.set(False)

    solara.use_thread(loop, dependencies=[playing.value], intrusive_cancel=False)

    solara.Title("cimsim — collective impact simulator")
    # the controls beside the views on a wide screen, above them on a narrow one
    with solara.Row(gap="12px", style={"align-items": "flex-start", "flex-wrap": "wrap"}):
        with solara.Column(
            gap="8px",
            classes=["cimsim-controls"],
            style={"flex": "0 1 340px", "min-width": "0", "max-width": "100%"},
        ):
            Controls(session, act, version, config, playing, interval, per_tick, error)
        with solara.Column(gap="8px", style={"flex": "1 1 600px", "min-width": "0"}):
            c = config.value
            spec = session.model.spec
            # the scenario's own text is the user's: shown as text, never as Markdown/HTML
            solara.Text(
                spec.title or spec.name, style={"font-size": "1.4em", "font-weight": "bold"}
            )
            if spec.description:
                solara.Text(spec.description, style=SMALL)
            solara.Text(texts.INTRO, style=SMALL)
            Views(session, version, chart)
            names = chart_names(session)
            shown = chart.value if chart.value in names else names[0]
            with solara.Card("Export", margin=0):
                Exports(session, CHARTS[shown], c)
            Explanations()
