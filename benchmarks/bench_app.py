"""Benchmark: time from a Step click to the redrawn plots in the Solara page.

Renders the page with ``solara.render`` (default scenario), clicks Step ``N`` times and
times each click until the network and chart images have been rebuilt (Solara renders
synchronously inside the click). Prints wall-clock median and p95 (the target is under
200 ms) and the process CPU time per click, which is less sensitive to a busy machine.

    python benchmarks/bench_app.py [--clicks 20] [--compare]
"""

from __future__ import annotations

import argparse
import statistics
import time

TARGET_MS = 200.0
"""Wanted upper bound of the median step-to-plot latency."""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def measure(clicks: int = 20, compare: bool = False) -> dict[str, float]:
    """Click Step ``clicks`` times; return latency statistics in milliseconds."""
    import ipyvuetify as v
    import ipywidgets as w
    import solara

    from cimsim.app import Page, Session

    session = Session()
    if compare:
        session.set_compare(True)
    _box, rc = solara.render(Page(session=session), handle_error=False)
    step = rc.find(v.Btn, children=["Step"]).widget

    def images() -> list[bytes]:
        return [bytes(img.value) for img in rc.find(w.Image).widgets]

    step.click()  # warm-up: first draw of the cached backgrounds
    times, cpu = [], []
    for _ in range(clicks):
        before = images()
        start, start_cpu = time.perf_counter(), time.process_time()
        step.click()
        after = images()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if any(a == b for a, b in zip(before, after, strict=True)):
            raise RuntimeError("a figure was not redrawn after Step")
    return {
        "clicks": float(clicks),
        "month": float(session.month),
        "median_ms": statistics.median(times),
        "p95_ms": _percentile(times, 0.95),
        "max_ms": max(times),
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p95_ms": _percentile(cpu, 0.95),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="compare mode (two models)")
    args = parser.parse_args(argv)
    res = measure(args.clicks, args.compare)
    mode = "compare mode" if args.compare else "default scenario"
    print(
        f"step-to-plot latency ({mode}, {args.clicks} clicks): "
        f"median {res['median_ms']:.1f} ms, p95 {res['p95_ms']:.1f} ms, "
        f"max {res['max_ms']:.1f} ms (target < {TARGET_MS:.0f} ms); "
        f"CPU time median {res['cpu_median_ms']:.1f} ms, p95 {res['cpu_p95_ms']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
