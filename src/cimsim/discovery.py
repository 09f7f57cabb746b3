"""Scenario discovery with PRIM (EMA Workbench): which parameter regions make initiatives fail?

Cases (parameter rows) are labelled as failures when the outcome falls below a threshold;
EMA Workbench's Patient Rule Induction Method peels boxes around the failures. For each box
the point on the peeling trajectory with the highest coverage at a density of at least
``density_threshold`` is selected, and its limits, coverage (share of all failures inside)
and density (share of failures among cases inside) are reported as a table and a figure.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@contextlib.contextmanager
def quiet_ema() -> Iterator[None]:
    """Silence EMA Workbench's info logging and import/runtime warnings inside the block."""
    loggers = [logging.getLogger(n) for n in ("EMA", "ema_workbench", "py.warnings")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _prim_module() -> Any:
    with quiet_ema():
        from ema_workbench.analysis import prim
    return prim


def failure_labels(y: np.ndarray, threshold: float, *, below: bool = True) -> np.ndarray:
    """Boolean cases of interest: outcome below (or, with ``below=False``, above) threshold."""
    y = np.asarray(y, float)
    return y < threshold if below else y > threshold


@dataclass
class Box:
    """One PRIM box: its statistics and the limits of its restricted parameters."""

    number: int
    coverage: float
    density: float
    mass: float
    n: int
    k: int
    limits: pd.DataFrame
    """Restricted parameters only; columns parameter, lo, hi, range_lo, range_hi."""
    trajectory: pd.DataFrame
    selected: int

    def describe(self) -> str:
        """One line, e.g. ``box 1: coverage 0.92, density 0.88 | 0.00 <= x1 <= 0.31``."""
        lims = "; ".join(
            f"{r.lo:.2f} <= {r.parameter} <= {r.hi:.2f}" for r in self.limits.itertuples()
        )
        return (
            f"box {self.number}: coverage {self.coverage:.2f}, density {self.density:.2f}, "
            f"mass {self.mass:.2f} | {lims or 'no restriction'}"
        )


@dataclass
class Discovery:
    """The result of :func:`find_boxes`."""

    boxes: list[Box]
    n_cases: int
    n_failures: int
    density_threshold: float
    notes: list[str] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        """Share of all cases that are failures."""
        return self.n_failures / self.n_cases if self.n_cases else math.nan

    def table(self) -> pd.DataFrame:
        """Long table: one row per box and restricted parameter, with the box statistics."""
        rows = []
        for b in self.boxes:
            lims = (
                b.limits
                if len(b.limits)
                else pd.DataFrame(
                    [["(none)", math.nan, math.nan, math.nan, math.nan]],
                    columns=["parameter", "lo", "hi", "range_lo", "range_hi"],
                )
            )
            for r in lims.itertuples():
                rows.append(
                    {
                        "box": b.number,
                        "coverage": b.coverage,
                        "density": b.density,
                        "mass": b.mass,
                        "n": b.n,
                        "failures": b.k,
                        "parameter": r.parameter,
                        "lo": r.lo,
                        "hi": r.hi,
                        "range_lo": r.range_lo,
                        "range_hi": r.range_hi,
                    }
                )
        return pd.DataFrame(
            rows,
            columns=[
                "box",
                "coverage",
                "density",
                "mass",
                "n",
                "failures",
                "parameter",
                "lo",
                "hi",
                "range_lo",
                "range_hi",
            ],
        )

    def trajectories(self) -> pd.DataFrame:
        """The peeling trajectories of all boxes, with the selected point marked."""
        frames = []
        for b in self.boxes:
            t = b.trajectory[["coverage", "density", "mass", "res_dim"]].copy()
            t.insert(0, "box", b.number)
            t.insert(1, "step", range(len(t)))
            t["selected"] = t["step"] == b.selected
            frames.append(t)
        if not frames:
            return pd.DataFrame(
                columns=["box", "step", "coverage", "density", "mass", "res_dim", "selected"]
            )
        return pd.concat(frames, ignore_index=True)


def _select(trajectory: pd.DataFrame, density_threshold: float) -> int:
    ok = trajectory[trajectory["density"] >= density_threshold]
    if len(ok):
        # highest coverage, then highest density, among the points dense enough
        return int(ok.sort_values(["coverage", "density"], ascending=False).index[0])
    return int(trajectory["density"].astype(float).idxmax())


def find_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    density_threshold: float = 0.8,
    max_boxes: int = 3,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """Run PRIM on cases ``x`` (numeric columns) and boolean cases of interest ``y``.

    Boxes are found one after the other (cases inside earlier boxes are removed) until
    ``max_boxes`` are found, no failures remain, or a box cannot reach
    ``density_threshold`` (the first box is always reported).
    """
    prim = _prim_module()
    x = x.reset_index(drop=True).astype(float)
    y = np.asarray(y, bool)
    disc = Discovery([], len(y), int(y.sum()), density_threshold)
    if disc.n_failures == 0:
        disc.notes.append("no case of interest: nothing to discover")
        return disc
    with quiet_ema():
        p = prim.Prim(x, y, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min)
        init = p.box_init
        for number in range(1, max_boxes + 1):
            box = p.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory.reset_index(drop=True)
            i = _select(traj, density_threshold)
            row = traj.iloc[i]
            if number > 1 and row["density"] < density_threshold:
                disc.notes.append(
                    f"box {number} reaches density {row['density']:.2f} < "
                    f"{density_threshold}: stopped"
                )
                break
            box.select(i)
            lims = box.box_lims[i]
            rows = []
            for col in x.columns:
                lo, hi = float(lims[col].iloc[0]), float(lims[col].iloc[1])
                rlo, rhi = float(init[col].iloc[0]), float(init[col].iloc[1])
                if lo > rlo or hi < rhi:
                    rows.append((col, lo, hi, rlo, rhi))
            disc.boxes.append(
                Box(
                    number=number,
                    coverage=float(row["coverage"]),
                    density=float(row["density"]),
                    mass=float(row["mass"]),
                    n=int(row["n"]),
                    k=int(row["k"]),
                    limits=pd.DataFrame(
                        rows, columns=["parameter", "lo", "hi", "range_lo", "range_hi"]
                    ),
                    trajectory=traj,
                    selected=i,
                )
            )
            if row["density"] < density_threshold:
                disc.notes.append(
                    f"box {number} reaches density {row['density']:.2f} only "
                    f"(threshold {density_threshold})"
                )
            if sum(b.k for b in disc.boxes) >= disc.n_failures:
                break
    return disc


def plot_discovery(disc: Discovery, out: Path, stem: str = "prim", title: str = "") -> list[Path]:
    """Peeling trajectories (coverage vs density) and box limits on normalised axes."""
    from cimsim.figures import new_figure, save_figure

    fig, axes = new_figure(11.0, 4.2, ncols=2)
    ax = axes[0, 0]
    for b in disc.boxes:
        t = b.trajectory
        sc = ax.scatter(
            t["coverage"],
            t["density"],
            c=t["res_dim"].astype(float),
            cmap="viridis",
            s=14,
            label=f"box {b.number}",
        )
        ax.plot(t["coverage"], t["density"], lw=0.6, color="grey")
        ax.scatter([b.coverage], [b.density], s=120, facecolors="none", edgecolors="red")
        ax.annotate(
            f"box {b.number}",
            (b.coverage, b.density),
            textcoords="offset points",
            xytext=(5, 5),
            fontsize="small",
            color="red",
        )
    if disc.boxes:
        fig.colorbar(sc, ax=ax, label="restricted parameters")
    ax.axhline(disc.density_threshold, color="red", lw=0.6, ls="--")
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title("peeling trajectories (red: selected boxes)", fontsize="small")

    ax = axes[0, 1]
    table = disc.table()
    table = table[table["parameter"] != "(none)"]
    params = list(dict.fromkeys(table["parameter"]))
    nb = max(len(disc.boxes), 1)
    for j, b in enumerate(disc.boxes):
        sub = table[table["box"] == b.number].set_index("parameter")
        for i, p in enumerate(params):
            if p not in sub.index:
                continue
            r = sub.loc[p]
            span = r.range_hi - r.range_lo or 1.0
            lo, hi = (r.lo - r.range_lo) / span, (r.hi - r.range_lo) / span
            y = i + (j - (nb - 1) / 2) * 0.8 / nb
            ax.barh(
                y,
                hi - lo,
                left=lo,
                height=0.7 / nb,
                color=f"C{j}",
                label=f"box {b.number} (cov {b.coverage:.2f}, dens {b.density:.2f})"
                if i == 0 or p == list(sub.index)[0]
                else None,
            )
            ax.text(hi + 0.01, y, f"{r.lo:.2f}–{r.hi:.2f}", va="center", fontsize="x-small")
    ax.set_yticks(range(len(params)), params)
    ax.set_xlim(0, 1.25)
    ax.set_xlabel("share of the sampled range")
    ax.set_title("box limits (restricted parameters)", fontsize="small")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        uniq = dict(zip(labels, handles, strict=True))
        ax.legend(uniq.values(), uniq.keys(), fontsize="x-small", loc="lower right")
    if title:
        fig.suptitle(title, fontsize="medium")
    return save_figure(fig, out, stem)


def discovery_markdown(disc: Discovery) -> str:
    """A markdown summary of the boxes."""
    lines = [
        f"{disc.n_failures} of {disc.n_cases} cases are failures "
        f"(base rate {disc.base_rate:.2f}); density threshold {disc.density_threshold}.",
        "",
        "| box | coverage | density | mass | restricted parameters |",
        "|---|---|---|---|---|",
    ]
    for b in disc.boxes:
        lims = "; ".join(f"{r.lo:.2f} ≤ {r.parameter} ≤ {r.hi:.2f}" for r in b.limits.itertuples())
        lines.append(
            f"| {b.number} | {b.coverage:.2f} | {b.density:.2f} | {b.mass:.2f} | "
            f"{lims or '(none)'} |"
        )
    lines += [""] + [f"- {n}" for n in disc.notes]
    return "\n".join(lines) + "\n"
