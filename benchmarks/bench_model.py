"""Performance benchmark for cimsim (GitHub issue 2).

Measures, and prints as figures and ratios (no asserts on speed):

1. cost per agent-step of cimsim at 10,000 agents vs Mesa's bundled Boltzmann wealth
   example at 10,000 agents, side by side in one process (interleaved repeats, median),
   over whole runs: each repeat builds a fresh model and times all its months (the cost
   of a month rises with engagement, so a window of early months would flatter);
2. time to build a 10,000-agent model (and, for contrast, Mesa's VirusOnNetwork example
   at 1,000 and 2,000 nodes, extrapolated to 10,000);
3. cost per agent-step at 100,000 agents relative to 10,000 agents;
4. Malmö at full scale (~360,000 citizens + ~300 organisations, 120 months): wall time
   and peak memory (ru_maxrss of a fresh subprocess, so numpy arrays count);
5. one default-size run (120 months) of each bundled scenario with the Mesa model, and
   the same run as the initiative alone, alternating (what Mesa's stepping adds);
6. the command line as whole processes: ``cimsim --help`` and ``cimsim run malmo --json``.

A final summary marks each target PASS or MISS.

Usage::

    python benchmarks/bench_model.py            # full benchmark (a few minutes)
    python benchmarks/bench_model.py --quick    # tiny version (a few seconds)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numba

import cimsim

MALMO_ORGS = ("government", "businesses", "civil_society")
"""Organisation counts of the Malmö scenario; citizens fill the rest of a target size."""
FULL_SCALE_CITIZENS = 360_000
"""Malmö's residents, one citizen agent each at full scale."""

TARGET_RATIO = 40.0
"""cimsim should cost at least this many times less per agent-step than Boltzmann."""
TARGET_BUILD_S = 1.0
TARGET_SCALING = 1.5
TARGET_FULL_S = 6.0
TARGET_FULL_GIB = 1.0
TARGET_SCENARIO_S = 0.05
TARGET_HELP_S = 0.3
TARGET_RUN_JSON_S = 1.0
"""Targets of the engine-speed issue: whole runs, whole processes."""


@dataclass(frozen=True)
class Config:
    """Sizes and repeat counts of one benchmark run."""

    small: int
    large: int
    steps: int
    repeats: int
    full_citizens: int
    full_months: int
    scenario_months: int
    virus_nodes: tuple[int, int]
    full_scale_label: str
    scenario_repeats: int


FULL = Config(
    small=10_000,
    large=100_000,
    steps=120,
    repeats=3,
    full_citizens=FULL_SCALE_CITIZENS,
    full_months=120,
    scenario_months=120,
    virus_nodes=(1_000, 2_000),
    full_scale_label="Malmö full scale",
    scenario_repeats=9,
)
QUICK = Config(
    small=1_000,
    large=5_000,
    steps=6,
    repeats=3,
    full_citizens=5_000,
    full_months=6,
    scenario_months=12,
    virus_nodes=(100, 200),
    full_scale_label="Malmö (quick, reduced)",
    scenario_repeats=3,
)


# --------------------------------------------------------------------------- helpers


def malmo_scenario(n_agents: int | None = None, citizens: int | None = None) -> cimsim.Scenario:
    """Malmö with ``n_agents`` stakeholders in total (or ``citizens`` citizens), 1 resident each."""
    base = cimsim.load_scenario("malmo")
    if citizens is None:
        orgs = sum(getattr(base.population, name) for name in MALMO_ORGS)
        citizens = max(int(n_agents) - orgs, 0)
    return cimsim.load_scenario(
        "malmo",
        overrides={"population.citizens": citizens, "population.residents_per_citizen": 1},
    )


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall time of one call and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def agent_count(model) -> int:
    """Agents of a model (cimsim's stakeholder rows, so its lazy Mesa agents stay unbuilt)."""
    pop = getattr(model, "pop", None)
    return len(pop) if pop is not None else len(model.agents)


def per_agent_step_us(build: Callable[[], object], steps: int) -> tuple[float, float, int]:
    """Wall and CPU microseconds per agent per step over a whole run of ``steps`` steps of
    a freshly built model (the build itself is not timed); also the agent count."""
    model = build()
    cpu0 = time.process_time()
    seconds, _ = timed(lambda: [model.step() for _ in range(steps)])
    cpu = time.process_time() - cpu0
    n = agent_count(model)
    scale = 1e6 / steps / n
    return seconds * scale, cpu * scale, n


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall and median CPU figure of (wall, cpu) samples."""
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def load_note() -> str:
    """A warning when the machine is busier than its CPU count (wall times then inflate)."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return ""
    cpus = os.cpu_count() or 1
    busy = load > cpus
    return f"load average {load:.1f} on {cpus} CPUs" + (
        " -- machine is oversubscribed: wall times are inflated, CPU times are more telling"
        if busy
        else ""
    )


