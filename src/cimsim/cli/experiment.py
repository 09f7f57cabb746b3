"""``cimsim experiment NAME``: run a named experiment (see :mod:`cimsim.experiment`)."""

from __future__ import annotations

import argparse

from cimsim.errors import require
from cimsim.experiment import load_experiment, run_experiment
from cimsim.runs.options import ExecutionOptions


def cmd_experiment(args: argparse.Namespace) -> int:
    """``cimsim experiment NAME [--quick] [--out DIR]``."""
    for module in ("SALib", "ema_workbench", "matplotlib"):
        require(module, "analysis", "experiment")
    load_experiment(args.name)  # an unknown name fails before anything runs
    options = ExecutionOptions.from_args(args)
    run_experiment(args.name, quick=args.quick, out=args.out, options=options)
    return 0
