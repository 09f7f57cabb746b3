"""Short explanations of the building blocks, preconditions and settings for the page.

The wording follows the Speak Up report on the Collective Impact Model (Malmö, Mechelen,
Skive); quoted phrases are the report's own.
"""

from __future__ import annotations

from cimsim import scenario

BUILDING_BLOCKS: dict[str, tuple[str, str]] = {
    "common_agenda": (
        "Common agenda",
        "Partners align around a shared vision. Start by drafting it, but treat it as "
        '"a living document" you adapt as you go.',
    ),
    "shared_measurement": (
        "Shared measurement",
        "Common indicators track progress so everyone can see—and celebrate—the impact. "
        '"Building shared measurement systems takes time and persistence."',
    ),
    "mutually_reinforcing": (
        "Mutually reinforcing activities",
        "Each partner contributes where they are strongest, so activities strengthen each "
        'other instead of duplicating, "creating visible wins".',
    ),
    "communication": (
        "Continuous communication",
        "Keep communication flowing: formal check-ins plus informal contact—street-level "
        "presence, quick chats, constant updates.",
    ),
    "backbone_support": (
        "Backbone organisation",
        '"The backbone is your anchor—without it, coordination falls apart." It holds '
        "the process together and keeps people aligned.",
    ),
}
"""Reporter -> (title, explanation) for the five building blocks."""

OUTCOMES: dict[str, tuple[str, str]] = {
    "impact": ("Impact", "Progress on the problem itself, weighted by each issue area's need."),
    "trust": (
        "Trust",
        'Trust among partners grows slowly through good contacts: "invest in building real '
        'trust, not just formal partnerships".',
    ),
    "participation": (
        "Participation",
        "The share engaged, averaged over government, residents, businesses and civil "
        "society: only a minority of residents ever takes part, organisations far more. "
        '"Bring everyone on board from the beginning."',
    ),
}
"""Reporter -> (title, explanation) for the outcome and health measures."""

PARAMETERS: dict[str, str] = {
    "preconditions.urgency": (
        "Precondition: a visible case for change. Name the urgency—climate, inequality, "
        "health—so people feel they must act now."
    ),
    "preconditions.champion_strength": (
        'Precondition: influential champions. "Rally a small group of influential leaders" '
        "who bring others along."
    ),
    "preconditions.resources": (
        "Precondition: adequate resources. Budgets for staff, measurement and activities "
        "keep the marathon going."
    ),
    "settings.initial_trust": (
        "Trust on every tie at the start; low trust slows agreement and engagement."
    ),
    "settings.communication": (
        "How often partners are in contact along their ties (continuous communication)."
    ),
    "backbone.enabled": (
        '"Build a backbone early. Even a compact team with clear roles can keep momentum alive."'
    ),
    "backbone.capacity": (
        "Staff capacity of the backbone relative to a fully staffed team (coordination, data, "
        "communications, partner engagement)."
    ),
}
"""Dotted parameter path -> explanation shown under its control."""

EVENTS: dict[str, str] = {
    kind: " ".join((cls.__doc__ or kind).split()) for kind, cls in scenario.EVENTS.items()
}
"""Event kind -> explanation shown in the scheduling form."""

INTRO = (
    'Collective impact is "a marathon, not a sprint": governments, citizens, businesses and '
    "civil society align around a common agenda, measure progress together, reinforce each "
    "other's activities, keep communicating, and are held together by a backbone. Change the "
    "preconditions and settings on the left, press play, and watch why an initiative grows or "
    "stalls. All numbers are plausibility settings, not forecasts."
)
