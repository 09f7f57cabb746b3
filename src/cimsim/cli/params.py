"""``cimsim params [SCENARIO]``: every parameter's dotted path, type, range, value, meaning."""

from __future__ import annotations

import argparse
import json


def cmd_params(args: argparse.Namespace) -> int:
    """Print the parameter table (a scenario's values, or the defaults)."""
    from cimsim.scenario import describe_parameters, load_scenario

    scenario = load_scenario(args.scenario) if args.scenario else None
    rows = describe_parameters(scenario)
    if args.grep:
        needle = args.grep.lower()
        rows = [r for r in rows if needle in r["path"].lower() or needle in r["meaning"].lower()]
    if args.json:
        print(json.dumps(rows))
        return 0
    shown = [
        {**r, "value": r["value"] if isinstance(r["value"], str) else json.dumps(r["value"])}
        for r in rows
    ]
    for r in shown:
        if len(r["value"]) > 40:
            r["value"] = r["value"][:37] + "..."
    heads = {"path": "path", "type": "type", "range": "range", "value": "value"}
    if args.scenario:
        heads["value"] = f"value in {scenario.name}"
    else:
        heads["value"] = "default"
    width = {k: max([len(h), *(len(str(r[k])) for r in shown)]) for k, h in heads.items()}
    print("  ".join(f"{h:<{width[k]}}" for k, h in heads.items()) + "  meaning")
    for r in shown:
        print("  ".join(f"{str(r[k]):<{width[k]}}" for k in heads) + f"  {r['meaning']}")
    return 0
