"""Matplotlib figures of a session: network, building blocks, outcomes, sectors, areas, A−B.

Figures are built once per model reset and then updated in place each month (new line
data, node colours), which keeps a step-to-redraw well under 200 ms; creating axes and
ticks is the expensive part of matplotlib. :class:`LiveFigures` holds them for one page.
No pyplot is used, so this is safe in server threads.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cimsim.population import ENGAGED, INACTIVE, SECTORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cimsim.app.state import Session

SECTOR_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
"""Colour per sector code: government, citizens, businesses, civil society."""
SECTOR_LABELS = ("government", "citizens", "businesses", "civil society")

BLOCKS = (
    ("common_agenda", "common agenda"),
    ("shared_measurement", "shared measurement"),
    ("mutually_reinforcing", "mutually reinforcing\nactivities"),
    ("communication", "continuous\ncommunication"),
    ("backbone_support", "backbone support"),
)
"""The five building blocks: reporter name and label."""
OUTCOMES = (("impact", "impact"), ("trust", "trust"), ("participation", "participation"))
"""Outcome and health reporters shown next to the building blocks."""
SECTOR_COLUMNS = tuple(
    (f"participation_{s}", lab) for s, lab in zip(SECTORS, SECTOR_LABELS, strict=True)
)

DPI = 72
"""Resolution of the figures shown on the page (exports use a higher one)."""
SIZE = (6.4, 3.6)

Updater = Callable[[], None]

_MOVING = "_cimsim_moving"
"""Figure attribute listing the artists that change every month (drawn over a cached
background); everything else is static until the axes limits or event markers change."""


def _new_figure(size: tuple[float, float] = SIZE) -> Figure:
    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    setattr(fig, _MOVING, [])
    return fig


def _moving(fig: Figure, *artists) -> None:
    getattr(fig, _MOVING).extend(artists)


def _axes(fig: Figure) -> Axes:
    ax = fig.add_axes((0.08, 0.14, 0.6, 0.76))
    ax.set_xlabel("month", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    return ax


def _events_marker(ax: Axes, session: Session) -> Updater:
    """Draw a dotted vertical line at every event month once the run has reached it."""
    marked: set[int] = set()

    def update() -> None:
        for month, _text, fired in session.timeline():
            if fired and month not in marked:
                ax.axvline(month, color="0.5", lw=0.9, ls=":")
                marked.add(month)

    return update


def _xlim(ax: Axes, session: Session) -> None:
    right = max(session.months, session.month)
    if ax.get_xlim()[1] != right:
        ax.set_xlim(0, right)


def series_figure(
    session: Session,
    columns: Sequence[tuple[str, str]],
    title: str,
    colours: Sequence[str] | None = None,
) -> tuple[Figure, Updater]:
    """Time series of reporters (A solid, B dashed in compare mode) and its updater."""
    fig = _new_figure()
    ax = _axes(fig)
    colours = colours or [f"C{i}" for i in range(len(columns))]
    lines_a = [
        ax.plot([], [], color=c, lw=1.6, label=lab)[0]
        for (_, lab), c in zip(columns, colours, strict=True)
    ]
    lines_b = (
        [ax.plot([], [], color=c, lw=1.2, ls="--")[0] for c in colours] if session.compare else []
    )
    _moving(fig, *lines_a, *lines_b)
    ax.set_ylim(0, 1.02)
    ax.set_title(title + ("  (B dashed)" if session.compare else ""), fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    mark = _events_marker(ax, session)

    def update() -> None:
        df = session.results()
        x = df.index.to_numpy()
        for line, (col, _) in zip(lines_a, columns, strict=True):
            line.set_data(x, df[col].to_numpy())
        df_b = session.results_b()
        if df_b is not None:
            for line, (col, _) in zip(lines_b, columns, strict=True):
                line.set_data(x, df_b[col].to_numpy())
        _xlim(ax, session)
        mark()

    return fig, update


def areas_figure(session: Session) -> tuple[Figure, Updater]:
    """Progress per issue area over time and its updater."""
    fig = _new_figure()
    ax = _axes(fig)
    areas = list(session.model.spec.activities.areas)
    lines = [
        ax.plot([], [], color=f"C{i % 10}", lw=1.4, label=str(a)[:28])[0]
        for i, a in enumerate(areas)
    ]
    _moving(fig, *lines)
    ax.set_title("Progress per issue area (A)", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    mark = _events_marker(ax, session)

    def update() -> None:
        hist = np.asarray(session.model.area_history)
        x = np.arange(hist.shape[0])
        for i, line in enumerate(lines):
            line.set_data(x, hist[:, i])
        ax.set_ylim(0, max(0.05, float(hist.max()) * 1.1))
        _xlim(ax, session)
        mark()

    return fig, update


def difference_figure(session: Session) -> tuple[Figure, Updater]:
    """A minus B for the building blocks and outcomes (compare mode) and its updater."""
    fig = _new_figure()
    ax = _axes(fig)
    cols = BLOCKS + OUTCOMES
    lines = [
        ax.plot([], [], color=f"C{i}", lw=1.4, label=lab)[0] for i, (_, lab) in enumerate(cols)
    ]
    _moving(fig, *lines)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_title(f"Difference A − B (B = {session.variant})", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    mark = _events_marker(ax, session)

    def update() -> None:
        diff = session.difference()
        if diff is None:
            return
        x = diff.index.to_numpy()
        for line, (col, _) in zip(lines, cols, strict=True):
            line.set_data(x, diff[col].to_numpy())
        lim = max(0.05, float(np.abs(diff[[c for c, _ in cols]].to_numpy()).max()) * 1.1)
        ax.set_ylim(-lim, lim)
        _xlim(ax, session)
        mark()

    return fig, update


def network_figure(session: Session) -> tuple[Figure, Updater]:
    """The sampled stakeholder network and its updater (see :func:`network_caption`).

    Colour = sector, size = influence; engaged nodes are filled with a dark rim, aware
    ones pale, inactive ones hollow. Edge width shows trust. The layout is fixed per reset.
    """
    view = session.network
    fig = _new_figure((5.6, 4.6))
    ax = fig.add_axes((0.0, 0.08, 1.0, 0.86))
    ax.set_axis_off()
    pos = view.pos if view.nodes.size else np.zeros((1, 2))
    ax.set_xlim(pos[:, 0].min() - 0.05, pos[:, 0].max() + 0.05)
    ax.set_ylim(pos[:, 1].min() - 0.05, pos[:, 1].max() + 0.05)
    edges = LineCollection([], colors="0.55", alpha=0.35, zorder=1)
    ax.add_collection(edges)
    nodes = ax.scatter(view.pos[:, 0], view.pos[:, 1], s=20, zorder=2) if view.nodes.size else None
    sector_rgba = np.array([to_rgba(c) for c in SECTOR_COLOURS])
    fig.suptitle("Stakeholder network (sampled; layout fixed per reset)", fontsize=10)
    _moving(fig, edges, *([nodes] if nodes is not None else []))
    drawn: dict[str, np.ndarray] = {}
    handles = [
        Line2D([], [], marker="o", ls="", color=c, label=lab)
        for c, lab in zip(SECTOR_COLOURS, SECTOR_LABELS, strict=True)
    ]
    handles.append(Line2D([], [], marker="o", ls="", mfc="white", mec="k", label="inactive"))
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=7, frameon=False)

    def update() -> None:
        pop, ties, rows = session.model.pop, session.model.ties, view.nodes
        n = len(pop)
        if nodes is not None:
            local = np.full(n, -1)
            local[rows] = np.arange(rows.size)
            a, b = local[ties.u], local[ties.v]
            keep = (a >= 0) & (b >= 0)
            which = np.flatnonzero(keep)
            if "ties" not in drawn or not np.array_equal(drawn["ties"], which):
                edges.set_segments(np.stack([view.pos[a[which]], view.pos[b[which]]], axis=1))
                drawn["ties"] = which
            edges.set_linewidths(0.3 + 1.2 * ties.trust[which])
            base = sector_rgba[pop.sector[rows]]
            eng = pop.engagement[rows]
            face = base.copy()
            face[eng == INACTIVE] = (1.0, 1.0, 1.0, 1.0)
            pale = (eng != INACTIVE) & (eng != ENGAGED)
            face[pale, 3] = 0.35
            edge = base.copy()
            edge[eng == ENGAGED] = (0.0, 0.0, 0.0, 1.0)
            nodes.set_facecolors(face)
            nodes.set_edgecolors(edge)
            nodes.set_linewidths(np.where(eng == ENGAGED, 0.5, 0.9))
            nodes.set_sizes(12 + 260 * pop.influence[rows])

    return fig, update


def network_caption(session: Session) -> str:
    """One line under the network: month, sample size and share engaged in the sample."""
    pop, rows = session.model.pop, session.network.nodes
    n = len(pop)
    shown = f"{rows.size} of {n}" if rows.size < n else f"all {n}"
    share = float((pop.engagement[rows] == ENGAGED).mean()) if rows.size else 0.0
    return f"Month {session.month}: {shown} stakeholders shown, {share:.0%} of them engaged"


BUILDERS: dict[str, Callable[[Session], tuple[Figure, Updater]]] = {
    "network": network_figure,
    "blocks": lambda s: series_figure(s, BLOCKS, "The five building blocks"),
    "outcomes": lambda s: series_figure(s, OUTCOMES, "Impact, trust and participation"),
    "sectors": lambda s: series_figure(
        s, SECTOR_COLUMNS, "Participation by sector", SECTOR_COLOURS
    ),
    "areas": areas_figure,
    "difference": difference_figure,
}
"""Figure name -> builder returning (figure, updater)."""


def make_figure(session: Session, name: str) -> Figure:
    """A fresh, up-to-date figure (used for exports and tests)."""
    fig, update = BUILDERS[name](session)
    update()
    return fig


class LiveFigures:
    """Figures of one page, built once per model reset and updated in place afterwards.

    The static part of each figure (axes, ticks, labels, legend, event markers) is
    rendered once and cached; a month's update redraws only the moving artists over it
    (matplotlib blitting), unless the axes limits or the markers changed.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, Figure, Updater]] = {}
        self._background: dict[str, tuple[object, object]] = {}

    def figure(self, session: Session, name: str) -> Figure:
        """The named figure, brought up to date with the session's current month."""
        entry = self._cache.get(name)
        if entry is None or entry[0] != session.generation:
            fig, update = BUILDERS[name](session)
            for artist in getattr(fig, _MOVING):
                artist.set_animated(True)
            entry = (session.generation, fig, update)
            self._cache[name] = entry
            self._background.pop(name, None)
        entry[2]()
        return entry[1]

    def png(self, session: Session, name: str) -> bytes:
        """The named figure as PNG bytes (at :data:`DPI`), up to date."""
        from PIL import Image

        with session.lock:
            fig = self.figure(session, name)
            canvas = fig.canvas
            key = tuple(
                (ax.get_xlim(), ax.get_ylim(), len(ax.lines), len(ax.collections))
                for ax in fig.axes
            )
            cached = self._background.get(name)
            if cached is None or cached[0] != key:
                canvas.draw()
                cached = (key, canvas.copy_from_bbox(fig.bbox))
                self._background[name] = cached
            canvas.restore_region(cached[1])
            for artist in getattr(fig, _MOVING):
                if artist.get_visible():
                    fig.draw_artist(artist)
            rgba = np.asarray(canvas.buffer_rgba())
            buf = io.BytesIO()
            Image.fromarray(rgba).save(buf, format="png", compress_level=1)
            return buf.getvalue()


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """Render a figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def svg_bytes(fig: Figure) -> bytes:
    """Render a figure as SVG bytes (vector, for papers and slides)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()
