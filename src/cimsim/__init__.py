"""cimsim: an agent-based simulation of collective impact initiatives.

Local governments, citizens, businesses, civil society and a backbone organisation try to
solve a complex problem together; the model shows through mechanisms why such an
initiative succeeds or stalls (Kania & Kramer 2011; the Speak Up report on Malmö,
Mechelen and Skive).
"""

from cimsim.indicators import CORE, REPORTERS
from cimsim.model import CollectiveImpactModel
from cimsim.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario

__version__ = "0.1.0"

__all__ = [
    "CORE",
    "REPORTERS",
    "CollectiveImpactModel",
    "Scenario",
    "ScenarioError",
    "bundled_scenarios",
    "load_scenario",
    "__version__",
]
