"""The command line: listing, running, JSON, output folders, the main job, and user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cimsim import REPORTERS
from cimsim.cli import main
from cimsim.indicators import CORE

SMALL = ["--set", "population.citizens=300", "--set", "population.businesses=20"]


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m cimsim ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "cimsim", *args], capture_output=True, text=True, timeout=300
    )


def in_process(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``cimsim ARGS`` in this process: exit status, stdout, stderr. A traceback here
    would be an exception escaping ``main`` and fail the test."""
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scenarios_lists_one_line_each(capsys) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["malmo", "mechelen", "skive"]


def test_run_json_is_exactly_one_object_with_every_reporter() -> None:
    proc = cli("run", "mechelen", "--seed", "3", "--steps", "12", "--json", *SMALL)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["scenario"] == "mechelen" and data["seed"] == 3 and data["steps"] == 12
    assert list(data["final"]) == list(REPORTERS)
    assert all(0.0 <= data["final"][k] <= 1.0 for k in REPORTERS if k != "ties")


def test_run_json_is_reproducible(capsys) -> None:
    outs = []
    for _ in range(2):
        main(["run", "skive", "--seed", "11", "--steps", "10", "--json", *SMALL])
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]


def test_run_summary_and_out_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run1"
    assert main(["run", "malmo", "--steps", "8", "--out", str(out), *SMALL]) == 0
    text = capsys.readouterr().out
    assert "impact" in text and "participation_citizens" in text
    csv = pd.read_csv(out / "series.csv")
    parquet = pd.read_parquet(out / "series.parquet")
    assert len(csv) == 9 and list(csv.columns) == ["month", *REPORTERS]
    pd.testing.assert_frame_equal(csv, parquet, check_dtype=False)
    resolved = json.loads((out / "scenario.json").read_text())
    assert resolved["population"]["citizens"] == 300
    assert not list(out.glob("*.tmp"))


def test_python_dash_m_and_console_script_agree() -> None:
    exe = Path(sys.executable).with_name("cimsim")
    if not exe.exists():
        pytest.skip("console script not installed next to this interpreter")
    a = cli("run", "skive", "--steps", "5", "--json", *SMALL).stdout
    b = subprocess.run(
        [str(exe), "run", "skive", "--steps", "5", "--json", *SMALL], capture_output=True, text=True
    ).stdout
    assert a == b and a


