"""Imported by the processes that run batches before their first task: loads the
compiled kernels of the monthly step once per process.

The forkserver that starts the worker processes imports this module, so every worker it
forks starts with the kernels loaded; Dask's local workers import it as a preload. A
cold process would otherwise pay about half a second at its first run.
"""

from __future__ import annotations

from cimsim.initiative import warm_up

warm_up()
