"""End-to-end tests of the served app in headless Chromium (Playwright, Debian's chromium).

One ``solara run cimsim.app`` server and one browser serve the whole module; every test
opens its own tab (a fresh session) at 1440 x 900 and fails if the page logs a console
error or a script error, a request fails or is answered with status >= 400, or anything
is fetched from outside the server (issue 12, bug 8: KaTeX 404s and a script error after
the first re-render). Screenshots go to ``test-artifacts/``. Skipped when chromium or
playwright are unavailable.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
SHORT = "name = 'short'\nmonths = 24\n[population]\ncitizens = 300\n"
"""A small scenario that plays to its end in a few seconds."""


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
    with urllib.request.urlopen(url, timeout=10) as resp:
        html = resp.read().decode("utf-8", "replace")
    bundle = re.search(r'src="(/_solara/cdn/[^"]*solara-vuetify\d*-app\d*\.min\.js)"', html)
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


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The app served by ``solara run cimsim.app`` on a free port (one for the module)."""
    chromium = _chromium()
    if not chromium or not Path(chromium).exists():
        pytest.skip("chromium not found (install Debian's chromium or set CIMSIM_CHROMIUM)")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    solara_exe = Path(sys.executable).with_name("solara")
    cmd = [
        str(solara_exe) if solara_exe.exists() else "solara",
        *("run", "cimsim.app", "--host", "127.0.0.1", "--port", str(port), "--production"),
    ]
    log = open(ARTIFACTS / "app-server.log", "w")
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    try:
        _wait_ready(url, proc)
        missing = _assets_missing(url)
        if missing:
            pytest.skip(missing)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    server_log = (ARTIFACTS / "app-server.log").read_text()
    assert "Could not load URL" not in server_log, "the server fetched an asset from the CDN"
    assert "Traceback" not in server_log, "the server logged an exception"


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    """One headless chromium for the module."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    chromium = pw.chromium.launch(executable_path=_chromium(), headless=True, args=LAUNCH_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        pw.stop()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh tab (a fresh session) at 1440 x 900 with the page loaded; afterwards it
    asserts that nothing went wrong in the browser (bug 8)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    problems: list[str] = []
    requests: list[str] = []
    tab.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    tab.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    tab.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    tab.on("request", lambda r: requests.append(r.url))
    tab.goto(server, wait_until="domcontentloaded")
    tab.locator(".cimsim-month").first.wait_for()
    tab.locator(".cimsim-network-img").first.wait_for()
    try:
        yield tab
    finally:
        time.sleep(0.3)  # let late messages of the last action arrive
        context.close()
    outside = [u for u in requests if not u.startswith((server, "blob:", "data:"))]
    assert outside == [], f"requests left the server: {outside[:5]}"
    assert problems == [], f"the browser reported problems: {problems[:5]}"
    assert any("/_solara/cdn/" in u for u in requests)  # the bundles came from the server


# ---------------------------------------------------------------------- helpers


def month(page: Any) -> int:
    """The month shown by the counter."""
    return int(page.locator(".cimsim-month").first.inner_text().split()[1])


def counter(page: Any) -> str:
    """The counter's "Month m / n" part."""
    return page.locator(".cimsim-month").first.inner_text().split(":")[0]


def wait_text(page: Any, css: str, text: str, timeout: float = 30_000) -> None:
    """Wait until the first element matching ``css`` contains ``text``."""
    page.wait_for_function(
        "([css, text]) => { const e = document.querySelector(css);"
        " return e !== null && e.innerText.includes(text); }",
        arg=[css, text],
        timeout=timeout,
    )


def wait_month(page: Any, at_least: int, timeout: float = 60_000) -> None:
    """Wait until the counter shows ``at_least`` months or more."""
    page.wait_for_function(
        "(m) => { const e = document.querySelector('.cimsim-month');"
        " return e !== null && parseInt(e.innerText.split(' ')[1]) >= m; }",
        arg=at_least,
        timeout=timeout,
    )