LEAVE = """
import atexit, sys, tempfile, threading, time
from pathlib import Path
from cimsim.cli import leave
folder = tempfile.TemporaryDirectory()  # removed by an exit handler
print(folder.name)
atexit.register(lambda: print("exit handler ran"))
if sys.argv[1] == "thread":  # a thread still working: the usual exit waits for it
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished"))).start()
sys.stdout.write("x" * 1_000_000 + "\\n")  # partly still buffered
leave(int(sys.argv[2]))
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
@pytest.mark.parametrize("code", [0, 2])
def test_the_console_script_leaves_quickly_but_loses_nothing(thread: str, code: int) -> None:
    """The console script skips the interpreter's teardown (0.2 s of freeing compiled
    kernels) but keeps its exit status, its buffered output and its exit handlers; with
    a thread still running it exits the usual way, after the thread."""
    proc = subprocess.run(
        [sys.executable, "-c", LEAVE, thread, str(code)], capture_output=True, text=True
    )
    assert proc.returncode == code, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "exit handler ran"
    assert lines[1] == "x" * 1_000_000
    assert ("thread finished" in proc.stdout) == (thread == "thread")
    assert not Path(lines[0]).exists()  # the temporary folder's finalizer ran


def test_compare_prints_one_table_with_and_without_backbone(capsys) -> None:
    assert main(["compare", "--replicates", "2", "--steps", "6"]) == 0
    out = capsys.readouterr().out
    assert "Final month (malmo month 6, mechelen month 6, skive month 6)" in out
    header = next(line for line in out.splitlines() if line.startswith("outcome"))
    assert header.split()[1:] == [w for n in ("malmo", "mechelen", "skive")
                                  for w in (n, "with", n, "without")]  # fmt: skip
    rows = [line.split()[0] for line in out.splitlines() if line.split()[:1]]
    for name in CORE:  # whole names, one row each
        assert rows.count(name) == 1
    effects = [line for line in out.splitlines() if line.startswith("  ") and "[" in line]
    assert [e.split()[0] for e in effects] == ["malmo", "mechelen", "skive"]


def test_compare_json(capsys) -> None:
    assert main(["compare", "skive", "--replicates", "3", "--steps", "12", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["final_month"] == {"skive": 12} and len(data["results"]) == 2 * len(CORE)
    effect = next(e for e in data["effects"] if e["outcome"] == "impact")
    with_, without = (
        next(r["mean"] for r in data["results"] if r["outcome"] == "impact" and r["backbone"] is b)
        for b in (True, False)
    )
    assert effect["mean"] == pytest.approx(with_ - without)
    assert effect["ci_low"] <= effect["mean"] <= effect["ci_high"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "atlantis"], "unknown scenario 'atlantis'"),
        (
            ["run", "malmo", "--set", "backbone.enabeld=false"],
            "unknown parameter 'backbone.enabeld'",
        ),
        (["run", "malmo", "--set", "settings.communication=1.4"], "settings.communication"),
        (["run", "malmo", "--set", "population.citizens=lots"], "population.citizens"),
        (["run", "malmo", "--set", "backbone.enabled"], "expected PATH=VALUE"),
        (["run", "BAD_FILE"], "backbone.colour: unknown field"),
        (["run", "MALFORMED"], "not valid TOML"),
    ],
)
def test_user_mistakes_exit_2_with_one_line_and_no_output(
    tmp_path: Path, args: list[str], fragment: str, capsys
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[backbone]\ncolour = 'red'\n")
    malformed = tmp_path / "malformed.toml"
    malformed.write_text("[backbone\n")
    args = [{"BAD_FILE": str(bad), "MALFORMED": str(malformed)}.get(a, a) for a in args]
    out = tmp_path / "out"
    code, stdout, stderr = in_process(capsys, *args, "--out", str(out))
    assert code == 2
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and lines[0].startswith("cimsim: error:")
    assert not out.exists()
    if "BAD_FILE" in args or str(bad) in args:
        assert "bad.toml" in lines[0]


def test_bad_numbers_on_the_command_line_are_usage_errors(capsys) -> None:
    for args in (["run", "malmo", "--steps", "-3"], ["run", "malmo", "--seed", "abc"], ["fly"]):
        code, _, stderr = in_process(capsys, *args)
        assert code == 2
        assert len(stderr.strip().splitlines()) == 1, stderr


def test_a_user_mistake_in_a_real_process_is_one_line_without_traceback(tmp_path: Path) -> None:
    proc = cli("run", "malmo", "--set", "backbone.enabeld=false", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and not (tmp_path / "o").exists()


def test_result_files_get_the_usual_mode(tmp_path: Path) -> None:
    import os

    from cimsim.files import write_text

    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 in (0o644, 0o666 & ~old)


def test_params_lists_every_path_with_its_range_and_meaning(capsys) -> None:
    code, out, _ = in_process(capsys, "params", "skive", "--json")
    assert code == 0
    rows = {r["path"]: r for r in json.loads(out)}
    assert len(rows) > 140 and "calibration.recruitment.engage_rate" in rows
    assert rows["population.villages"]["value"] == 8  # the scenario's value, not the default
    assert rows["backbone.capacity"]["range"] == "[0, 1]" and rows["backbone.capacity"]["meaning"]
    assert all(r["meaning"] for r in rows.values())
    code, out, _ = in_process(capsys, "params", "--grep", "urgency")
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["path", "type", "range", "default"]
    assert all("urgency" in line.lower() for line in lines[1:]) and len(lines) > 3


def test_events_are_appended_checked_and_warned_about(capsys) -> None:
    args = ["run", "skive", "--steps", "6", "--json", *SMALL, "--set", "population.villages=8"]
    code, out, err = in_process(capsys, *args, "--event", "month=3,kind=trust_shock",
                                "--event", "month=20,kind=add_backbone")  # fmt: skip
    assert code == 0 and json.loads(out)["steps"] == 6
    assert "add_backbone at month 20 is after the run's last month (6)" in err
    code, _, err = in_process(capsys, *args, "--set", "interventions=[]")
    assert code == 0 and "replaces the 3 event(s) skive schedules" in err
    code, _, err = in_process(
        capsys, *args, "--set", 'interventions=[{month=2,kind="workshop",village=9}]'
    )
    assert (  # the warning, then the error
        code == 2 and "village 9 does not exist" in err and err.count("\n") == 2
    )  # warning + error
    for bad, fragment in (("month=2,kind=fly", "unknown kind 'fly'"), ("month=2", "needs kind")):
        code, _, err = in_process(capsys, *args, "--event", bad)
        assert code == 2 and fragment in err


def test_an_appended_event_changes_the_run(capsys) -> None:
    base = ["run", "malmo", "--steps", "24", "--json", *SMALL]
    _, plain, _ = in_process(capsys, *base)
    _, shocked, _ = in_process(capsys, *base, "--event", "month=6,kind=trust_shock,severity=1.0")
    assert json.loads(shocked)["final"]["trust"] < json.loads(plain)["final"]["trust"]


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m cimsim params | head -1", shell=True, capture_output=True, text=True
    )
    assert proc.stdout.startswith("path") and proc.stderr == ""


def test_a_missing_optional_part_is_named_with_its_install_command(capsys, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    gone = {"SALib", "solara", "distributed", "matplotlib"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n in gone else real(n, *a)
    )
    cases = [
        (["sensitivity", "malmo", "--param", "settings.initial_trust=0:1", "--out", "x"],
         "pip install 'cimsim[analysis]'"),
        (["app"], "pip install 'cimsim[app]'"),
        (["sweep", "malmo", "--grid", "backbone.enabled=true", "--dask", "local", "--out", "y"],
         "pip install 'cimsim[dask]'"),
        (["experiment", "missing-backbone"], "pip install 'cimsim[analysis]'"),
    ]  # fmt: skip
    for args, fragment in cases:
        code, _, err = in_process(capsys, *args)
        assert code == 2 and err.count("\n") == 1 and fragment in err, (args, err)
    assert not Path("x").exists() and not Path("y").exists()


def test_a_run_folder_can_be_run_again_and_says_where_it_came_from(tmp_path: Path, capsys) -> None:
    from cimsim.files import read_parquet_metadata

    out = tmp_path / "r"
    assert main(["run", "mechelen", "--seed", "4", "--steps", "12", *SMALL, "--out", str(out)]) == 0
    capsys.readouterr()
    record = json.loads((out / "run.json").read_text())
    assert record["seed"] == 4 and record["steps"] == 12 and record["scenario"] == "mechelen"
    assert len(record["scenario_sha256"]) == 64 and record["cimsim"]
    assert (
        read_parquet_metadata(out / "series.parquet")["scenario_sha256"]
        == record["scenario_sha256"]
    )
    again = ["run", str(out / "scenario.toml"), "--seed", "4", "--steps", "12", "--json"]
    assert main(again) == 0
    rerun = json.loads(capsys.readouterr().out)
    assert rerun["provenance"]["scenario_sha256"] == record["scenario_sha256"]  # the same scenario
    series = pd.read_csv(out / "series.csv")
    assert rerun["final"]["impact"] == series["impact"].iloc[-1]  # and the same result


def test_sweep_series_are_tidy_with_parameter_columns_and_provenance(tmp_path: Path) -> None:
    from cimsim.files import read_parquet_metadata

    out = tmp_path / "s"
    args = ["sweep", "mechelen", *SMALL, "--grid", "backbone.capacity=0.2,0.8",
            "--replicates", "2", "--steps", "4", "--serial", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    series = pd.read_parquet(out / "series.parquet")
    assert list(series.columns[:5]) == ["point", "replicate", "seed", "month", "backbone.capacity"]
    assert len(series) == 2 * 2 * 5  # one row per run and month (months 0-4)
    assert set(series.groupby("point")["backbone.capacity"].first()) == {0.2, 0.8}
    meta = read_parquet_metadata(out / "finals.parquet")
    assert meta["provenance"]["scenario"] == "mechelen" and meta["design_paths"] == [
        "backbone.capacity"
    ]


def test_compare_without_scenarios_is_an_error_not_an_empty_table(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("CIMSIM_SCENARIOS", str(tmp_path))  # an empty folder
    code, out, err = in_process(capsys, "compare")
    assert code == 2 and out == "" and "no bundled scenarios found" in err
