"""``cimsim sensitivity``: Sobol or Morris indices of one outcome (SALib), per scenario."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from cimsim.errors import ScenarioError, UserError
from cimsim.files import check_out
from cimsim.runs.options import ExecutionOptions
from cimsim.scenario import get_path, load_scenario


def _echo(msg: str) -> None:
    print(msg, flush=True)


def parse_param(text: str, scenario: Any) -> tuple[str, float, float]:
    """Parse ``PATH=LO:HI`` for a continuous parameter of ``scenario``; one-line errors."""
    if "=" not in text or ":" not in text.split("=", 1)[1]:
        raise UserError(f"--param {text}: expected PATH=LO:HI, e.g. settings.initial_trust=0.1:0.9")
    path, rng = (s.strip() for s in text.split("=", 1))
    get_path(scenario, path)  # ScenarioError "unknown parameter 'x'"
    value = get_path(scenario, path)
    if isinstance(value, bool) or not isinstance(value, float):
        raise UserError(f"--param {text}: '{path}' is not a continuous (float) parameter")
    lo_text, hi_text = rng.split(":", 1)
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise UserError(f"--param {text}: LO and HI must be numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise UserError(f"--param {text}: LO and HI must be finite")
    if lo >= hi:
        raise UserError(f"--param {text}: LO must be below HI")
    for bound in (lo, hi):
        try:
            load_scenario(scenario, {path: bound})
        except ScenarioError as err:
            raise UserError(f"--param {text}: {bound} is out of range ({err})") from None
    return path, lo, hi


def _echo(msg: str) -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------ sensitivity


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Sobol or Morris indices of one outcome for one or more scenarios (SALib)."""
    from cimsim.errors import require

    require("SALib", "analysis", "sensitivity")
    require("matplotlib", "analysis", "sensitivity")
    from cimsim.indicators import REPORTERS
    from cimsim.sensitivity import check_n, n_samples, run_sensitivity

    scenarios = [load_scenario(s) for s in args.scenarios]  # ScenarioError on a bad name
    if args.outcome not in REPORTERS:
        raise UserError(f"--outcome {args.outcome}: unknown (choose from {', '.join(REPORTERS)})")
    params: dict[str, tuple[float, float]] = {}
    for text in args.param:
        path, lo, hi = parse_param(text, scenarios[0])
        for sc in scenarios[1:]:
            parse_param(text, sc)
        if path in params:
            raise UserError(f"--param {path}: given twice")
        params[path] = (lo, hi)
    if args.method == "sobol" and len(params) < 2:
        raise UserError("Sobol analysis needs at least two --param ranges")
    try:
        check_n(args.method, args.n)
    except ValueError as err:
        raise UserError(str(err)) from None
    check_out(args.out)
    options = ExecutionOptions.from_args(args)
    runs = n_samples(args.method, args.n, len(params)) * args.replicates * len(scenarios)
    print(
        f"{args.method}: {len(params)} parameters, n = {args.n}, {args.replicates} replicates, "
        f"{len(scenarios)} scenario(s): {runs} runs",
        flush=True,
    )
    t0 = time.perf_counter()
    comp = run_sensitivity(
        args.scenarios,
        params,
        method=args.method,
        n=args.n,
        replicates=args.replicates,
        outcome=args.outcome,
        seed=args.seed,
        steps=args.steps,
        progress=sys.stderr.isatty(),
        out=Path(args.out),
        echo=_echo,
        **options.kwargs(),
    )
    first = "ST" if args.method == "sobol" else "mu_star"
    for name, res in comp.results.items():
        ranked = res.index(first).sort_values(ascending=False)
        share = "n/a" if math.isnan(res.noise_share) else f"{res.noise_share:.2f}"
        print(f"{name} ({first}, noise share {share}):")
        for p, v in ranked.items():
            print(f"  {p:<34} {v:7.3f}")
    for w in comp.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(
        f"{time.perf_counter() - t0:.1f} s; results written to {args.out}/ "
        "(indices.csv, sensitivity.png/.svg, report.md)"
    )
    return 0