def button(page: Any, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def slider(page: Any, label: str) -> Any:
    """The thumb (role=slider) of the slider whose label contains ``label``."""
    row = page.locator(".v-slider", has=page.locator("label", has_text=label))
    return row.get_by_role("slider").first


def press_slider(page: Any, label: str, key: str) -> None:
    """Move a slider from the keyboard (Home, End, ArrowLeft, ...)."""
    thumb = slider(page, label)
    thumb.focus()
    page.keyboard.press(key)


def paste_scenario(page: Any, text: str) -> None:
    """Open the paste box, paste ``text`` and press Load TOML."""
    if not page.locator(".cimsim-paste textarea").first.is_visible():
        page.get_by_text("Paste a scenario (TOML)").click()
    box = page.locator(".cimsim-paste textarea").first
    box.fill(text)
    time.sleep(0.3)  # the box sends its value as you type
    button(page, "Load TOML").click()


def set_no_pause(page: Any) -> None:
    press_slider(page, "Pause between ticks", "Home")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.v-slider')].some(s => s.innerText.includes("
        "'Pause between ticks') && s.querySelector('[role=slider]')"
        ".getAttribute('aria-valuenow') === '0')"
    )


def full_screenshot(page: Any, name: str) -> None:
    """Save the whole page (solara scrolls an inner box, not the document) to
    ``test-artifacts/name`` by making the viewport as tall as the content for a moment."""
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('div')].map((e) => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 20, 8000)})
    time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size(size)


SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('*')].filter((e) => {
  const x = getComputedStyle(e).overflowX;
  return (e === document.documentElement || x === 'auto' || x === 'scroll')
    && e.scrollWidth > e.clientWidth + 1;
}).map((e) => `${e.tagName}.${e.className} ${e.scrollWidth} > ${e.clientWidth}`)"""
"""Page script: every element (the page included) that scrolls sideways."""


def image(page: Any, css: str) -> bytes:
    return page.locator(css).first.screenshot()


# ---------------------------------------------------------------------- the player


def test_step_play_compare_and_rerenders(page: Any) -> None:
    """Step and Play redraw the network and the charts; compare mode steps both models;
    several re-renders later the console is still clean (bug 8, checked by the fixture)."""
    assert month(page) == 0
    net0, chart0 = image(page, ".cimsim-network-img"), image(page, ".cimsim-chart-blocks img")
    button(page, "Step").click()
    wait_text(page, ".cimsim-month", "Month 1 ")
    time.sleep(0.5)
    assert image(page, ".cimsim-network-img") != net0, "network view did not change after Step"
    assert image(page, ".cimsim-chart-blocks img") != chart0, "chart did not change after Step"
    button(page, "Play").click()
    wait_month(page, 6)
    button(page, "Pause").click()
    page.get_by_text("Compare A with B").click()
    page.locator(".cimsim-month-b").first.wait_for()
    button(page, "Step").click()
    wait_text(page, ".cimsim-month", "Month 1 ")
    b_text = page.locator(".cimsim-month-b").first.inner_text()
    assert b_text.startswith("B (backbone off)")
    button(page, "Difference A−B").click()
    page.get_by_text("What the building blocks mean").click()
    button(page, "Play").click()
    wait_month(page, 8)
    button(page, "Pause").click()
    time.sleep(0.5)
    assert page.locator(".cimsim-month-b").first.inner_text() != b_text
    full_screenshot(page, "app.png")


def test_bug1_no_pause_shows_every_stretch_and_pause_stops(page: Any) -> None:
    """Bug 1: with "Pause between ticks" at 0 the display used to freeze at month 0 and
    then jump to "Month 121 / 120"; now the months are drawn as they pass, Pause stops
    the run and the counter never passes the horizon. The first part plays the default
    scenario (Malmö, 3,312 stakeholders), where the freeze was seen."""
    set_no_pause(page)
    button(page, "Play").click()
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not seen or seen[-1] < 12):
        seen.append(month(page))
        time.sleep(0.05)
    button(page, "Pause").click()
    time.sleep(0.6)
    paused = month(page)
    time.sleep(1.0)
    assert month(page) == paused, "the run went on after Pause"
    assert 12 <= paused < 120
    shown = sorted(set(seen))
    assert len([m for m in shown if 0 < m < 12]) >= 4, f"the display froze: {shown}"
    assert seen == sorted(seen)
    # to the end of a short run at no pause: it stops at the horizon, not one past it
    paste_scenario(page, SHORT)
    wait_text(page, ".cimsim-month", "Month 0 / 24")
    button(page, "Play").click()
    wait_text(page, ".cimsim-month", "Month 24 / 24")
    time.sleep(1.0)
    assert counter(page) == "Month 24 / 24"


def test_bug2_the_month_never_passes_the_horizon(page: Any) -> None:
    """Bug 2: at the last month Play was disabled but Step was not, and two Steps gave
    "Month 122 / 120"; now both are disabled and a forced click does nothing."""
    paste_scenario(page, SHORT.replace("months = 24", "months = 4"))
    wait_text(page, ".cimsim-month", "Month 0 / 4")
    for m in range(1, 5):
        button(page, "Step").click()
        wait_text(page, ".cimsim-month", f"Month {m} / 4")
    page.wait_for_function(
        "() => { const b = [...document.querySelectorAll('button')].filter("
        "(b) => ['Step', 'Play'].includes(b.textContent.trim()));"
        " return b.length === 2 && b.every((x) => x.disabled); }"
    )
    assert button(page, "Step").is_disabled() and button(page, "Play").is_disabled()
    for _ in range(2):
        button(page, "Step").click(force=True)
    time.sleep(0.8)
    assert counter(page) == "Month 4 / 4"


def test_bug3_the_timeline_follows_play_and_step(page: Any) -> None:
    """Bug 3: the event timeline stayed "pending" during Play and Step."""
    paste_scenario(
        page,
        SHORT + "[[interventions]]\nkind = 'workshop'\nmonth = 1\n"
        "[[interventions]]\nkind = 'trust_shock'\nmonth = 10\n"
        "[[interventions]]\nkind = 'workshop'\nmonth = 20\n",
    )
    wait_text(page, ".cimsim-timeline", "month 1: workshop (reach=0.3) — pending")
    button(page, "Step").click()
    wait_text(page, ".cimsim-timeline", "month 1: workshop (reach=0.3) — done")
    set_no_pause(page)
    button(page, "Play").click()
    wait_month(page, 12)
    button(page, "Pause").click()
    wait_text(page, ".cimsim-timeline", "month 10: trust shock (severity=0.5) — done")
    assert (
        "month 20: workshop (reach=0.3) — pending"
        in page.locator(".cimsim-timeline").first.inner_text()
    )


def test_bug4_errors_sit_by_their_control_and_clear(page: Any) -> None:
    """Bug 4: errors appeared only at the top of the page and stayed; a pasted file grew
    the paste box to thousands of pixels."""
    seed = page.get_by_label("Seed")
    seed.fill("abc")
    seed.press("Enter")
    error = page.locator(".cimsim-error").first
    error.wait_for()
    assert "seed must be a whole number" in error.inner_text()
    gap = error.bounding_box()["y"] - (seed.bounding_box()["y"] + seed.bounding_box()["height"])
    assert 0 <= gap < 60, f"the error is {gap:.0f} px away from the seed box"
    seed.fill("4")
    seed.press("Enter")
    page.locator(".cimsim-error").first.wait_for(state="detached")
    # a long paste scrolls inside a bounded box; its error sits under Load TOML
    paste_scenario(page, "\n".join(f"# line {i}" for i in range(400)) + "\nname = [unclosed\n")
    error.wait_for()
    box = page.locator(".cimsim-paste textarea").first.bounding_box()
    assert box["height"] <= 320, f"the paste box grew to {box['height']:.0f} px"
    load = button(page, "Load TOML").bounding_box()
    assert 0 <= error.bounding_box()["y"] - load["y"] < 120
    assert "not valid TOML" in error.inner_text()
    paste_scenario(page, SHORT)
    wait_text(page, ".cimsim-month", "Month 0 / 24")
    assert page.locator(".cimsim-error").count() == 0


def test_bug5_compare_label_tells_when_an_event_overrides_b(page: Any) -> None:
    """Bug 5: "B (backbone off)" while B's own add-backbone event gave it a backbone."""
    paste_scenario(
        page,
        SHORT + "[backbone]\nenabled = false\n[[interventions]]\nkind = 'add_backbone'\n"
        "month = 12\n",
    )
    wait_text(page, ".cimsim-month", "Month 0 / 24")
    page.get_by_text("Compare A with B").click()
    page.locator(".cimsim-month-b").first.wait_for()
    label = page.locator(".cimsim-month-b").first.inner_text()
    assert label.startswith("B (backbone off until month 12)")
    warning = page.locator(".cimsim-variant-warning").first
    assert "add backbone at month 12" in warning.inner_text()


