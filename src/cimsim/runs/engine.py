"""The run engine: a design of scenario variants x replicates, run in batches on any executor.

A *design* is a list of points, each a dict of dotted-path overrides applied on top of a
base scenario (``[{}]`` is the base scenario alone). Every point is validated before any
run starts, so a bad design fails at once with one line naming the path.

Seeds (common random numbers): ``numpy.random.SeedSequence(root_seed).spawn(replicates)``
gives one child per replicate and replicate ``r`` uses the integer seed
``child_r.generate_state(1, uint32)[0]`` at *every* design point. So the seed depends on
the replicate only, not on the point: paired comparisons between points (say with and
without a backbone) share their random streams and differ by the parameters alone, which
makes differences far less noisy. Run ``k = point * replicates + replicate``; every run's
seed is recorded in the finals table and the manifest.

Runs go to the executor in batches (by default about four batches per worker, at most
``MAX_BATCH`` runs each, so parts land often and an interruption loses little). Results
do not depend on the executor or the batch size: serial, local processes and Dask give
bit-identical tables. With ``out`` every finished batch is written as a Parquet part and
a re-run of the same experiment resumes where it stopped (see :mod:`cimsim.runs.store`).
"""

from __future__ import annotations

import gc
import itertools
import math
import operator
import os
import platform
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cimsim import sizing
from cimsim.errors import RunError
from cimsim.indicators import REPORTERS
from cimsim.provenance import provenance
from cimsim.runs.executors import UNGUARDED_SCRIPT, ExecutorHandle, open_executor
from cimsim.runs.store import ResultStore
from cimsim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    get_path,
    load_scenario,
    validate,
)

ID_COLUMNS = ("point", "replicate", "seed")
"""Leading columns of every result table."""


@dataclass
class Results:
    """The outcome of :func:`run_design`.

    Attributes:
        finals: one row per run: point, replicate, seed, one column per design path,
            then every reporter in ``cimsim.REPORTERS`` (final month).
        series: one row per run and month: point, replicate, seed, month, reporters
            (None when ``series=False``).
        manifest: what was run (scenario, design, seeds, steps, versions).
    """

    finals: pd.DataFrame
    series: pd.DataFrame | None
    manifest: dict[str, Any]


# ---------------------------------------------------------------------- design


MAX_BATCH = 50
"""Largest default batch: a part lands every ~50 runs, so an interrupted sweep loses little."""
MAX_RUNS = 10_000_000
"""Most runs in one design (the result tables are held in memory at the end)."""


