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
"""Resolution of the figures shown on the page (exports use a higher one). At 72 dpi a
point is a pixel, so the font sizes below are the pixel sizes on a page showing the image
at its natural size (the dashboard does at 1440 px and wider)."""
SIZE = (8.4, 3.75)
"""Size of a time-series chart (inches): 605 x 270 px on the page."""
NETWORK_SIZE = (5.9, 5.0)
"""Size of the network view (inches): 425 x 360 px on the page."""
FONT = 14
"""Tick, legend and axis label size (px at ``DPI``); titles are 2 px larger."""

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


def _axes(fig: Figure, ylabel: str = "share 0-1") -> Axes:
    ax = fig.add_axes((0.09, 0.17, 0.56, 0.72))
    ax.set_xlabel("month since launch", fontsize=FONT)
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.grid(alpha=0.3)
    return ax


def _legend(ax: Axes) -> None:
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.02), fontsize=FONT, frameon=False,
        handlelength=1.5, labelspacing=0.3,
    )  # fmt: skip


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
    ax.set_title(title + ("  (B dashed)" if session.compare else ""), fontsize=FONT + 2, loc="left")
    _legend(ax)
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
    ax.set_title(
        "Progress per issue area (A): rises as the problem is solved", fontsize=FONT + 2, loc="left"
    )
    _legend(ax)
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
    ax = _axes(fig, "A − B (share 0-1)")
    cols = BLOCKS + OUTCOMES
    lines = [
        ax.plot([], [], color=f"C{i}", lw=1.4, label=lab)[0] for i, (_, lab) in enumerate(cols)
    ]
    _moving(fig, *lines)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_title(
        f"A − B, B = {session.b_label()[3:-1]}: above 0, A is ahead", fontsize=FONT + 2, loc="left"
    )
    _legend(ax)
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


def network_figure(
    session: Session, legend: bool = False, plan: str = "A"
) -> tuple[Figure, Updater]:
    """The sampled stakeholder network and its updater (see :func:`network_caption`).

    Colour = sector, size = influence; engaged nodes are filled with a dark rim, aware
    ones pale, inactive ones hollow. Edge width shows trust. The layout is fixed per reset.
    """
    model, view = session.view(plan)
    fig = _new_figure(NETWORK_SIZE)
    ax = fig.add_axes((0.0, 0.1, 1.0, 0.82))
    ax.set_axis_off()
    pos = view.pos if view.nodes.size else np.zeros((1, 2))
    ax.set_xlim(pos[:, 0].min() - 0.05, pos[:, 0].max() + 0.05)
    ax.set_ylim(pos[:, 1].min() - 0.05, pos[:, 1].max() + 0.05)
    edges = LineCollection([], colors="0.55", alpha=0.35, zorder=1)
    ax.add_collection(edges)
    nodes = ax.scatter(view.pos[:, 0], view.pos[:, 1], s=20, zorder=2) if view.nodes.size else None
    sector_rgba = np.array([to_rgba(c) for c in SECTOR_COLOURS])
    whose = f"plan {plan}'s" if session.compare else "the"
    fig.suptitle(f"Who is engaged: {whose} stakeholder network", fontsize=FONT + 2)
    _moving(fig, edges, *([nodes] if nodes is not None else []))
    drawn: dict[str, np.ndarray] = {}
    handles = [
        Line2D([], [], marker="o", ls="", color=c, label=lab)
        for c, lab in zip(SECTOR_COLOURS, SECTOR_LABELS, strict=True)
    ]
    handles.append(Line2D([], [], marker="o", ls="", mfc="white", mec="k", label="inactive"))
    if legend:  # the page explains the marks under the image; exports carry them
        fig.legend(
            handles=handles[:4], loc="lower center", ncol=4, fontsize=11, frameon=False,
            handletextpad=0.1, columnspacing=0.8,
        )  # fmt: skip

    def update() -> None:
        pop, ties, rows = model.pop, model.ties, view.nodes
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


def network_caption(session: Session, plan: str = "A") -> str:
    """One line under the network: month, sample size and share engaged in the sample."""
    model, view = session.view(plan)
    pop, rows = model.pop, view.nodes
    n = len(pop)
    shown = f"{rows.size} of {n}" if rows.size < n else f"all {n}"
    share = float((pop.engagement[rows] == ENGAGED).mean()) if rows.size else 0.0
    return f"Month {session.month}: {shown} stakeholders shown, {share:.0%} of them engaged"


