"""Smoke test of benchmarks/bench_app.py: a 2-click run that redraws both figures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_app.py"


def test_bench_app_two_clicks(capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_app", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.measure(clicks=2)
    assert res["month"] == 3
    assert 0 < res["median_ms"] < 5000
    assert bench.main(["--clicks", "2", "--compare"]) == 0
    assert "p95" in capsys.readouterr().out
