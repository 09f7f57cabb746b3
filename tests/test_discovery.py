"""Scenario discovery: PRIM (EMA Workbench) recovers a known failure box."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cimsim.discovery import discovery_markdown, failure_labels, find_boxes, plot_discovery


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(42)
    x = pd.DataFrame(rng.uniform(size=(1500, 4)), columns=["x1", "x2", "x3", "x4"])
    impact = np.where((x.x1 < 0.3) & (x.x2 > 0.6), 0.1, 0.6) + rng.normal(0, 0.02, len(x))
    return x, failure_labels(impact, 0.3)


def test_prim_recovers_known_failure_box(synthetic):
    x, y = synthetic
    disc = find_boxes(x, y, density_threshold=0.8)
    assert disc.n_failures == int(y.sum()) and disc.boxes
    box = disc.boxes[0]
    assert box.density > 0.85 and box.coverage > 0.8
    lims = box.limits.set_index("parameter")
    assert set(lims.index) == {"x1", "x2"}
    assert lims.loc["x1", "hi"] == pytest.approx(0.3, abs=0.05)
    assert lims.loc["x2", "lo"] == pytest.approx(0.6, abs=0.05)
    table = disc.table()
    assert {"box", "coverage", "density", "parameter", "lo", "hi"} <= set(table.columns)
    traj = disc.trajectories()
    assert traj["selected"].sum() == len(disc.boxes)
    assert "x1" in discovery_markdown(disc)


def test_prim_figure_and_no_failures(synthetic, tmp_path):
    x, y = synthetic
    disc = find_boxes(x, y)
    paths = plot_discovery(disc, tmp_path, "boxes", title="synthetic")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.stat().st_size > 0 for p in paths)
    none = find_boxes(x, np.zeros(len(x), bool))
    assert none.boxes == [] and none.notes
    assert len(none.table()) == 0


def test_failure_labels():
    assert failure_labels(np.array([0.1, 0.5]), 0.3).tolist() == [True, False]
    assert failure_labels(np.array([0.1, 0.5]), 0.3, below=False).tolist() == [False, True]