def build_ours(n_agents: int, seed: int):
    return cimsim.CollectiveImpactModel(malmo_scenario(n_agents), rng=seed)


def build_boltzmann(n_agents: int, seed: int):
    from mesa.examples.basic.boltzmann_wealth_model.model import (
        BoltzmannScenario,
        BoltzmannWealth,
    )

    # same density as the example's default (100 agents on 10 x 10)
    side = max(int(round(math.sqrt(n_agents))), 1)
    return BoltzmannWealth(BoltzmannScenario(n=n_agents, width=side, height=side, rng=seed))


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms" if seconds < 1 else f"{seconds:8.2f} s "


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<44} {value:>14}  {note}")


# --------------------------------------------------------------------------- parts


def bench_vs_boltzmann(cfg: Config, seed: int) -> dict[str, float]:
    """1. Per agent-step: cimsim vs Boltzmann at ``cfg.small`` agents, interleaved."""
    print(f"\n[1] per agent-step at {cfg.small:,} agents: cimsim vs Mesa Boltzmann wealth")
    build_ours(cfg.small, seed).step()  # warm-up: first-call overheads out of the timing
    build_boltzmann(cfg.small, seed).step()
    t_ours, t_boltz = [], []
    for i in range(cfg.repeats):
        *us, n_ours = per_agent_step_us(lambda i=i: build_ours(cfg.small, seed + i), cfg.steps)
        t_ours.append(tuple(us))
        *us, n_boltz = per_agent_step_us(
            lambda i=i: build_boltzmann(cfg.small, seed + i), cfg.steps
        )
        t_boltz.append(tuple(us))
    (ours_us, ours_cpu), (boltz_us, boltz_cpu) = medians(t_ours), medians(t_boltz)
    ratio, cpu_ratio = boltz_us / ours_us, boltz_cpu / ours_cpu
    note = f"wall; CPU {{:.3f}} us; median of {cfg.repeats} whole runs of {cfg.steps} steps"
    row(f"cimsim ({n_ours:,} agents)", f"{ours_us:8.3f} us", note.format(ours_cpu))
    row(f"Boltzmann ({n_boltz:,} agents)", f"{boltz_us:8.3f} us", note.format(boltz_cpu))
    print(
        f"  ratio Boltzmann / cimsim per agent-step: {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU"
        f" (target >= {TARGET_RATIO:g}x)"
    )
    return {
        "ours_us": ours_us,
        "boltzmann_us": boltz_us,
        "ratio": ratio,
        "ours_cpu_us": ours_cpu,
        "boltzmann_cpu_us": boltz_cpu,
        "cpu_ratio": cpu_ratio,
    }


def bench_build(cfg: Config, seed: int, with_virus: bool) -> dict[str, float]:
    """2. Time to build a ``cfg.small``-agent model (and VirusOnNetwork for contrast)."""
    print(f"\n[2] building a {cfg.small:,}-agent model")
    scenario = malmo_scenario(cfg.small)
    load_s = statistics.median(timed(lambda: malmo_scenario(cfg.small))[0] for _ in range(3))
    builds = [
        timed(lambda i=i: cimsim.CollectiveImpactModel(scenario, rng=seed + i))[0]
        for i in range(cfg.repeats)
    ]
    build_s = statistics.median(builds)
    row("load + validate scenario", fmt_s(load_s))
    row(f"CollectiveImpactModel ({cfg.small:,} agents)", fmt_s(build_s), f"median of {len(builds)}")
    out = {"build_s": build_s, "load_s": load_s}
    if with_virus:
        from mesa.examples.basic.virus_on_network.model import VirusOnNetwork

        n1, n2 = cfg.virus_nodes
        # one build each: they take seconds, and only the trend matters
        t1 = timed(lambda: VirusOnNetwork(num_nodes=n1, rng=seed))[0]
        t2 = timed(lambda: VirusOnNetwork(num_nodes=n2, rng=seed))[0]
        exponent = math.log(t2 / t1) / math.log(n2 / n1)
        extrapolated = t2 * (cfg.small / n2) ** exponent
        row(f"Mesa VirusOnNetwork ({n1:,} nodes)", fmt_s(t1))
        row(f"Mesa VirusOnNetwork ({n2:,} nodes)", fmt_s(t2), f"scales ~ n^{exponent:.2f}")
        row(
            f"  extrapolated to {cfg.small:,} nodes",
            fmt_s(extrapolated),
            "(NOT measured: extrapolated from the two sizes above)",
        )
        out.update(
            virus_s1=t1, virus_s2=t2, virus_exponent=exponent, virus_extrapolated_s=extrapolated
        )
    return out


