"""Resuming an interrupted sweep: parts are whole, finished runs are skipped, none is doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future

import pandas as pd
import pytest

import cimsim
from cimsim.runs import SerialExecutor, make_grid, run_design

SMALL = {"population.citizens": 200, "population.businesses": 30, "population.civil_society": 20}


class CountingExecutor(SerialExecutor):
    """A serial executor that records which runs it was asked to do."""

    def __init__(self) -> None:
        self.runs: list[int] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.runs.extend(r[0] for r in args[1])
        return super().submit(fn, *args, **kwargs)


def test_resume_runs_only_missing_runs(tmp_path) -> None:
    base = cimsim.load_scenario("malmo", SMALL)
    design = make_grid({"backbone.enabled": [True, False]})
    out = tmp_path / "o"
    kw = dict(root_seed=5, steps=12, progress=False, batch_size=2)
    full = run_design(base, design, 4, out=out, executor="serial", **kw)
    parts = sorted((out / "parts").glob("finals-*.parquet"))
    assert len(parts) == 4
    removed = pd.concat([pd.read_parquet(p) for p in parts[1:3]])["run"].tolist()
    for p in parts[1:3]:
        p.unlink()
    (out / "parts" / ".finals-junk.parquet.abc123.tmp").write_bytes(b"half a file")
    counting = CountingExecutor()
    again = run_design(base, design, 4, out=out, executor=counting, **kw)
    assert sorted(counting.runs) == sorted(removed)
    pd.testing.assert_frame_equal(full.finals, again.finals, check_exact=True)
    pd.testing.assert_frame_equal(full.series, again.series, check_exact=True)
    # a complete re-run does nothing
    counting = CountingExecutor()
    run_design(base, design, 4, out=out, executor=counting, **kw)
    assert counting.runs == []


def test_damaged_part_is_rerun_not_read(tmp_path) -> None:
    base = cimsim.load_scenario("malmo", SMALL)
    out = tmp_path / "o"
    kw = dict(root_seed=5, steps=6, progress=False, batch_size=1, executor="serial")
    full = run_design(base, [{}], 3, out=out, **kw)
    part = sorted((out / "parts").glob("finals-*.parquet"))[0]
    part.write_bytes(b"PAR1 not really parquet")
    with pytest.warns(UserWarning, match="unreadable part"):
        again = run_design(base, [{}], 3, out=out, **kw)
    pd.testing.assert_frame_equal(full.finals, again.finals, check_exact=True)


def test_resume_after_sigkill(tmp_path) -> None:
    out = tmp_path / "sweep"
    cmd = [
        sys.executable, "-m", "cimsim", "sweep", "malmo",
        "--grid", "backbone.enabled=true,false", "--replicates", "16", "--seed", "11",
        "--steps", "24", "--set", "population.citizens=400", "--workers", "2",
        "--batch-size", "1", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env
    )
    parts = out / "parts"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if parts.is_dir() and any(parts.glob("finals-*.parquet")):
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "finals.parquet").exists()
    finished = sorted(parts.glob("finals-*.parquet"))
    assert 1 <= len(finished) < 32
    for path in [*finished, *parts.glob("series-*.parquet")]:
        pd.read_parquet(path)  # every complete-looking part is whole

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    finals = pd.read_parquet(out / "finals.parquet")
    assert len(finals) == 32
    assert not finals.duplicated(["point", "replicate"]).any()
    expected = run_design(
        cimsim.load_scenario("malmo", {"population.citizens": 400}),
        make_grid({"backbone.enabled": [True, False]}),
        16, root_seed=11, steps=24, executor="serial", progress=False,
    )  # fmt: skip
    pd.testing.assert_frame_equal(expected.finals, finals, check_exact=True)
    series = pd.read_parquet(out / "series.parquet")
    pd.testing.assert_frame_equal(expected.series, series, check_exact=True)
    csv = pd.read_csv(out / "finals.csv")
    assert len(csv) == 32
