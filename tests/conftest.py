"""Fixtures shared by the tests (helpers to import are in ``tests/helpers.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    """Run a test inside an empty temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
