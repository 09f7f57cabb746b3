"""Smoke test: the model benchmark's quick version runs and prints its ratio lines."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_model.py"


def _load_bench():
    sys.path.insert(0, str(BENCH.parent))
    try:
        spec = importlib.util.spec_from_file_location("bench_model", BENCH)
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_model"] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH.parent))


def test_quick_benchmark_prints_ratios(capsys):
    bench = _load_bench()
    results = bench.main(["--quick"])
    out = capsys.readouterr().out

    assert "ratio Boltzmann / cimsim per agent-step:" in out
    assert "ratio large / small per agent-step:" in out
    assert "extrapolated" in out
    assert "peak RSS" in out
    assert "Summary" in out
    for part in ("1.", "2.", "3.", "4a.", "4b.", "5.", "6a.", "6b."):
        assert any(
            line.strip().startswith(("PASS  " + part, "MISS  " + part)) for line in out.splitlines()
        ), part
    assert results["boltzmann"]["ratio"] > 0
    assert results["scaling"]["ratio"] > 0
    assert results["full_scale"]["peak_gib"] > 0
    assert results["full_scale"]["one_thread_s"] > 0 and "the same on one thread" in out
    assert results["command_line"]["help"] > 0 and results["command_line"]["run_json"] > 0
    assert set(results["scenarios"]) >= {"malmo", "mechelen", "skive"}
    assert all(results["scenarios"][f"{name}_initiative"] > 0 for name in ("malmo", "skive"))
    assert "Mesa's stepping adds" in out
