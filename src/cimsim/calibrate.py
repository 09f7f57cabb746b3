"""Pattern-oriented calibration: which calibration constants keep every pattern true?

Pattern-oriented modelling (Grimm et al. 2005; Railsback & Grimm 2019): every behavioural
constant has a documented plausible range (``calibration.py``), and a calibration is
acceptable when the model reproduces the patterns of :mod:`cimsim.patterns` with it. As
in SALib, sampling, evaluation and analysis are separate steps:

- :func:`sample`: K candidate calibrations, a Latin hypercube over the plausible ranges
  (candidate 0 is the bundled calibration);
- :func:`evaluate`: each candidate's pattern scores, one task per candidate on the run
  engine's executors (processes or Dask), written as parts under ``out`` as they finish,
  so an interrupted calibration resumes where it stopped;
- :func:`constrained` and :func:`report`: how many candidates pass each pattern and all,
  and which constants the patterns constrain (accepted vs all, a two-sample
  Kolmogorov-Smirnov test per constant).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cimsim.calibration import calibration_ranges
from cimsim.errors import MissingPart, UserError
from cimsim.patterns import CASES, RunSet, conditions, suite

QUICK_SIZE = {
    "population.citizens": 300,
    "population.businesses": 30,
    "population.civil_society": 20,
    "population.government": 5,
}
"""Population overrides of ``--quick`` (every case at a few hundred agents)."""


# --------------------------------------------------------------------------- sampling


def sample(
    k: int, seed: int = 0, ranges: dict[str, tuple[float, float]] | None = None
) -> pd.DataFrame:
    """The bundled calibration (candidate 0) and ``k`` candidates from a Latin hypercube
    over the plausible ranges. Columns are the dotted paths; the index is the candidate."""
    from scipy.stats import qmc

    from cimsim.calibration import Calibration

    ranges = calibration_ranges() if ranges is None else ranges
    if k < 1:
        raise UserError(f"samples {k}: expected at least 1")
    paths = list(ranges)
    lo = np.array([ranges[p][0] for p in paths])
    hi = np.array([ranges[p][1] for p in paths])
    unit = qmc.LatinHypercube(d=len(paths), seed=np.random.default_rng(seed)).random(k)
    bundled = Calibration().model_dump()
    fields = {
        f"calibration.{section}.{name}": (info, bundled[section][name])
        for section, part in Calibration.model_fields.items()
        for name, info in part.annotation.model_fields.items()
    }
    values = lo + unit * (hi - lo)
    first = []
    for j, path in enumerate(paths):
        info, value = fields.get(path, (None, (lo[j] + hi[j]) / 2))  # a toy's: the middle
        if info is not None and info.annotation is int:  # whole numbers (meeting size)
            values[:, j] = np.round(values[:, j])
        first.append(float(value))
    table = pd.DataFrame(np.vstack([first, values]), columns=paths)
    table.index.name = "candidate"
    return table


# --------------------------------------------------------------------------- evaluation


def evaluate_candidate(
    constants: dict[str, float],
    cases: tuple[str, ...],
    replicates: int,
    root_seed: int = 0,
    size: dict[str, Any] | None = None,
    resolution: int = 2,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Every pattern's score and verdict for one calibration: each condition runs
    ``replicates`` times with the same seeds (common random numbers)."""
    from cimsim.indicators import REPORTERS
    from cimsim.initiative import Initiative
    from cimsim.runs.engine import replicate_seeds
    from cimsim.scenario import load_scenario

    size = dict(size or {})
    patterns = suite(cases, resolution, size)
    seeds = replicate_seeds(root_seed, replicates)
    runs = {}
    for condition in conditions(patterns):
        scenario = load_scenario(condition.case, {**size, **constants, **dict(condition.overrides)})
        series = np.array(
            [Initiative(scenario, rng=seed).run(condition.months).series() for seed in seeds]
        )
        runs[condition.key] = RunSet({r: series[:, :, j] for j, r in enumerate(REPORTERS)})
    row: dict[str, Any] = {}
    for pattern in patterns:
        outcome = pattern.evaluate(runs, alpha)
        key = f"{pattern.case}.{pattern.name}"
        row[f"score:{key}"] = outcome.score
        row[f"pass:{key}"] = outcome.passed
        row[f"detail:{key}"] = outcome.detail
    row.update(headline_measures(runs, cases))
    return row


