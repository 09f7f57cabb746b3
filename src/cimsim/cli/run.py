"""``cimsim scenarios``, ``cimsim run`` and ``cimsim compare`` (the main job)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from cimsim.errors import UserError
from cimsim.runs.options import ExecutionOptions
from cimsim.scenario import bundled_scenarios, load_scenario, parse_assignment, read_scenario_file


def overrides_from(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in pairs or []:
        path, value = parse_assignment(text)
        out[path] = value
    return out


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

    scenario = load_scenario(args.scenario, overrides_from(args.set))
    steps = args.steps if args.steps is not None else scenario.months
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
        print(
            json.dumps(
                {"scenario": scenario.name, "seed": args.seed, "steps": steps, "final": final}
            )
        )
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
    from cimsim.runs.engine import run_design

    names = args.scenarios or list(bundled_scenarios())
    scenarios = [load_scenario(name) for name in names]  # fail fast before any run
    options = ExecutionOptions.from_args(args)
    design = [{"backbone.enabled": True}, {"backbone.enabled": False}]
    short = {c: c.replace("_", " ")[:12] for c in CORE}
    header = f"{'scenario':<10} {'backbone':<8} " + " ".join(f"{short[c]:>12}" for c in CORE)
    lines, effects = [], []
    for name, scenario in zip(names, scenarios, strict=True):
        res = run_design(
            scenario,
            design,
            args.replicates,
            root_seed=args.seed,
            steps=args.steps,
            **options.kwargs(),
            progress=sys.stderr.isatty(),
            series=False,
        )
        finals = res.finals
        for point, label in ((0, "yes"), (1, "no")):
            rows = finals[finals["point"] == point]
            mean, sd = rows[list(CORE)].mean(), rows[list(CORE)].std(ddof=1)
            cells = " ".join(
                f"{mean[c]:6.3f}±{sd[c]:5.3f}" if not math.isnan(sd[c]) else f"{mean[c]:12.3f}"
                for c in CORE
            )
            lines.append(f"{name:<10} {label:<8} {cells}")
        paired = (
            finals[finals["point"] == 0].set_index("replicate")["impact"]
            - finals[finals["point"] == 1].set_index("replicate")["impact"]
        )
        sd = paired.std(ddof=1)
        spread = "" if math.isnan(sd) else f"  (sd of paired differences {sd:.3f})"
        effects.append(f"  {name:<10} {paired.mean():+.3f}{spread}")
    print(f"Final month, mean ± sd over {args.replicates} replicates (root seed {args.seed})")
    print(header)
    print("-" * len(header))
    print("\n".join(lines))
    print()
    print("Effect of the backbone on impact (with - without, paired by seed):")
    print("\n".join(effects))
    return 0
