"""Compare launch plans: every plan against the first, paired by seed, at milestone months.

A planner's question is "what does plan B change compared with plan A?". Each plan is a
scenario (its own file, its own events). Every plan runs the same replicates with the same
seeds (common random numbers), so replicate ``r`` of plan B differs from replicate ``r`` of
plan A only by the plan; the difference per replicate is averaged, with a 95% confidence
interval from Student's t over the replicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cimsim.errors import UserError
from cimsim.indicators import CORE
from cimsim.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import pandas as pd

    from cimsim.runs.options import ExecutionOptions

MILESTONES = (24, 60, 120)
"""Default milestone months: two years, five years, ten years."""


def plan_labels(sources: Sequence[str], plans: Sequence[Scenario]) -> list[str]:
    """Short unique labels: the scenario's name, else its file's stem, else ``name-2``..."""
    labels: list[str] = []
    for source, plan in zip(sources, plans, strict=True):
        label = plan.name
        if label in labels:
            label = Path(source).stem
        base, k = label, 2
        while label in labels:
            label, k = f"{base}-{k}", k + 1
        labels.append(label)
    return labels


def mean_ci(diff: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of paired differences and its two-sided t confidence interval."""
    from scipy import stats

    n = diff.size
    mean = float(diff.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def compare_plans(
    sources: Sequence[str],
    replicates: int = 20,
    milestones: Sequence[int] | None = None,
    seed: int = 0,
    outcomes: Sequence[str] = CORE,
    options: ExecutionOptions | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every plan and compare each with the first.

    Args:
        sources: scenario names or TOML paths; the first is the reference plan.
        replicates: seeds per plan (the same seeds for every plan).
        milestones: months at which to compare (default ``MILESTONES`` up to the longest
            plan's months).
        seed: root seed of the replicate seeds.
        outcomes: reporters to compare.
        options: executor, workers and batch size.

    Returns:
        ``(levels, differences)``: ``levels`` has one row per plan, month and outcome
        (``plan, month, outcome, mean``); ``differences`` one row per plan after the first,
        month and outcome (``plan, month, outcome, mean, ci_low, ci_high``).
    """
    import pandas as pd

    from cimsim.runs.engine import run_design
    from cimsim.runs.options import ExecutionOptions

    if len(sources) < 2:
        raise UserError("compare-plans needs at least two plans (the first is the reference)")
    plans = [load_scenario(s) for s in sources]
    horizon = max(p.months for p in plans)
    months = sorted(set(milestones or [m for m in MILESTONES if m <= horizon] or [horizon]))
    if months[0] < 0 or months[-1] > 10_000:
        raise UserError(f"--months {months}: months must lie in 0..10000")
    steps = months[-1]
    labels = plan_labels(sources, plans)
    opts = options or ExecutionOptions()
    tables: dict[str, pd.DataFrame] = {}
    for label, plan in zip(labels, plans, strict=True):
        res = run_design(
            plan, [{}], replicates, root_seed=seed, steps=steps, progress=progress,
            **opts.kwargs(),
        )  # fmt: skip
        series = res.series
        tables[label] = series[series["month"].isin(months)].set_index(["month", "replicate"])
    levels, differences = [], []
    ref = tables[labels[0]]
    for label in labels:
        table = tables[label]
        for month in months:
            for outcome in outcomes:
                values = table.loc[month, outcome].sort_index().to_numpy()
                levels.append(
                    {"plan": label, "month": month, "outcome": outcome, "mean": values.mean()}
                )
                if label == labels[0]:
                    continue
                diff = values - ref.loc[month, outcome].sort_index().to_numpy()
                mean, low, high = mean_ci(diff)
                differences.append(
                    {"plan": label, "month": month, "outcome": outcome, "mean": mean,
                     "ci_low": low, "ci_high": high}
                )  # fmt: skip
    return pd.DataFrame(levels), pd.DataFrame(differences)


def comparison_table(
    levels: pd.DataFrame, differences: pd.DataFrame, reference: str, outcomes: Sequence[str]
) -> str:
    """The planner's table: per month and outcome, the reference level and each plan's
    paired difference with its 95% interval."""
    lines = []
    for month in sorted(levels["month"].unique()):
        lines.append(f"Month {month}:")
        width = max(len(o) for o in outcomes)
        for outcome in outcomes:
            row = levels[(levels.month == month) & (levels.outcome == outcome)]
            base = float(row[row.plan == reference]["mean"].iloc[0])
            cells = [f"{reference} {base:.3f}"]
            d = differences[(differences.month == month) & (differences.outcome == outcome)]
            for _, r in d.iterrows():
                mark = "*" if r.ci_low > 0 or r.ci_high < 0 else " "
                cells.append(f"{r.plan} {r['mean']:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]{mark}")
            lines.append(f"  {outcome:<{width}}  " + "   ".join(cells))
    return "\n".join(lines)


def plot_differences(differences: pd.DataFrame, outcome: str = "impact") -> Any:
    """A figure of each plan's paired difference from the reference, with its 95% interval."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    d = differences[differences.outcome == outcome]
    for plan, rows in d.groupby("plan", sort=False):
        rows = rows.sort_values("month")
        ax.plot(rows.month, rows["mean"], marker="o", label=str(plan))
        ax.fill_between(rows.month, rows.ci_low, rows.ci_high, alpha=0.2)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("month")
    ax.set_ylabel(f"difference in {outcome} (share 0-1)")
    ax.set_title(f"Each plan minus the first: {outcome}, mean and 95% interval")
    ax.legend()
    fig.tight_layout()
    return fig