def make_grid(grid: dict[str, list]) -> list[dict[str, Any]]:
    """Full factorial design of ``{path: [values]}``; the last path varies fastest.

    >>> make_grid({"backbone.enabled": [True, False], "preconditions.urgency": [0.3, 0.6]})[1]
    {'backbone.enabled': True, 'preconditions.urgency': 0.6}
    """
    for path, values in grid.items():
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            raise RunError(f"grid {path}: expected a list of values, got {values!r}")
        if len(list(values)) == 0:
            raise RunError(f"grid {path}: empty list of values")
    paths = list(grid)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*grid.values())]


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """The integer seed of each replicate, derived from one root seed."""
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def _plain(value: Any) -> Any:
    """Numpy scalars and tuples to plain Python, so a design is JSON as given."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _validate_design(base: Scenario, design: list[dict[str, Any]]) -> list[Scenario]:
    if not isinstance(design, list) or not design:
        raise RunError("empty design: give at least one point ([{}] runs the base scenario)")
    data = base.model_dump()
    resolved = []
    for i, point in enumerate(design):
        if not isinstance(point, dict):
            raise RunError(f"design point {i}: expected a dict of PATH: value, got {point!r}")
        if not point:
            resolved.append(base)
            continue
        plain = _plain(point)
        try:
            resolved.append(validate(apply_overrides(data, plain), f"design point {i}"))
        except ScenarioError as err:
            text = str(err)
            if not text.startswith("design point"):
                text = f"design point {i}: {text}"
            shown = ", ".join(f"{k}={v!r}" for k, v in plain.items())
            raise RunError(f"{text} [{shown}]") from None
    return resolved


def _design_paths(design: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(p for point in design for p in point))


def _cell(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    import json

    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, default=str)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("cimsim", "mesa", "SALib", "numpy", "pandas", "pyarrow", "distributed"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------- worker side


def run_batch(
    scenarios: dict[int, Scenario],
    runs: list[tuple[int, int, int, int, int]],
    series: bool = True,
    attempt: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run a batch of ``(run, point, replicate, seed, steps)`` runs; return finals and series.

    ``attempt`` only makes a resubmitted task distinct for schedulers that cache by content.
    """
    from cimsim.initiative import Initiative  # the Mesa model's state, without Mesa

    ids: dict[str, list[int]] = {c: [] for c in ("run", *ID_COLUMNS)}
    final_values: list[list[float]] = []
    series_ids: dict[str, list[np.ndarray]] = {c: [] for c in ("run", *ID_COLUMNS, "month")}
    series_values: list[np.ndarray] = []
    for run, point, replicate, seed, steps in runs:
        model = Initiative(scenarios[point], rng=seed).run(steps)
        for column, value in zip(ids, (run, point, replicate, seed), strict=True):
            ids[column].append(value)
        final_values.append([float(model.latest[name]) for name in REPORTERS])
        if series:
            values = model.series()
            n = values.shape[0]
            for column, value in zip(series_ids, (run, point, replicate, seed), strict=False):
                series_ids[column].append(np.full(n, value, dtype=np.int64))
            series_ids["month"].append(np.arange(n, dtype=np.int64))
            series_values.append(values)
    finals = _frame(
        {c: np.asarray(v, dtype=np.int64) for c, v in ids.items()},
        np.asarray(final_values, dtype=np.float64).reshape(len(runs), len(REPORTERS)),
    )
    out_series = None
    if series:
        out_series = _frame(
            {c: np.concatenate(v) for c, v in series_ids.items()}, np.vstack(series_values)
        )
    return finals, out_series


def _frame(id_columns: dict[str, np.ndarray], values: np.ndarray) -> pd.DataFrame:
    data: dict[str, np.ndarray] = dict(id_columns)
    for i, name in enumerate(REPORTERS):
        data[name] = np.ascontiguousarray(values[:, i])
    return pd.DataFrame(data)


# ---------------------------------------------------------------------- consolidation


def _consolidate_finals(
    frames: list[pd.DataFrame], n_runs: int, design: list[dict[str, Any]], resolved: list[Scenario]
) -> pd.DataFrame:
    df = pd.concat(frames, ignore_index=True) if frames else None
    if df is None:
        raise RunError("no results")
    df = df[(df["run"] >= 0) & (df["run"] < n_runs)]
    df = df.drop_duplicates("run").sort_values("run", kind="stable")
    if len(df) != n_runs:
        raise RuntimeError(f"only {len(df)} of {n_runs} runs have results")
    df = df.drop(columns="run").reset_index(drop=True)
    _insert_design_columns(df, len(ID_COLUMNS), design, resolved)
    return df


def _consolidate_series(
    frames: list[pd.DataFrame], done: set[int], design: list[dict[str, Any]],
    resolved: list[Scenario],
) -> pd.DataFrame:  # fmt: skip
    """One row per run and month (tidy): ids, the design's parameter columns, reporters."""
    df = pd.concat(frames, ignore_index=True)
    df = df[df["run"].isin(done)]
    df = df.drop_duplicates(["run", "month"]).sort_values(["run", "month"], kind="stable")
    df = df.drop(columns="run").reset_index(drop=True)
    _insert_design_columns(df, len(ID_COLUMNS) + 1, design, resolved)  # after "month"
    return df


def _insert_design_columns(
    df: pd.DataFrame, at: int, design: list[dict[str, Any]], resolved: list[Scenario]
) -> None:
    """Insert one column per design path at position ``at``: each row's point's value."""
    points = df["point"].to_numpy()
    for i, path in enumerate(_design_paths(design)):
        values = [_cell(get_path(sc, path)) for sc in resolved]
        df.insert(at + i, path, pd.Series(values).iloc[points].to_numpy())


# ---------------------------------------------------------------------- driver


def _whole(name: str, value: Any) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise RunError(f"{name} {value!r}: expected a whole number >= 1") from None
    if number < 1:
        raise RunError(f"{name} {value!r}: expected a whole number >= 1")
    return number


