"""``cimsim sweep``: a full-factorial grid of parameter settings with replicates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cimsim.cli.common import scenario_from_args, warn, warn_late_events
from cimsim.errors import ScenarioError, UserError
from cimsim.runs.options import ExecutionOptions
from cimsim.scenario import parse_value, schema_for


def _split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` on top-level commas (commas inside [...] or quotes are kept)."""
    items: list[str] = []
    depth = 0
    quote = ""
    current = ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += ch
    items.append(current.strip())
    return items


def parse_grid(texts: list[str]) -> dict[str, list[Any]]:
    """Parse ``--grid PATH=v1,v2`` options into ``{path: [values]}`` (one-line errors)."""
    grid: dict[str, list[Any]] = {}
    for text in texts:
        if "=" not in text:
            raise UserError(
                f"--grid {text}: expected PATH=v1,v2,... e.g. backbone.enabled=true,false"
            )
        path, values = (s.strip() for s in text.split("=", 1))
        try:
            schema_for(path)
        except ScenarioError as err:
            raise UserError(f"--grid {path}: {err}") from None
        if path in grid:
            raise UserError(f"--grid {path}: given twice")
        items = [v for v in _split_values(values) if v]
        if not items:
            raise UserError(f"--grid {path}: empty list of values")
        grid[path] = [parse_value(v) for v in items]
    return grid


def summary_table(finals: Any, paths: list[str]) -> str:
    """Mean of the core reporters per grid point, with the number of runs."""
    from cimsim.indicators import CORE

    cols = [*paths, *CORE]
    grouped = finals.groupby("point", sort=True)
    means = grouped[list(CORE)].mean()
    first = grouped[paths].first() if paths else None
    counts = grouped.size()
    label = {c: c for c in cols}
    width = {c: max(7, len(label[c])) for c in cols}
    header = "  ".join(f"{label[c]:>{width[c]}}" for c in cols) + f"  {'n':>4}"
    lines = [header, "-" * len(header)]
    for point in means.index:
        cells = []
        for c in paths:
            cells.append(f"{str(first.loc[point, c]):>{width[c]}}")
        for c in CORE:
            cells.append(f"{means.loc[point, c]:>{width[c]}.3f}")
        lines.append("  ".join(cells) + f"  {int(counts.loc[point]):>4}")
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid of settings x replicates into ``--out`` (resumable) and print a summary."""
    from cimsim.runs.engine import make_grid, run_design

    grid = parse_grid(args.grid or [])
    out = Path(args.out)
    base = scenario_from_args(args)
    if "interventions" in grid and base.interventions:
        warn(f"--grid interventions=... replaces the {len(base.interventions)} scheduled event(s)")
    warn_late_events(base, args.steps if args.steps is not None else base.months)
    options = ExecutionOptions.from_args(args)
    res = run_design(
        base,
        make_grid(grid),
        args.replicates,
        root_seed=args.seed,
        steps=args.steps,
        out=out,
        progress=True,
        **options.kwargs(),
    )
    steps = res.manifest["steps"]
    print(
        f"{base.title or base.name}: {len(res.finals)} runs "
        f"({res.finals['point'].nunique()} grid points x {args.replicates} replicates), "
        f"{steps} months, root seed {args.seed}"
    )
    print("Final month, mean per grid point:")
    print(summary_table(res.finals, list(grid)))
    print(f"results written to {out}/ (finals.parquet, finals.csv, series.parquet, manifest.json)")
    return 0