def bench_scaling(cfg: Config, seed: int) -> dict[str, float]:
    """3. Per agent-step at ``cfg.large`` relative to ``cfg.small`` agents, interleaved, on
    one thread (how the work grows with the size; a large run would otherwise share its
    widest passes among the cores, ``cimsim.kernels.use_threads``)."""
    print(f"\n[3] scaling: per agent-step at {cfg.large:,} vs {cfg.small:,} agents (one thread)")
    t_small, t_large = [], []
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for i in range(cfg.repeats):
            *us, n_small = per_agent_step_us(lambda i=i: build_ours(cfg.small, seed + i), cfg.steps)
            t_small.append(tuple(us))
            *us, n_large = per_agent_step_us(lambda i=i: build_ours(cfg.large, seed + i), cfg.steps)
            t_large.append(tuple(us))
    finally:
        numba.set_num_threads(threads)
    (small_us, small_cpu), (large_us, large_cpu) = medians(t_small), medians(t_large)
    ratio, cpu_ratio = large_us / small_us, large_cpu / small_cpu
    row(
        f"cimsim ({n_small:,} agents)",
        f"{small_us:8.3f} us",
        f"wall; CPU {small_cpu:.3f} us",
    )
    row(
        f"cimsim ({n_large:,} agents)",
        f"{large_us:8.3f} us",
        f"wall; CPU {large_cpu:.3f} us",
    )
    print(
        f"  ratio large / small per agent-step: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU"
        f" (target <= {TARGET_SCALING:g}x)"
    )
    return {
        "small_us": small_us,
        "large_us": large_us,
        "ratio": ratio,
        "small_cpu_us": small_cpu,
        "large_cpu_us": large_cpu,
        "cpu_ratio": cpu_ratio,
    }


CHILD_CODE = """
import json, resource, sys, time
sys.path[:0] = {path!r}
import bench_model
import cimsim


def peak_kib():
    # VmHWM is the peak RSS of this process image; ru_maxrss can carry over the parent's
    # peak across fork + exec on Linux, so it is only the fallback
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


base_kib = peak_kib()
c0 = time.process_time()
t0 = time.perf_counter()
scenario = bench_model.malmo_scenario(citizens={citizens})
t1 = time.perf_counter()
from cimsim.initiative import Initiative  # how sweeps and the command line run it
model = Initiative(scenario, rng={seed})
t2 = time.perf_counter()
model.run({months})
t3 = time.perf_counter()
c3 = time.process_time()
from cimsim.kernels import use_threads
print(json.dumps(dict(
    threads=use_threads(len(model.ties)),
    agents=len(model.pop), ties=len(model.ties), load_s=t1 - t0, build_s=t2 - t1,
    run_s=t3 - t2, total_s=t3 - t0, total_cpu_s=c3 - c0, base_kib=base_kib,
    peak_kib=peak_kib(), ru_maxrss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    impact=model.latest["impact"],
)))
"""


