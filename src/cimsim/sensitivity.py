"""Global sensitivity analysis with SALib: sample, evaluate, analyse (Sobol and Morris).

The three steps are kept apart, as in SALib:

* :func:`sample` draws a design from a problem (Saltelli/Sobol' or Morris trajectories);
* :func:`evaluate` runs any model callable on that design (one row in, outputs out, or a
  whole batch at once); :class:`CimsimEvaluator` is the cimsim model as such a callable,
  mapping each row to dotted-path overrides and running replicates through the run engine;
* :func:`analyze` computes the indices (Sobol S1, ST, S2 with confidence intervals; Morris
  mu*, sigma, mu*_conf) on replicate means and reports the *noise share*: the mean variance
  across replicates at fixed parameters divided by the total variance of single runs.

:func:`run_sensitivity` chains the three for several scenarios and writes one long-format
comparison table, one grouped-bar figure (PNG and SVG) and a short report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

METHODS = ("sobol", "morris")
"""The supported methods."""

NOISE_WARNING = 0.3
"""Noise shares above this are flagged: the indices then mostly describe randomness."""

MORRIS_LEVELS = 4
"""Grid levels of the Morris design."""

Problem = dict[str, Any]
"""A SALib problem: ``{"num_vars": k, "names": [...], "bounds": [[lo, hi], ...]}``."""


def make_problem(params: dict[str, tuple[float, float]]) -> Problem:
    """A SALib problem from ``{name: (lo, hi)}``; raises ValueError on an empty range."""
    if not params:
        raise ValueError("no parameters to analyse")
    for name, (lo, hi) in params.items():
        if not lo < hi:
            raise ValueError(f"{name}: LO must be below HI (got {lo}:{hi})")
    return {
        "num_vars": len(params),
        "names": list(params),
        "bounds": [[float(lo), float(hi)] for lo, hi in params.values()],
    }


def is_power_of_two(n: int) -> bool:
    """Whether ``n`` is a positive power of two (Sobol' sequences need that)."""
    return n > 0 and n & (n - 1) == 0


def check_n(method: str, n: int) -> None:
    """Raise ValueError when ``n`` is not usable for ``method``."""
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}' (choose {', '.join(METHODS)})")
    if method == "sobol" and not is_power_of_two(n):
        raise ValueError(f"--n {n}: Sobol sampling needs a power of 2 (e.g. 32, 64, 128)")
    if method == "morris" and n < 2:
        raise ValueError(f"--n {n}: Morris needs at least 2 trajectories")


def n_samples(method: str, n: int, k: int) -> int:
    """Number of design points :func:`sample` returns for ``k`` parameters."""
    return n * (2 * k + 2) if method == "sobol" else n * (k + 1)


def sample(problem: Problem, method: str, n: int, seed: int = 0) -> np.ndarray:
    """Draw a design (rows = parameter sets) for ``method``.

    Sobol: Saltelli scheme on a scrambled Sobol' sequence with second-order terms,
    ``n * (2k + 2)`` rows (``n`` a power of 2). Morris: ``n`` trajectories on a
    4-level grid, ``n * (k + 1)`` rows.
    """
    check_n(method, n)
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(problem, n, calc_second_order=True, seed=seed)
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)


def evaluate(
    model: Callable[[np.ndarray], Any], X: np.ndarray, *, vectorized: bool | None = None
) -> np.ndarray:
    """Run ``model`` on every row of ``X``; return the outputs as an array.

    ``model`` takes one parameter row and returns a number (deterministic) or a 1-d
    array of replicate outcomes (stochastic) — or, when ``vectorized`` (default: the
    callable's ``vectorized`` attribute), takes the whole design and returns ``(n,)``
    or ``(n, replicates)``. The result has shape ``(n,)`` or ``(n, replicates)``.
    """
    if vectorized is None:
        vectorized = bool(getattr(model, "vectorized", False))
    X = np.atleast_2d(np.asarray(X, float))
    if vectorized:
        Y = np.asarray(model(X), float)
    else:
        Y = np.asarray([np.asarray(model(row), float) for row in X], float)
    if Y.shape[0] != X.shape[0] or Y.ndim > 2:
        raise ValueError(f"model returned shape {Y.shape} for {X.shape[0]} design rows")
    return Y


def noise_share(Y: np.ndarray) -> float:
    """Mean variance across replicates at fixed parameters / total variance of single runs.

    Returns NaN for fewer than two replicates and 0 when single runs do not vary at all.
    """
    Y = np.asarray(Y, float)
    if Y.ndim != 2 or Y.shape[1] < 2:
        return math.nan
    total = float(np.var(Y.ravel(), ddof=1))
    if total <= 0:
        return 0.0
    return float(np.mean(np.var(Y, axis=1, ddof=1)) / total)