def headline_measures(runs: dict[str, RunSet], cases: tuple[str, ...]) -> dict[str, float]:
    """The headline conclusions as numbers, from the pattern suite's own runs: the
    backbone's effect on final impact per case (paired mean and one-sided p-value) and,
    for Malmö, the champion strength where participation rises most (the tipping point)."""
    from cimsim.patterns import CHAMPION_STRENGTHS, greater

    out: dict[str, float] = {}
    for case in cases:
        base, none = (
            runs[f"{case}/base"].final("impact"),
            runs[f"{case}/no_backbone"].final("impact"),
        )
        out[f"measure:{case}.backbone_effect"] = float((base - none).mean())
        out[f"measure:{case}.backbone_p"] = greater(base, none)
    if "malmo" in cases:
        mean = [
            runs[f"malmo/champions_{s:.1f}"].final("participation").mean()
            for s in CHAMPION_STRENGTHS
        ]
        j = int(np.argmax(np.diff(mean)))
        out["measure:malmo.tipping_point"] = (CHAMPION_STRENGTHS[j] + CHAMPION_STRENGTHS[j + 1]) / 2
    return out


def _custom_task(check, candidate: int, constants: dict[str, float]):
    return candidate, check(constants)


def _task(args: tuple[Any, ...]) -> tuple[int, dict[str, Any]]:
    candidate, constants, *rest = args
    return candidate, evaluate_candidate(constants, *rest)


