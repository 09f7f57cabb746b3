"""``cimsim compare-plans A.toml B.toml [...]``: every plan against the first, paired by seed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cimsim.errors import UserError
from cimsim.indicators import CORE, REPORTERS
from cimsim.runs.options import ExecutionOptions


def _months(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        months = sorted({int(m) for m in text.split(",") if m.strip()})
    except ValueError:
        raise UserError(f"--months {text}: expected whole numbers, e.g. 24,60,120") from None
    if not months or months[0] < 0:
        raise UserError(f"--months {text}: expected months >= 0, e.g. 24,60,120")
    return months


def cmd_compare_plans(args: argparse.Namespace) -> int:
    """Run the plans with the same seeds and print (or write) the paired differences."""
    from cimsim.files import RUN_MARKER, output_folder, write_csv, write_json
    from cimsim.plans import compare_plans, comparison_table, plot_differences

    outcomes = list(CORE)
    for name in args.outcome or []:
        if name not in REPORTERS:
            raise UserError(f"--outcome {name}: unknown (choose from {', '.join(REPORTERS)})")
    if args.outcome:
        outcomes = list(dict.fromkeys(args.outcome))
    options = ExecutionOptions.from_args(args)
    if args.out is not None:
        from cimsim.errors import require

        require("matplotlib", "analysis", "compare-plans --out (its figure)")
    levels, diffs = compare_plans(
        args.plans, replicates=args.replicates, milestones=_months(args.months), seed=args.seed,
        outcomes=outcomes, options=options, progress=sys.stderr.isatty() and not args.json,
    )  # fmt: skip
    reference = str(levels["plan"].iloc[0])
    summary = {
        "reference": reference,
        "plans": list(dict.fromkeys(levels["plan"])),
        "sources": list(args.plans),
        "replicates": args.replicates,
        "seed": args.seed,
        "months": sorted(int(m) for m in levels["month"].unique()),
        "levels": levels.to_dict(orient="records"),
        "differences": diffs.to_dict(orient="records"),
    }
    if args.out is not None:
        from cimsim.figures import save_figure

        try:
            with output_folder(Path(args.out)) as folder:
                write_csv(folder / "levels.csv", levels)
                write_csv(folder / "differences.csv", diffs)
                write_json(folder / "plans.json", summary)
                main_outcome = "impact" if "impact" in outcomes else outcomes[0]
                save_figure(plot_differences(diffs, main_outcome), folder, "differences")
                write_json(folder / RUN_MARKER, {"command": "compare-plans", **summary})
        except OSError as err:
            raise UserError(f"--out {args.out}: {err.strerror or err}") from None
    if args.json:
        print(json.dumps(summary))
        return 0
    print(
        f"{len(summary['plans'])} plans, {args.replicates} replicates each with the same seeds "
        f"(root seed {args.seed}); each plan minus {reference}, mean [95% interval]"
    )
    print(comparison_table(levels, diffs, reference, outcomes))
    print(
        "* the interval excludes 0: with these replicates the plans differ. Values are shares"
        " 0-1 (impact: progress on the issue areas), not a forecast; more --replicates"
        " narrow the intervals (about 1/sqrt(R))."
    )
    if args.out is not None:
        print(f"written to {args.out}/ (levels.csv, differences.csv, differences.png, plans.json)")
    return 0
