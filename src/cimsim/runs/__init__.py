"""Running many simulations: designs, seeds, executors (serial, processes, Dask) and results.

>>> from cimsim.runs import make_grid, run_design
>>> res = run_design("malmo", make_grid({"backbone.enabled": [True, False]}), 2,
...                  steps=12, executor="serial", progress=False)  # doctest: +SKIP

The names below are imported on first use (PEP 562), so that ``cimsim.runs.options``
(read by every command's parser) does not pull in pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cimsim.errors import RunError
    from cimsim.runs.engine import Results, make_grid, replicate_seeds, run_batch, run_design
    from cimsim.runs.executors import ExecutorHandle, SerialExecutor, open_executor
    from cimsim.runs.options import ExecutionOptions
    from cimsim.runs.store import ResultStore

_EXPORTS = {
    "ExecutionOptions": "cimsim.runs.options",
    "ExecutorHandle": "cimsim.runs.executors",
    "ResultStore": "cimsim.runs.store",
    "Results": "cimsim.runs.engine",
    "RunError": "cimsim.errors",
    "SerialExecutor": "cimsim.runs.executors",
    "make_grid": "cimsim.runs.engine",
    "open_executor": "cimsim.runs.executors",
    "replicate_seeds": "cimsim.runs.engine",
    "run_batch": "cimsim.runs.engine",
    "run_design": "cimsim.runs.engine",
}

__all__ = [
    "ExecutionOptions",
    "ExecutorHandle",
    "ResultStore",
    "Results",
    "RunError",
    "SerialExecutor",
    "make_grid",
    "open_executor",
    "replicate_seeds",
    "run_batch",
    "run_design",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cimsim.runs' has no attribute {name!r}")
