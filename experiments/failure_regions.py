"""Experiment 5 — failure regions: in which parameter regions do initiatives fail?

Parameters are sampled with a Latin hypercube (scipy, fixed seed), every point runs with
replicates, and a point counts as a failure when its mean final impact falls below half
the mean impact of the case as described (its base scenario, same months and size). PRIM
(EMA Workbench) then finds boxes of parameter space where failures concentrate; their
coverage, density and limits go into a table, a figure and the report. A box must reach a
density of 0.8, or halfway from the failure base rate to 1 when failures are common.

    cimsim experiment failure-regions [--quick] [--out DIR]
    python experiments/failure_regions.py [--quick] [--out DIR]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from cimsim import load_scenario
from cimsim.experiment import ExperimentContext, experiment_main

NAME = "failure-regions"
DESCRIPTION = "PRIM boxes of the parameter regions where Malmö-like initiatives fail"
CASE = "malmo"
PARAMETERS = {
    "settings.initial_trust": (0.0, 1.0),
    "preconditions.resources": (0.0, 1.0),
    "settings.communication": (0.0, 1.0),
    "preconditions.urgency": (0.0, 1.0),
    "preconditions.champion_strength": (0.0, 1.0),
    "backbone.capacity": (0.0, 1.0),
    "settings.trust_loss": (0.0, 1.0),
}
FAILURE_SHARE = 0.5
"""A point fails when its impact is below this share of the base case's impact."""


def latin_hypercube(params: dict[str, tuple[float, float]], n: int, seed: int) -> pd.DataFrame:
    """``n`` Latin hypercube points scaled to the parameter ranges."""
    unit = qmc.LatinHypercube(d=len(params), seed=seed).random(n)
    lo = np.array([b[0] for b in params.values()])
    hi = np.array([b[1] for b in params.values()])
    return pd.DataFrame(qmc.scale(unit, lo, hi), columns=list(params))


def run(ctx: ExperimentContext) -> dict[str, Any]:
    """Sample, run, label failures and find PRIM boxes; write tables, figure, report.md."""
    from cimsim.files import write_csv

    if ctx.quick:
        n, reps, steps, size = 60, 1, 24, {"population.citizens": 200}
    else:
        n, reps, steps, size = 500, 2, None, {}
    scenario = load_scenario(CASE, size)
    x = latin_hypercube(PARAMETERS, n, seed=ctx.seed)
    ctx.echo(f"{CASE}: base case, then {n} Latin hypercube points x {reps} replicates")
    impact, y, threshold, base_impact, note = label_failures(ctx, scenario, x, reps, steps)
    cases = x.assign(impact=impact, failure=y)
    write_csv(ctx.out / "cases.csv", cases)
    return report(ctx, x, impact, y, threshold, base_impact, note, reps)


def label_failures(
    ctx: ExperimentContext,
    scenario: Any,
    x: pd.DataFrame,
    reps: int,
    steps: int | None,
    *,
    root_seed: int | None = None,
    out: Path | None = None,
) -> tuple[np.ndarray, np.ndarray, float, float, str]:
    """Run the base case and every point of ``x``; a point fails when its mean final impact
    falls below ``FAILURE_SHARE`` of the base case's (the lower quartile of impact when no
    point or every point would fail). Returns impact per point, the failure labels, the
    threshold, the base impact and a note on the threshold. With ``out`` the runs are
    kept in ``out/base`` and ``out/design`` (resumable)."""
    from cimsim.discovery import failure_labels

    seed = ctx.seed if root_seed is None else root_seed
    design = [{k: float(v) for k, v in row.items()} for _, row in x.iterrows()]
    base = ctx.run_design(
        scenario,
        [{}],
        max(reps, 2),
        steps=steps,
        root_seed=seed,
        out=None if out is None else out / "base",
    )
    base_impact = float(base.finals["impact"].mean())
    threshold = FAILURE_SHARE * base_impact
    res = ctx.run_design(
        scenario,
        design,
        reps,
        steps=steps,
        root_seed=seed,
        out=None if out is None else out / "design",
    )
    impact = res.finals.groupby("point")["impact"].mean().reindex(range(len(x))).to_numpy(float)
    y = failure_labels(impact, threshold)
    note = ""
    if y.sum() == 0 or y.all():
        threshold = float(np.quantile(impact, 0.25))
        y = failure_labels(impact, threshold)
        note = (
            "(no point or every point fell below half the base impact; the lower quartile "
            "of impact is used as threshold instead)"
        )
    return impact, y, threshold, base_impact, note


def density_threshold(base_rate: float) -> float:
    """Minimum box density: 0.8, or halfway from the base rate to 1 if that is higher."""
    return max(0.8, base_rate + 0.5 * (1.0 - base_rate))


def report(
    ctx: ExperimentContext,
    x: pd.DataFrame,
    impact: np.ndarray,
    y: np.ndarray,
    threshold: float,
    base_impact: float,
    note: str = "",
    reps: int = 1,
) -> dict[str, Any]:
    """Find PRIM boxes for labelled cases; write boxes, trajectory, figure and report.md."""
    from cimsim.discovery import discovery_markdown, find_boxes, plot_discovery
    from cimsim.files import write_csv, write_text

    n = len(x)
    disc = find_boxes(x, y, density_threshold=density_threshold(float(np.mean(y))), max_boxes=3)
    write_csv(ctx.out / "boxes.csv", disc.table())
    write_csv(ctx.out / "peeling_trajectory.csv", disc.trajectories())
    plot_discovery(
        disc, ctx.out, "failure_boxes", title=f"{CASE}: failure = impact < {threshold:.3f}"
    )
    lines = [
        "# Failure regions (PRIM scenario discovery)",
        "",
        f"Case {CASE}; {n} Latin hypercube points over {len(PARAMETERS)} parameters, "
        f"{reps} replicate(s) each; "
        f"{'24 months, 200 citizen agents (quick)' if ctx.quick else 'scenario months'}. "
        f"Base-case impact {base_impact:.3f}; failure = mean final impact < {threshold:.3f} "
        f"({FAILURE_SHARE:.0%} of the base case) {note}".rstrip(),
        "",
        discovery_markdown(disc),
        "## Findings",
        "",
    ]
    if disc.boxes:
        b = disc.boxes[0]
        lines.append(
            f"- {disc.n_failures} of {n} sampled initiatives fail. The main failure region "
            f"holds {b.coverage:.0%} of all failures, and {b.density:.0%} of the initiatives "
            f"inside it fail (base rate {disc.base_rate:.0%}): "
            + "; ".join(f"{r.parameter} in [{r.lo:.2f}, {r.hi:.2f}]" for r in b.limits.itertuples())
            + "."
        )
    else:
        lines.append("- No failure box found.")
    write_text(ctx.out / "report.md", "\n".join(lines) + "\n")
    return {"discovery": disc, "threshold": threshold, "base_impact": base_impact}


if __name__ == "__main__":
    raise SystemExit(experiment_main(run, NAME))
