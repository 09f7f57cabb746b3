"""Data integrity, hostile scenario files, runaway sizes and orphaned processes.

Each test reproduces a defect a reliability and security probe found (the output mixed,
partial or written outside ``--out``; a scenario file running script in the app; a run or a
paste exhausting memory; workers outliving their command) and checks the fix.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import solara

import cimsim
from cimsim import sizing
from cimsim.app import Page, Session, serve
from cimsim.cli import main
from cimsim.errors import CimsimError
from cimsim.runs import ResultStore, RunError, run_design
from cimsim.scenario import ScenarioError
from cimsim.sensitivity import inside, run_sensitivity

SMALL = {"population.citizens": 60, "population.businesses": 6, "population.civil_society": 6}


def _sweep(out: Path, **kw) -> cimsim.runs.Results:
    base = cimsim.load_scenario("malmo", SMALL)
    design = [{"backbone.enabled": True}, {"backbone.enabled": False}]
    return run_design(
        base, design, 3, steps=6, out=out, executor="serial", progress=False, batch_size=2, **kw
    )


# ---------------------------------------------------------------- data integrity


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "mix"
    first = ResultStore(out)
    first.lock()
    try:
        with pytest.raises(RunError, match="another cimsim command is writing"):
            _sweep(out)
        assert not (out / "manifest.json").exists()
    finally:
        first.unlock()
    res = _sweep(out)  # once the first is done, the folder is free again
    assert len(res.finals) == 6


def test_concurrent_sweeps_from_two_processes_never_mix(tmp_path: Path) -> None:
    out = tmp_path / "mix"
    args = ["--steps", "24", "--batch-size", "2", "--serial", "--out", str(out)]
    cmd = [
        sys.executable,
        "-m",
        "cimsim",
        "sweep",
        "malmo",
        *[f"--set={k}={v}" for k, v in SMALL.items()],
    ]
    a = subprocess.Popen(
        [*cmd, "--grid", "preconditions.urgency=0.2,0.4,0.6", "--replicates", "5", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    b = subprocess.Popen(
        [*cmd, "--grid", "settings.communication=0.2,0.4,0.6", "--replicates", "5", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results = [p.communicate(timeout=300) for p in (a, b)]
    codes = [a.returncode, b.returncode]
    # either one was refused, or they ran one after the other and the second was refused as a
    # different experiment: never two successes into one folder
    assert sorted(codes) == [0, 2], (codes, results)
    loser = results[codes.index(2)][1]
    assert loser.count("\n") == 1 and "cimsim: error:" in loser
    finals = pd.read_parquet(out / "finals.parquet")
    assert len(finals) == 15
    paths = [c for c in finals.columns if c in ("preconditions.urgency", "settings.communication")]
    assert len(paths) == 1


def test_a_flipped_byte_in_a_part_is_detected_and_the_part_run_again(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    clean = _sweep(out).finals
    part = sorted((out / "parts").glob("finals-*.parquet"))[0]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = _sweep(out).finals
    assert any("checksum" in str(w.message) or "unreadable" in str(w.message) for w in caught)
    pd.testing.assert_frame_equal(clean, again, check_exact=True)


def test_run_out_is_complete_or_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cimsim.files

    out = tmp_path / "run"

    def broken(folder: Path, model, seed: int, steps: int) -> None:
        (folder / "series.csv").write_text("half")
        raise KeyboardInterrupt  # killed halfway through writing

    monkeypatch.setattr(cimsim.files, "write_run", broken)
    assert main(["run", "malmo", "--steps", "3", "--out", str(out), *_sets()]) == 130
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir()]  # no hidden temporary folder left either
    monkeypatch.undo()
    assert main(["run", "malmo", "--steps", "3", "--out", str(out), *_sets()]) == 0
    assert {"series.csv", "series.parquet", "run.json", "scenario.json"} <= {
        p.name for p in out.iterdir()
    }
    assert main(["run", "malmo", "--steps", "4", "--out", str(out), *_sets()]) == 0  # replaced
    assert len(pd.read_csv(out / "series.csv")) == 5


def test_run_out_never_replaces_a_folder_of_other_files(tmp_path: Path, capsys) -> None:
    keep = tmp_path / "documents"
    keep.mkdir()
    (keep / "thesis.txt").write_text("precious")
    assert main(["run", "malmo", "--steps", "2", "--out", str(keep), *_sets()]) == 2
    assert "other files" in capsys.readouterr().err
    assert [p.name for p in keep.iterdir()] == ["thesis.txt"]


def test_an_unwritable_out_fails_before_the_run(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "some_file"
    afile.write_text("x")
    started = time.perf_counter()
    assert main(["run", "malmo", "--out", str(afile / "sub")]) == 2
    assert time.perf_counter() - started < 2.0  # refused before a 120-month run
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["sweep", "malmo", "--grid", "backbone.enabled=true", "--serial",
                 "--out", str(afile / "sub")]) == 2  # fmt: skip
    assert "cannot write here" in capsys.readouterr().err


def test_sensitivity_leaves_no_design_after_an_error(tmp_path: Path) -> None:
    out = tmp_path / "sobol"
    with pytest.raises(CimsimError):
        run_sensitivity(
            ["malmo"],
            {"settings.initial_trust": (0.0, 1.0), "preconditions.resources": (0.0, 1.0)},
            n=2,
            replicates=1,
            steps=2,
            overrides=SMALL,
            executor="dask:nonsense",
            progress=False,
            out=out,
            echo=None,
        )
    assert not (out / "design.csv").exists()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("activities.need", [float("inf"), 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
        ("population.residents_per_citizen", float("inf")),
        ("settings.communication", float("nan")),
        ("calibration.activities.rate", float("inf")),
    ],
)
def test_every_float_is_finite(path: str, value: object) -> None:
    with pytest.raises(ScenarioError, match=path.split(".")[-1]):
        cimsim.load_scenario("malmo", {path: value})


def test_steps_have_an_upper_bound(capsys) -> None:
    with pytest.raises(SystemExit) as err:
        main(["run", "malmo", "--steps", "10001"])
    assert err.value.code == 2
    assert "<= 10,000" in capsys.readouterr().err


# ---------------------------------------------------------------- hostile scenario files


@pytest.mark.parametrize("name", ["../../victim", "/tmp/victim", "a/b", "..", ".hidden", ""])
def test_scenario_names_are_safe_slugs(name: str) -> None:
    with pytest.raises(ScenarioError, match="name"):
        cimsim.load_scenario("malmo", {"name": name})


def test_every_write_stays_under_out(tmp_path: Path) -> None:
    assert inside(tmp_path, "runs", "malmo") == tmp_path / "runs" / "malmo"
    for hostile in ("../../victim", "/etc"):
        with pytest.raises(RunError, match="outside"):
            inside(tmp_path, "runs", hostile)


def test_user_text_is_never_rendered_as_markup() -> None:
    import ipyvuetify as v

    title = '<img src=x onerror="alert(1)">'
    link = "[click](javascript:alert(2))"
    session = Session()
    session.load_toml_text(
        f"name = 'x'\ntitle = '{title}'\ndescription = '{link}'\n" + _small_toml()
    )
    _, rc = solara.render(Page(session=session), handle_error=False)
    # Markdown becomes HTML in a VuetifyTemplate: the user's text must be in none of them
    for widget in rc.find(v.VuetifyTemplate).widgets:
        html = str(getattr(widget.template, "template", widget.template))
        assert "<img src=x" not in html and "javascript:alert" not in html
    shown = [str(c) for w in rc.find(v.Html, tag="span").widgets for c in w.children]
    assert title in shown and link in shown  # shown as plain text instead


def test_the_page_loads_nothing_from_a_cdn() -> None:
    import ipyvuetify as v

    session = Session()
    session.schedule({"kind": "remove_backbone", "month": 24})  # the timeline is shown too
    _, rc = solara.render(Page(session=session), handle_error=False)
    # solara.Markdown's template fetches KaTeX from the CDN: no part of the page uses it
    for widget in rc.find(v.VuetifyTemplate).widgets:
        template = str(getattr(widget.template, "template", widget.template))
        assert "katex" not in template.lower()


def test_missing_browser_bundles_are_named(tmp_path: Path, monkeypatch, capsys) -> None:
    from cimsim.app import assets

    needed = assets.needed_packages()
    assert any("solara-vuetify" in p for p in needed)
    monkeypatch.setattr(assets, "cache_folder", lambda: tmp_path)  # an empty cache
    assert assets.missing_bundles() == needed
    monkeypatch.setattr(serve, "port_in_use", lambda host, port: True)
    assert main(["app", "--port", "1"]) == 2  # stops at the busy port, after the check
    err = capsys.readouterr().err
    assert "not on this machine" in err and needed[0] in err


# ---------------------------------------------------------------- runaway sizes


def test_the_app_refuses_huge_pastes_and_models() -> None:
    session = Session()
    with pytest.raises(ScenarioError, match="at most 64 KiB"):
        session.load_toml_text("# " + "x" * 70_000 + "\n")
    with pytest.raises(ScenarioError, match="the app runs models of at most"):
        session.load_toml_text("[population]\ncitizens = 1000000\n[network]\nmean_degree = 100\n")
    for empty in ("", "   \n# only a comment\n"):
        with pytest.raises(ScenarioError, match="empty"):
            session.load_toml_text(empty)
    assert session.model.spec.name == "malmo"  # the session is untouched
    with pytest.raises(ScenarioError, match="at most"):
        session.set_param("population.citizens", 2_000_000)


def test_a_run_that_would_not_fit_is_refused_with_its_size(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sizing, "available_bytes", lambda: 200 * 2**20)  # 200 MiB free
    big = ["--set", "population.citizens=2000000", "--set", "network.mean_degree=100"]
    started = time.perf_counter()
    assert main(["run", "malmo", *big]) == 2
    assert time.perf_counter() - started < 2.0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GiB of memory" in err and "2,000" in err


def test_absurd_replicates_are_refused_at_once(capsys) -> None:
    started = time.perf_counter()
    code = main(["compare", "malmo", "--replicates", "1000000000", "--serial"])
    assert code == 2 and time.perf_counter() - started < 5.0
    assert capsys.readouterr().err.count("\n") == 1


# ---------------------------------------------------------------- processes and services


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pids: list[int]) -> list[int]:
    import psutil

    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_no_worker_outlives_a_killed_sweep(tmp_path: Path, sig: int) -> None:
    cmd = [sys.executable, "-m", "cimsim", "sweep", "malmo", "--grid",
           "preconditions.urgency=0.2,0.4,0.6,0.8", "--replicates", "20", "--workers", "2",
           "--out", str(tmp_path / "s")]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: list[int] = []
    deadline = time.time() + 60
    while time.time() < deadline and len(workers) < 3:
        time.sleep(0.5)
        workers = _descendants(proc.pid)
    assert workers, "the sweep started no worker processes"
    time.sleep(1.0)
    workers = _descendants(proc.pid)
    proc.send_signal(sig)
    code = proc.wait(timeout=30)
    if sig == signal.SIGTERM:
        assert code == 143
    deadline = time.time() + 15
    while time.time() < deadline and _alive(workers):
        time.sleep(0.5)
    assert not _alive(workers), f"orphaned: {_alive(workers)}"


def test_a_busy_port_gets_one_line(tmp_path: Path, capsys) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert serve.port_in_use("127.0.0.1", port)
        assert main(["app", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in use" in err


def test_serving_beyond_this_machine_warns() -> None:
    assert serve.is_loopback("127.0.0.1") and serve.is_loopback("localhost")
    assert serve.is_loopback("::1")
    assert not serve.is_loopback("0.0.0.0") and not serve.is_loopback("192.0.2.1")


def test_dask_addresses_without_a_host_get_one_line(capsys) -> None:
    for target in ("tcp://", "tls://", "udp://x:1"):
        code = main(["sweep", "malmo", "--grid", "backbone.enabled=true", "--dask", target,
                     "--out", "unused-never-written"])  # fmt: skip
        assert code == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert not Path("unused-never-written").exists()


@pytest.mark.slow
def test_a_scheduler_without_workers_times_out_with_one_line(monkeypatch) -> None:
    from distributed import LocalCluster

    monkeypatch.setenv("CIMSIM_DASK_WAIT", "1")
    cluster = LocalCluster(n_workers=0, dashboard_address=":0", processes=True)
    try:
        with pytest.raises(RunError, match="no worker joined"):
            cimsim.runs.open_executor(f"dask:{cluster.scheduler_address}")
    finally:
        cluster.close()


@pytest.mark.slow
def test_a_killed_scheduler_gives_one_line_and_the_sweep_resumes(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    scheduler = subprocess.Popen(
        [bindir / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [bindir / "dask", "worker", address, "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out = tmp_path / "s"
    sweep = [sys.executable, "-m", "cimsim", "sweep", "malmo", *_sets(), "--grid",
             "backbone.enabled=true,false", "--replicates", "40", "--steps", "24",
             "--batch-size", "2", "--out", str(out)]  # fmt: skip
    try:
        proc = subprocess.Popen(
            [*sweep, "--dask", address], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        deadline = time.time() + 90
        while time.time() < deadline and not list((out / "parts").glob("finals-*")):
            time.sleep(0.2)
        assert list((out / "parts").glob("finals-*")), "no batch finished on the cluster"
        scheduler.kill()
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 2, err
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert "lost the executor" in last and "run the same command again" in last
        done = subprocess.run([*sweep, "--serial"], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert len(pd.read_parquet(out / "finals.parquet")) == 80
    finally:
        for p in (scheduler, worker):
            p.kill()
            p.wait(timeout=30)


def _certificates(folder: Path) -> dict[str, str]:
    """A test CA and one certificate for 127.0.0.1 signed by it (openssl's command line)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=cimsim test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
            "-subj", "/CN=127.0.0.1")  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    return {k: str(folder / v) for k, v in
            {"ca": "ca.pem", "cert": "node.pem", "key": "node.key"}.items()}  # fmt: skip


