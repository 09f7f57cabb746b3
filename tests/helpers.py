"""Shared helpers for the tests: small scenarios and replicate runners with fixed seeds."""

from __future__ import annotations

import atexit

import numpy as np

import cimsim
from cimsim.indicators import REPORTERS
from cimsim.runs import ExecutorHandle, open_executor, run_batch

SEEDS = tuple(range(10))
"""The fixed replicate seeds every statistical test uses."""

SMALL = {
    "population.citizens": 300,
    "population.businesses": 30,
    "population.civil_society": 20,
    "population.government": 5,
}
"""Overrides that make a scenario small enough for unit tests."""


def small_model(
    name: str = "malmo", seed: int = 0, **overrides: object
) -> cimsim.CollectiveImpactModel:
    """A small model of a bundled scenario with extra dotted-path overrides."""
    ov = dict(SMALL)
    ov.update({k.replace("__", "."): v for k, v in overrides.items()})
    return cimsim.CollectiveImpactModel(cimsim.load_scenario(name, ov), rng=seed)


_POOL: ExecutorHandle | None = None


def pool() -> ExecutorHandle:
    """The run engine's local processes, started once for the whole test session."""
    global _POOL
    if _POOL is None:
        _POOL = open_executor("processes")
        atexit.register(_POOL.close)
    return _POOL


def replicate(name: str, overrides: dict, months: int = 120, seeds=SEEDS):
    """Run a scenario once per seed; return the list of per-month result DataFrames.

    The runs go through the run engine's worker processes (``run_batch``, one run per
    task); each table equals ``Initiative(scenario, rng=seed).run(months).results()``."""
    scenario = cimsim.load_scenario(name, overrides)
    executor = pool().executor
    futures = [
        executor.submit(run_batch, {0: scenario}, [(i, 0, i, seed, months)])
        for i, seed in enumerate(seeds)
    ]
    out = []
    for future in futures:
        _, series = future.result()
        out.append(series[list(REPORTERS)].rename_axis("month"))
    return out


def finals(runs, column: str, month: int = -1) -> np.ndarray:
    """One reporter at one month across replicate runs."""
    return np.array([df[column].iloc[month] for df in runs])


def threads_allowed_here() -> bool:
    """Whether this process's runs may take threads (run in a pool's worker: picklable)."""
    from cimsim import kernels

    return kernels._threads_allowed