def test_bug6_phone_layout_stacks_without_sideways_scroll(page: Any) -> None:
    """Bug 6: at 390 x 844 nothing stacked, the charts shrank to thumbnails and the page
    scrolled sideways."""
    page.set_viewport_size({"width": 390, "height": 844})
    time.sleep(1.0)
    sideways = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert sideways <= 0, f"the page scrolls {sideways} px sideways at 390 px"
    assert page.evaluate(SIDEWAYS) == []  # nor does any box inside it
    run = page.locator(".cimsim-run-card").first.bounding_box()
    net = page.locator(".cimsim-network-img").first.bounding_box()
    blocks = page.locator(".cimsim-chart-blocks img").first.bounding_box()
    outcomes = page.locator(".cimsim-chart-outcomes img").first.bounding_box()
    for name, box in {"network": net, "blocks": blocks, "outcomes": outcomes}.items():
        assert box["width"] >= 370, f"{name} is {box['width']:.0f} px wide at 390 px"
    assert run["y"] + run["height"] <= net["y"] + 1  # the player, then the dashboard
    assert net["y"] < blocks["y"] < outcomes["y"]  # one above the other
    later = page.locator(".cimsim-try").first.bounding_box()
    assert later["y"] > outcomes["y"]  # the other controls come after the dashboard
    full_screenshot(page, "app-390.png")


def test_bug7_sliders_do_not_restart_a_running_model(page: Any) -> None:
    """Bug 7: moving any slider restarted the run at month 0 without notice, even while
    playing; a live slider now changes the running model, the others wait for Reset and
    say so."""
    button(page, "Play").click()
    wait_month(page, 3)
    before = month(page)
    press_slider(page, "Urgency", "ArrowLeft")  # applies at reset
    page.locator(".cimsim-pending").first.wait_for()
    assert "applies at the next Reset" in page.locator(".cimsim-pending").first.inner_text()
    page.locator(".cimsim-pending-reset").first.wait_for()
    press_slider(page, "Resources", "ArrowLeft")  # live
    wait_month(page, before + 3)
    button(page, "Pause").click()
    assert page.locator(".cimsim-pending").count() == 1  # Resources applied at once
    assert month(page) > before
    button(page, "Reset").click()
    wait_text(page, ".cimsim-month", "Month 0 /")
    page.locator(".cimsim-pending").first.wait_for(state="detached")


# ---------------------------------------------------------------------- the dashboard


def test_dashboard_shows_blocks_outcomes_and_network_at_once(page: Any) -> None:
    """At 1440 x 900 the network, the five building blocks and the outcomes are all in view,
    drawn at full size (figure text 14 px), with a legend for the network's marks."""
    for css in (".cimsim-network-img", ".cimsim-chart-blocks img", ".cimsim-chart-outcomes img"):
        box = page.locator(css).first.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 900, f"{css} is not in view"
        natural, shown = page.locator(css).first.evaluate(
            "(img) => [img.naturalWidth, img.clientWidth]"
        )
        assert shown >= natural - 1, f"{css} shrunk from {natural} to {shown} px"
    legend = page.locator(".cimsim-legend").first
    text = legend.inner_text()
    assert "Size: influence" in text and "Line width: trust" in text and "engaged" in text
    size = legend.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 14
    page.screenshot(path=str(ARTIFACTS / "app-1440.png"))


def test_pointing_at_a_chart_shows_month_and_values(page: Any) -> None:
    set_no_pause(page)
    press_slider(page, "Months per tick", "End")
    button(page, "Play").click()
    wait_month(page, 60)
    button(page, "Pause").click()
    chart = page.locator(".cimsim-chart-outcomes img").first
    box = chart.bounding_box()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.5 * box["height"])
    wait_text(page, ".cimsim-chart-outcomes .cimsim-readout", "Month ")
    text = page.locator(".cimsim-chart-outcomes .cimsim-readout").first.inner_text()
    assert re.match(r"Month \d+: impact [\d.]+, trust [\d.]+, participation [\d.]+", text), text


