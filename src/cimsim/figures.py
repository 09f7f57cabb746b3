"""Shared plotting helpers for analyses and experiments (matplotlib).

Figures are plain ``matplotlib.figure.Figure`` objects, not pyplot figures, so importing
this module never changes the user's backend (notebooks keep ``%matplotlib inline``) and
nothing needs a display. Every figure is saved twice, as PNG (for reports) and SVG (for
papers), atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cimsim.files import atomic_write

__all__ = ["grouped_bars", "line_panel", "new_figure", "save_figure"]


def new_figure(width: float = 7.0, height: float = 4.0, ncols: int = 1, nrows: int = 1):
    """A new figure and its 2-D array of axes (constrained layout)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def save_figure(fig: Figure, out: Path, stem: str, dpi: int = 120) -> list[Path]:
    """Save ``fig`` as ``out/stem.png`` and ``out/stem.svg`` atomically; return the paths."""
    paths = []
    for ext in ("png", "svg"):
        path = Path(out) / f"{stem}.{ext}"
        atomic_write(path, lambda tmp, ext=ext: fig.savefig(tmp, format=ext, dpi=dpi))
        paths.append(path)
    return paths


def grouped_bars(
    ax: Axes,
    table: pd.DataFrame,
    *,
    category: str,
    group: str,
    value: str = "value",
    error: str | None = "conf",
    order: Sequence[str] | None = None,
) -> None:
    """Draw grouped bars: one cluster per ``category``, one bar per ``group`` value.

    ``table`` is long format; ``error`` (optional) names a column of half-widths.
    """
    cats = list(order) if order is not None else list(dict.fromkeys(table[category]))
    groups = list(dict.fromkeys(table[group]))
    width = 0.8 / max(len(groups), 1)
    x = np.arange(len(cats))
    for i, g in enumerate(groups):
        sub = table[table[group] == g].set_index(category).reindex(cats)
        err = None
        if error is not None and error in sub:
            err = sub[error].to_numpy(float)
            err = np.where(np.isfinite(err), err, 0.0)
        ax.bar(
            x + (i - (len(groups) - 1) / 2) * width,
            sub[value].to_numpy(float),
            width,
            yerr=err,
            capsize=2,
            label=str(g),
        )
    ax.set_xticks(x, [str(c) for c in cats], rotation=30, ha="right")
    ax.axhline(0, color="black", lw=0.5)
    ax.legend(fontsize="small")


def line_panel(
    ax: Axes,
    x: np.ndarray,
    lines: dict[str, tuple[np.ndarray, np.ndarray | None]],
    *,
    xlabel: str,
    ylabel: str,
) -> None:
    """Plot named lines ``{label: (y, half_width_or_None)}`` with shaded bands."""
    for label, (y, hw) in lines.items():
        (line,) = ax.plot(x, y, marker="o", ms=3, label=label)
        if hw is not None:
            ax.fill_between(x, y - hw, y + hw, color=line.get_color(), alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