def evaluate(
    candidates: pd.DataFrame,
    cases: Iterable[str] = CASES,
    replicates: int = 4,
    *,
    out: str | Path | None = None,
    root_seed: int = 0,
    size: dict[str, Any] | None = None,
    resolution: int = 2,
    alpha: float = 0.05,
    tolerance: int = 0,
    executor: Any = "processes",
    workers: int | None = None,
    progress: bool = True,
    check: Callable[[dict[str, float]], dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """One row per candidate: its constants, every pattern's score and verdict, how many
    patterns it fails, and ``accepted`` (it fails at most ``tolerance`` patterns).

    With ``out``, each finished candidate is written to ``out/parts`` at once and a re-run
    with the same settings skips it. ``check`` replaces the pattern suite by another
    function of the constants returning ``score:``, ``pass:`` and ``detail:`` entries (a
    toy model, for tests; it must be picklable for processes and Dask).
    """
    from cimsim.runs.executors import open_executor
    from cimsim.runs.store import ResultStore

    cases = tuple(cases)
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise UserError(
            f"unknown case {unknown[0]!r} (the pattern suite covers {', '.join(CASES)})"
        )
    if replicates < 2:
        raise UserError(f"replicates {replicates}: the paired tests need at least 2")
    settings = {
        "cases": list(cases),
        "replicates": replicates,
        "root_seed": root_seed,
        "size": dict(size or {}),
        "resolution": resolution,
        "alpha": alpha,
    }
    done: dict[int, dict[str, Any]] = {}
    store = ResultStore(out) if out is not None else None
    if store is not None:
        store.lock()
    try:
        if store is not None:
            _resume(store, candidates, settings, done)
        todo = [k for k in candidates.index if int(k) not in done]
        if todo:
            handle = open_executor(executor, workers)
            try:
                _run(candidates, todo, settings, handle, store, done, progress, check)
            finally:
                handle.close()
    finally:
        if store is not None:
            store.unlock()
    table = candidates.join(pd.DataFrame.from_dict(done, orient="index"))
    passes = [c for c in table.columns if c.startswith("pass:")]
    table[passes] = table[passes].astype(bool)
    table["fails"] = (~table[passes]).sum(axis=1).astype(int)
    table["accepted"] = table["fails"] <= tolerance
    return table


def _resume(store: Any, candidates: pd.DataFrame, settings: dict, done: dict) -> None:
    """Open the result folder for this calibration (refusing another one) and read the
    candidates it has finished."""
    manifest = {
        "scenario_name": "calibration",
        "scenario": settings,
        "design": json.loads(candidates.to_json(orient="split")),
        "replicates": settings["replicates"],
        "root_seed": settings["root_seed"],
        "steps": None,
        "series": False,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    store.open(manifest)
    for part in sorted(store.parts.glob("candidate-*.parquet")):
        row = pd.read_parquet(part).iloc[0].to_dict()
        done[int(row.pop("candidate"))] = row


def _run(candidates, todo, settings, handle, store, done, progress, check) -> None:
    from tqdm import tqdm

    from cimsim.files import write_parquet

    def submit(k: int) -> Future:
        # whole-number constants (the meeting size) are sampled rounded: the schema takes 7.0
        constants = {p: float(v) for p, v in candidates.loc[k].items() if not np.isnan(v)}
        args = (
            int(k),
            constants,
            tuple(settings["cases"]),
            settings["replicates"],
            settings["root_seed"],
            settings["size"],
            settings["resolution"],
            settings["alpha"],
        )
        if check is not None:
            return handle.executor.submit(_custom_task, check, int(k), constants)
        return handle.executor.submit(_task, args)

    # a few tasks per worker in flight: parts land as candidates finish (also on the
    # serial executor, which runs a task when it is submitted) and memory stays bounded
    queue = list(todo)
    in_flight = 2 * handle.workers if handle.workers > 1 else 1
    pending: dict[Future, int] = {}

    def top_up() -> None:
        while queue and len(pending) < in_flight:
            k = queue.pop(0)
            pending[submit(k)] = k

    bar = tqdm(
        total=len(candidates),
        initial=len(candidates) - len(todo),
        unit="candidate",
        file=sys.stderr,
        disable=None if progress else True,
    )
    try:
        from concurrent.futures import FIRST_COMPLETED, wait

        top_up()
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                pending.pop(future)
                k, row = future.result()
                done[k] = row
                if store is not None:
                    frame = pd.DataFrame([{"candidate": k, **row}])
                    write_parquet(store.parts / f"candidate-{k:06d}.parquet", frame)
                bar.update(1)
            top_up()
    finally:
        bar.close()
        for future in pending:
            future.cancel()


# --------------------------------------------------------------------------- analysis


def constrained(table: pd.DataFrame) -> pd.DataFrame:
    """For every constant: the two-sample Kolmogorov-Smirnov statistic and p-value of the
    accepted candidates against all, and the accepted 5-95% range; strongest first."""
    from scipy import stats

    sampled = table.iloc[1:]  # candidate 0 is the bundled calibration
    accepted = sampled[sampled["accepted"]]
    rows = []
    for path in [c for c in table.columns if c.startswith("calibration.")]:
        if len(accepted) >= 2:
            test = stats.ks_2samp(accepted[path], sampled[path])
            lo, hi = np.quantile(accepted[path], [0.05, 0.95])
            rows.append((path, test.statistic, test.pvalue, lo, hi))
        else:
            rows.append((path, np.nan, np.nan, np.nan, np.nan))
    frame = pd.DataFrame(rows, columns=["constant", "ks", "p", "accepted_5%", "accepted_95%"])
    return frame.sort_values("ks", ascending=False, na_position="last").reset_index(drop=True)


def pattern_summary(table: pd.DataFrame) -> pd.DataFrame:
    """How many sampled candidates pass each pattern (candidate 0, the bundled
    calibration, is reported apart)."""
    sampled = table.iloc[1:]
    rows = []
    for column in [c for c in table.columns if c.startswith("pass:")]:
        key = column.split(":", 1)[1]
        rows.append(
            {
                "pattern": key,
                "passed": int(sampled[column].sum()),
                "share": float(sampled[column].mean()) if len(sampled) else np.nan,
                "bundled": bool(table[column].iloc[0]),
                "bundled detail": table[f"detail:{key}"].iloc[0],
            }
        )
    return pd.DataFrame(rows)


def report(table: pd.DataFrame, tolerance: int = 0, top: int = 12) -> str:
    """The calibration report in plain words (Markdown); ``tolerance`` as given to
    :func:`evaluate`."""
    sampled = table.iloc[1:]
    n, n_ok = len(sampled), int(sampled["accepted"].sum())
    n_strict = int((sampled["fails"] == 0).sum())
    summary = pattern_summary(table)
    strongest = constrained(table).head(top)
    lines = [
        "# Pattern-oriented calibration",
        "",
        f"{n} candidate calibrations sampled from the plausible ranges (Latin hypercube), "
        f"each run against {len(summary)} patterns.",
        f"**{n_strict} of {n} ({n_strict / max(n, 1):.0%}) reproduce every pattern**"
        + (
            f"; {n_ok} fail at most {tolerance} and are accepted."
            if tolerance
            else ", and are accepted."
        ),
        f"The bundled calibration is {'accepted' if table['accepted'].iloc[0] else 'rejected'} "
        f"({int(table['fails'].iloc[0])} pattern(s) failed).",
        "",
        "## Patterns",
        "",
        "| pattern | candidates passing | share | bundled calibration |",
        "|---|---|---|---|",
    ]
    for row in summary.itertuples(index=False):
        bundled = "passes" if row.bundled else "fails"
        lines.append(f"| {row.pattern} | {row.passed} | {row.share:.0%} | {bundled}: {row[4]} |")
    lines += [
        "",
        "## Which constants the patterns constrain",
        "",
        "Accepted candidates against all sampled, per constant: the Kolmogorov-Smirnov "
        "statistic (0: the patterns do not care; 1: they pin it down) and the range the "
        "accepted candidates span (5-95%).",
        "",
    ]
    if n_ok >= 2:
        lines += ["| constant | KS | p | accepted 5% | accepted 95% |", "|---|---|---|---|---|"]
    if n_ok < 2:
        lines += ["Fewer than two sampled candidates were accepted: nothing to compare."]
    for row in strongest.itertuples(index=False) if n_ok >= 2 else ():
        lines.append(
            f"| `{row.constant}` | {row.ks:.2f} | {row.p:.2g} | {row[3]:.4g} | {row[4]:.4g} |"
        )
    return "\n".join(lines) + "\n"


def plot_marginals(table: pd.DataFrame, path: Path, top: int = 12) -> None:
    """Histograms of the most constrained constants: all sampled vs accepted."""
    from cimsim.errors import require

    require("matplotlib", "analysis", "the calibration figure")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sampled = table.iloc[1:]
    accepted = sampled[sampled["accepted"]]
    names = constrained(table)["constant"].head(top).tolist()
    cols = 4
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        bins = np.linspace(sampled[name].min(), sampled[name].max(), 11)
        ax.hist(sampled[name], bins=bins, color="0.8", label="all")
        ax.hist(accepted[name], bins=bins, color="tab:blue", label="accepted")
        ax.axvline(table[name].iloc[0], color="k", lw=1, ls="--", label="bundled")
        ax.set_title(name.removeprefix("calibration."), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(table: pd.DataFrame, out: Path, tolerance: int = 0) -> list[Path]:
    """``candidates.parquet``, ``report.md`` and (with matplotlib) ``marginals.png``."""
    from cimsim.files import write_parquet, write_text

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "candidates.parquet", out / "report.md"]
    write_parquet(written[0], table.reset_index())
    write_text(written[1], report(table, tolerance))
    try:
        plot_marginals(table, out / "marginals.png")
        written.append(out / "marginals.png")
    except MissingPart:  # matplotlib is in the analysis extra; the tables stand alone
        pass
    return written
