"""Smoke test: the run-engine benchmark runs in its quick form and prints its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_runs.py"


def test_bench_runs_quick() -> None:
    # a subprocess: mesa.batch_run sets the global multiprocessing start method
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    for label in ("serial", "processes (2)", "mesa.batch_run", "dask local (2)", "runs/min"):
        assert label in proc.stdout


def test_bench_runs_scaling_curve_quick() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--curve", "1,2", "--no-dask"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for label in ("scaling curve", "processes (1)", "efficiency", "bit-identical"):
        assert label in proc.stdout
