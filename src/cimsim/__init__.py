"""cimsim: an agent-based simulation of collective impact initiatives.

Local governments, citizens, businesses, civil society and a backbone organisation try to
solve a complex problem together; the model shows through mechanisms why such an
initiative succeeds or stalls (Kania & Kramer 2011; the Speak Up report on Malmö,
Mechelen and Skive).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cimsim.errors import CimsimError, RunError, ScenarioError, UserError
    from cimsim.indicators import CORE, REPORTERS
    from cimsim.initiative import Initiative
    from cimsim.model import CollectiveImpactModel
    from cimsim.scenario import Scenario, bundled_scenarios, load_scenario

__version__ = "0.1.0"

_EXPORTS = {
    "CORE": "cimsim.indicators",
    "REPORTERS": "cimsim.indicators",
    "CollectiveImpactModel": "cimsim.model",
    "Initiative": "cimsim.initiative",
    "CimsimError": "cimsim.errors",
    "RunError": "cimsim.errors",
    "UserError": "cimsim.errors",
    "Scenario": "cimsim.scenario",
    "ScenarioError": "cimsim.errors",
    "bundled_scenarios": "cimsim.scenario",
    "load_scenario": "cimsim.scenario",
}
"""Public names and the module that defines each, imported on first use (PEP 562), so that
the command line and the run workers do not pay for Mesa, pandas and scipy up front."""


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cimsim' has no attribute {name!r}")


__all__ = [
    "CORE",
    "REPORTERS",
    "CimsimError",
    "CollectiveImpactModel",
    "Initiative",
    "RunError",
    "UserError",
    "Scenario",
    "ScenarioError",
    "bundled_scenarios",
    "load_scenario",
    "__version__",
]
