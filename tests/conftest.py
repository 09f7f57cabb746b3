"""Fixtures shared by the tests (helpers to import are in ``tests/helpers.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    """Run a test inside an empty temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Load the model's kernels once before any test (compiling them on the first run on a
    machine, one to two minutes): the app's server and the worker processes then load them from
    numba's cache instead of compiling them under a test's timeout. Each of pytest-xdist's
    workers loads them; on a fresh machine they compile at once, and numba's cache saves wait
    for each other (``kernels._save_under_lock``)."""
    from cimsim.initiative import warm_up

    warm_up()