def noise_warning(share: float, label: str = "") -> str | None:
    """A one-line warning when the noise share is large, else None."""
    if not math.isfinite(share) or share <= NOISE_WARNING:
        return None
    where = f"{label}: " if label else ""
    return (
        f"{where}noise share {share:.2f} > {NOISE_WARNING}: replicate noise dominates; "
        "indices are unreliable (use more replicates or a wider range)"
    )


@dataclass
class SensitivityResult:
    """The indices of one analysis in long format, with the noise share."""

    method: str
    names: list[str]
    table: pd.DataFrame
    """Columns: parameter, index, value, conf (S2 rows name a pair as ``a:b``)."""
    noise_share: float = math.nan
    replicates: int = 1
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def warning(self) -> str | None:
        """The noise warning, if the noise share is large."""
        return noise_warning(self.noise_share)

    def index(self, name: str) -> pd.Series:
        """One index (e.g. ``"ST"`` or ``"mu_star"``) by parameter."""
        sub = self.table[self.table["index"] == name]
        return sub.set_index("parameter")["value"]


def analyze(
    problem: Problem,
    X: np.ndarray,
    Y: np.ndarray,
    method: str,
    *,
    seed: int = 0,
    conf_level: float = 0.95,
    num_resamples: int = 200,
) -> SensitivityResult:
    """Compute Sobol (S1, ST, S2 with CIs) or Morris (mu*, mu, sigma, mu*_conf) indices.

    ``Y`` of shape ``(n, replicates)`` is averaged over replicates first; the noise share
    is reported beside the indices.
    """
    Y = np.asarray(Y, float)
    reps = Y.shape[1] if Y.ndim == 2 else 1
    share = noise_share(Y) if reps > 1 else math.nan
    y = Y.mean(axis=1) if Y.ndim == 2 else Y
    if not np.all(np.isfinite(y)):
        raise ValueError("model outputs contain NaN or infinity")
    names = list(problem["names"])
    rows: list[tuple[str, str, float, float]] = []
    if method == "sobol":
        from SALib.analyze import sobol as sobol_analyze

        res = sobol_analyze.analyze(
            problem,
            y,
            calc_second_order=True,
            num_resamples=num_resamples,
            conf_level=conf_level,
            # SALib's Sobol analysis ignores a seed of 0 (it tests ``if seed:``) and then
            # bootstraps from global state; seed + 1 keeps the confidence intervals
            # reproducible for every seed
            seed=seed + 1,
        )
        for i, name in enumerate(names):
            rows.append((name, "S1", res["S1"][i], res["S1_conf"][i]))
            rows.append((name, "ST", res["ST"][i], res["ST_conf"][i]))
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append((f"{names[i]}:{names[j]}", "S2", res["S2"][i, j], res["S2_conf"][i, j]))
    elif method == "morris":
        from SALib.analyze import morris as morris_analyze

        res = morris_analyze.analyze(
            problem,
            np.asarray(X, float),
            y,
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
        for i, name in enumerate(names):
            rows.append((name, "mu_star", res["mu_star"][i], res["mu_star_conf"][i]))
            rows.append((name, "mu", res["mu"][i], math.nan))
            rows.append((name, "sigma", res["sigma"][i], math.nan))
    else:
        raise ValueError(f"unknown method '{method}' (choose {', '.join(METHODS)})")
    table = pd.DataFrame(rows, columns=["parameter", "index", "value", "conf"])
    table[["value", "conf"]] = table[["value", "conf"]].astype(float)
    return SensitivityResult(method, names, table, share, reps, dict(res))


# --------------------------------------------------------------------------- cimsim


class CimsimEvaluator:
    """The cimsim model as a batch callable for :func:`evaluate`.

    Each design row becomes dotted-path overrides of ``scenario``; every row runs
    ``replicates`` times (replicate r uses the same seed at every row: common random
    numbers) through :func:`cimsim.runs.engine.run_design`. Calling it returns the final
    ``outcome`` with shape ``(n, replicates)``; ``last`` keeps the engine's result. With
    ``store`` set, runs are kept in that result folder, so an interrupted analysis resumes
    where it stopped when it is run again.
    """

    vectorized = True

    def __init__(
        self,
        scenario: Any,
        names: Sequence[str],
        *,
        replicates: int = 2,
        outcome: str = "impact",
        root_seed: int = 0,
        steps: int | None = None,
        executor: Any = "processes",
        workers: int | None = None,
        batch_size: int | None = None,
        progress: bool = True,
        store: Path | None = None,
    ) -> None:
        from cimsim.indicators import REPORTERS
        from cimsim.scenario import get_path, load_scenario

        if outcome not in REPORTERS:
            raise ValueError(f"unknown outcome '{outcome}' (choose from {', '.join(REPORTERS)})")
        self.scenario = load_scenario(scenario)
        for name in names:
            get_path(self.scenario, name)  # raises ScenarioError on an unknown path
        self.names = list(names)
        self.replicates = replicates
        self.outcome = outcome
        self.root_seed = root_seed
        self.steps = steps
        self.executor = executor
        self.workers = workers
        self.batch_size = batch_size
        self.progress = progress
        self.store = store
        self.last: Any = None

    def design(self, X: np.ndarray) -> list[dict[str, Any]]:
        """The design rows as dotted-path override dicts."""
        return [
            {name: float(v) for name, v in zip(self.names, row, strict=True)}
            for row in np.atleast_2d(X)
        ]

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Run every row ``replicates`` times; return outcomes of shape ``(n, replicates)``."""
        from cimsim.runs.engine import run_design

        design = self.design(X)
        res = run_design(
            self.scenario,
            design,
            self.replicates,
            root_seed=self.root_seed,
            steps=self.steps,
            out=self.store,
            executor=self.executor,
            workers=self.workers,
            batch_size=self.batch_size,
            progress=self.progress,
            series=False,
        )
        self.last = res
        table = res.finals.pivot_table(
            index="point", columns="replicate", values=self.outcome, aggfunc="mean"
        )
        table = table.reindex(index=range(len(design)))
        return table.to_numpy(float)


@dataclass
class Comparison:
    """Indices of several scenarios: long table, per-scenario results and noise shares."""

    method: str
    outcome: str
    table: pd.DataFrame
    """Columns: scenario, parameter, index, value, conf, note."""
    results: dict[str, SensitivityResult]
    warnings: list[str]


def inside(out: Path, *parts: str) -> Path:
    """``out / parts``, refusing any path that would leave ``out`` (a hostile name)."""
    from cimsim.errors import RunError

    path = out.joinpath(*parts)
    if not path.resolve().is_relative_to(out.resolve()):
        raise RunError(f"{'/'.join(parts)}: would write outside {out}")
    return path


def run_sensitivity(
    scenarios: Sequence[str],
    params: dict[str, tuple[float, float]],
    *,
    method: str = "sobol",
    n: int = 64,
    replicates: int = 2,
    outcome: str = "impact",
    seed: int = 0,
    steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    executor: Any = "processes",
    workers: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    out: Path | None = None,
    echo: Callable[[str], None] | None = print,
) -> Comparison:
    """Sample, evaluate and analyse each scenario; one comparison table (and files in ``out``).

    The same design and the same seeds are used for every scenario. With ``out`` it writes
    ``indices.csv`` (long format), ``design.csv``, ``outcomes_<scenario>.csv``,
    ``sensitivity.png``/``.svg`` and ``report.md``.
    """
    from cimsim.scenario import load_scenario

    problem = make_problem(params)
    check_n(method, n)
    loaded = [load_scenario(s, overrides) for s in scenarios]  # fail before any run
    evaluators = [
        CimsimEvaluator(
            sc,
            problem["names"],
            replicates=replicates,
            outcome=outcome,
            root_seed=seed,
            steps=steps,
            executor=executor,
            workers=workers,
            batch_size=batch_size,
            progress=progress,
        )
        for sc in loaded
    ]
    X = sample(problem, method, n, seed=seed)
    if out is None:
        return _analyse(scenarios, evaluators, problem, X, method, n, replicates, outcome,
                        seed, steps, None, echo)  # fmt: skip
    from cimsim.runs.store import ResultStore

    folder = ResultStore(out)
    folder.lock()  # one analysis per folder at a time
    try:
        return _analyse(scenarios, evaluators, problem, X, method, n, replicates, outcome,
                        seed, steps, Path(out), echo)  # fmt: skip
    finally:
        folder.unlock()


def _analyse(
    scenarios: Sequence[str],
    evaluators: list[CimsimEvaluator],
    problem: Problem,
    X: np.ndarray,
    method: str,
    n: int,
    replicates: int,
    outcome: str,
    seed: int,
    steps: int | None,
    out: Path | None,
    echo: Callable[[str], None] | None,
) -> Comparison:
    results: dict[str, SensitivityResult] = {}
    frames, warnings = [], []
    for label, ev in zip(scenarios, evaluators, strict=True):
        name = ev.scenario.name if ev.scenario.name != "custom" else Path(str(label)).stem
        if out is not None:
            ev.store = inside(Path(out), "runs", name)  # resumable run store per scenario
        if echo:
            echo(
                f"{name}: {len(X)} design points x {replicates} replicates = "
                f"{len(X) * replicates} runs"
            )
        Y = evaluate(ev, X)
        res = analyze(problem, X, Y, method, seed=seed)
        results[name] = res
        t = res.table.copy()
        t.insert(0, "scenario", name)
        t["note"] = ""
        note = noise_warning(res.noise_share, name) or ""
        if note:
            warnings.append(note)
            if echo:
                echo(f"warning: {note}")
        ns = pd.DataFrame(
            [[name, "(all)", "noise_share", res.noise_share, math.nan, note]],
            columns=t.columns,
        )
        frames.append(pd.concat([t, ns], ignore_index=True))
        if out is not None:
            df = pd.DataFrame(X, columns=problem["names"])
            Y2 = Y if Y.ndim == 2 else Y[:, None]
            for r in range(Y2.shape[1]):
                df[f"{outcome}_rep{r}"] = Y2[:, r]
            from cimsim.files import write_csv

            write_csv(inside(Path(out), f"outcomes_{name}.csv"), df)
    table = pd.concat(frames, ignore_index=True)
    comp = Comparison(method, outcome, table, results, warnings)
    if out is not None:  # the tables appear only once every run is done
        from cimsim.files import write_csv

        write_csv(out / "design.csv", pd.DataFrame(X, columns=problem["names"]))
        write_comparison(comp, out, replicates=replicates, n=n, seed=seed, steps=steps)
    return comp


def main_indices(method: str) -> tuple[str, ...]:
    """The headline indices of a method (those drawn in the figure)."""
    return ("ST", "S1") if method == "sobol" else ("mu_star", "sigma")


def plot_comparison(comp: Comparison, out: Path, stem: str = "sensitivity") -> list[Path]:
    """Grouped bars per parameter and scenario for the headline indices (PNG and SVG)."""
    from cimsim.figures import grouped_bars, new_figure, save_figure

    indices = main_indices(comp.method)
    fig, axes = new_figure(
        max(7.0, 1.0 + 0.9 * len(next(iter(comp.results.values())).names)),
        3.6 * len(indices),
        nrows=len(indices),
    )
    order = next(iter(comp.results.values())).names
    for ax, idx in zip(axes[:, 0], indices, strict=True):
        sub = comp.table[comp.table["index"] == idx]
        grouped_bars(ax, sub, category="parameter", group="scenario", order=order)
        ax.set_ylabel("mu*" if idx == "mu_star" else idx)
        shares = ", ".join(f"{s} {r.noise_share:.2f}" for s, r in comp.results.items())
        ax.set_title(
            f"{comp.method} {idx} of {comp.outcome} (noise share: {shares})", fontsize="small"
        )
    return save_figure(fig, out, stem)


def comparison_markdown(comp: Comparison) -> str:
    """A markdown summary: per scenario the ranked headline index and the noise share."""
    first = main_indices(comp.method)[0]
    lines = []
    for name, res in comp.results.items():
        share = "n/a (1 replicate)" if math.isnan(res.noise_share) else f"{res.noise_share:.2f}"
        lines.append(f"### {name}\n\nnoise share: {share}\n")
        if res.warning:
            lines.append(f"**Warning:** {res.warning}\n")
        t = res.table.pivot_table(index="parameter", columns="index", values="value")
        conf = res.table.pivot_table(index="parameter", columns="index", values="conf")
        cols = [c for c in ("ST", "S1", "mu_star", "sigma") if c in t]
        t = t.loc[res.names].sort_values(first, ascending=False)
        head = "| parameter | " + " | ".join(cols) + " |"
        lines += [head, "|" + "---|" * (len(cols) + 1)]
        for p, row in t.iterrows():
            cells = []
            for c in cols:
                ci = conf.loc[p, c] if c in conf else math.nan
                cells.append(f"{row[c]:.3f}" + (f" ± {ci:.3f}" if math.isfinite(ci) else ""))
            lines.append(f"| {p} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_comparison(
    comp: Comparison, out: Path, *, replicates: int, n: int, seed: int, steps: int | None
) -> None:
    """Write ``indices.csv``, the figure and ``report.md`` of a comparison."""
    from cimsim.files import write_csv, write_text

    write_csv(out / "indices.csv", comp.table)
    plot_comparison(comp, out)
    head = (
        f"# Sensitivity analysis ({comp.method}) of {comp.outcome}\n\n"
        f"Base sample size n = {n}, {replicates} replicates per design point (common random "
        f"numbers, root seed {seed}), steps = {steps or 'scenario default'}.\n"
        f"Noise share = mean variance across replicates at fixed parameters / total variance "
        f"of single runs; above {NOISE_WARNING} the indices mostly describe noise.\n\n"
    )
    write_text(out / "report.md", head + comparison_markdown(comp))
