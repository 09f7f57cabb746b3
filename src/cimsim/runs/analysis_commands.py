"""The ``cimsim sensitivity`` and ``cimsim experiment`` commands and the experiment harness.

Experiments live as scripts in the repository's ``experiments/`` folder, one per name
(``missing-backbone`` -> ``experiments/missing_backbone.py``). Each script defines
``NAME``, ``DESCRIPTION`` and ``run(ctx: ExperimentContext) -> dict`` and ends with
``raise SystemExit(experiment_main(run, NAME))`` so it also runs on its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import cimsim
from cimsim.cli import UserError
from cimsim.scenario import ScenarioError, get_path, load_scenario

# ------------------------------------------------------------------ shared helpers


def executor_spec(args: argparse.Namespace) -> dict[str, Any]:
    """``executor``, ``workers`` and ``batch_size`` from ``--serial/--dask/--workers``."""
    serial = getattr(args, "serial", False)
    dask = getattr(args, "dask", None)
    if serial and dask:
        raise UserError("--serial and --dask exclude each other")
    if serial:
        executor = "serial"
    elif dask:
        executor = dask if dask.startswith("dask:") else f"dask:{dask}"
    else:
        executor = "processes"
    return {
        "executor": executor,
        "workers": getattr(args, "workers", None),
        "batch_size": getattr(args, "batch_size", None),
    }


def _check_out(out: str | Path | None) -> None:
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")


def parse_param(text: str, scenario: Any) -> tuple[str, float, float]:
    """Parse ``PATH=LO:HI`` for a continuous parameter of ``scenario``; one-line errors."""
    if "=" not in text or ":" not in text.split("=", 1)[1]:
        raise UserError(f"--param {text}: expected PATH=LO:HI, e.g. settings.initial_trust=0.1:0.9")
    path, rng = (s.strip() for s in text.split("=", 1))
    get_path(scenario, path)  # ScenarioError "unknown parameter 'x'"
    value = get_path(scenario, path)
    if isinstance(value, bool) or not isinstance(value, float):
        raise UserError(f"--param {text}: '{path}' is not a continuous (float) parameter")
    lo_text, hi_text = rng.split(":", 1)
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise UserError(f"--param {text}: LO and HI must be numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise UserError(f"--param {text}: LO and HI must be finite")
    if lo >= hi:
        raise UserError(f"--param {text}: LO must be below HI")
    for bound in (lo, hi):
        try:
            load_scenario(scenario, {path: bound})
        except ScenarioError as err:
            raise UserError(f"--param {text}: {bound} is out of range ({err})") from None
    return path, lo, hi


def _echo(msg: str) -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------ sensitivity


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Sobol or Morris indices of one outcome for one or more scenarios (SALib)."""
    from cimsim.indicators import REPORTERS
    from cimsim.runs.store import RunError
    from cimsim.sensitivity import check_n, n_samples, run_sensitivity

    scenarios = [load_scenario(s) for s in args.scenarios]  # ScenarioError on a bad name
    if args.outcome not in REPORTERS:
        raise UserError(f"--outcome {args.outcome}: unknown (choose from {', '.join(REPORTERS)})")
    params: dict[str, tuple[float, float]] = {}
    for text in args.param:
        path, lo, hi = parse_param(text, scenarios[0])
        for sc in scenarios[1:]:
            parse_param(text, sc)
        if path in params:
            raise UserError(f"--param {path}: given twice")
        params[path] = (lo, hi)
    if args.method == "sobol" and len(params) < 2:
        raise UserError("Sobol analysis needs at least two --param ranges")
    try:
        check_n(args.method, args.n)
    except ValueError as err:
        raise UserError(str(err)) from None
    _check_out(args.out)
    ex = executor_spec(args)
    runs = n_samples(args.method, args.n, len(params)) * args.replicates * len(scenarios)
    print(
        f"{args.method}: {len(params)} parameters, n = {args.n}, {args.replicates} replicates, "
        f"{len(scenarios)} scenario(s): {runs} runs",
        flush=True,
    )
    t0 = time.perf_counter()
    try:
        comp = run_sensitivity(
            args.scenarios,
            params,
            method=args.method,
            n=args.n,
            replicates=args.replicates,
            outcome=args.outcome,
            seed=args.seed,
            steps=args.steps,
            progress=sys.stderr.isatty(),
            out=Path(args.out),
            echo=_echo,
            **ex,
        )
    except RunError as err:
        raise UserError(str(err)) from None
    first = "ST" if args.method == "sobol" else "mu_star"
    for name, res in comp.results.items():
        ranked = res.index(first).sort_values(ascending=False)
        share = "n/a" if math.isnan(res.noise_share) else f"{res.noise_share:.2f}"
        print(f"{name} ({first}, noise share {share}):")
        for p, v in ranked.items():
            print(f"  {p:<34} {v:7.3f}")
    for w in comp.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(
        f"{time.perf_counter() - t0:.1f} s; results written to {args.out}/ "
        "(indices.csv, sensitivity.png/.svg, report.md)"
    )
    return 0


