"""Run engine: designs, seeds, executors give identical tables, bad designs fail at once."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import cimsim
from cimsim.errors import UserError
from cimsim.runs import RunError, make_grid, replicate_seeds, run_design

SMALL = {"population.citizens": 200, "population.businesses": 30, "population.civil_society": 20}
STEPS = 12


@pytest.fixture(scope="module")
def base() -> cimsim.Scenario:
    return cimsim.load_scenario("malmo", SMALL)


@pytest.fixture(scope="module")
def design() -> list[dict]:
    return make_grid({"backbone.enabled": [True, False], "preconditions.urgency": [0.3, 0.7]})


@pytest.fixture(scope="module")
def serial(base, design) -> cimsim.runs.Results:
    return run_design(base, design, 3, root_seed=7, steps=STEPS, executor="serial", progress=False)


def test_make_grid_is_full_factorial_and_order_stable() -> None:
    grid = make_grid({"a.b": [1, 2], "c.d": ["x", "y", "z"]})
    assert len(grid) == 6
    assert grid[0] == {"a.b": 1, "c.d": "x"}
    assert grid[1] == {"a.b": 1, "c.d": "y"}
    assert grid[-1] == {"a.b": 2, "c.d": "z"}
    assert make_grid({}) == [{}]


def test_table_layout(serial, design) -> None:
    finals = serial.finals
    assert list(finals.columns) == [
        "point",
        "replicate",
        "seed",
        "backbone.enabled",
        "preconditions.urgency",
        *cimsim.REPORTERS,
    ]
    assert len(finals) == len(design) * 3
    assert finals["point"].tolist() == [p for p in range(4) for _ in range(3)]
    assert finals["backbone.enabled"].tolist()[::3] == [True, True, False, False]
    series = serial.series
    assert list(series.columns) == [
        "point", "replicate", "seed", "month", "backbone.enabled", "preconditions.urgency",
        *cimsim.REPORTERS,
    ]  # fmt: skip
    pd.testing.assert_series_equal(  # the parameter columns follow each run's point
        series.groupby(["point", "replicate"])["backbone.enabled"].first().reset_index(drop=True),
        finals["backbone.enabled"],
        check_names=False,
    )
    assert len(series) == len(finals) * (STEPS + 1)
    last = series[series["month"] == STEPS].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        last[list(cimsim.REPORTERS)], finals[list(cimsim.REPORTERS)], check_exact=True
    )


def test_identical_across_executors(base, design, serial) -> None:
    kw = dict(root_seed=7, steps=STEPS, progress=False)
    procs = run_design(base, design, 3, executor="processes", workers=2, **kw)
    dask = run_design(base, design, 3, executor="dask:local:2", batch_size=2, **kw)
    for other in (procs, dask):
        pd.testing.assert_frame_equal(serial.finals, other.finals, check_exact=True)
        pd.testing.assert_frame_equal(serial.series, other.series, check_exact=True)


def test_batch_size_and_store_do_not_change_results(base, design, serial, tmp_path) -> None:
    kw = dict(root_seed=7, steps=STEPS, progress=False, executor="serial")
    one = run_design(base, design, 3, batch_size=1, out=tmp_path / "o", **kw)
    pd.testing.assert_frame_equal(serial.finals, one.finals, check_exact=True)
    pd.testing.assert_frame_equal(serial.series, one.series, check_exact=True)
    on_disk = pd.read_parquet(tmp_path / "o" / "finals.parquet")
    pd.testing.assert_frame_equal(serial.finals, on_disk, check_exact=True)
    assert (tmp_path / "o" / "finals.csv").is_file()
    assert (tmp_path / "o" / "series.parquet").is_file()


def test_seeds_common_random_numbers_and_recorded(base, design, serial) -> None:
    kw = dict(steps=STEPS, executor="serial", progress=False, series=False)
    again = run_design(base, design, 3, root_seed=7, **kw)
    pd.testing.assert_frame_equal(serial.finals, again.finals, check_exact=True)
    assert again.series is None
    other = run_design(base, design, 3, root_seed=8, **kw)
    assert not other.finals["impact"].equals(serial.finals["impact"])
    assert set(other.finals["seed"]).isdisjoint(serial.finals["seed"])
    seeds = replicate_seeds(7, 3)
    finals = serial.finals
    # replicate r uses the same seed at every point (common random numbers)
    assert finals["seed"].tolist() == seeds * len(design)
    assert serial.manifest["seeds"] == finals["seed"].tolist()
    assert serial.manifest["root_seed"] == 7
    assert len(set(seeds)) == 3
    versions = serial.manifest["versions"]
    for name in ("cimsim", "mesa", "SALib", "numpy", "pandas", "python"):
        assert name in versions


def test_base_scenario_alone_and_by_name() -> None:
    res = run_design("malmo", [{}], 2, steps=3, executor="serial", progress=False, series=False)
    assert list(res.finals.columns[:3]) == ["point", "replicate", "seed"]
    assert res.finals.columns[3] == "impact"
    assert res.manifest["scenario_name"] == "malmo"


@pytest.mark.parametrize(
    ("design", "needle"),
    [
        ([{"backbone.nonsense": 1}], "backbone.nonsense"),
        ([{"preconditions.urgency": 0.5}, {"preconditions.urgency": 1.5}], "preconditions.urgency"),
        ([], "empty design"),
    ],
)
def test_bad_design_fails_before_any_run(base, design, needle, tmp_path) -> None:
    out = tmp_path / "never"
    with pytest.raises(RunError) as info:
        run_design(base, design, 2, steps=STEPS, out=out, executor="serial", progress=False)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert not out.exists()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_left_as_it_was(base, enabled) -> None:
    """It is paused while the design's points are validated, then as it was, also when a
    point is bad."""
    import gc

    (gc.enable if enabled else gc.disable)()
    try:
        run_design(base, [{"preconditions.urgency": 0.4}], 1, steps=2, executor="serial")
        assert gc.isenabled() is enabled
        with pytest.raises(RunError):
            run_design(base, [{"preconditions.urgency": 1.5}], 1, steps=2, executor="serial")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_empty_grid_values() -> None:
    with pytest.raises(RunError, match="preconditions.urgency"):
        make_grid({"preconditions.urgency": []})


@pytest.mark.parametrize(
    ("grid", "needle"),
    [
        ("backbone.nonsense=1,2", "backbone.nonsense"),
        ("preconditions.urgency=0.2,7", "preconditions.urgency"),
        ("preconditions.urgency=", "preconditions.urgency"),
        ("backbone.enabled=true,maybe", "backbone.enabled"),
        ("population.citizens", "population.citizens"),
    ],
)
def test_cli_bad_grid_exit_2_one_line(grid, needle, tmp_path, capsys) -> None:
    from cimsim.cli import main

    out = tmp_path / "never"
    argv = ["sweep", "malmo", "--grid", grid, "--replicates", "2", "--steps", "3", "--serial"]
    code = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_bad_grid_in_subprocess(tmp_path) -> None:
    out = tmp_path / "never"
    proc = subprocess.run(
        [sys.executable, "-m", "cimsim", "sweep", "malmo", "--grid", "preconditions.urgency=0.2,7",
         "--replicates", "2", "--steps", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "preconditions.urgency" in proc.stderr
    assert not out.exists()


def test_cli_sweep_writes_folder_and_summary(tmp_path) -> None:
    out = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "-m", "cimsim", "sweep", "malmo", "--grid", "backbone.enabled=true,false",
         "--replicates", "2", "--steps", "6", "--seed", "3", "--set", "population.citizens=200",
         "--serial", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "backbone.enabled" in proc.stdout and "impact" in proc.stdout
    finals = pd.read_parquet(out / "finals.parquet")
    assert len(finals) == 4
    expected = run_design(
        cimsim.load_scenario("malmo", {"population.citizens": 200}),
        make_grid({"backbone.enabled": [True, False]}),
        2, root_seed=3, steps=6, executor="serial", progress=False,
    )  # fmt: skip
    pd.testing.assert_frame_equal(expected.finals, finals, check_exact=True)


def test_other_experiment_in_folder_is_refused(base, tmp_path) -> None:
    out = tmp_path / "o"
    kw = dict(steps=3, executor="serial", progress=False, out=out)
    run_design(base, [{}], 2, root_seed=1, **kw)
    with pytest.raises(RunError, match="different experiment"):
        run_design(base, [{}], 2, root_seed=2, **kw)
    with pytest.raises(RunError, match="different experiment"):
        run_design(base, [{"backbone.enabled": False}], 2, root_seed=1, **kw)
    with pytest.raises(RunError, match="different experiment"):
        run_design(cimsim.load_scenario("skive", SMALL), [{}], 2, root_seed=1, **kw)


def test_bad_executor_fails_before_writing(base, tmp_path) -> None:
    out = tmp_path / "never"
    with pytest.raises(UserError, match="executor"):
        run_design(base, [{}], 1, steps=2, out=out, executor="nope", progress=False)
    with pytest.raises(UserError, match="dask:local:x"):
        run_design(base, [{}], 1, steps=2, out=out, executor="dask:local:x", progress=False)
    assert not out.exists()


def test_a_script_without_a_main_guard_gets_told_what_to_do(tmp_path) -> None:
    import subprocess
    import sys

    script = tmp_path / "noguard.py"
    script.write_text(
        "from cimsim.runs import run_design\n"
        "run_design('mechelen', [{}], 4, steps=2, executor='processes', workers=2,"
        " progress=False)\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)  # fmt: skip
    assert proc.returncode != 0
    assert 'if __name__ == "__main__":' in proc.stderr.splitlines()[-1]
    assert "bootstrapping phase" not in proc.stderr  # not Python's 20-line RuntimeError