def test_clicking_a_node_shows_that_stakeholder(page: Any) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator(".cimsim-network-img").first.bounding_box()
    offsets = [(0.5, 0.5), (0.45, 0.5), (0.55, 0.45), (0.5, 0.55), (0.4, 0.4), (0.6, 0.6)]
    for fx, fy in offsets:
        # a click right after the page loads can come before the image listens (seen once
        # in a full suite on two busy cores): no answer in 10 s, the next offset is clicked
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        try:
            page.wait_for_function(
                "() => document.querySelector('.cimsim-node') !== null || "
                "document.body.innerText.includes('No stakeholder there')",
                timeout=10_000,
            )
        except PlaywrightTimeout:
            continue
        if page.locator(".cimsim-node").count():
            break
    details = page.locator(".cimsim-node").first.inner_text()
    assert re.search(
        r"Stakeholder #\d+ of plan A: (government|citizens|businesses|civil society), "
        r"(inactive|aware|engaged); commitment [\d.]+; mean trust on its \d+ ties [\d.]+; "
        r"(a champion|not a champion)",
        details,
    ), details


def test_a_guided_experiment_sets_up_and_runs(page: Any) -> None:
    """ "A trust shock in year 3": busy while it builds, then the shock is scheduled for A,
    B is the plain plan, and playing past month 36 marks the shock done."""
    page.locator(".cimsim-try-trust_shock").click()
    page.locator(".cimsim-busy").first.wait_for(timeout=5_000)
    page.locator(".cimsim-try-note").first.wait_for()
    page.locator(".cimsim-busy").first.wait_for(state="detached")
    wait_text(page, ".cimsim-timeline", "month 36: trust shock (severity=0.6) — pending")
    assert "its own plan" in page.locator(".cimsim-month-b").first.inner_text()
    set_no_pause(page)
    press_slider(page, "Months per tick", "End")  # 12 months a tick
    button(page, "Play").click()
    wait_month(page, 48)
    button(page, "Pause").click()
    wait_text(page, ".cimsim-timeline", "month 36: trust shock (severity=0.6) — done")
    page.screenshot(path=str(ARTIFACTS / "app-experiment.png"))


# ---------------------------------------------------------------------- the workbench


def test_replicates_match_compare_plans_on_the_downloaded_files(page: Any, tmp_path) -> None:
    """Replicate mode shows B − A over 10 seeds; the same numbers come out of
    ``compare_plans`` (``cimsim compare-plans``) run on the two downloaded TOML files."""
    from cimsim.plans import compare_plans
    from cimsim.runs.options import ExecutionOptions

    paste_scenario(page, SHORT)
    wait_text(page, ".cimsim-month", "Month 0 / 24")
    page.get_by_text("Compare A with B").click()
    page.locator(".cimsim-month-b").first.wait_for()
    button(page, "Run 10 seeds").click()
    page.locator(".cimsim-replicate-row").first.wait_for(timeout=90_000)
    rows = page.locator(".cimsim-replicate-row").all_inner_texts()
    files = {}
    for label in ("Download scenario (TOML)", "Plan B (TOML)"):
        with page.expect_download() as info:
            page.get_by_text(label).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        files[label] = path
    _levels, diffs = compare_plans(
        [str(files["Download scenario (TOML)"]), str(files["Plan B (TOML)"])],
        replicates=10,
        milestones=[24],
        options=ExecutionOptions(executor="serial"),
    )
    for _, row in diffs.iterrows():
        want = (
            f"Month 24, {row.outcome}: B − A = {row['mean']:+.3f} "
            f"[{row.ci_low:+.3f}, {row.ci_high:+.3f}]"
        )
        assert want in rows, (want, rows)
    button(page, "Replicates B−A").click()
    page.screenshot(path=str(ARTIFACTS / "app-replicates.png"))


def test_step_to_plot_latency(page: Any) -> None:
    """Step-to-updated-plots latency in the browser, written to test-artifacts/; the
    target (median < 150 ms at default sizes) is reported, the test only guards against a
    broken redraw (each Step must update every image within 2 s)."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("bench_app", ROOT / "benchmarks" / "bench_app.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.measure_browser(page, clicks=10)
    (ARTIFACTS / "latency.json").write_text(json.dumps(res, indent=1))
    assert res["max_ms"] < 2000
