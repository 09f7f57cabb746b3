"""Dask: a worker killed mid-sweep loses no run and doubles none; results equal serial."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pandas as pd
import pytest

import cimsim
from cimsim.runs import make_grid, run_design

distributed = pytest.importorskip("distributed")

SMALL = {"population.citizens": 200, "population.businesses": 30, "population.civil_society": 20}


def test_worker_killed_mid_sweep(tmp_path) -> None:
    base = cimsim.load_scenario("malmo", SMALL)
    design = make_grid({"backbone.enabled": [True, False]})
    reps, steps = 16, 12
    kw = dict(root_seed=3, steps=steps, progress=False)
    expected = run_design(base, design, reps, executor="serial", **kw)
    out = tmp_path / "o"
    result: dict = {}
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    client = distributed.Client(cluster)
    try:
        pids = client.run(os.getpid)

        def sweep() -> None:
            try:
                result["res"] = run_design(
                    base, design, reps, out=out, executor=client.get_executor(),
                    batch_size=1, **kw,
                )  # fmt: skip
            except BaseException as err:
                result["err"] = err

        thread = threading.Thread(target=sweep)
        thread.start()
        parts = out / "parts"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            parts.is_dir() and any(parts.glob("finals-*.parquet"))
        ):
            time.sleep(0.01)
        assert thread.is_alive(), "the sweep finished before a worker could be killed"
        victim = sorted(pids)[0]
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(timeout=180)
        assert not thread.is_alive()
    finally:
        client.close()
        cluster.close()
    assert "err" not in result, result.get("err")
    res = result["res"]
    assert len(res.finals) == len(design) * reps
    assert not res.finals.duplicated(["point", "replicate"]).any()
    pd.testing.assert_frame_equal(expected.finals, res.finals, check_exact=True)
    pd.testing.assert_frame_equal(expected.series, res.series, check_exact=True)
    finals_parts = list((out / "parts").glob("finals-*.parquet"))
    assert len(finals_parts) == len(design) * reps  # one part per batch, none doubled
