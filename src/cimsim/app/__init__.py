"""The Solara interface for educators and planners: ``solara run cimsim.app``.

``Page`` is the page (the package's only ``Page``, so solara adds no extra routes);
:mod:`cimsim.app.state` holds the plain-Python controller, :mod:`cimsim.app.figures`
the matplotlib views and :mod:`cimsim.app.serve` starts the server for ``cimsim app``.
"""

from cimsim.app.components import AppPage as Page
from cimsim.app.state import Session

__all__ = ["Page", "Session"]
