"""``cimsim scenarios``, ``cimsim run`` and ``cimsim compare`` (the main job)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from cimsim.cli.common import scenario_from_args, warn_late_events
from cimsim.errors import UserError
from cimsim.runs.options import ExecutionOptions
from cimsim.scenario import bundled_scenarios, load_scenario, read_scenario_file


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the bundled scenarios, one line each."""
    found = bundled_scenarios()
    if not found:
        print("no bundled scenarios found", file=sys.stderr)
        return 1
    width = max(len(n) for n in found)
    for name, path in found.items():
        data = read_scenario_file(path)
        print(f"{name:<{width}}  {data.get('description', data.get('title', ''))}")
    return 0


def run_one(scenario: Any, seed: int, steps: int, progress: bool = False) -> Any:
    """Run one initiative and return it (the progress bar goes to stderr).

    The command line runs :class:`~cimsim.initiative.Initiative` directly: the same
    results as the Mesa model, without importing Mesa."""
    from cimsim.initiative import Initiative

    model = Initiative(scenario, rng=seed)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, unit="month", file=sys.stderr, leave=False, mininterval=0.5)
    for _ in range(steps):
        model.step()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return model


def _show_progress(scenario: Any, steps: int) -> bool:
    size = (
        scenario.population.citizens
        + scenario.population.businesses
        + scenario.population.civil_society
        + scenario.population.government
    )
    return size * steps > 2_000_000 and sys.stderr.isatty()


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario and print a summary, JSON, or write the time series."""
    from contextlib import ExitStack

    from cimsim.files import output_folder, write_run
    from cimsim.indicators import CORE, REPORTERS
    from cimsim.sizing import check_fits

    scenario = scenario_from_args(args)
    steps = args.steps if args.steps is not None else scenario.months
    warn_late_events(scenario, steps)
    check_fits(scenario, steps)
    with ExitStack() as stack:
        folder = None
        if args.out is not None:
            try:  # the folder is made before the run: an unwritable --out fails at once
                folder = stack.enter_context(output_folder(Path(args.out)))
            except OSError as err:
                raise UserError(f"--out {args.out}: {err.strerror or err}") from None
        model = run_one(scenario, args.seed, steps, progress=_show_progress(scenario, steps))
        if folder is not None:
            write_run(folder, model, seed=args.seed, steps=steps)
    final = {name: float(model.latest[name]) for name in REPORTERS}
    if args.json:
        from cimsim.provenance import provenance

        print(
            json.dumps(
                {"scenario": scenario.name, "seed": args.seed, "steps": steps, "final": final,
                 "provenance": provenance(scenario, args.seed)}
            )
        )  # fmt: skip
        return 0
    print(f"{scenario.title or scenario.name}: seed {args.seed}, {steps} months")
    for name in REPORTERS:
        mark = "*" if name in CORE else " "
        print(f" {mark} {name:<28} {final[name]:8.3f}")
    print(" * headline indicators (building blocks, outcome and health), all in [0, 1]")
    if args.out is not None:
        print(f"time series written to {args.out}/")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """The main job: each case with and without its backbone, one comparison table.

    Runs go through the run engine (all cores by default); replicate r uses the same seed
    with and without the backbone, so the effect is a paired difference.
    """
    from cimsim.indicators import CORE
    from cimsim.plans import mean_ci
    from cimsim.runs.engine import run_design

    names = args.scenarios or list(bundled_scenarios())
    if not names:
        raise UserError("no bundled scenarios found; name scenario files: cimsim compare A.toml")
    scenarios = [load_scenario(name) for name in names]  # fail fast before any run
    options = ExecutionOptions.from_args(args)
    design = [{"backbone.enabled": True}, {"backbone.enabled": False}]
    results, effects, months = [], [], {}
    for name, scenario in zip(names, scenarios, strict=True):
        res = run_design(
            scenario,
            design,
            args.replicates,
            root_seed=args.seed,
            steps=args.steps,
            **options.kwargs(),
            progress=sys.stderr.isatty() and not args.json,
            series=False,
        )
        months[name] = int(res.manifest["steps"])
        finals = res.finals
        for point, backbone in ((0, True), (1, False)):
            rows = finals[finals["point"] == point]
            for c in CORE:
                sd = float(rows[c].std(ddof=1)) if len(rows) > 1 else float("nan")
                results.append(
                    {"scenario": name, "backbone": backbone, "outcome": c,
                     "mean": float(rows[c].mean()), "sd": sd}
                )  # fmt: skip
        with_, without = (finals[finals["point"] == p].set_index("replicate") for p in (0, 1))
        for c in CORE:
            mean, low, high = mean_ci((with_[c] - without[c]).sort_index().to_numpy())
            effects.append(
                {"scenario": name, "outcome": c, "mean": mean, "ci_low": low, "ci_high": high}
            )
    if args.json:
        summary = {"replicates": args.replicates, "seed": args.seed, "final_month": months}
        print(json.dumps({**summary, "results": results, "effects": effects}))
        return 0
    final = ", ".join(f"{n} month {m}" for n, m in months.items())
    print(f"Final month ({final}): mean ± sd over {args.replicates} replicates "
          f"(root seed {args.seed}); all values are shares 0-1")  # fmt: skip
    cols = [(n, b) for n in names for b in (True, False)]
    heads = [f"{n} {'with' if b else 'without'}" for n, b in cols]
    width = max(13, *(len(h) for h in heads))
    first = max(len("outcome"), *(len(c) for c in CORE))
    header = f"{'outcome':<{first}}  " + "  ".join(f"{h:>{width}}" for h in heads)
    print(header)
    print("-" * len(header))
    table = {(r["scenario"], r["backbone"], r["outcome"]): r for r in results}
    for c in CORE:
        cells = []
        for n, b in cols:
            r = table[(n, b, c)]
            text = f"{r['mean']:.3f}" + ("" if math.isnan(r["sd"]) else f"±{r['sd']:.3f}")
            cells.append(f"{text:>{width}}")
        print(f"{c:<{first}}  " + "  ".join(cells))
    print()
    print("Effect of the backbone on impact (with - without, paired by seed; 95% interval):")
    for e in effects:
        if e["outcome"] == "impact":
            ci = "" if math.isnan(e["ci_low"]) else f" [{e['ci_low']:+.3f}, {e['ci_high']:+.3f}]"
            print(f"  {e['scenario']:<{max(len(n) for n in names)}}  {e['mean']:+.3f}{ci}")
    return 0
