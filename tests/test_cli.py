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


def test_compare_prints_one_table_with_and_without_backbone(capsys) -> None:
    assert main(["compare", "--replicates", "2", "--steps", "6"]) == 0
    out = capsys.readouterr().out
    rows = [
        line
        for line in out.splitlines()
        if line.split()[:1] in (["malmo"], ["mechelen"], ["skive"])
    ]
    assert len(rows) == 9  # 3 cases x (with, without) + 3 effect lines
    assert "impact" in out and "backbone" in out


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