def _full_scale_child(cfg: Config, seed: int, threads: int | None) -> dict:
    """One full-scale run in a fresh subprocess (``threads``: ``NUMBA_NUM_THREADS``; None:
    numba's default, every core this process may use)."""
    code = CHILD_CODE.format(
        path=[os.path.dirname(os.path.abspath(__file__)), *filter(None, sys.path)],
        citizens=cfg.full_citizens,
        seed=seed,
        months=cfg.full_months,
    )
    env = dict(os.environ)
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise RuntimeError("full-scale subprocess failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_full_scale(cfg: Config, seed: int) -> dict[str, float]:
    """4. Malmö at full scale in a fresh subprocess: wall time and peak RSS, as it runs (the
    widest passes on every core: ``kernels.use_threads``) and on one thread (as a worker
    of a process pool runs it); the same run either way."""
    print(
        f"\n[4] {cfg.full_scale_label}: {cfg.full_citizens:,} citizens, {cfg.full_months} months"
        " (fresh subprocess)"
    )
    res = _full_scale_child(cfg, seed, None)
    one = _full_scale_child(cfg, seed, 1)
    if one["impact"] != res["impact"]:
        raise RuntimeError("full scale on threads and on one thread differ")
    peak_gib = res["peak_kib"] / 2**20  # ru_maxrss is in KiB on Linux
    row("agents / ties", f"{res['agents']:,} / {res['ties']:,}")
    row("load scenario", fmt_s(res["load_s"]))
    row("build model", fmt_s(res["build_s"]))
    threads = f"on {res['threads']} threads" if res["threads"] else "on one thread"
    row(f"run {cfg.full_months} months", fmt_s(res["run_s"]), threads)
    row(
        "total wall time (build + run)",
        fmt_s(res["total_s"]),
        f"CPU {res['total_cpu_s']:.2f} s; target < {TARGET_FULL_S:g} s",
    )
    row(
        "  the same on one thread",
        fmt_s(one["total_s"]),
        f"run {one['run_s']:.2f} s; {one['total_s'] / res['total_s']:.2f}x the time",
    )
    row(
        "peak RSS (VmHWM; ru_maxrss if no /proc)",
        f"{peak_gib:8.3f} GiB",
        f"after imports {res['base_kib'] / 2**20:.3f} GiB; target < {TARGET_FULL_GIB:g} GiB",
    )
    return {**res, "peak_gib": peak_gib, "one_thread_s": one["total_s"]}


def bench_scenarios(cfg: Config, seed: int) -> dict[str, float]:
    """5. One default-size run of each bundled scenario, as the Mesa model runs it, and
    the same run as the initiative alone (how sweeps and the command line run it), the two
    alternating: the paired difference is what Mesa's stepping (its event list, step count
    and DataCollector) adds."""
    from cimsim.initiative import Initiative

    print(f"\n[5] bundled scenarios at default size, {cfg.scenario_months} months (build + run)")
    out = {}
    for name in cimsim.bundled_scenarios():
        scenario = cimsim.load_scenario(name)

        def run(scenario=scenario) -> None:
            model = cimsim.CollectiveImpactModel(scenario, rng=seed)
            model.run_for(cfg.scenario_months)

        def run_alone(scenario=scenario) -> None:
            Initiative(scenario, rng=seed).run(cfg.scenario_months)

        walls, cpus, alone = [], [], []
        for r in range(cfg.scenario_repeats):
            for mesa in (True, False) if r % 2 else (False, True):
                cpu0 = time.process_time()
                wall = timed(run if mesa else run_alone)[0]
                if mesa:
                    walls.append(wall)
                    cpus.append(time.process_time() - cpu0)
                else:
                    alone.append(wall)
        seconds, cpu = statistics.median(walls), statistics.median(cpus)
        mesa_share = statistics.median(m - a for m, a in zip(walls, alone, strict=True))
        n = sum(getattr(scenario.population, s) for s in ("citizens", *MALMO_ORGS))
        row(
            f"{name} ({n:,} stakeholders)",
            fmt_s(seconds),
            f"wall; CPU {cpu * 1e3:.1f} ms; median of {cfg.scenario_repeats}",
        )
        row(
            "  the initiative alone",
            fmt_s(statistics.median(alone)),
            f"Mesa's stepping adds {mesa_share * 1e3:+.1f} ms (median paired difference)",
        )
        out[name] = seconds
        out[f"{name}_cpu"] = cpu
        out[f"{name}_initiative"] = statistics.median(alone)
    return out


def bench_command_line(cfg: Config) -> dict[str, float]:
    """6. ``cimsim --help`` and ``cimsim run malmo --json`` as whole processes (median)."""
    print("\n[6] the command line as whole processes (start-up, imports, run, output)")
    commands = {
        "help": [sys.executable, "-m", "cimsim", "--help"],
        "run_json": [sys.executable, "-m", "cimsim", "run", "malmo", "--json"],
    }
    if cfg is QUICK:
        commands["run_json"] += ["--steps", "12"]
    out = {}
    for key, cmd in commands.items():
        walls = []
        for _ in range(max(cfg.repeats, 3)):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            walls.append(time.perf_counter() - t0)
        out[key] = statistics.median(walls)
        row(" ".join(["cimsim", *cmd[3:]]), fmt_s(out[key]), f"median of {len(walls)}")
    return out


# --------------------------------------------------------------------------- main


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, help="interleaved repeats (median is reported)")
    parser.add_argument("--steps", type=int, help="steps per timed repeat")
    parser.add_argument("--skip-full-scale", action="store_true", help="skip part 4")
    parser.add_argument("--skip-virus", action="store_true", help="skip VirusOnNetwork in part 2")
    parser.add_argument("--json", metavar="PATH", help="also write all figures to this file")
    args = parser.parse_args(argv)

    cfg = QUICK if args.quick else FULL
    overrides = {k: v for k, v in (("repeats", args.repeats), ("steps", args.steps)) if v}
    if overrides:
        cfg = Config(**{**cfg.__dict__, **overrides})
    import mesa
    import numpy

    print(
        f"cimsim {cimsim.__version__}, mesa {mesa.__version__}, numpy {numpy.__version__}, "
        f"python {sys.version.split()[0]}{' (quick)' if args.quick else ''}"
    )

    print(load_note())
    results: dict[str, dict] = {}
    results["boltzmann"] = bench_vs_boltzmann(cfg, args.seed)
    results["build"] = bench_build(cfg, args.seed, with_virus=not args.skip_virus)
    results["scaling"] = bench_scaling(cfg, args.seed)
    if not args.skip_full_scale:
        results["full_scale"] = bench_full_scale(cfg, args.seed)
    results["scenarios"] = bench_scenarios(cfg, args.seed)
    results["command_line"] = bench_command_line(cfg)

    print("\nSummary" + (" (quick sizes: not the issue's targets' sizes)" if args.quick else ""))
    b, bl, sc = results["boltzmann"], results["build"], results["scaling"]
    lines = [
        (
            f"1. per agent-step vs Boltzmann at {cfg.small:,}",
            f"{b['ratio']:.1f}x lower",
            f"CPU {b['cpu_ratio']:.1f}x",
            f">= {TARGET_RATIO:g}x",
            b["ratio"] >= TARGET_RATIO,
        ),
        (
            f"2. build {cfg.small:,}-agent model",
            fmt_s(bl["build_s"]).strip(),
            "",
            f"< {TARGET_BUILD_S:g} s",
            bl["build_s"] < TARGET_BUILD_S,
        ),
        (
            f"3. per agent-step {cfg.large:,} / {cfg.small:,}",
            f"{sc['ratio']:.2f}x",
            f"CPU {sc['cpu_ratio']:.2f}x",
            f"<= {TARGET_SCALING:g}x",
            sc["ratio"] <= TARGET_SCALING,
        ),
    ]
    if "full_scale" in results:
        fs = results["full_scale"]
        lines += [
            (
                f"4a. {cfg.full_scale_label} wall time",
                fmt_s(fs["total_s"]).strip(),
                f"CPU {fs['total_cpu_s']:.1f} s",
                f"< {TARGET_FULL_S:g} s",
                fs["total_s"] < TARGET_FULL_S,
            ),
            (
                f"4b. {cfg.full_scale_label} peak memory",
                f"{fs['peak_gib']:.2f} GiB",
                "",
                f"< {TARGET_FULL_GIB:g} GiB",
                fs["peak_gib"] < TARGET_FULL_GIB,
            ),
        ]
    scen = results["scenarios"]
    slowest = max((k for k in scen if not k.endswith(("_cpu", "_initiative"))), key=scen.get)
    worst = scen[slowest]
    lines.append(
        (
            f"5. slowest bundled scenario run ({slowest})",
            fmt_s(worst).strip(),
            f"CPU {scen[slowest + '_cpu'] * 1e3:.0f} ms",
            f"< {TARGET_SCENARIO_S:g} s",
            worst < TARGET_SCENARIO_S,
        )
    )
    cl = results["command_line"]
    lines += [
        ("6a. cimsim --help", fmt_s(cl["help"]).strip(), "", f"< {TARGET_HELP_S:g} s",
         cl["help"] < TARGET_HELP_S),
        ("6b. cimsim run malmo --json", fmt_s(cl["run_json"]).strip(), "",
         f"< {TARGET_RUN_JSON_S:g} s", cl["run_json"] < TARGET_RUN_JSON_S),
    ]  # fmt: skip
    for label, value, cpu, target, ok in lines:
        print(f"  {verdict(ok)}  {label:<44} {value:>12}  {cpu:>13}  (target {target})")
    print(f"  (figures are wall time; {load_note() or 'load average unknown'})")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
