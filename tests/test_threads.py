"""Threads within a run (docs/architecture.md, "Threads within a run"): a large run's widest
passes share their elements among numba's threads, and give the serial passes' results bit
for bit, in any number of stretches; who may take threads (``kernels.use_threads``)."""

from __future__ import annotations

import hashlib
import threading

import numba
import numpy as np
import pytest
from helpers import small_model, threads_allowed_here

from cimsim import initiative, kernels
from cimsim.kernels import flatnonzero, flatnonzero_threads, use_threads
from cimsim.mechanisms import agenda, communication, recruitment, trust
from cimsim.population import ENGAGED
from cimsim.runs import open_executor

STRETCHES = (1, 2, 3, 7)
"""Stretch counts tried: one, the cores here, and counts that leave uneven stretches."""


def _ties(seed: int, n: int = 3_000, m: int = 25_000):
    """A random tie table in tie order (``u < v``, sorted) with its per-end counts."""
    rng = np.random.default_rng(seed)
    ends = np.sort(rng.integers(0, n, (2, m)), axis=0)
    ends = ends[:, ends[0] < ends[1]]
    order = np.lexsort((ends[1], ends[0]))
    u, v = ends[0][order].astype(np.int32), ends[1][order].astype(np.int32)
    counts_u = (rng.random(u.size) < 0.8).astype(np.int8)
    counts_v = (rng.random(u.size) < 0.8).astype(np.int8)
    return rng, n, u, v, counts_u, counts_v


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit (NaN included) and of the same type."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("seed", [0, 1])
def test_each_threaded_pass_gives_the_serial_result_in_any_stretches(seed: int) -> None:
    rng, n, u, v, counts_u, counts_v = _ties(seed)
    engagement = rng.integers(0, 3, n).astype(np.int8)
    for size in (0, 1, 5, 1000, 40_001):
        mask = rng.random(size) < rng.random()
        for parts in STRETCHES:
            assert _same(flatnonzero_threads(mask, parts), flatnonzero(mask)), (size, parts)
    # contacts: the same ties picked
    activity, constants = np.array([0.15, 0.5, 1.0]), (0.4, 0.6, 0.46, 0.1, 0.05, 0.2, 0.3)
    serial = None
    for threads in (0, *STRETCHES):
        got = []
        for run in range(2):
            active, weight = np.zeros(u.size, np.bool_), np.zeros(u.size)
            exposure = np.zeros(n)
            generator = np.random.default_rng(seed + run)
            reached, visited = communication.contact(
                generator, u, v, engagement, engagement, activity, constants,
                active, weight, exposure, threads,
            )  # fmt: skip
            got += [active, weight, exposure, reached, visited, generator.random(3)]
        if serial is None:
            serial = got
            assert 0 < serial[0].sum() < u.size
        assert all(_same(a, b) for a, b in zip(serial, got, strict=True)), threads
    # who joins, then who leaves (the leavers in row order: their capacity summed as before)
    from cimsim.population import TieIndex

    no_index = TieIndex(np.zeros(n + 1, np.int64), u[:0], np.zeros(n + 1, np.int64), v[:0])
    tie_trust = np.linspace(0.1, 0.9, u.size)
    sector = np.where(rng.random(n) < 0.1, 0, 1).astype(np.int8)  # organisations, citizens
    influence, fatigue, threshold = rng.random(n), rng.random(n), rng.random(n) * 0.2
    champion, intern, willing = rng.random(n) < 0.1, rng.random(n) < 0.1, rng.random(n) < 0.8
    exposure, attended, capacity = rng.random(n), rng.random(n) < 0.2, rng.random(n)
    exposure_constants, join_constants = (3.0, 0.1, 0.2, 0.5, 1.0, 0.0), (0.1, 0.6, 0.4, 0.2, 0.3)
    serial = None
    for threads in (0, *STRETCHES):
        state = [engagement.copy(), np.full(n, 0.5), np.zeros(n, np.bool_)]
        state[2][::7] = True  # burnt out before
        after = tie_trust.copy()
        generator = np.random.default_rng(seed)
        recruitment.join(
            generator, u, v, counts_u, counts_v, after, sector, influence, state[0], champion,
            exposure, attended, willing, threshold, state[2], state[1], exposure_constants,
            join_constants, no_index, threads,
        )  # fmt: skip
        joined = state[0].copy()
        left = recruitment.leave(
            generator, state[0], champion, intern, sector, fatigue, state[1], capacity,
            state[2], u, v, after, 0.7, (0.1, 0.05, 0.5, 0.8), no_index, threads,
        )  # fmt: skip
        got = [joined, *state, after, np.float64(left), generator.random(3)]
        if serial is None:
            serial = got
            assert (joined > engagement).any() and (state[0] < joined).any() and left > 0
        assert all(_same(a, b) for a, b in zip(serial, got, strict=True)), threads
    # agenda exchange and trust on the contacted ties (sums in tie order)
    active = rng.random(u.size) < 0.3
    tie_trust, weight = rng.random(u.size), rng.choice([0.46, 1.0], u.size)
    mediated = rng.random(u.size) < 0.2
    position, influence = rng.random(n), rng.random(n)
    results = []
    for threads in (0, 2, 3):
        moved, after = position.copy(), tie_trust.copy()
        idx, agreed = agenda.exchange(
            active, u, v, tie_trust, weight, mediated, counts_u, counts_v, moved,
            (0.3, 0.2, 0.1, 0.4), threads,
        )  # fmt: skip
        trust.update(
            idx, agreed, u, v, after, weight, mediated, influence, (0.5, 0.1, 0.2, 0.6), threads
        )
        results.append([idx, agreed, moved, after])
    assert 0 < results[0][1].sum() < results[0][1].size
    assert not np.array_equal(results[0][2], position)
    for got in results[1:]:
        assert all(_same(a, b) for a, b in zip(results[0], got, strict=True))
    # contacts with the engaged, counted per stakeholder
    idx = np.flatnonzero(active)
    serial = recruitment._engaged_contacts(idx, u, v, counts_u, counts_v, engagement)
    assert serial.sum() > 0
    for parts in STRETCHES:
        got = recruitment._engaged_contacts_threads(
            idx, u, v, counts_u, counts_v, engagement, parts
        )
        assert _same(got, serial), parts


