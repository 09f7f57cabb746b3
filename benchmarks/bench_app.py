"""Benchmark: time from a Step click to the redrawn plots in the Solara page.

Server side: renders the page with ``solara.render`` (default scenario), clicks Step ``N``
times and times each click until the network and chart images have been rebuilt (Solara
renders synchronously inside the click). Prints wall-clock median and p95 and the process
CPU time per click, which is less sensitive to a busy machine.

In the browser (``--browser``): serves the app with ``solara run``, opens it in headless
Chromium (Playwright; Debian's ``chromium`` or ``$CIMSIM_CHROMIUM``) and times each Step
click in the page until every image on the dashboard shows its new version: what a user
sees. The target is a median under 150 ms at default sizes.

    python benchmarks/bench_app.py [--clicks 20] [--compare] [--browser]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

TARGET_MS = 150.0
"""Wanted upper bound of the median step-to-plot latency."""

_BROWSER_STEPS = """
async (n) => {
  const images = () => [...document.querySelectorAll(
    '.cimsim-network-img, .cimsim-dashboard img, .cimsim-chart img')].map((i) => i.src);
  const step = () => [...document.querySelectorAll('button')]
    .find((b) => b.textContent.trim() === 'Step');
  const out = [];
  for (let k = 0; k < n; k++) {
    const before = images();
    const t0 = performance.now();
    step().click();
    await new Promise((resolve, reject) => {
      const check = () => {
        const now = images();
        if (now.length === before.length && now.every((s, i) => s !== before[i])) resolve();
        else if (performance.now() - t0 > 5000) reject(new Error('images not redrawn'));
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}
"""
"""Page script: click Step ``n`` times, each time waiting (frame by frame) until every image
of the dashboard has a new source; returns the milliseconds per click."""


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
    _box, rc = solara.render(Page(session=session, background=False), handle_error=False)
    step = rc.find(v.Btn, children=["Step"]).widget

    from cimsim.app.components import NetworkImage

    def images() -> list[bytes]:
        net = [n.src.encode() for n in rc.find(NetworkImage).widgets]
        return net + [bytes(img.value) for img in rc.find(w.Image).widgets]

    step.click()  # warm-up: first draw of the cached backgrounds
    times, cpu = [], []
    for _ in range(clicks):
        before = images()
        start, start_cpu = time.perf_counter(), time.process_time()
        step.click()  # solara redraws inside the click
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        after = images()
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


def measure_browser(page: Any, clicks: int = 20) -> dict[str, float]:
    """Time Step clicks in an open page of the app (a Playwright page at month 0 or later)
    until all of its images are redrawn; latency statistics in milliseconds."""
    page.get_by_role("button", name="Step", exact=True).click()  # warm-up
    page.wait_for_timeout(500)
    times = list(page.evaluate(_BROWSER_STEPS, clicks))
    return {
        "clicks": float(clicks),
        "median_ms": statistics.median(times),
        "p95_ms": _percentile(times, 0.95),
        "max_ms": max(times),
    }


def browser_run(clicks: int, compare: bool) -> dict[str, float]:
    """Serve the app, open it in headless Chromium and :func:`measure_browser`."""
    import os
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    exe = Path(sys.executable).with_name("solara")
    cmd = [str(exe) if exe.exists() else "solara", "run", "cimsim.app", "--host", "127.0.0.1",
           "--port", str(port), "--production"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        chromium = os.environ.get("CIMSIM_CHROMIUM") or shutil.which("chromium")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url)
            page.locator(".cimsim-network-img").first.wait_for(timeout=60_000)
            if compare:
                page.get_by_text("Compare A with B").click()
                page.locator(".cimsim-month-b").first.wait_for()
            res = measure_browser(page, clicks)
            browser.close()
        return res
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="compare mode (two models)")
    parser.add_argument("--browser", action="store_true", help="time it in headless Chromium")
    args = parser.parse_args(argv)
    mode = "compare mode" if args.compare else "default scenario"
    if args.browser:
        res = browser_run(args.clicks, args.compare)
        print(
            f"step-to-updated-plots latency in the browser ({mode}, {args.clicks} clicks): "
            f"median {res['median_ms']:.0f} ms, p95 {res['p95_ms']:.0f} ms, "
            f"max {res['max_ms']:.0f} ms (target: median < {TARGET_MS:.0f} ms)"
        )
        return 0
    res = measure(args.clicks, args.compare)
    print(
        f"step-to-plot latency ({mode}, {args.clicks} clicks): "
        f"median {res['median_ms']:.1f} ms, p95 {res['p95_ms']:.1f} ms, "
        f"max {res['max_ms']:.1f} ms (target < {TARGET_MS:.0f} ms); "
        f"CPU time median {res['cpu_median_ms']:.1f} ms, p95 {res['cpu_p95_ms']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
