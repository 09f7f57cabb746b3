"""What several commands share: the scenario from SCENARIO, --set and --event; warnings."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cimsim.errors import UserError
from cimsim.scenario import EVENTS, load_scenario, parse_assignment, parse_value


def overrides_from(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in pairs or []:
        path, value = parse_assignment(text)
        out[path] = value
    return out


def event_from_option(text: str) -> dict[str, Any]:
    """Parse ``--event month=24,kind=add_backbone,capacity=0.5`` into an event table."""
    event: dict[str, Any] = {}
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        if "=" not in item:
            raise UserError(
                f"--event {text}: expected KEY=VALUE,... e.g. month=24,kind=add_backbone"
            )
        key, value = (p.strip() for p in item.split("=", 1))
        event[key] = parse_value(value)
    if "kind" not in event or "month" not in event:
        raise UserError(f"--event {text}: needs kind=... and month=...")
    if event["kind"] not in EVENTS:
        raise UserError(
            f"--event {text}: unknown kind {event['kind']!r} (kinds: {', '.join(EVENTS)})"
        )
    return event


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"cimsim: warning: {message}", file=sys.stderr)


def scenario_from_args(args: argparse.Namespace) -> Any:
    """The scenario of a command: ``SCENARIO`` with ``--set`` overrides and ``--event``
    additions; warns when ``--set interventions=...`` replaces scheduled events."""
    overrides = overrides_from(getattr(args, "set", None))
    events = [event_from_option(text) for text in getattr(args, "event", None) or []]
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
