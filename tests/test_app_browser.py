"""End-to-end test of the served app in headless Chromium (Playwright, Debian's chromium).

Starts ``solara run cimsim.app`` on a free port, presses Step and Play, checks that the
month counter, the plots and the network change, switches compare mode on and saves a
screenshot to ``test-artifacts/``. Skipped when chromium or playwright are unavailable.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    return os.environ.get("CIMSIM_CHROMIUM") or shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"solara server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"solara server at {url} not ready after {timeout:.0f} s")


def _assets_missing(url: str) -> str | None:
    """Why solara's front-end bundle cannot be served (offline and not cached), else None."""
    import re

    with urllib.request.urlopen(url, timeout=10) as resp:
        html = resp.read().decode("utf-8", "replace")
    bundle = re.search(r'src="(/_solara/cdn/[^"]*solara-vuetify-app\d*\.min\.js)"', html)
    if bundle is None:
        return None
    try:
        with urllib.request.urlopen(url.rstrip("/") + bundle.group(1), timeout=30) as resp:
            resp.read(1)
        return None
    except OSError:
        return (
            f"solara cannot serve {bundle.group(1)} (no CDN access and not in its cache; "
            "install solara-assets or put @widgetti/solara-vuetify3-app into "
            "<venv>/share/solara/cdn)"
        )


def _month(page) -> int:
    text = page.locator(".cimsim-month").first.inner_text()
    return int(text.split()[1])


def _image(page, css: str) -> bytes:
    return page.locator(f"{css} img").first.screenshot()


def test_app_in_browser() -> None:
    chromium = _chromium()
    if not chromium or not Path(chromium).exists():
        pytest.skip("chromium not found (install Debian's chromium or set CIMSIM_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    solara_exe = Path(sys.executable).with_name("solara")
    cmd = [
        str(solara_exe) if solara_exe.exists() else "solara",
        "run",
        "cimsim.app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--production",
    ]
    log = open(ARTIFACTS / "app-server.log", "w")
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    profile = tempfile.mkdtemp(prefix="cimsim-chromium-")
    try:
        _wait_ready(url, proc)
        missing = _assets_missing(url)
        if missing:
            pytest.skip(missing)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                profile,
                executable_path=chromium,
                headless=True,
                args=LAUNCH_ARGS,
                viewport={"width": 1500, "height": 1250},
            )
            try:
                page = browser.new_page() if not browser.pages else browser.pages[0]
                page.set_default_timeout(30_000)
                requests: list[str] = []
                failed: list[str] = []
                page.on("request", lambda r: requests.append(r.url))
                page.on(
                    "response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}")
                )
                page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
                page.goto(url, wait_until="domcontentloaded")
                page.locator(".cimsim-month").first.wait_for()
                page.locator(".cimsim-network img").first.wait_for()
                assert _month(page) == 0
                net0, chart0 = _image(page, ".cimsim-network"), _image(page, ".cimsim-chart")

                page.get_by_role("button", name="Step", exact=True).click()
                page.wait_for_function(
                    "() => document.querySelector('.cimsim-month').innerText.startsWith('Month 1 ')"
                )
                time.sleep(0.5)
                net1, chart1 = _image(page, ".cimsim-network"), _image(page, ".cimsim-chart")
                assert net1 != net0, "network view did not change after Step"
                assert chart1 != chart0, "chart did not change after Step"

                page.get_by_role("button", name="Play", exact=True).click()
                page.wait_for_function(
                    "() => parseInt(document.querySelector('.cimsim-month')"
                    ".innerText.split(' ')[1]) >= 6",
                    timeout=30_000,
                )
                page.get_by_role("button", name="Pause", exact=True).click()
                time.sleep(0.8)
                played = _month(page)
                assert played >= 6
                net2 = _image(page, ".cimsim-network")
                assert net2 != net1

                page.get_by_text("Compare A with B").click()
                page.locator(".cimsim-month-b").first.wait_for()
                page.get_by_role("button", name="Step", exact=True).click()
                page.wait_for_function(
                    "() => document.querySelector('.cimsim-month').innerText.startsWith('Month 1 ')"
                )
                b_text = page.locator(".cimsim-month-b").first.inner_text()
                assert "B (backbone off)" in b_text
                page.get_by_role("button", name="Difference A−B").click()
                time.sleep(0.5)
                diff0 = _image(page, ".cimsim-chart")
                # both models advance together while playing
                page.get_by_role("button", name="Play", exact=True).click()
                page.wait_for_function(
                    "() => parseInt(document.querySelector('.cimsim-month')"
                    ".innerText.split(' ')[1]) >= 12",
                    timeout=30_000,
                )
                page.get_by_role("button", name="Pause", exact=True).click()
                time.sleep(1.0)
                assert page.locator(".cimsim-month-b").first.inner_text() != b_text
                assert _image(page, ".cimsim-chart") != diff0, "difference plot did not change"
                page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
                # a phone: everything stacks, nothing scrolls sideways, the views stay large
                page.set_viewport_size({"width": 390, "height": 844})
                time.sleep(1.0)
                sideways = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                assert sideways <= 1, f"the page scrolls {sideways} px sideways at 390 px"
                net_box = page.locator(".cimsim-network img").first.bounding_box()
                ctl_box = page.locator(".cimsim-controls").first.bounding_box()
                assert net_box["width"] >= 300, f"network view only {net_box['width']:.0f} px"
                assert net_box["y"] > ctl_box["y"] + ctl_box["height"] - 1  # below the controls
                page.screenshot(path=str(ARTIFACTS / "app-390.png"), full_page=True)
                # every asset comes from this server: nothing from a CDN, nothing missing
                outside = [u for u in requests if not u.startswith((url, "blob:", "data:"))]
                assert outside == [], f"requests left the server: {outside[:5]}"
                assert failed == [], f"assets failed to load: {failed[:5]}"
                assert any("/_solara/cdn/" in u for u in requests)  # the bundles were asked for
            finally:
                browser.close()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(profile, ignore_errors=True)
    assert (ARTIFACTS / "app.png").stat().st_size > 10_000
    server_log = (ARTIFACTS / "app-server.log").read_text()
    assert "Could not load URL" not in server_log, "the server fetched an asset from the CDN"