def run_design(
    scenario: Scenario | str | Path,
    design: list[dict[str, Any]],
    replicates: int,
    *,
    root_seed: int = 0,
    steps: int | None = None,
    out: str | Path | None = None,
    executor: Any = "processes",
    workers: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    series: bool = True,
) -> Results:
    """Run every design point ``replicates`` times and collect final and monthly reporters.

    Args:
        scenario: the base scenario (a :class:`Scenario`, a bundled name or a TOML path).
        design: list of points, each a dict of dotted-path overrides (``[{}]`` = base only).
        replicates: runs per point; replicate ``r`` has the same seed at every point.
        root_seed: the seed all run seeds derive from.
        steps: months per run (default: each point's ``months``).
        out: result folder; parts are written as batches finish and a re-run resumes.
        executor: ``"serial"``, ``"processes"``, ``"dask:local[:N]"``,
            ``"dask:tcp://HOST:PORT"``, a ``concurrent.futures.Executor`` or a Dask Client.
        workers: local processes (``"processes"``, ``"dask:local"``); default all cores.
        batch_size: runs per task (default: about four batches per worker, at most MAX_BATCH).
        progress: show a progress bar on stderr (only when it is a terminal).
        series: keep the monthly series (False keeps final values only).

    Raises:
        RunError: a bad design or an output folder holding a different experiment.
    """
    replicates = _whole("replicates", replicates)
    steps = None if steps is None else _whole("steps", steps)
    batch_size = None if batch_size is None else _whole("batch size", batch_size)
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    with _collector_paused():
        resolved = _validate_design(base, design)
    point_steps = [steps if steps is not None else sc.months for sc in resolved]
    n_runs = len(design) * replicates
    if n_runs > MAX_RUNS:
        raise RunError(
            f"{len(design)} design points x {replicates} replicates = {n_runs:,} runs; "
            f"at most {MAX_RUNS:,} in one design (split it into several)"
        )
    largest = max(resolved, key=sizing.model_bytes)
    local = executor in ("processes",) or str(executor).startswith("dask:local")
    models = min(n_runs, workers or os.cpu_count() or 1) if local else 1
    sizing.check_fits(largest, max(point_steps), models=models, runs=n_runs, series=series)
    seeds = replicate_seeds(int(root_seed), replicates)

    manifest: dict[str, Any] = {
        "scenario_name": base.name,
        "scenario": base.model_dump(mode="json"),
        "design": _plain(design),
        "design_paths": _design_paths(design),
        "replicates": replicates,
        "root_seed": int(root_seed),
        "seed_scheme": "SeedSequence(root_seed).spawn(replicates); same seed per replicate "
        "at every point (common random numbers); run = point * replicates + replicate",
        "replicate_seeds": seeds,
        "seeds": [seeds[k % replicates] for k in range(n_runs)],
        "steps": point_steps[0] if len(set(point_steps)) == 1 else point_steps,
        "series": bool(series),
        "runs": n_runs,
        "versions": _versions(),
        "provenance": provenance(base),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    store = ResultStore(out) if out is not None else None
    if store is not None:
        store.lock()  # one writer per folder, for the whole run
    try:
        return _run_locked(
            store, manifest, resolved, design, replicates, seeds, point_steps, series,
            executor, workers, batch_size, progress, n_runs,
        )  # fmt: skip
    finally:
        if store is not None:
            store.unlock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's garbage collector off while a design's points are validated: they are
    thousands of objects that all live on, and the collector scanned them again and again
    as they were made (11,264 Sobol points: 1.51 s with it, 0.65 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_locked(
    store: ResultStore | None,
    manifest: dict[str, Any],
    resolved: list[Scenario],
    design: list[dict[str, Any]],
    replicates: int,
    seeds: list[int],
    point_steps: list[int],
    series: bool,
    executor: Any,
    workers: int | None,
    batch_size: int | None,
    progress: bool,
    n_runs: int,
) -> Results:
    done: set[int] = set()
    if store is not None:
        manifest = store.prepare(manifest)
        done = store.finished_runs(series)
    todo = [k for k in range(n_runs) if k not in done]

    finals_frames: list[pd.DataFrame] = []
    series_frames: list[pd.DataFrame] = []
    # the executor is opened before anything is written: a bad executor leaves no folder
    handle = open_executor(executor, workers) if todo else None
    try:
        if store is not None:
            store.start(manifest)
        if handle is not None:
            plan = _Plan(resolved, replicates, seeds, point_steps, series)
            finals_frames, series_frames = _execute(
                plan, todo, n_runs, store, handle, batch_size, progress
            )
    except BrokenProcessPool:
        handle.abort()
        main = sys.modules.get("__main__")
        script = getattr(main, "__file__", None) and getattr(main, "__spec__", None) is None
        kept = "finished batches are kept" if store is not None else "nothing was kept"
        hint = UNGUARDED_SCRIPT if script else "a worker ran out of memory or was killed"
        raise RunError(f"the worker processes stopped ({hint}); {kept}") from None
    except BaseException:
        if handle is not None:
            handle.abort()  # an interruption: stop the workers now, keep the finished parts
        raise
    finally:
        if handle is not None:
            handle.close()

    if store is not None:
        finals_frames = store.read_parts("finals")
        if series:
            series_frames = store.read_parts("series")
    finals = _consolidate_finals(finals_frames, n_runs, design, resolved)
    series_df = (
        _consolidate_series(series_frames, set(range(n_runs)), design, resolved) if series else None
    )
    if store is not None:
        store.write_tables(finals, series_df)
        manifest = {**manifest, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
        store.write_manifest(manifest)
    return Results(finals=finals, series=series_df, manifest=manifest)


@dataclass(frozen=True)
class _Plan:
    """What every batch needs: the resolved points, the seeds and each point's months."""

    resolved: list[Scenario]
    replicates: int
    seeds: list[int]
    point_steps: list[int]
    series: bool

    def task(self, batch: list[int]) -> tuple[dict[int, Scenario], list[tuple[int, ...]]]:
        """The arguments of ``run_batch`` for the runs ``batch`` (run ids)."""
        runs = []
        for k in batch:
            point, rep = divmod(k, self.replicates)
            runs.append((k, point, rep, self.seeds[rep], self.point_steps[point]))
        return {p: self.resolved[p] for p in sorted({r[1] for r in runs})}, runs


def _execute(
    plan: _Plan,
    todo: list[int],
    n_runs: int,
    store: ResultStore | None,
    handle: ExecutorHandle,
    batch_size: int | None,
    progress: bool,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Run the ``todo`` runs in batches on ``handle``; parts go to ``store`` as they finish
    (and are returned in memory when there is none). A batch that fails is resubmitted once."""
    from tqdm import tqdm

    size = batch_size or max(1, min(MAX_BATCH, math.ceil(len(todo) / (4 * handle.workers))))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]

    finals_frames: list[pd.DataFrame] = []
    series_frames: list[pd.DataFrame] = []

    def submit(batch: list[int], attempt: int) -> Future:
        points, runs = plan.task(batch)
        return handle.executor.submit(run_batch, points, runs, plan.series, attempt)

    pending: dict[Future, tuple[list[int], int]] = {}
    for batch in batches:
        pending[submit(batch, 0)] = (batch, 0)
    bar = tqdm(
        total=n_runs,
        initial=n_runs - len(todo),
        unit="run",
        file=sys.stderr,
        disable=None if progress else True,
        mininterval=0.5,
        dynamic_ncols=True,
    )
    try:
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                batch, attempt = pending.pop(future)
                try:
                    fin, ser = future.result()
                except (CancelledError, OSError) as err:
                    if attempt >= 1:  # the cluster went away (a killed scheduler, a lost link)
                        kept = "finished batches are kept: " if store is not None else ""
                        raise RunError(
                            f"lost the executor {handle.label} ({type(err).__name__}"
                            f"{': ' + str(err) if str(err) else ''}); {kept}run the same "
                            "command again to resume"
                        ) from None
                    pending[submit(batch, attempt + 1)] = (batch, attempt + 1)
                    continue
                except Exception:
                    if attempt >= 1:
                        raise
                    pending[submit(batch, attempt + 1)] = (batch, attempt + 1)
                    continue
                if store is not None:
                    store.write_part(fin, ser)
                else:
                    finals_frames.append(fin)
                    if ser is not None:
                        series_frames.append(ser)
                bar.update(len(batch))
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    finally:
        bar.close()
    return finals_frames, series_frames
