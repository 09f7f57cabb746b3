"""The command line: ``cimsim scenarios | run | compare | sweep | sensitivity | experiment | app``.

User mistakes (a bad scenario file, an unknown scenario or parameter, a bad value)
exit with status 2 and one line on stderr, never a traceback, and write no output files.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from cimsim.scenario import (
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    parse_assignment,
    read_toml,
)

EXIT_USAGE = 2


class UserError(Exception):
    """A mistake in the user's input; printed as one line, exit status 2."""


def _overrides(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in pairs or []:
        path, value = parse_assignment(text)
        out[path] = value
    return out


def _int_at_least(minimum: int, maximum: int | None = None):  # noqa: ANN202
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"expected a number <= {maximum:,}, got {value:,}")
        return value

    return parse


_nonneg_int = _int_at_least(0)
_pos_int = _int_at_least(1)
_steps = _int_at_least(1, 10_000)  # the schema's limit on a scenario's months


# ------------------------------------------------------------------ commands


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the bundled scenarios, one line each."""
    found = bundled_scenarios()
    if not found:
        print("no bundled scenarios found", file=sys.stderr)
        return 1
    width = max(len(n) for n in found)
    for name, path in found.items():
        data = read_toml(path)
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

    from cimsim.indicators import CORE, REPORTERS
    from cimsim.sizing import check_fits
    from cimsim.store import output_folder, write_run

    scenario = load_scenario(args.scenario, _overrides(args.set))
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
    from cimsim.runs.commands import executor_from_args
    from cimsim.runs.engine import run_design

    names = args.scenarios or list(bundled_scenarios())
    scenarios = [load_scenario(name) for name in names]  # fail fast before any run
    executor, workers = executor_from_args(args)
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
            executor=executor,
            workers=workers,
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


def _lazy(module: str, func: str):  # noqa: ANN202
    def call(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(module).__getattribute__(func)(args)

    return call


# ------------------------------------------------------------------ parser


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``cimsim: error: ...``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"cimsim: error: {self.prog.removeprefix('cimsim ')}: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cimsim`` command."""
    parser = _Parser(
        prog="cimsim", description="Agent-based simulation of collective impact initiatives."
    )
    parser.add_argument("--version", action="version", version="cimsim 0.1.0")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("run", help="run one scenario")
    p.add_argument("scenario", help="a bundled scenario name or a path to a TOML file")
    p.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--steps", type=_steps, default=None, help="months (default: scenario's)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a parameter")
    p.add_argument("--out", default=None, metavar="DIR", help="write time series (CSV, Parquet)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="each case with and without its backbone (main job)")
    p.add_argument("scenarios", nargs="*", help="scenario names (default: all bundled)")
    p.add_argument("--replicates", type=_pos_int, default=10, help="seeds per cell (default 10)")
    p.add_argument("--seed", type=_nonneg_int, default=0, help="root seed (default 0)")
    p.add_argument("--steps", type=_steps, default=None, help="months (default: scenario's)")
    _executor_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="run a grid of parameter settings with replicates")
    p.add_argument("scenario")
    p.add_argument("--grid", action="append", required=True, metavar="PATH=v1,v2,...")
    p.add_argument("--replicates", type=_pos_int, default=10)
    p.add_argument("--seed", type=_nonneg_int, default=0, help="root seed (default 0)")
    p.add_argument("--steps", type=_steps, default=None)
    p.add_argument("--set", action="append", metavar="PATH=VALUE")
    p.add_argument("--out", required=True, metavar="DIR")
    _executor_options(p)
    p.set_defaults(func=_lazy("cimsim.runs.commands", "cmd_sweep"))

    p = sub.add_parser("sensitivity", help="Sobol or Morris sensitivity analysis (SALib)")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.add_argument("--method", choices=["sobol", "morris"], default="sobol")
    p.add_argument("--param", action="append", required=True, metavar="PATH=LO:HI")
    p.add_argument("--n", type=_pos_int, default=64, help="base sample size")
    p.add_argument("--replicates", type=_pos_int, default=2)
    p.add_argument("--outcome", default="impact")
    p.add_argument("--seed", type=_nonneg_int, default=0)
    p.add_argument("--steps", type=_steps, default=None)
    p.add_argument("--out", required=True, metavar="DIR")
    _executor_options(p)
    p.set_defaults(func=_lazy("cimsim.runs.commands", "cmd_sensitivity"))

    p = sub.add_parser("experiment", help="run a named experiment from experiments/")
    p.add_argument("name")
    p.add_argument("--quick", action="store_true", help="small sizes (well under a minute)")
    p.add_argument("--out", default=None, metavar="DIR")
    _executor_options(p)
    p.set_defaults(func=_lazy("cimsim.runs.commands", "cmd_experiment"))

    p = sub.add_parser("app", help="serve the browser interface (Solara)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_int_at_least(1, 65535), default=8765)
    p.add_argument(
        "--max-sessions",
        type=_int_at_least(1, 1000),
        default=32,
        help="most browser sessions at once (each holds up to two models; default 32)",
    )
    p.set_defaults(func=_lazy("cimsim.app.serve", "cmd_app"))
    return parser


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_pos_int, default=None, help="local processes (default: all)")
    p.add_argument("--serial", action="store_true", help="run in this process")
    p.add_argument("--dask", default=None, metavar="local[:N]|tcp://HOST:PORT")
    p.add_argument("--batch-size", type=_pos_int, default=None, help="runs per task")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl+C, so workers and folders are cleaned up."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cimsim`` console script."""
    import signal
    import threading

    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args) or 0)
    except (ScenarioError, UserError) as err:
        print(f"cimsim: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("cimsim: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("cimsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