def node_at(
    fig: Figure, session: Session, x: float, y: float, radius: float = 0.03, plan: str = "A"
) -> int | None:
    """The sampled stakeholder (row of plan ``plan``'s network sample) drawn nearest to a click at
    ``(x, y)`` on the network image, as fractions of its width and height from the top
    left; None when no node lies within ``radius`` (a fraction of the width)."""
    view = session.view(plan)[1]
    if not view.nodes.size:
        return None
    ax = fig.axes[0]
    px = ax.transData.transform(view.pos)  # display pixels, origin bottom left
    width, height = fig.bbox.width, fig.bbox.height
    fx, fy = px[:, 0] / width, 1.0 - px[:, 1] / height
    dist = np.hypot((fx - x), (fy - y) * height / width)
    best = int(np.argmin(dist))
    return best if dist[best] <= radius else None


def values_at(fig: Figure, x: float) -> str | None:
    """What a time-series chart shows at the pointer: the month under ``x`` (a fraction of
    the image's width) and each labelled line's value that month (dashed lines of plan B
    as "B"), e.g. ``"Month 37: impact 0.21, trust 0.55"``; None outside the data."""
    ax = fig.axes[0]
    month = ax.transData.inverted().transform((x * fig.bbox.width, 0.0))[0]
    values: dict[str, str] = {}  # label -> "0.44" (A) or "0.44 (B 0.29)"
    colours: dict[str, str] = {}  # colour -> label of A's line
    where = None
    for line in ax.get_lines():
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        if xs.size == 0 or xs.size != ys.size or xs[0] == xs[-1]:
            continue  # empty, or a vertical event marker
        i = int(np.argmin(np.abs(xs - month)))
        if abs(xs[i] - month) > max(1.0, (xs[-1] - xs[0]) / max(xs.size - 1, 1)):
            continue
        where = xs[i]
        label = str(line.get_label()).replace("\n", " ")
        colour = str(line.get_color())
        if not label.startswith("_"):
            values[label] = f"{ys[i]:.2f}"
            colours[colour] = label
        elif line.get_linestyle() == "--" and colour in colours:  # plan B, same colour
            values[colours[colour]] += f" (B {ys[i]:.2f})"
    parts = [f"{k} {v}" for k, v in values.items()]
    if where is None:
        return None
    return f"Month {int(round(where))}: " + ", ".join(parts)


def replicate_figure(session: Session) -> tuple[Figure, Updater]:
    """Replicate mode: B − A per month over the replicates (mean and 95% band) for impact,
    trust and participation, the numbers of ``cimsim compare-plans``."""
    fig = _new_figure()
    ax = _axes(fig, "B − A (share 0-1)")
    ax.axhline(0, color="k", lw=0.8)
    done = session.replicated
    if done is None:
        ax.set_title(
            "Replicates: press 'Run replicates' (compare mode)", fontsize=FONT + 2, loc="left"
        )
        return fig, lambda: None
    n, _levels, diffs = done
    for i, (col, lab) in enumerate(OUTCOMES):
        rows = diffs[diffs.outcome == col].sort_values("month")
        ax.plot(rows.month, rows["mean"], color=f"C{i}", lw=1.8, label=lab)
        ax.fill_between(rows.month, rows.ci_low, rows.ci_high, color=f"C{i}", alpha=0.2)
    ax.set_title(f"B − A over {n} seeds, mean and 95% band", fontsize=FONT + 2, loc="left")
    _legend(ax)
    return fig, lambda: None


BUILDERS: dict[str, Callable[[Session], tuple[Figure, Updater]]] = {
    "network": network_figure,
    "network_b": lambda s: network_figure(s, plan="B"),
    "blocks": lambda s: series_figure(
        s, BLOCKS, "Building blocks: each rises as it is put in place"
    ),
    "outcomes": lambda s: series_figure(s, OUTCOMES, "Outcomes: impact, trust, participation rise"),
    "sectors": lambda s: series_figure(
        s, SECTOR_COLUMNS, "Share engaged per sector (rises as it joins)", SECTOR_COLOURS
    ),
    "areas": areas_figure,
    "difference": difference_figure,
    "replicates": replicate_figure,
}
"""Figure name -> builder returning (figure, updater)."""


def make_figure(session: Session, name: str) -> Figure:
    """A fresh, up-to-date figure (used for exports and tests)."""
    if name in ("network", "network_b"):
        fig, update = network_figure(session, True, "B" if name == "network_b" else "A")
    else:
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
        """The named figure as PNG bytes (at :data:`DPI`, 128 colours), up to date."""
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
            # the figures are opaque: RGB, reduced to 128 colours (a third of the bytes of
            # a full-colour PNG, and quicker to encode, send and decode each month)
            image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
            image = image.quantize(colors=128, method=Image.Quantize.FASTOCTREE)
            palette = np.asarray(image.getpalette(), np.uint8).reshape(-1, 3)
            palette[(palette >= 250).all(axis=1)] = 255  # the page's white stays white
            image.putpalette(palette.ravel().tolist())
            image.save(buf, format="png", compress_level=1)
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
