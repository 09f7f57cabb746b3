"""Running many simulations: designs, seeds, executors (serial, processes, Dask) and results.

>>> from cimsim.runs import make_grid, run_design
>>> res = run_design("malmo", make_grid({"backbone.enabled": [True, False]}), 2,
...                  steps=12, executor="serial", progress=False)  # doctest: +SKIP
"""

from cimsim.runs.engine import Results, make_grid, replicate_seeds, run_batch, run_design
from cimsim.runs.executors import ExecutorHandle, SerialExecutor, open_executor
from cimsim.runs.store import ResultStore, RunError

__all__ = [
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
