"""The command line: ``cimsim scenarios | run | compare | sweep | calibrate | sensitivity | ...``.

User mistakes (a bad scenario file, an unknown scenario or parameter, a bad value) are
:class:`cimsim.errors.CimsimError`: they exit with status 2 and one line on stderr, never
a traceback, and write no output files. Each command lives in its own module of this
package, imported only when it runs, so ``cimsim --help`` starts at once; nothing outside
this package imports it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from cimsim.errors import CimsimError
from cimsim.runs.options import ExecutionOptions

EXIT_USAGE = 2


def _int_at_least(minimum: int, maximum: int | None = None):
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


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {value}")
    return value


_nonneg_int = _int_at_least(0)
_pos_int = _int_at_least(1)
_steps = _int_at_least(1, 10_000)  # the schema's limit on a scenario's months


def _command(module: str, func: str):
    """The function ``func`` of ``cimsim.cli.<module>``, imported when the command runs."""

    def call(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"cimsim.cli.{module}"), func)(args)

    return call


# ------------------------------------------------------------------ parser


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``cimsim: error: ...``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"cimsim: error: {self.prog.removeprefix('cimsim ')}: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _experiment_names() -> list[str]:
    """Names of the experiment scripts (a folder listing: nothing is imported)."""
    from cimsim.experiment import list_experiments

    return list(list_experiments())


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
    p.set_defaults(func=_command("run", "cmd_scenarios"))

    p = sub.add_parser(
        "params",
        help="list every parameter: dotted path, type, range, value, meaning",
        description="Every dotted path a scenario file, --set or --grid may set, with its "
        "type, its allowed range, its value (the scenario's, or the default) and its meaning.",
    )
    p.add_argument("scenario", nargs="?", help="show this scenario's values (default: defaults)")
    p.add_argument("--grep", metavar="TEXT", help="only parameters whose path or meaning has TEXT")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.set_defaults(func=_command("params", "cmd_params"))

    p = sub.add_parser("run", help="run one scenario")
    p.add_argument("scenario", help="a bundled scenario name or a path to a TOML file")
    p.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--steps", type=_steps, default=None, help="months (default: scenario's)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a parameter")
    p.add_argument("--event", action="append", metavar="month=M,kind=K[,FIELD=V]",
                   help="add a timed event to the scenario's own (repeatable)")  # fmt: skip
    p.add_argument("--out", default=None, metavar="DIR", help="write time series (CSV, Parquet)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_command("run", "cmd_run"))

    p = sub.add_parser("compare", help="each case with and without its backbone (main job)")
    p.add_argument("scenarios", nargs="*", help="scenario names (default: all bundled)")
    p.add_argument("--replicates", type=_pos_int, default=10, help="seeds per cell (default 10)")
    p.add_argument("--seed", type=_nonneg_int, default=0, help="root seed (default 0)")
    p.add_argument("--steps", type=_steps, default=None, help="months (default: scenario's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    ExecutionOptions.add_arguments(p)
    p.set_defaults(func=_command("run", "cmd_compare"))

    p = sub.add_parser(
        "compare-plans",
        help="compare launch plans: each plan minus the first, paired by seed",
        description="Run every plan (a scenario name or TOML file) with the same replicate "
        "seeds and print, at milestone months, each plan's mean difference from the first "
        "plan with a 95%% confidence interval.",
    )
    p.add_argument("plans", nargs="+", metavar="PLAN", help="scenario names or TOML files")
    p.add_argument("--replicates", type=_pos_int, default=20, help="seeds per plan (default 20)")
    p.add_argument(
        "--months",
        default=None,
        metavar="M,M,...",
        help="milestone months (default 24,60,120 up to the plans' length)",
    )
    p.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help="reporter to compare (repeatable; default: the eight headline ones)",
    )
    p.add_argument("--seed", type=_nonneg_int, default=0, help="root seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", default=None, metavar="DIR", help="write tables and a figure")
    ExecutionOptions.add_arguments(p)
    p.set_defaults(func=_command("plans", "cmd_compare_plans"))

    p = sub.add_parser("sweep", help="run a grid of parameter settings with replicates")
    p.add_argument("scenario", help="a bundled scenario name or a path to a TOML file")
    p.add_argument("--grid", action="append", required=True, metavar="PATH=v1,v2,...",
                   help="values of one parameter (repeatable: full factorial)")  # fmt: skip
    p.add_argument("--replicates", type=_pos_int, default=10,
                   help="seeds per grid point, the same at every point (default 10)")  # fmt: skip
    p.add_argument("--seed", type=_nonneg_int, default=0, help="root seed (default 0)")
    p.add_argument("--steps", type=_steps, default=None, help="months (default: scenario's)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a parameter")
    p.add_argument("--event", action="append", metavar="month=M,kind=K[,FIELD=V]",
                   help="add a timed event to the scenario's own (repeatable)")  # fmt: skip
    p.add_argument("--out", required=True, metavar="DIR", help="result folder (resumable)")
    ExecutionOptions.add_arguments(p)
    p.set_defaults(func=_command("sweep", "cmd_sweep"))

    p = sub.add_parser(
        "calibrate",
        help="pattern-oriented calibration: which plausible calibrations reproduce the patterns",
        description="Sample calibration constants from their plausible ranges (a Latin "
        "hypercube; candidate 0 is the bundled calibration), run the pattern suite for each "
        "and write DIR/candidates.parquet (constants, every pattern's score and verdict, "
        "accepted) and DIR/report.md (which patterns pass, which constants they constrain). "
        "Resumable: a re-run with the same options skips the finished candidates.",
    )
    p.add_argument("cases", nargs="*", metavar="CASE", help="malmo, mechelen, skive (default all)")
    p.add_argument("--samples", type=_pos_int, default=100, help="candidates (default 100)")
    p.add_argument("--replicates", type=_int_at_least(2, 1000), default=4,
                   help="seeds per condition, the same for every candidate")  # fmt: skip
    p.add_argument("--alpha", type=_share, default=0.05,
                   help="level of the one-sided paired tests (default 0.05)")  # fmt: skip
    p.add_argument("--tolerance", type=_nonneg_int, default=0,
                   help="patterns a candidate may fail and be accepted (default 0)")  # fmt: skip
    p.add_argument("--seed", type=_nonneg_int, default=0,
                   help="seed of the sample and of the runs (default 0)")  # fmt: skip
    p.add_argument("--quick", action="store_true",
                   help="a few hundred agents per case (a smoke run)")  # fmt: skip
    p.add_argument("--out", required=True, metavar="DIR", help="result folder (resumable)")
    ExecutionOptions.add_arguments(p)
    p.set_defaults(func=_command("calibrate", "cmd_calibrate"))

    p = sub.add_parser("sensitivity", help="Sobol or Morris sensitivity analysis (SALib)")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="one or more scenarios, each analysed with the same sample")  # fmt: skip
    p.add_argument("--method", choices=["sobol", "morris"], default="sobol",
                   help="sobol (variance shares) or morris (screening); default sobol")  # fmt: skip
    p.add_argument("--param", action="append", required=True, metavar="PATH=LO:HI",
                   help="a float parameter and its range (repeatable)")  # fmt: skip
    p.add_argument("--n", type=_pos_int, default=64,
                   help="base sample size (sobol: a power of two; default 64)")  # fmt: skip
    p.add_argument("--replicates", type=_pos_int, default=2,
                   help="seeds per sample point, averaged (default 2)")  # fmt: skip
    p.add_argument("--outcome", default="impact", help="reporter to analyse (default impact)")
    p.add_argument("--seed", type=_nonneg_int, default=0, help="root seed (default 0)")
    p.add_argument("--steps", type=_steps, default=None, help="months (default: scenario's)")
    p.add_argument("--out", required=True, metavar="DIR", help="result folder (resumable)")
    ExecutionOptions.add_arguments(p)
    p.set_defaults(func=_command("sensitivity", "cmd_sensitivity"))

    p = sub.add_parser(
        "experiment",
        help="run a named experiment from experiments/",
        epilog="experiments: " + (", ".join(_experiment_names()) or "none found"),
    )
    p.add_argument("name", help="the experiment's name (see the list below)")
    p.add_argument("--quick", action="store_true", help="small sizes (well under a minute)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="result folder (default out/experiments/NAME)")  # fmt: skip
    ExecutionOptions.add_arguments(p)
    p.set_defaults(func=_command("experiment", "cmd_experiment"))

    p = sub.add_parser("app", help="serve the browser interface (Solara)")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to serve on (default 127.0.0.1: this machine only)")  # fmt: skip
    p.add_argument("--port", type=_int_at_least(1, 65535), default=8765,
                   help="port (default 8765)")  # fmt: skip
    p.add_argument(
        "--max-sessions",
        type=_int_at_least(1, 1000),
        default=32,
        help="most browser sessions at once (each holds up to two models; default 32)",
    )
    p.set_defaults(func=_command("app", "cmd_app"))
    return parser


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
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:  # e.g. `cimsim scenarios | head -1`: the reader has gone
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except CimsimError as err:
        print(f"cimsim: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("cimsim: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("cimsim: interrupted", file=sys.stderr)
        return 130


def console() -> NoReturn:
    """The ``cimsim`` console script (and ``python -m cimsim``): :func:`main`, then
    :func:`leave`."""
    leave(main())


def leave(code: int) -> NoReturn:
    """End the process with status ``code``, without tearing the interpreter down when
    nothing is left running.

    After a command returns, Python's teardown frees numba's compiled kernels and every
    module one by one: 0.17-0.28 s of a one-second ``cimsim run``, for memory the system
    takes back anyway. When no other thread and no child process is left (a Dask cluster
    or a worker pool would be), the streams are flushed, the exit handlers run (temporary
    folders are removed, logs flushed) and the process ends at once (as mypy does).
    Otherwise, or if a stream cannot be flushed, it exits the usual way."""
    import atexit
    import os
    import threading

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    multiprocessing = sys.modules.get("multiprocessing")
    alone = threading.active_count() == 1 and (
        multiprocessing is None or not multiprocessing.active_children()
    )
    if alone and run_exit_handlers is not None:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            raise SystemExit(code) from None
        run_exit_handlers()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    console()
