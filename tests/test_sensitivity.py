"""Sensitivity analysis: SALib layer against known functions, noise share, CLI end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cimsim import sensitivity as sa
from cimsim.cli import main


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> float:
    """The Ishigami function on [-pi, pi]^3."""
    return float(np.sin(x[0]) + a * np.sin(x[1]) ** 2 + b * x[2] ** 4 * np.sin(x[0]))


def test_sobol_recovers_ishigami_indices():
    problem = sa.make_problem({f"x{i}": (-np.pi, np.pi) for i in (1, 2, 3)})
    X = sa.sample(problem, "sobol", 1024, seed=1)
    assert X.shape == (sa.n_samples("sobol", 1024, 3), 3)
    Y = sa.evaluate(ishigami, X)
    res = sa.analyze(problem, X, Y, "sobol", seed=1)
    s1, st = res.index("S1"), res.index("ST")
    np.testing.assert_allclose(s1.to_numpy(), [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(st.to_numpy(), [0.558, 0.442, 0.244], atol=0.05)
    s2 = res.table[res.table["index"] == "S2"].set_index("parameter")["value"]
    assert s2["x1:x3"] == pytest.approx(0.244, abs=0.1)  # the only interaction
    assert set(res.table.columns) == {"parameter", "index", "value", "conf"}
    assert (res.table.loc[res.table["index"] != "S2", "conf"] > 0).all()
    assert np.isnan(res.noise_share) and res.warning is None


def test_morris_ranks_a_known_function():
    problem = sa.make_problem({"strong": (0, 1), "weak": (0, 1), "none": (0, 1)})
    X = sa.sample(problem, "morris", 20, seed=3)
    assert X.shape == (20 * 4, 3)
    Y = sa.evaluate(lambda r: 10 * r[0] + 2 * r[1] ** 2, X)
    res = sa.analyze(problem, X, Y, "morris", seed=3)
    mu = res.index("mu_star")
    assert list(mu.sort_values(ascending=False).index) == ["strong", "weak", "none"]
    assert mu["strong"] == pytest.approx(10, rel=1e-6)
    assert mu["none"] == pytest.approx(0, abs=1e-12)
    assert res.index("sigma")["strong"] == pytest.approx(0, abs=1e-9)  # linear


def test_noise_share_and_warning():
    rng = np.random.default_rng(0)
    signal = np.linspace(0, 1, 200)[:, None]
    quiet = signal + rng.normal(0, 0.01, (200, 4))
    noisy = 0.01 * signal + rng.normal(0, 1.0, (200, 4))
    assert sa.noise_share(quiet) < 0.01
    assert sa.noise_share(noisy) == pytest.approx(1.0, abs=0.1)
    assert sa.noise_warning(sa.noise_share(noisy)) is not None
    assert sa.noise_warning(sa.noise_share(quiet)) is None
    assert np.isnan(sa.noise_share(signal))


def test_evaluate_shapes_stochastic_and_vectorized():
    X = np.random.default_rng(0).uniform(size=(8, 2))
    Y = sa.evaluate(lambda r: np.array([r.sum(), r.sum() + 1.0]), X)
    assert Y.shape == (8, 2)

    class Batch:
        vectorized = True

        def __call__(self, X):
            return X.sum(axis=1)

    assert sa.evaluate(Batch(), X).shape == (8,)
    problem = sa.make_problem({"a": (0, 1), "b": (0, 1)})
    Xs = sa.sample(problem, "morris", 4, seed=0)
    res = sa.analyze(
        problem, Xs, sa.evaluate(lambda r: r.sum() + np.array([0.0, 0.01]), Xs), "morris"
    )
    assert res.replicates == 2 and res.noise_share == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize("n", [0, 3, 48])
def test_sobol_needs_power_of_two(n):
    with pytest.raises(ValueError, match="power of 2"):
        sa.check_n("sobol", n)


def test_problem_rejects_empty_range():
    with pytest.raises(ValueError, match="LO must be below HI"):
        sa.make_problem({"a": (1.0, 1.0)})


def test_cli_sobol_end_to_end(tmp_path, capsys):
    out = tmp_path / "sens"
    argv = [
        "sensitivity",
        "malmo",
        "mechelen",
        "--method",
        "sobol",
        "--param",
        "settings.initial_trust=0.1:0.9",
        "--param",
        "preconditions.urgency=0.2:1",
        "--n",
        "4",
        "--replicates",
        "2",
        "--steps",
        "12",
        "--serial",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    table = pd.read_csv(out / "indices.csv")
    assert list(table.columns) == ["scenario", "parameter", "index", "value", "conf", "note"]
    assert set(table["scenario"]) == {"malmo", "mechelen"}
    assert {"S1", "ST", "S2", "noise_share"} <= set(table["index"])
    st = table[table["index"] == "ST"]
    assert len(st) == 4 and np.isfinite(st["value"]).all()
    share = table[table["index"] == "noise_share"]["value"]
    assert ((share >= 0) & (share <= 1.5)).all()
    for name in (
        "sensitivity.png",
        "sensitivity.svg",
        "report.md",
        "design.csv",
        "outcomes_malmo.csv",
    ):
        assert (out / name).stat().st_size > 0
    assert "noise share" in (out / "report.md").read_text()
    assert "malmo" in capsys.readouterr().out

    # the runs are kept per scenario: running the same command again resumes (nothing new
    # to run) and gives the same table; a different design in the same folder is refused
    runs = pd.read_parquet(out / "runs" / "malmo" / "finals.parquet")
    assert len(runs) == 4 * (2 * 2 + 2) * 2
    assert not runs.duplicated(["point", "replicate"]).any()
    assert main(argv) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"), table)
    capsys.readouterr()
    assert main([*argv[:-2], "--seed", "5", "--out", str(out)]) == 2
    assert "cimsim: error:" in capsys.readouterr().err


def test_cli_morris_single_scenario(tmp_path):
    out = tmp_path / "m"
    argv = [
        "sensitivity",
        "skive",
        "--method",
        "morris",
        "--param",
        "settings.communication=0:1",
        "--param",
        "backbone.capacity=0:1",
        "--param",
        "preconditions.resources=0:1",
        "--n",
        "2",
        "--replicates",
        "1",
        "--steps",
        "6",
        "--serial",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    table = pd.read_csv(out / "indices.csv")
    assert {"mu_star", "sigma", "mu"} <= set(table["index"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--param", "settings.nope=0:1"], "unknown parameter"),
        (["--param", "settings.confidence=0.5:0.2"], "LO must be below HI"),
        (["--param", "settings.confidence=0.1:1.5"], "out of range"),
        (["--param", "settings.confidence=abc"], "PATH=LO:HI"),
        (["--param", "population.citizens=1:9"], "not a continuous"),
        (["--n", "12"], "power of 2"),
        (["--outcome", "happiness"], "unknown"),
    ],
)
def test_cli_user_errors_before_any_run(tmp_path, capsys, extra, message):
    out = tmp_path / "never"
    argv = [
        "sensitivity",
        "malmo",
        "--param",
        "settings.initial_trust=0:1",
        "--param",
        "preconditions.urgency=0:1",
        "--serial",
        "--out",
        str(out),
        *extra,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_unknown_scenario(tmp_path, capsys):
    argv = [
        "sensitivity",
        "atlantis",
        "--param",
        "settings.initial_trust=0:1",
        "--param",
        "preconditions.urgency=0:1",
        "--out",
        str(tmp_path / "x"),
    ]
    assert main(argv) == 2
    assert "unknown scenario" in capsys.readouterr().err
