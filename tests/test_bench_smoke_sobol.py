"""Smoke test of benchmarks/bench_sobol.py so the benchmark cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_bench_sobol_quick(capsys) -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sobol.py"
    spec = importlib.util.spec_from_file_location("bench_sobol", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.main(["--quick", "--workers", "2"])
    out = capsys.readouterr().out
    assert figures["runs"] == 8 * (2 * 10 + 2)
    assert figures["runs_per_minute"] > 0
    assert "runs per minute" in out and "top ST:" in out
