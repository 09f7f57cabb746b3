"""The pattern suite: the model brief's six patterns and the credibility checks, as data.

A :class:`Pattern` names the runs it needs (conditions of one bundled case: dotted-path
overrides and a number of months) and a check, a function of those runs that returns an
:class:`Outcome`: a score (positive where the pattern holds, larger where it holds more
clearly) and whether it holds. Comparisons are paired by replicate (every condition runs
the same seeds) and use one-sided tests at ``alpha``.

The pytest pattern and credibility tests, ``cimsim calibrate`` and the robustness
experiment all call these checks; ``docs/ODD.md`` §8 gives each pattern's source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CASES = ("malmo", "mechelen", "skive")
"""The bundled cases the suite covers."""


@dataclass(frozen=True)
class Condition:
    """One set of runs a pattern needs: a case with dotted-path overrides, run ``months``."""

    case: str
    name: str
    overrides: tuple[tuple[str, Any], ...] = ()
    months: int = 120

    @property
    def key(self) -> str:
        """``case/name``: conditions with the same key are the same runs."""
        return f"{self.case}/{self.name}"

    def point(self) -> dict[str, Any]:
        """The overrides as a design point (with the number of months)."""
        return {**dict(self.overrides), "months": self.months}


class RunSet:
    """The monthly reporters of one condition: one row per replicate (in replicate order),
    one column per month (month 0 is the initial state)."""

    def __init__(self, columns: Mapping[str, np.ndarray]) -> None:
        self.columns = {name: np.asarray(value, float) for name, value in columns.items()}

    @classmethod
    def from_tables(cls, tables: Iterable[Any]) -> RunSet:
        """From one per-month DataFrame per replicate (``Initiative.results()``)."""
        tables = list(tables)
        return cls({c: np.array([t[c].to_numpy() for t in tables]) for c in tables[0].columns})

    @classmethod
    def from_series(cls, series: Any, reporters: Iterable[str]) -> RunSet:
        """From the run engine's tidy series of one design point (``replicate``, ``month``
        and a column per reporter)."""
        wide = series.sort_values(["replicate", "month"])
        n = wide["replicate"].nunique()
        return cls({r: wide[r].to_numpy().reshape(n, -1) for r in reporters})

    def path(self, column: str) -> np.ndarray:
        """Replicates x months of one reporter."""
        return self.columns[column]

    def final(self, column: str, month: int = -1) -> np.ndarray:
        """One reporter at one month (default: the last) across replicates."""
        return self.columns[column][:, month]

    def __len__(self) -> int:
        return next(iter(self.columns.values())).shape[0]


Runs = Mapping[str, RunSet]
"""Run sets by condition name (the pattern's own names)."""


@dataclass(frozen=True)
class Outcome:
    """What a check found: a score (> 0 where the pattern holds), whether it holds, and one
    line of detail in words and figures."""

    score: float
    passed: bool
    detail: str


@dataclass(frozen=True)
class Pattern:
    """A pattern the model must reproduce, the runs it needs and its check."""

    name: str
    case: str
    claim: str
    source: str
    conditions: tuple[Condition, ...]
    check: Callable[[Runs, float], Outcome] = field(repr=False)

    def evaluate(self, runs: Mapping[str, RunSet], alpha: float = 0.01) -> Outcome:
        """The check on run sets keyed by condition name or by condition key."""
        mine = {c.name: runs[c.key] if c.key in runs else runs[c.name] for c in self.conditions}
        return self.check(mine, alpha)


# --------------------------------------------------------------------------- statistics


def greater(a: np.ndarray, b: np.ndarray) -> float:
    """p-value of the one-sided paired t-test that ``a > b`` (1 where they are equal)."""
    from scipy import stats

    diff = np.asarray(a, float) - np.asarray(b, float)
    if np.all(diff == diff[0]):  # no spread: the test is undefined; decide by the sign
        return 0.0 if diff[0] > 0 else 1.0
    return float(stats.ttest_rel(a, b, alternative="greater").pvalue)


def effect(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised paired difference ``mean(a - b) / sd(a - b)`` (the score of a
    comparison; +-inf where the difference has no spread)."""
    diff = np.asarray(a, float) - np.asarray(b, float)
    sd = diff.std(ddof=1) if diff.size > 1 else 0.0
    if sd == 0:
        return float(np.sign(diff.mean()) * np.inf) if diff.mean() else 0.0
    return float(diff.mean() / sd)


def _all_greater(high: RunSet, low: RunSet, columns: tuple[str, ...], alpha: float, month=-1):
    """Outcome of 'each column is higher in ``high`` than in ``low``' (paired)."""
    ps = {c: greater(high.final(c, month), low.final(c, month)) for c in columns}
    score = min(effect(high.final(c, month), low.final(c, month)) for c in columns)
    detail = ", ".join(f"{c} p={p:.3g}" for c, p in ps.items())
    return Outcome(score, all(p < alpha for p in ps.values()), detail)


# --------------------------------------------------------------------------- checks


def check_backbone(runs: Runs, alpha: float) -> Outcome:
    """Pattern 1: without a backbone, impact is lower, the agenda disperses (a lower common
    agenda) and duplication rises."""
    base, none = runs["base"], runs["no_backbone"]
    p = {
        "impact": greater(base.final("impact"), none.final("impact")),
        "common_agenda": greater(base.final("common_agenda"), none.final("common_agenda")),
        "duplication": greater(none.final("duplication"), base.final("duplication")),
    }
    diff = float((base.final("impact") - none.final("impact")).mean())
    detail = f"impact {diff:+.3f}; " + ", ".join(f"{k} p={v:.3g}" for k, v in p.items())
    return Outcome(
        effect(base.final("impact"), none.final("impact")),
        all(v < alpha for v in p.values()),
        detail,
    )


CHAMPION_STRENGTHS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""Champion strengths of the tipping-point pattern (no backbone)."""


def check_tipping(runs: Runs, alpha: float) -> Outcome:
    """Pattern 2: weak champions never reach critical mass; strong ones do, and the rise
    between them is a jump, not a line (most of it between two neighbouring strengths)."""
    from scipy import stats

    part = np.array([runs[f"champions_{s:.1f}"].final("participation") for s in CHAMPION_STRENGTHS])
    mean = part.mean(axis=1)
    rise = mean[-1] - mean[0]
    steps = np.diff(mean)
    jump = int(np.argmax(steps))
    steepness = float(steps[jump] / rise) if rise > 0 else 0.0
    p_jump = float(stats.mannwhitneyu(part[jump + 1], part[jump], alternative="greater").pvalue)
    ok = mean[0] < 0.15 and mean[-1] > 0.6 and steepness >= 0.4 and p_jump < alpha
    detail = (
        f"participation {mean[0]:.2f} (weak) -> {mean[-1]:.2f} (strong); "
        f"{steepness:.0%} of the rise between {CHAMPION_STRENGTHS[jump]:.1f} and "
        f"{CHAMPION_STRENGTHS[jump + 1]:.1f} (p={p_jump:.3g})"
    )
    return Outcome(min(steepness - 0.4, 0.15 - mean[0], mean[-1] - 0.6), bool(ok), detail)


SHOCK_MONTH = 48
"""Month of the trust shock of pattern 3."""


def check_trust(runs: Runs, alpha: float) -> Outcome:
    """Pattern 3: trust between engaged partners rises slowly and collapses fast: one month
    of loss is more than five months of gains, and rebuilding takes at least six months."""
    path = runs["trust_shock"].path("partner_trust")[:, 1:]  # [:, m - 1]: after month m
    s = SHOCK_MONTH
    before = path[:, s - 2]
    rises = (path[:, s - 2] - path[:, 0]) / (s - 2)
    falls = before - path[:, s - 1]
    recoveries = []
    for row, level in zip(path, before, strict=True):
        back = np.flatnonzero(row[s - 1 :] >= level)
        recoveries.append(back[0] if back.size else path.shape[1] - s)
    p = greater(falls, 5 * rises)
    ok = bool((rises > 0).all() and p < alpha and np.median(recoveries) >= 6)
    ratio = float(np.median(falls / np.maximum(rises, 1e-12)))
    detail = (
        f"a month of loss = {ratio:.0f} months of gains (p={p:.3g}); "
        f"median recovery {np.median(recoveries):.0f} months"
    )
    return Outcome(effect(falls, 5 * rises), ok, detail)


def check_communication(runs: Runs, alpha: float) -> Outcome:
    """Pattern 4: more communication, more trust, participation and contact."""
    return _all_greater(
        runs["communication_0.6"],
        runs["communication_0.2"],
        ("trust", "participation", "communication"),
        alpha,
    )


def check_face_to_face(runs: Runs, alpha: float) -> Outcome:
    """Pattern 4: face-to-face contact builds more trust and commitment than written."""
    return _all_greater(
        runs["face_to_face_0.9"], runs["face_to_face_0.1"], ("trust", "commitment"), alpha
    )


def check_measurement(runs: Runs, alpha: float) -> Outcome:
    """Pattern 5: without shared measurement early energy fades; adding it later sustains
    commitment, raises impact and lowers fatigue."""
    without, later = runs["base"], runs["measurement_later"]

    def window(rs: RunSet, column: str, lo: int, hi: int | None = None) -> np.ndarray:
        return rs.path(column)[:, lo:hi].mean(axis=1)

    early_peak = without.path("commitment")[:, 1:25].max(axis=1)
    p = {
        "energy fades": greater(early_peak, window(without, "commitment", 96)),
        "commitment sustained": greater(
            window(later, "commitment", 96), window(without, "commitment", 96)
        ),
        "impact": greater(later.final("impact"), without.final("impact")),
        "fatigue": greater(window(without, "fatigue", 96), window(later, "fatigue", 96)),
    }
    score = effect(window(later, "commitment", 96), window(without, "commitment", 96))
    detail = ", ".join(f"{k} p={v:.3g}" for k, v in p.items())
    return Outcome(score, all(v < alpha for v in p.values()), detail)


def check_ansell_gash(runs: Runs, alpha: float) -> Outcome:
    """Pattern 6: each link of the Ansell & Gash cycle: dialogue -> trust (month 36),
    trust -> commitment (24) and common agenda (36), shared understanding -> common agenda
    (36) and small wins, as impact (60)."""
    month = 36
    links = [
        ("dialogue -> trust", runs["communication_0.6"], runs["communication_0.2"], "trust", month),
        ("trust -> commitment", runs["trust_0.7"], runs["trust_0.2"], "commitment", 24),
        ("trust -> agenda", runs["trust_0.7"], runs["trust_0.2"], "common_agenda", month),
        ("bound -> agenda", runs["confidence_0.4"], runs["confidence_0.1"], "common_agenda", month),
        ("agenda -> impact", runs["confidence_0.4"], runs["confidence_0.1"], "impact", 60),
    ]
    ps = {name: greater(a.final(c, m), b.final(c, m)) for name, a, b, c, m in links}
    score = min(effect(a.final(c, m), b.final(c, m)) for _, a, b, c, m in links)
    detail = ", ".join(f"{k} p={v:.3g}" for k, v in ps.items())
    return Outcome(score, all(p < alpha for p in ps.values()), detail)


def check_wins(runs: Runs, alpha: float) -> Outcome:
    """Pattern 6, last link: making wins visible (shared measurement) raises the visible
    wins and, over the second half, the trust between partners (a small effect: the check
    asks for its sign, and reports its test)."""
    shown, hidden = runs["measurement_on"], runs["base"]
    p_wins = greater(shown.final("visible_wins"), hidden.final("visible_wins"))
    t_shown = shown.path("partner_trust")[:, 60:].mean(axis=1)
    t_hidden = hidden.path("partner_trust")[:, 60:].mean(axis=1)
    gain = float((t_shown - t_hidden).mean())
    p_trust = greater(t_shown, t_hidden)
    detail = f"visible wins p={p_wins:.3g}; partner trust {gain:+.4f} (p={p_trust:.3g})"
    return Outcome(effect(t_shown, t_hidden), p_wins < alpha and gain > 0, detail)


RESOLUTION_GAP = 0.03
"""Largest gap in mean impact or participation allowed between two resolutions."""


def check_resolution(runs: Runs, alpha: float) -> Outcome:
    """Credibility: the same city at a finer agent resolution gives the same answer (mean
    impact and participation, overall and of residents, within ``RESOLUTION_GAP``)."""
    coarse, fine = runs["base"], runs["finer"]
    gaps = {
        c: abs(float(fine.final(c).mean() - coarse.final(c).mean()))
        for c in ("impact", "participation_citizens", "participation")
    }
    worst = max(gaps.values())
    detail = ", ".join(f"{c} gap {g:.3f}" for c, g in gaps.items())
    return Outcome(RESOLUTION_GAP - worst, worst < RESOLUTION_GAP, detail)


def check_zero_capacity(runs: Runs, alpha: float) -> Outcome:
    """Credibility: a backbone with zero capacity is no backbone, run for run."""
    zero, none = runs["zero_capacity"], runs["no_backbone"]
    same = all(np.array_equal(zero.path(c), none.path(c)) for c in zero.columns)
    gap = float(np.abs(zero.final("impact") - none.final("impact")).max())
    return Outcome(-gap, same, "identical runs" if same else f"impact differs by up to {gap:.3g}")


def check_levels(runs: Runs, alpha: float) -> Outcome:
    """Credibility: realistic levels: a minority of residents takes part (3-35%),
    businesses and civil society at least twice as often, and not everyone is aware."""
    base = runs["base"]
    residents = float(base.final("participation_citizens").mean())
    others = {
        s: float(base.final(f"participation_{s}").mean()) for s in ("businesses", "civil_society")
    }
    aware = float(base.final("aware").mean())
    ok = (
        0.03 < residents < 0.35 and all(v > 2 * residents for v in others.values()) and aware < 0.99
    )
    score = min(residents - 0.03, 0.35 - residents, *(v - 2 * residents for v in others.values()))
    detail = (
        f"residents {residents:.1%}, businesses {others['businesses']:.1%}, "
        f"civil society {others['civil_society']:.1%}, aware {aware:.1%}"
    )
    return Outcome(score, bool(ok), detail)


def check_skive_groups(runs: Runs, alpha: float) -> Outcome:
    """Credibility: Skive's village coordination groups mobilise residents (more than two
    points of participation) and raise impact."""
    from scipy import stats

    groups, none = runs["base"], runs["no_backbone"]
    diff = groups.final("participation_citizens") - none.final("participation_citizens")
    p_part = float(stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue)
    impact = groups.final("impact") - none.final("impact")
    p_impact = greater(groups.final("impact"), none.final("impact"))
    ok = diff.mean() > 0.02 and p_part < alpha and p_impact < alpha
    detail = (
        f"resident participation {diff.mean():+.3f} (p={p_part:.3g}), "
        f"impact {impact.mean():+.3f} (p={p_impact:.3g})"
    )
    return Outcome(float(diff.mean() - 0.02), bool(ok), detail)


RESPONSE_INPUTS = (
    "settings.initial_trust",
    "preconditions.resources",
    "settings.communication",
    "preconditions.champion_strength",
    "backbone.capacity",
)
"""Inputs of which more should never lower impact (no mechanism says it would)."""

RESPONSE_LEVELS = (0.25, 1.0)
"""The low and high level of each input in the monotone-response pattern."""

RESPONSE_DROP = 0.02
"""Largest mean drop in impact allowed when an input rises."""


def check_monotone(runs: Runs, alpha: float) -> Outcome:
    """Credibility: more of a good thing does not lower impact (trust, resources,
    communication, champions, backbone capacity): between each level of an input and the
    next, no mean drop above ``RESPONSE_DROP`` and no significant drop. Conditions are
    named ``path=level``."""
    levels: dict[str, list[tuple[float, RunSet]]] = {}
    for name, rs in runs.items():
        path, value = name.split("=")
        levels.setdefault(path, []).append((float(value), rs))
    drops = {}
    for path, pairs in levels.items():
        pairs.sort(key=lambda pair: pair[0])
        for (lo, low), (hi, high) in zip(pairs, pairs[1:], strict=False):
            a, b = low.final("impact"), high.final("impact")
            drops[f"{path.split('.')[-1]} {lo:g}->{hi:g}"] = (float((a - b).mean()), greater(a, b))
    worst_step, (worst, _) = max(drops.items(), key=lambda kv: kv[1][0])
    ok = all(d < RESPONSE_DROP and (d <= 0.005 or p > alpha) for d, p in drops.values())
    detail = f"largest drop {worst:+.3f} ({worst_step})"
    return Outcome(RESPONSE_DROP - worst, bool(ok), detail)


# --------------------------------------------------------------------------- the suite


def _finer(case: str, factor: int, size: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    from cimsim.scenario import load_scenario

    pop = load_scenario(case, size).population
    return (
        ("population.citizens", pop.citizens * factor),
        ("population.residents_per_citizen", pop.residents_per_citizen / factor),
    )


def _skive_events(*extra: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    from cimsim.scenario import load_scenario

    events = [e.model_dump(exclude_none=True) for e in load_scenario("skive").interventions]
    return (("interventions", events + list(extra)),)


def suite(
    cases: Iterable[str] = CASES, resolution: int = 2, size: dict[str, Any] | None = None
) -> list[Pattern]:
    """The pattern suite for the given cases. ``resolution``: how many times finer the
    resolution-invariance check runs the city; ``size``: population overrides every
    condition runs with (the finer city is finer than that)."""
    cases = tuple(cases)
    size = dict(size or {})
    out: list[Pattern] = []

    def cond(case: str, name: str, *items: tuple[str, Any], months: int = 120) -> Condition:
        return Condition(case, name, tuple(items), months)

    for case in cases:
        base = cond(case, "base")
        none = cond(case, "no_backbone", ("backbone.enabled", False))
        out += [
            Pattern("resolution", case, "the same city at a finer resolution gives the same "
                    "answer", "credibility; ODD 4 (scale)",
                    (base, Condition(case, "finer", _finer(case, resolution, size))),
                    check_resolution),
            Pattern("zero_capacity", case, "a backbone with zero capacity is no backbone",
                    "credibility; ODD 7.4",
                    (cond(case, "zero_capacity", ("backbone.capacity", 0.0)), none),
                    check_zero_capacity),
            Pattern("levels", case, "a minority of residents takes part, organisations far "
                    "more", "credibility; Speak Up report (participation)", (base,),
                    check_levels),
            Pattern("monotone", case, "more of a good thing does not lower impact",
                    "credibility; ODD 8",
                    tuple(cond(case, f"{p}={v}", (p, v)) for p in RESPONSE_INPUTS
                          for v in RESPONSE_LEVELS),
                    check_monotone),
        ]  # fmt: skip
    if "malmo" in cases:
        m = "malmo"
        out.append(
            Pattern(
                "backbone",
                m,
                "without a backbone impact is lower, the agenda disperses, duplication rises",
                "brief pattern 1; ODD 8",
                (cond(m, "base"), cond(m, "no_backbone", ("backbone.enabled", False))),
                check_backbone,
            )
        )
        comm = tuple(
            cond(m, f"communication_{v}", ("settings.communication", v), months=60)
            for v in (0.2, 0.6)
        )
        out += [
            Pattern("tipping", m, "weak champions never reach critical mass: a tipping point",
                    "brief pattern 2; Granovetter 1978",
                    tuple(cond(m, f"champions_{s:.1f}", ("preconditions.champion_strength", s),
                               ("backbone.enabled", False)) for s in CHAMPION_STRENGTHS),
                    check_tipping),
            Pattern("trust", m, "trust rises slowly and collapses fast",
                    "brief pattern 3; Slovic 1993",
                    (cond(m, "trust_shock", ("interventions", [{"month": SHOCK_MONTH,
                          "kind": "trust_shock", "severity": 0.5}]), months=SHOCK_MONTH + 24),),
                    check_trust),
            Pattern("communication", m, "more communication, more cooperation",
                    "brief pattern 4", comm, check_communication),
            Pattern("face_to_face", m, "face to face does more than written contact",
                    "brief pattern 4; Balliet 2010",
                    tuple(cond(m, f"face_to_face_{v}", ("settings.face_to_face", v), months=60)
                          for v in (0.1, 0.9)),
                    check_face_to_face),
            Pattern("ansell_gash", m, "each link of the collaboration cycle holds",
                    "brief pattern 6; Ansell & Gash 2008",
                    comm
                    + tuple(cond(m, f"trust_{v}", ("settings.initial_trust", v), months=60)
                            for v in (0.2, 0.7))
                    + tuple(cond(m, f"confidence_{v}", ("settings.confidence", v), months=60)
                            for v in (0.1, 0.4)),
                    check_ansell_gash),
        ]  # fmt: skip
    if "skive" in cases:
        s = "skive"
        base = cond(s, "base")
        out += [
            Pattern("measurement", s, "without measurement energy fades; adding it later "
                    "sustains it", "brief pattern 5",
                    (base, Condition(s, "measurement_later",
                                     _skive_events({"month": 24, "kind": "launch_measurement"}))),
                    check_measurement),
            Pattern("wins", s, "visible small wins build trust between partners",
                    "brief pattern 6 (last link)",
                    (base, cond(s, "measurement_on", ("measurement.enabled", True))),
                    check_wins),
            Pattern("village_groups", s, "village coordination groups mobilise residents",
                    "credibility; Speak Up report (Skive)",
                    (base, cond(s, "no_backbone", ("backbone.enabled", False))),
                    check_skive_groups),
        ]  # fmt: skip
    return out


def conditions(patterns: Iterable[Pattern]) -> list[Condition]:
    """Every distinct condition the patterns need, in first-use order."""
    seen: dict[str, Condition] = {}
    for pattern in patterns:
        for c in pattern.conditions:
            seen.setdefault(c.key, c)
    return list(seen.values())
