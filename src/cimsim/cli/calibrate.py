"""``cimsim calibrate [CASES...]``: which sampled calibrations reproduce every pattern."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cimsim.errors import UserError
from cimsim.files import check_out
from cimsim.runs.options import ExecutionOptions


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Sample calibrations, evaluate the pattern suite for each, write the tables."""
    from cimsim import calibrate
    from cimsim.patterns import CASES

    cases = tuple(dict.fromkeys(args.cases)) or CASES
    for case in cases:
        if case not in CASES:
            raise UserError(f"unknown case {case!r} (the pattern suite covers {', '.join(CASES)})")
    check_out(args.out)
    options = ExecutionOptions.from_args(args)
    started = time.perf_counter()
    candidates = calibrate.sample(args.samples, seed=args.seed)
    table = calibrate.evaluate(
        candidates,
        cases,
        args.replicates,
        out=args.out,
        root_seed=args.seed,
        size=calibrate.QUICK_SIZE if args.quick else None,
        alpha=args.alpha,
        tolerance=args.tolerance,
        executor=options.executor,
        workers=options.workers,
        progress=sys.stderr.isatty(),
    )
    seconds = time.perf_counter() - started
    try:
        written = calibrate.write(table, Path(args.out), args.tolerance)
    except OSError as err:
        raise UserError(f"--out {args.out}: {err.strerror or err}") from None
    sampled = table.iloc[1:]
    strict = int((sampled["fails"] == 0).sum())
    loose = f", {int(sampled['accepted'].sum())} fail at most {args.tolerance}"
    print(
        f"{strict} of {len(sampled)} sampled calibrations reproduce every pattern"
        f"{loose if args.tolerance else ''}; the bundled calibration is "
        f"{'accepted' if table['accepted'].iloc[0] else 'rejected'}"
    )
    for row in calibrate.pattern_summary(table).itertuples(index=False):
        print(f"  {row.pattern:28s} {row.passed:5d} pass ({row.share:.0%})")
    print(f"{seconds / 60:.1f} min; wrote " + ", ".join(str(p) for p in written))
    return 0
