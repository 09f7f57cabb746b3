"""Benchmark of the run engine: serial vs local processes, vs Mesa's batch_run, vs Dask.

Prints figures only (no assertions on speed)::

    python benchmarks/bench_runs.py            # default-size runs (about 2 minutes)
    python benchmarks/bench_runs.py --quick    # tiny version (a few seconds)
    python benchmarks/bench_runs.py --curve 1,2,4,8,16   # parallel scaling curve

``--curve`` times a 640-run design (Mechelen, backbone on/off x 320 replicates, 120
months) on N local processes and on a Dask LocalCluster of N workers for each N the
machine has cores for, cold (pool or cluster start-up included), and prints runs per
minute and the parallel efficiency against a serial rate measured on the same machine.

The default design is Malmö with the backbone on and off, ``20 x workers`` replicates
each: 40 runs per worker, as the 640-run design gives 16 workers.

Figures: runs per minute serial and with N local processes and the parallel efficiency
(rate_N / (N * rate_serial)); our engine vs ``mesa.batch_run`` on the same design (final
values only on both sides); Dask LocalCluster vs local processes, cold (start-up included)
and warm (pool or cluster already running). Every case runs ``--repeat`` times, interleaved,
and the best time is kept, which damps the noise of a shared machine.

``mesa.batch_run`` needs a model class taking keyword parameters; :class:`BatchRunAdapter`
takes the dotted overrides as ``**kwargs`` and builds CollectiveImpactModel from them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

import cimsim
from cimsim.model import CollectiveImpactModel
from cimsim.runs import make_grid, open_executor, run_design


class BatchRunAdapter(CollectiveImpactModel):
    """Mesa ``batch_run`` wants a model class taking keyword parameters: dotted overrides here.

    ``BatchRunAdapter(rng=1, **{"backbone.enabled": False})`` builds the base scenario
    (``BASE_SCENARIO``) with those overrides and runs CollectiveImpactModel on it.
    """

    BASE_SCENARIO = "malmo"

    def __init__(self, rng: int | None = None, **overrides: Any) -> None:
        super().__init__(cimsim.load_scenario(self.BASE_SCENARIO, overrides), rng=rng)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _rate(n_runs: int, seconds: float) -> float:
    return 60.0 * n_runs / seconds


def scaling_curve(counts: list[int], replicates: int, steps: int, dask: bool) -> None:
    """Runs per minute and parallel efficiency at each worker count (cold starts)."""
    import os

    base = cimsim.load_scenario("mechelen")
    design = make_grid({"backbone.enabled": [True, False]})
    n = len(design) * replicates
    cores = os.cpu_count() or 1
    counts = [c for c in counts if c <= cores]
    common = dict(root_seed=0, steps=steps, progress=False, series=False)
    sample = max(2, min(replicates, 32))  # serial rate from a sample: it is per run
    seconds, ref = _timed(lambda: run_design(base, design, sample, executor="serial", **common))
    serial = _rate(len(design) * sample, seconds)
    print(f"scaling curve: mechelen, {n} runs of {steps} months; {cores} cores")
    print(f"serial                   {serial:8.1f} runs/min (from {len(design) * sample} runs)")
    first = None
    for label, spec in (("processes", "processes"), ("dask local", "dask:local:{}")):
        if label == "dask local" and not dask:
            continue
        for c in counts:
            executor = spec.format(c)
            seconds, res = _timed(
                lambda executor=executor, c=c: run_design(
                    base, design, replicates, executor=executor, workers=c, **common
                )
            )
            first = res.finals if first is None else first
            pd.testing.assert_frame_equal(first, res.finals, check_exact=True)
            rate = _rate(n, seconds)
            print(f"{label + f' ({c})':<24} {rate:8.1f} runs/min  {seconds:7.2f} s  "
                  f"efficiency {rate / (c * serial):6.1%}")  # fmt: skip
    print("(every table above is bit-identical to the first)")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures (best of ``--repeat`` interleaved rounds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a few seconds)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--replicates", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None, help="rounds; best time is kept")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-mesa", action="store_true")
    parser.add_argument("--curve", metavar="N,N,...", help="parallel scaling curve instead")
    args = parser.parse_args(argv)
    if args.curve:
        counts = [int(c) for c in args.curve.split(",")]
        scaling_curve(
            counts, args.replicates or (4 if args.quick else 320), args.steps or
            (6 if args.quick else 120), dask=not args.no_dask,
        )  # fmt: skip
        return 0

    overrides: dict[str, Any] = {}
    if args.quick:
        overrides = {"population.citizens": 200, "population.businesses": 30}
    # 40 runs per worker by default, as the engine-speed issue's 640-run design gives 16
    # workers: with 6 runs per worker, a batch was 2 runs (0.12 s) and Dask's fixed cost
    # per batch and per design outweighed what it measures
    replicates = args.replicates or (2 if args.quick else 20 * args.workers)
    steps = args.steps or (6 if args.quick else 120)
    repeat = args.repeat or (1 if args.quick else 3)
    grid = {"backbone.enabled": [True, False]}
    design = make_grid(grid)
    base = cimsim.load_scenario("malmo", overrides)
    n = len(design) * replicates
    w = args.workers
    common = dict(root_seed=0, steps=steps, progress=False, series=False)
    print(f"design: malmo {overrides or '(default size)'}, {len(design)} points x "
          f"{replicates} replicates = {n} runs of {steps} months; {w} workers; "
          f"best of {repeat} interleaved rounds")  # fmt: skip

    ref = run_design(base, design, replicates, executor="serial", **common)
    seeds = ref.manifest["replicate_seeds"]

    def ours(executor: Any, **kw: Any) -> Callable[[], Any]:
        def go() -> None:
            res = run_design(base, design, replicates, executor=executor, **kw, **common)
            pd.testing.assert_frame_equal(ref.finals, res.finals, check_exact=True)

        return go

    handle = open_executor("processes", w)
    run_design(base, [{}], w, executor=handle.executor, steps=1, progress=False)  # warm up
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("serial", ours("serial")),
        (f"processes ({w}), cold", ours("processes", workers=w)),
        (f"processes ({w}), warm", ours(handle.executor)),
    ]
    cluster = client = None
    if not args.no_mesa:
        from mesa.batchrunner import batch_run

        params = {**overrides, **grid}
        kw = dict(max_steps=steps, data_collection_period=-1, display_progress=False, rng=seeds)
        rows = batch_run(BatchRunAdapter, params, number_processes=1, **kw)
        same = sorted(pd.DataFrame(rows)["impact"]) == sorted(ref.finals["impact"])
        print(f"mesa.batch_run gives the same final impacts (same seeds): {same}")
        cases.append(("batch_run serial", lambda: batch_run(BatchRunAdapter, params, **kw)))
        if not args.quick:  # a spawn pool start-up is slow; skipped in the quick version
            cases.append(
                (f"batch_run ({w}), cold",
                 lambda: batch_run(BatchRunAdapter, params, number_processes=w, **kw))
            )  # fmt: skip
    if not args.no_dask:
        from distributed import Client, LocalCluster

        if not args.quick:  # one cluster start-up is enough for the quick version
            cases.append((f"dask local ({w}), cold", ours(f"dask:local:{w}")))
        cluster = LocalCluster(
            n_workers=w, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.ERROR,
        )  # fmt: skip
        client = Client(cluster)
        run_design(base, [{}], w, executor=client, steps=1, progress=False)  # warm up
        cases.append((f"dask local ({w}), warm", ours(client)))

    best: dict[str, float] = {}
    try:
        for _ in range(repeat):
            for label, fn in cases:
                seconds, _ = _timed(fn)
                best[label] = min(best.get(label, seconds), seconds)
    finally:
        handle.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    serial = best["serial"]
    for label, seconds in best.items():
        line = f"{label:<24} {seconds:7.2f} s  {_rate(n, seconds):8.1f} runs/min"
        if f"({w})" in label:
            line += f"  efficiency {serial / (w * seconds):6.1%}"
        print(line)
    print()
    if not args.no_mesa:
        print(f"ours vs batch_run, serial:        {best['batch_run serial'] / serial:5.2f}x speed")
        if f"batch_run ({w}), cold" in best:
            ratio = best[f"batch_run ({w}), cold"] / best[f"processes ({w}), cold"]
            print(f"ours vs batch_run, {w} processes:  {ratio:5.2f}x speed (cold)")
    if not args.no_dask:
        warm = best[f"dask local ({w}), warm"] / best[f"processes ({w}), warm"] - 1
        print(f"dask overhead vs processes, warm: {warm:+6.1%}")
        if f"dask local ({w}), cold" in best:
            cold = best[f"dask local ({w}), cold"] / best[f"processes ({w}), cold"] - 1
            print(f"dask overhead vs processes, cold: {cold:+6.1%} (cluster start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
