"""Pattern-oriented calibration: sampling, acceptance, the report, resume, the command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cimsim import calibrate
from cimsim.calibration import Calibration, calibration_ranges
from cimsim.patterns import CASES

TOY = {
    "calibration.toy.x": (0.0, 1.0),
    "calibration.toy.y": (0.0, 2.0),
    "calibration.toy.z": (0.0, 1.0),
}
"""A toy model's constants; it reproduces its one pattern where x + y / 2 < 0.8 (z is free)."""


def toy_check(constants: dict[str, float]) -> dict[str, object]:
    margin = 0.8 - (constants["calibration.toy.x"] + constants["calibration.toy.y"] / 2)
    return {"score:toy.region": margin, "pass:toy.region": margin > 0, "detail:toy.region": ""}


def test_sample_is_a_latin_hypercube_over_the_plausible_ranges() -> None:
    table = calibrate.sample(50, seed=3)
    ranges = calibration_ranges()
    assert list(table.columns) == list(ranges) and len(table) == 51
    bundled = Calibration().model_dump()
    first = table.iloc[0]
    assert first["calibration.recruitment.social_weight"] == bundled["recruitment"]["social_weight"]
    for path, (lo, hi) in ranges.items():
        column = table[path].iloc[1:]
        assert column.between(lo, hi).all(), path
        # a Latin hypercube: one draw in each of the 50 strata of every range
        if path != "calibration.backbone.meeting_size":  # whole numbers are rounded
            strata = np.floor((column - lo) / (hi - lo) * 50).clip(0, 49)
            assert sorted(strata.astype(int)) == list(range(50)), path
    assert table.equals(calibrate.sample(50, seed=3))
    assert not table.equals(calibrate.sample(50, seed=4))


def test_calibrate_recovers_a_known_accepted_region() -> None:
    candidates = calibrate.sample(400, seed=1, ranges=TOY)
    table = calibrate.evaluate(candidates, executor="serial", progress=False, check=toy_check)
    sampled = table.iloc[1:]
    ok = sampled["accepted"]
    inside = sampled["calibration.toy.x"] + sampled["calibration.toy.y"] / 2 < 0.8
    assert (ok == inside).all()
    # in units of the box (x and y / 2 in [0, 1]) the region is a triangle of area 0.32
    assert abs(ok.mean() - 0.32) < 0.05
    strength = calibrate.constrained(table).set_index("constant")
    # the patterns constrain x and y (both pushed low), not z
    assert strength.loc["calibration.toy.x", "p"] < 1e-6
    assert strength.loc["calibration.toy.y", "p"] < 1e-6
    assert strength.loc["calibration.toy.z", "p"] > 0.01
    assert strength.loc["calibration.toy.x", "accepted_95%"] < 0.8
    text = calibrate.report(table)
    assert "toy.region" in text and f"{int(ok.sum())} of 400" in text


def test_tolerance_accepts_candidates_failing_that_many_patterns() -> None:
    def two_patterns(constants: dict[str, float]) -> dict[str, object]:
        x = constants["calibration.toy.x"]
        return {"pass:a.one": x < 0.5, "pass:a.two": x < 0.25, "score:a.one": 0.5 - x,
                "score:a.two": 0.25 - x, "detail:a.one": "", "detail:a.two": ""}  # fmt: skip

    candidates = calibrate.sample(40, seed=2, ranges=TOY)
    strict = calibrate.evaluate(candidates, executor="serial", progress=False, check=two_patterns)
    loose = calibrate.evaluate(
        candidates, executor="serial", progress=False, check=two_patterns, tolerance=1
    )
    x = strict["calibration.toy.x"]
    assert (strict["accepted"] == (x < 0.25)).all()
    assert (loose["accepted"] == (x < 0.5)).all()
    assert (strict["fails"] == (x >= 0.5).astype(int) + (x >= 0.25).astype(int)).all()


@pytest.mark.slow
def test_the_bundled_calibration_reproduces_every_pattern() -> None:
    row = calibrate.evaluate_candidate({}, CASES, replicates=4)
    failed = {k: row[f"detail:{k[5:]}"] for k, v in row.items() if k.startswith("pass:") and not v}
    assert not failed, failed
    assert row["measure:malmo.backbone_effect"] > 0.05


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cimsim", "calibrate", *args], capture_output=True, text=True, **kw
    )


QUICK = ("malmo", "--quick", "--samples", "3", "--replicates", "2", "--serial")


@pytest.mark.slow
def test_an_interrupted_calibration_resumes_to_the_same_table(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    assert _cli(*QUICK, "--out", str(whole)).returncode == 0
    part = tmp_path / "part"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cimsim", "calibrate", *QUICK, "--out", str(part)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((part / "parts").glob("candidate-*")):
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list((part / "parts").glob("candidate-*")))
    assert 1 <= finished < 4 and not (part / "candidates.parquet").exists()
    done = _cli(*QUICK, "--out", str(part))
    assert done.returncode == 0, done.stderr
    a = pd.read_parquet(whole / "candidates.parquet")
    b = pd.read_parquet(part / "candidates.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert "reproduce every pattern" in done.stdout
    assert (part / "report.md").read_text().startswith("# Pattern-oriented calibration")
    # another experiment in the same folder is refused in one line
    other = _cli(*QUICK[:-1], "--seed", "9", "--serial", "--out", str(part))
    assert other.returncode == 2 and "different experiment" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("atlantis", "--out", "X"), "unknown case 'atlantis'"),
        (("--alpha", "2", "--out", "X"), "between 0 and 1"),
        (("--replicates", "1", "--out", "X"), ">= 2"),
        (("--samples", "0", "--out", "X"), ">= 1"),
    ],
)
def test_bad_calibrate_options_are_one_line(tmp_path: Path, args, message: str) -> None:
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "X").exists()


@pytest.mark.slow
def test_the_table_is_the_same_on_every_executor() -> None:
    pytest.importorskip("distributed")
    candidates = calibrate.sample(1, seed=5)
    kw = {"size": calibrate.QUICK_SIZE, "progress": False}
    serial = calibrate.evaluate(candidates, ["malmo"], 2, executor="serial", **kw)
    dask = calibrate.evaluate(candidates, ["malmo"], 2, executor="dask:local:2", **kw)
    pd.testing.assert_frame_equal(serial, dask)
    assert serial.filter(like="score:").notna().all().all()
