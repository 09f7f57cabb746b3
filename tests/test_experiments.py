"""Quick versions of the six experiments write sane figures, tables and reports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cimsim import CORE
from cimsim.cli import main
from cimsim.experiment import experiments_dir, list_experiments, load_experiment, run_experiment
from cimsim.runs.options import ExecutionOptions

NAMES = [
    "missing-backbone",
    "weak-champions",
    "sobol-across-cases",
    "morris-screening",
    "failure-regions",
    "robustness",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("experiments")
    return {name: base / name for name in NAMES}


def test_all_experiments_are_listed():
    assert sorted(list_experiments()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_quick_experiment_writes_outputs(name, results):
    out = results[name]
    run_experiment(name, quick=True, out=out, options=ExecutionOptions("serial"), progress=False)
    files = {p.name for p in out.iterdir()}
    assert "report.md" in files
    assert any(f.endswith(".png") for f in files) and any(f.endswith(".svg") for f in files)
    assert any(f.endswith(".csv") for f in files)
    for f in out.iterdir():
        assert f.stat().st_size > 0, f
    report = (out / "report.md").read_text()
    assert report.startswith("# ") and "## Findings" in report
    assert "nan" not in report.split("## Findings")[1].lower()


def test_missing_backbone_table(results):
    out = results["missing-backbone"]
    if not (out / "effects.csv").exists():
        run_experiment("missing-backbone", quick=True, out=out, options=ExecutionOptions("serial"))
    t = pd.read_csv(out / "effects.csv")
    assert len(t) == 3 * len(CORE)
    assert set(t["case"]) == {"malmo", "mechelen", "skive"} and set(t["outcome"]) == set(CORE)
    for col in ("mean_with", "mean_without", "diff", "diff_lo", "diff_hi"):
        assert np.isfinite(t[col]).all(), col
    assert (t["diff_lo"] <= t["diff"] + 1e-12).all() and (t["diff"] <= t["diff_hi"] + 1e-12).all()
    bb = t[t["outcome"] == "backbone_support"]
    assert (bb["mean_without"] == 0).all() and (bb["diff"] > 0).all()


def test_weak_champions_tables(results):
    out = results["weak-champions"]
    tips = pd.read_csv(out / "tipping_points.csv")
    assert set(tips["backbone"]) == {"with backbone", "without backbone"}
    assert tips["steepest_at"].between(0, 1).all()
    curves = pd.read_csv(out / "curves.csv")
    assert curves["impact_mean"].between(0, 1).all()


def test_sobol_and_morris_tables(results):
    out = results["sobol-across-cases"]
    if not (out / "ranking.csv").exists():
        run_experiment(
            "sobol-across-cases", quick=True, out=out, options=ExecutionOptions("serial")
        )
    for structure in ("gate", "additive"):
        sob = pd.read_csv(out / structure / "indices.csv")
        assert set(sob["scenario"]) == {"malmo", "mechelen", "skive"}
        assert len(sob[sob["index"] == "ST"]) == 3 * 6
    ranking = pd.read_csv(out / "ranking.csv")
    assert len(ranking) == 2 * 3 * 6
    assert set(ranking["structure"]) == {"gate", "additive"}
    assert (ranking.groupby(["structure", "case"])["rank"].max() == 6).all()
    if not (results["morris-screening"] / "indices.csv").exists():
        run_experiment("morris-screening", quick=True, out=results["morris-screening"])
    mor = pd.read_csv(results["morris-screening"] / "indices.csv")
    assert len(mor[mor["index"] == "mu_star"]) == 14
    assert np.isfinite(mor[mor["index"] == "mu_star"]["value"]).all()


def test_failure_regions_tables(results):
    out = results["failure-regions"]
    cases = pd.read_csv(out / "cases.csv")
    assert {"impact", "failure"} <= set(cases.columns) and 0 < cases["failure"].sum()
    boxes = pd.read_csv(out / "boxes.csv")
    assert len(boxes) >= 1 and boxes["coverage"].between(0, 1).all()
    assert boxes["density"].between(0, 1).all()


def test_script_and_cli_entry_points(tmp_path, capsys):
    out = tmp_path / "wc"
    proc = subprocess.run(
        [
            sys.executable,
            str(experiments_dir() / "weak_champions.py"),
            "--quick",
            "--serial",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.md").exists() and (out / "tipping_point.svg").exists()
    assert main(["experiment", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment" in err and "missing-backbone" in err


def test_robustness_table(results):
    out = results["robustness"]
    if not (out / "robustness.csv").exists():
        run_experiment("robustness", quick=True, out=out, options=ExecutionOptions("serial"))
    t = pd.read_csv(out / "robustness.csv")
    assert list(t.columns[:4]) == ["conclusion", "case", "accepted_sets", "share_agree"]
    assert set(t["case"]) == {"malmo", "mechelen", "skive"}
    assert (out / "calibration" / "candidates.parquet").exists()
    table = pd.read_parquet(out / "calibration" / "candidates.parquet")
    assert len(table) == 5 and table["candidate"].tolist() == [0, 1, 2, 3, 4]
    read = t["bundled_answer"].isna()  # conclusions read off the calibration's own runs
    assert (t.loc[read, "accepted_sets"] == int(table["accepted"].iloc[1:].sum())).all()
    derived = t[~read]
    conclusions = set(derived["conclusion"])
    for structure in ("gate", "additive"):
        assert f"Sobol top-3 by total index ({structure} urgency)" in conclusions
    assert "PRIM main failure box: tightest bound" in conclusions
    assert derived["self_agree"].isin([True, False]).all()
    top3 = derived[derived["conclusion"].str.startswith("Sobol top-3")]["bundled_answer"]
    assert top3.str.split(", ").map(len).eq(3).all()
    assert (out / "robustness_agreement.png").exists()
    assert (out / "sets" / "candidate-0" / "sobol" / "gate" / "indices.csv").exists()
    assert "## Per-set answers" in (out / "report.md").read_text()


def _answer(gate, additive, leading, bound, width=0.01):
    """A per-set answer: parameters in decreasing total index 0.5, 0.4, ... (± ``width``)."""

    def indices(order):
        return {p: (0.5 - 0.1 * i, width) for i, p in enumerate(order)}

    sobol = {}
    for case in ("malmo", "mechelen", "skive"):
        sobol[(case, "gate")] = indices(gate)
        sobol[(case, "additive")] = indices(additive)
    return {"sobol": sobol, "prim": {"leading": leading, "bound": bound, "box": ""}}


def test_robustness_agreement_counts_sets_that_match_the_bundled_answer():
    robustness = load_experiment("robustness")
    bundled = _answer("abcde", "cbade", "u", 0.76)
    found = {
        0: bundled,
        4: _answer("bacde", "cbade", "u", 0.70),  # same top-3, another top parameter
        9: _answer("abdce", "cbade", "r", 0.76),  # another top-3 and PRIM bound
        12: _answer("abcde", "abcde", "u", 0.50, width=0.2),  # wide intervals
    }
    reference = _answer("acbde", "bcade", "u", 0.73)
    t = robustness.analysis_conclusions(found, reference).set_index(["conclusion", "case"])
    row = t.loc[("Sobol top-3 by total index (gate urgency)", "skive")]
    assert row["accepted_sets"] == 3 and row["share_agree"] == pytest.approx(2 / 3)
    assert row["bundled_answer"] == "a, b, c" and row["self_agree"]
    # set 9 puts d (0.3 ± 0.01) above c (0.2 ± 0.01): beyond the intervals
    assert row["share_consistent"] == pytest.approx(2 / 3)
    top = t.loc[("Sobol top parameter (gate urgency)", "malmo")]
    assert top["share_agree"] == pytest.approx(2 / 3) and top["self_agree"]
    additive = t.loc[("Sobol top parameter (additive urgency)", "mechelen")]
    assert additive["share_agree"] == pytest.approx(2 / 3) and not additive["self_agree"]
    # set 12 ranks a first, but within its wide intervals: it does not contradict c
    assert additive["share_consistent"] == pytest.approx(1.0)
    lead = t.loc[("PRIM main failure box: tightest bound", "malmo")]
    assert lead["share_agree"] == pytest.approx(2 / 3) and lead["bundled_answer"] == "u"
    bound = t.loc[("PRIM main failure box: that bound within 0.1", "malmo")]
    assert bound["share_agree"] == pytest.approx(1 / 3) and bound["self_agree"]
    assert bound["bundled"] == pytest.approx(0.76) and bound["bundled_answer"] == "u at 0.76"
    assert bound["median"] == pytest.approx(0.60)  # sets 4 and 12 (set 9 bounds r)


def test_robustness_chooses_accepted_sets_with_fewest_failures():
    robustness = load_experiment("robustness")
    table = pd.DataFrame(
        {"fails": [0, 2, 0, 3, 1, 0], "accepted": [True, True, True, False, True, True]},
        index=pd.RangeIndex(6, name="candidate"),
    )
    assert robustness.chosen_sets(table, 3) == [2, 5, 4]
    assert robustness.chosen_sets(table, 10) == [2, 5, 4, 1]
    assert robustness.chosen_sets(table.assign(accepted=False), 3) == []
