"""The experiment harness: named experiments, their context, and their command line.

Experiments live as scripts in the repository's ``experiments/`` folder, one per name
(``missing-backbone`` -> ``experiments/missing_backbone.py``). Each script defines
``NAME``, ``DESCRIPTION`` and ``run(ctx: ExperimentContext) -> dict`` and ends with
``raise SystemExit(experiment_main(run, NAME))`` so it also runs on its own;
``cimsim experiment NAME`` runs the same function.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from cimsim.errors import CimsimError, UserError
from cimsim.files import check_out
from cimsim.runs.options import ExecutionOptions


def experiments_dir() -> Path:
    """The experiment scripts: the repository's ``experiments/``, installed inside the
    package as ``cimsim.experiments``."""
    import cimsim.experiments

    return Path(cimsim.experiments.__file__).parent


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
    options: ExecutionOptions = field(default_factory=ExecutionOptions)
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
            scenario, design, replicates, progress=self.progress, **self.options.kwargs(), **kw
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
        return {**self.options.kwargs(), "progress": self.progress}


def run_experiment(
    name: str,
    *,
    quick: bool = False,
    out: str | Path | None = None,
    options: ExecutionOptions | None = None,
    progress: bool | None = None,
    run: Callable[[ExperimentContext], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run an experiment by name (or a given ``run`` function); return its summary."""
    key = name.replace("_", "-")
    if run is None:
        run = load_experiment(key).run
    check_out(out)
    folder = Path(out) if out is not None else Path("out") / "experiments" / key
    folder.mkdir(parents=True, exist_ok=True)
    ctx = ExperimentContext(
        name=key,
        out=folder,
        quick=quick,
        options=options or ExecutionOptions(),
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    summary = run(ctx)
    ctx.echo(f"done: results in {folder}/ (report.md)")
    return summary


def experiment_main(
    run: Callable[[ExperimentContext], dict[str, Any]], name: str, argv: list[str] | None = None
) -> int:
    """Command line of an experiment script: ``python experiments/X.py [--quick] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog=f"experiments/{name.replace('-', '_')}.py")
    parser.add_argument("--quick", action="store_true", help="small sizes (well under a minute)")
    parser.add_argument("--out", default=None, metavar="DIR")
    ExecutionOptions.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        options = ExecutionOptions.from_args(args)
        run_experiment(name, quick=args.quick, out=args.out, run=run, options=options)
    except CimsimError as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    return 0
