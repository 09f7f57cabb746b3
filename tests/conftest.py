"""Shared helpers for the tests: small scenarios and replicate runners with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest

import cimsim

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


def replicate(name: str, overrides: dict, months: int = 120, seeds=SEEDS):  # noqa: ANN001, ANN201
    """Run a scenario once per seed; return the list of per-month result DataFrames."""
    scenario = cimsim.load_scenario(name, overrides)
    out = []
    for seed in seeds:
        model = cimsim.CollectiveImpactModel(scenario, rng=seed)
        model.run_for(months)
        out.append(model.results())
    return out


def finals(runs, column: str, month: int = -1) -> np.ndarray:  # noqa: ANN001
    """One reporter at one month across replicate runs."""
    return np.array([df[column].iloc[month] for df in runs])


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """Run a test inside an empty temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