@pytest.mark.slow
def test_a_sweep_over_tls_with_certificates(tmp_path: Path) -> None:
    import shutil
    import socket

    if shutil.which("openssl") is None:
        pytest.skip("openssl not found")
    pem = _certificates(tmp_path)
    tls = ["--tls-ca-file", pem["ca"], "--tls-cert", pem["cert"], "--tls-key", pem["key"]]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tls://127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [bindir / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--protocol", "tls", *tls, "--no-dashboard"], **quiet,
    )  # fmt: skip
    worker = subprocess.Popen(
        [bindir / "dask", "worker", address, *tls, "--nthreads", "1", "--no-dashboard"], **quiet
    )
    sweep = [sys.executable, "-m", "cimsim", "sweep", "malmo", *_sets(), "--grid",
             "backbone.enabled=true,false", "--replicates", "3", "--steps", "12"]  # fmt: skip
    env = {
        **os.environ,
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": pem["ca"],
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": pem["cert"],
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": pem["key"],
    }
    try:
        # without certificates: one line, nothing written
        bare = {k: v for k, v in env.items() if not k.startswith("DASK_DISTRIBUTED__COMM__TLS")}
        refused = subprocess.run([*sweep, "--dask", address, "--out", str(tmp_path / "no")],
                                 capture_output=True, text=True, env=bare, timeout=60)  # fmt: skip
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
        assert "TLS needs certificates" in refused.stderr
        assert not (tmp_path / "no").exists()
        # a client whose CA the cluster does not know: one line
        (tmp_path / "other").mkdir()
        other = _certificates(tmp_path / "other")
        stranger = {**env, "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": other["ca"],
                    "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": other["cert"],
                    "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": other["key"]}  # fmt: skip
        refused = subprocess.run(
            [*sweep, "--dask", address, "--out", str(tmp_path / "no")],
            capture_output=True, text=True, env=stranger, timeout=90,
        )  # fmt: skip
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert "cannot connect" in refused.stderr
        # with them: the same table as a serial run
        done = subprocess.run([*sweep, "--dask", address, "--out", str(tmp_path / "tls")],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        serial = subprocess.run([*sweep, "--serial", "--out", str(tmp_path / "serial")],
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert serial.returncode == 0, serial.stderr
        a = pd.read_parquet(tmp_path / "tls" / "finals.parquet")
        b = pd.read_parquet(tmp_path / "serial" / "finals.parquet")
        pd.testing.assert_frame_equal(a, b)
    finally:
        for p in (scheduler, worker):
            p.kill()
            p.wait(timeout=30)


def _sets() -> list[str]:
    return [x for k, v in SMALL.items() for x in ("--set", f"{k}={v}")]


def _small_toml() -> str:
    return "[population]\ncitizens = 60\nbusinesses = 6\ncivil_society = 6\n"


os.environ.setdefault("CIMSIM_TEST", "1")
