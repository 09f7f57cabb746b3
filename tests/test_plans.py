"""``cimsim compare-plans``: every plan against the first, paired by seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cimsim.cli import main
from cimsim.plans import mean_ci

SMALL = """
[population]
government = 4
citizens = 300
businesses = 25
civil_society = 20
"""


def _plan(folder: Path, name: str, extra: str = "") -> str:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\nmonths = 48\n{SMALL}{extra}')
    return str(path)


def _json(capsys, *args: str) -> dict:
    assert main(["compare-plans", *args, "--json", "--serial"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_plan_against_itself_differs_by_exactly_nothing(tmp_path: Path, capsys) -> None:
    a = _plan(tmp_path, "a")
    b = _plan(tmp_path, "b")  # the same plan under another name
    out = _json(capsys, a, b, "--replicates", "3", "--months", "12,48")
    assert out["reference"] == "a" and out["plans"] == ["a", "b"] and out["months"] == [12, 48]
    rows = out["differences"]
    assert len(rows) == 2 * 8  # two months x the eight headline outcomes
    for row in rows:
        assert set(row) == {"plan", "month", "outcome", "mean", "ci_low", "ci_high"}
        assert row["mean"] == row["ci_low"] == row["ci_high"] == 0.0


def test_a_late_backbone_shows_as_a_paired_difference(tmp_path: Path, capsys) -> None:
    now = _plan(tmp_path, "now")
    late = _plan(
        tmp_path,
        "late",
        '\n[backbone]\nenabled = false\n\n[[interventions]]\nkind = "add_backbone"\nmonth = 24\n',
    )
    out = _json(capsys, now, late, "--replicates", "6", "--months", "12,36")
    diff = pd.DataFrame(out["differences"]).set_index(["month", "outcome"])
    # no backbone yet at month 12: the late plan's backbone support is lower, surely
    assert diff.loc[(12, "backbone_support"), "ci_high"] < 0
    # from month 24 both plans have one: the gap in support closes
    assert abs(diff.loc[(36, "backbone_support"), "mean"]) < abs(
        diff.loc[(12, "backbone_support"), "mean"]
    )


def test_the_table_and_the_out_folder(tmp_path: Path, capsys) -> None:
    a, b = _plan(tmp_path, "a"), _plan(tmp_path, "b", "\n[settings]\ninitial_trust = 0.1\n")
    out = tmp_path / "cmp"
    code = main(["compare-plans", a, b, "--replicates", "3", "--months", "24", "--serial",
                 "--outcome", "impact", "--outcome", "trust", "--out", str(out)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "Month 24:" in text and "impact" in text and "trust" in text and "b " in text
    for name in ("levels.csv", "differences.csv", "differences.png", "plans.json"):
        assert (out / name).stat().st_size > 0
    diffs = pd.read_csv(out / "differences.csv")
    assert list(diffs["outcome"]) == ["impact", "trust"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["malmo"], "at least two plans"),
        (["malmo", "atlantis"], "unknown scenario 'atlantis'"),
        (["malmo", "skive", "--outcome", "happiness"], "--outcome happiness"),
        (["malmo", "skive", "--months", "a,b"], "--months a,b"),
        (["malmo", "skive", "--serial", "--dask", "local"], "exclude each other"),
    ],
)
def test_mistakes_are_one_line(args: list[str], fragment: str, capsys) -> None:
    assert main(["compare-plans", *args, "--replicates", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


def test_the_interval_is_students_t() -> None:
    diff = np.array([0.1, 0.3, 0.2, 0.4])
    mean, low, high = mean_ci(diff)
    half = 3.182446305284263 * diff.std(ddof=1) / 2  # t(0.975, 3) * sd / sqrt(4)
    assert mean == pytest.approx(0.25) and (low, high) == pytest.approx((0.25 - half, 0.25 + half))