# ------------------------------------------------------------------ experiments


def experiments_dir() -> Path:
    """The repository's ``experiments/`` folder."""
    return Path(cimsim.__file__).resolve().parents[2] / "experiments"


def list_experiments() -> dict[str, Path]:
    """Experiment names (with dashes) and their script paths."""
    folder = experiments_dir()
    if not folder.is_dir():
        return {}
    return {
        p.stem.replace("_", "-"): p
        for p in sorted(folder.glob("*.py"))
        if not p.stem.startswith("_")
    }


def load_experiment(name: str) -> ModuleType:
    """Import the experiment script ``name`` (dashes or underscores) as a module."""
    found = list_experiments()
    key = name.replace("_", "-")
    if key not in found:
        known = ", ".join(found) or "none found"
        raise UserError(f"unknown experiment '{name}' (available: {known})")
    path = found[key]
    spec = importlib.util.spec_from_file_location(f"cimsim_experiment_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise UserError(f"experiment '{name}' ({path}) defines no run(ctx)")
    return module


@dataclass
class ExperimentContext:
    """What an experiment needs: output folder, size, executor options and helpers."""

    name: str
    out: Path
    quick: bool = False
    executor: Any = "processes"
    workers: int | None = None
    batch_size: int | None = None
    progress: bool = False
    seed: int = 0
    started: float = field(default_factory=time.perf_counter)

    def run_design(
        self, scenario: Any, design: list[dict[str, Any]], replicates: int, **kw: Any
    ) -> Any:
        """:func:`cimsim.runs.engine.run_design` with this context's executor options."""
        from cimsim.runs.engine import run_design

        kw.setdefault("root_seed", self.seed)
        kw.setdefault("series", False)
        return run_design(
            scenario,
            design,
            replicates,
            executor=self.executor,
            workers=self.workers,
            batch_size=self.batch_size,
            progress=self.progress,
            **kw,
        )

    def echo(self, msg: str) -> None:
        """Print a progress line with the elapsed time."""
        print(f"[{self.name} {time.perf_counter() - self.started:6.1f}s] {msg}", flush=True)

    @property
    def elapsed(self) -> float:
        """Seconds since the experiment started."""
        return time.perf_counter() - self.started

    def sensitivity_options(self) -> dict[str, Any]:
        """Executor keyword arguments for :func:`cimsim.sensitivity.run_sensitivity`."""
        return {
            "executor": self.executor,
            "workers": self.workers,
            "batch_size": self.batch_size,
            "progress": self.progress,
        }


def run_experiment(
    name: str,
    *,
    quick: bool = False,
    out: str | Path | None = None,
    executor: Any = "processes",
    workers: int | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    run: Callable[[ExperimentContext], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run an experiment by name (or a given ``run`` function); return its summary."""
    from cimsim.runs.store import RunError

    key = name.replace("_", "-")
    if run is None:
        run = load_experiment(key).run
    _check_out(out)
    folder = Path(out) if out is not None else Path("out") / "experiments" / key
    folder.mkdir(parents=True, exist_ok=True)
    ctx = ExperimentContext(
        name=key,
        out=folder,
        quick=quick,
        executor=executor,
        workers=workers,
        batch_size=batch_size,
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    try:
        summary = run(ctx)
    except RunError as err:
        raise UserError(str(err)) from None
    ctx.echo(f"done: results in {folder}/ (report.md)")
    return summary


def _experiment_parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--quick", action="store_true", help="small sizes (well under a minute)")
    p.add_argument("--out", default=None, metavar="DIR")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--serial", action="store_true")
    p.add_argument("--dask", default=None, metavar="local[:N]|tcp://HOST:PORT")
    p.add_argument("--batch-size", type=int, default=None)
    return p


def cmd_experiment(args: argparse.Namespace) -> int:
    """``cimsim experiment NAME [--quick] [--out DIR]``."""
    load_experiment(args.name)  # unknown name -> UserError before anything runs
    run_experiment(args.name, quick=args.quick, out=args.out, **executor_spec(args))
    return 0


def experiment_main(
    run: Callable[[ExperimentContext], dict[str, Any]], name: str, argv: list[str] | None = None
) -> int:
    """Command line of an experiment script: ``python experiments/X.py [--quick] [--out DIR]``."""
    args = _experiment_parser(f"experiments/{name.replace('-', '_')}.py").parse_args(argv)
    try:
        run_experiment(name, quick=args.quick, out=args.out, run=run, **executor_spec(args))
    except (UserError, ScenarioError) as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    return 0