@pytest.mark.parametrize("seed", [0, 1])
def test_draws_on_threads_are_numpys_draws_and_leave_its_state(seed: int) -> None:
    """Each stretch starts from the state its first draw follows (PCG64 moved on at once),
    and the generator ends where ``random(n)`` leaves it; another bit generator draws
    serially, as numpy does."""
    for n in (0, 1, 2, 3, 99_999, 100_000, 100_001, 1_234_567):
        for parts in (0, *STRETCHES):
            ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
            ours.random(5 + n % 3)  # start anywhere
            numpys.random(5 + n % 3)
            assert _same(kernels.uniforms_on(ours, n, parts), numpys.random(n)), (n, parts)
            assert ours.bit_generator.state == numpys.bit_generator.state, (n, parts)
    ours, numpys = (np.random.Generator(np.random.Philox(seed)) for _ in range(2))
    assert _same(kernels.uniforms_on(ours, 250_000, 2), numpys.random(250_000))
    assert _same(ours.random(3), numpys.random(3))


def _fingerprint(model) -> str:
    """SHA-256 of every month's reporters, the area history, the state and the next draws."""
    state = model.initiative
    digest = hashlib.sha256()
    for row in state.history:
        digest.update(np.array([row[k] for k in sorted(row)], np.float64).tobytes())
    digest.update(np.asarray(state.area_history).tobytes())
    for column in (state.pop.engagement, state.pop.position, state.pop.commitment,
                   state.ties.u, state.ties.v, state.ties.trust):  # fmt: skip
        digest.update(column.tobytes())
    digest.update(state.rng.random(4).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("name", "seed", "overrides"),
    [("mechelen", 3, {}), ("skive", 4, {}), ("malmo", 5, {"backbone__enabled": False})],
)
def test_a_run_on_threads_is_the_serial_run_bit_for_bit(
    name: str, seed: int, overrides: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every month on threads (three stretches, at whatever thread count numba has here)
    against every month serially: the same run, bit for bit."""
    serial = small_model(name, seed=seed, **overrides)
    serial.run_for(60)
    asked = []

    def three(n_ties: int) -> int:
        asked.append(n_ties)
        return 3

    monkeypatch.setattr(initiative, "use_threads", three)
    threaded = small_model(name, seed=seed, **overrides)
    threaded.run_for(60)
    assert len(asked) == 3 * 60  # the month's three compiled calls, every month
    assert serial.initiative.history[-1]["participation"] > 0
    assert _fingerprint(threaded) == _fingerprint(serial)


def test_only_large_runs_in_the_main_thread_of_a_process_that_may_take_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big = kernels.THREADS_FROM_TIES
    assert use_threads(big - 1) == 0
    expected = numba.get_num_threads() if numba.get_num_threads() > 1 else 0
    assert use_threads(big) == expected
    seen = []
    worker = threading.Thread(target=lambda: seen.append(use_threads(big)))
    worker.start()
    worker.join()
    assert seen == [0]  # Dask's and the app's worker threads run serially
    monkeypatch.setattr(kernels, "_threads_allowed", True)
    kernels.single_threaded()
    assert use_threads(big) == 0


def test_the_workers_of_a_process_pool_keep_to_one_thread() -> None:
    for workers, allowed in ((2, False), (1, True)):  # a lone worker may use the cores
        handle = open_executor("processes", workers=workers)
        try:
            assert handle.executor.submit(threads_allowed_here).result(timeout=120) is allowed
        finally:
            handle.close()


def test_a_month_on_threads_counts_engaged_contacts_of_the_engaged_only() -> None:
    """Sanity of the fixture above: contacts with the engaged count only engaged ends."""
    rng, n, u, v, counts_u, counts_v = _ties(5, n=50, m=200)
    engagement = np.zeros(n, np.int8)
    idx = np.arange(u.size)
    assert (
        recruitment._engaged_contacts_threads(idx, u, v, counts_u, counts_v, engagement, 2).sum()
        == 0
    )
    engagement[:] = ENGAGED
    got = recruitment._engaged_contacts_threads(idx, u, v, counts_u, counts_v, engagement, 2)
    assert got.sum() == counts_u.sum() + counts_v.sum()
