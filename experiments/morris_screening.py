"""Experiment 4 — Morris screening of every numeric parameter of one case.

All bounded [0, 1] parameters from :func:`cimsim.scenario.numeric_parameters` vary in a
Morris design (SALib, 4 levels); mu* ranks their influence on final impact, sigma shows
non-linearity or interactions, and the noise share tells how much is replicate noise.

    cimsim experiment morris-screening [--quick] [--out DIR]
    python experiments/morris_screening.py [--quick] [--out DIR]
"""

from __future__ import annotations

from typing import Any

from cimsim.experiment import ExperimentContext, experiment_main
from cimsim.scenario import numeric_parameters

NAME = "morris-screening"
DESCRIPTION = "Morris mu*/sigma of impact for all numeric parameters of Malmö"
CASE = "malmo"


def run(ctx: ExperimentContext) -> dict[str, Any]:
    """Run the Morris screening; write indices.csv, figures and report.md."""
    from cimsim.files import write_text
    from cimsim.sensitivity import run_sensitivity

    params = numeric_parameters()
    if ctx.quick:
        n, reps, steps, size = 3, 2, 24, {"population.citizens": 300}
    else:
        n, reps, steps, size = 24, 3, None, {}
    comp = run_sensitivity(
        [CASE],
        params,
        method="morris",
        n=n,
        replicates=reps,
        outcome="impact",
        seed=ctx.seed,
        steps=steps,
        overrides=size,
        out=ctx.out,
        echo=ctx.echo,
        **ctx.sensitivity_options(),
    )
    res = comp.results[CASE]
    mu = res.index("mu_star").sort_values(ascending=False)
    sigma = res.index("sigma")
    negligible = [p for p in mu.index if mu[p] < 0.05 * mu.iloc[0]]
    lines = ["", "## Findings", ""]
    lines.append(
        f"- {n} trajectories x {len(params) + 1} points x {reps} replicates on {CASE}; "
        f"noise share {res.noise_share:.2f}."
    )
    lines.append(
        "- Top five by mu*: "
        + ", ".join(f"{p} ({mu[p]:.3f}, sigma {sigma[p]:.3f})" for p in mu.index[:5])
        + "."
    )
    lines.append(
        "- Negligible (mu* below 5% of the largest): " + (", ".join(negligible) or "none") + "."
    )
    lines += [f"- WARNING: {w}" for w in comp.warnings]
    report = (ctx.out / "report.md").read_text(encoding="utf-8")
    write_text(ctx.out / "report.md", report.rstrip() + "\n" + "\n".join(lines) + "\n")
    return {"table": comp.table, "ranking": list(mu.index), "negligible": negligible}


if __name__ == "__main__":
    raise SystemExit(experiment_main(run, NAME))
