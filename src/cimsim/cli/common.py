"""What several commands share: the scenario from SCENARIO, --set and --event; warnings."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cimsim.scenario import load_scenario, parse_assignment


def overrides_from(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in pairs or []:
        path, value = parse_assignment(text)
        out[path] = value
    return out


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"cimsim: warning: {message}", file=sys.stderr)


def scenario_from_args(args: argparse.Namespace) -> Any:
    """The scenario of a command: ``SCENARIO`` with ``--set`` overrides and ``--event``
    additions; warns when ``--set interventions=...`` replaces scheduled events."""
    from cimsim.scenario import parse_event

    overrides = overrides_from(getattr(args, "set", None))
    events = [parse_event(text) for text in getattr(args, "event", None) or []]
    if "interventions" in overrides or events:
        base = load_scenario(args.scenario)
        scheduled = [e.model_dump(exclude_none=True) for e in base.interventions]
        if "interventions" in overrides:
            if scheduled:
                warn(
                    f"--set interventions=... replaces the {len(scheduled)} event(s) "
                    f"{base.name} schedules (use --event to add one instead)"
                )
            scheduled = list(overrides["interventions"] or [])
        if events:
            overrides["interventions"] = [*scheduled, *events]
    return load_scenario(args.scenario, overrides)


def warn_late_events(scenario: Any, steps: int) -> None:
    """Warn about events after the run's last month."""
    from cimsim.scenario import late_events

    for message in late_events(scenario, steps):
        warn(message)
