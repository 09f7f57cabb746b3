"""How much memory a run or a design needs, checked before anything is built.

The estimates are deliberately generous (about twice the measured peak): a model holds
per stakeholder a few dozen array entries and a Mesa agent object, and per tie a dozen
columns plus the temporaries of a monthly step. A run or a design that would not fit in the
memory available now is refused with one line naming the size, instead of ending in a
``MemoryError`` or the out-of-memory killer minutes later.
"""

from __future__ import annotations

import os

from cimsim.errors import TooBig
from cimsim.scenario import Scenario

BYTES_PER_AGENT = 1_500
"""State arrays, a Mesa agent object and per-step temporaries, per stakeholder."""
BYTES_PER_TIE = 200
"""Tie columns, sorted keys and per-step temporaries, per tie."""
BYTES_PER_VALUE = 8
"""One reporter value in a result table."""


def agents(scenario: Scenario) -> int:
    """Number of stakeholder agents of a scenario."""
    p = scenario.population
    return p.government + p.citizens + p.businesses + p.civil_society


def ties(scenario: Scenario) -> int:
    """Expected number of ties (at most 10% above ``agents * mean_degree / 2``)."""
    return int(agents(scenario) * scenario.network.mean_degree * 0.55)


def model_bytes(scenario: Scenario) -> int:
    """Generous estimate of the peak memory of one model of ``scenario``."""
    return agents(scenario) * BYTES_PER_AGENT + ties(scenario) * BYTES_PER_TIE


def available_bytes() -> int:
    """Memory available to new allocations now (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 1 << 62


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_fits(
    scenario: Scenario, steps: int, *, models: int = 1, runs: int = 1, series: bool = True
) -> None:
    """Refuse (:class:`TooBig`) a run or design that would not fit in available memory.

    ``models`` is how many models exist at once (one per worker), ``runs`` how many runs
    the result tables hold, ``series`` whether they hold every month or the final one.
    """
    from cimsim.indicators import REPORTERS

    rows = runs * ((steps + 1) if series else 1)
    tables = rows * (len(REPORTERS) + 5) * BYTES_PER_VALUE * 2  # the parts and the table
    need = models * model_bytes(scenario) + tables
    have = available_bytes()
    if need > have:
        what = (
            f"{agents(scenario):,} agents and about {ties(scenario):,} ties"
            if tables < need / 2
            else f"result tables of {runs:,} runs x {steps} months"
        )
        raise TooBig(
            f"{scenario.name}: needs about {_gib(need)} of memory ({what}) but "
            f"{_gib(have)} is available; use fewer agents, replicates or months"
        )
