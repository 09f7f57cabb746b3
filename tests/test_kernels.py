"""The compiled kernels give numpy's numbers: exact sums, numpy's random streams, and
fused passes (village groups convening and brokering together) equal to one unit after
another (docs/architecture.md, "The compiled kernels")."""

from __future__ import annotations

import copy
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import small_model
from numba import njit

from cimsim.kernels import (
    KERNEL_FILES,
    NUMPY,
    PCG64_INLINE,
    KernelCacheLocator,
    flatnonzero,
    generator_at,
    generator_handle,
    kernel_sources_stamp,
    masked_mean,
    masked_sum,
    np_dot,
    np_exp,
    np_log,
    np_power,
    pairwise_sum,
    searchsorted_right,
    sort_keys,
    uniforms,
)
from cimsim.mechanisms import backbone, communication
from cimsim.mechanisms import recruitment as recruitment_mechanism
from cimsim.mechanisms import trust as trust_mechanism
from cimsim.population import ENGAGED, _rows_of_both

SIZES = [*range(0, 140), 255, 256, 257, 1000, 8191, 8192, 8193, 20_001, 360_000]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_sum_is_numpys_sum_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in SIZES:
        # values over six orders of magnitude: any other order of addition rounds differently
        a = rng.random(n) * 10.0 ** rng.uniform(-3, 3, n)
        mask = rng.random(n) < 0.4
        assert pairwise_sum(a) == a.sum(), n
        assert masked_sum(a, mask) == a[mask].sum(), n
        assert masked_mean(a, mask, -1.0) == (a[mask].mean() if mask.any() else -1.0), n


def test_flatnonzero_is_numpys() -> None:
    rng = np.random.default_rng(3)
    for n in [0, 1, 2, 7, 100, 16_001]:
        for share in (0.0, 0.02, 0.5, 1.0):
            mask = rng.random(n) < share
            rows = flatnonzero(mask)
            assert rows.dtype == np.intp and np.array_equal(rows, np.flatnonzero(mask)), n


def test_searchsorted_right_is_numpys() -> None:
    """Exact for cumulative weights with zero weights (repeated values), negative and
    shifted ranges, queries outside the range, on a value, NaN and infinities."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(0, 60))
        weights = rng.random(n) * (rng.random(n) < 0.7)
        a = np.cumsum(weights) + rng.choice([0.0, -2.0, 5.0])
        top = a[-1] if n else 1.0
        q = np.concatenate(
            [rng.uniform(-3, top + 3, 50), a[: min(n, 5)], [np.nan, np.inf, -np.inf]]
        )
        assert np.array_equal(searchsorted_right(a, q), np.searchsorted(a, q, side="right"))
    tiny = np.array([0.0, 0.0, 5e-324, 5e-324])  # a range too small to slice in four
    q = np.array([-1.0, 0.0, 5e-324, 1.0, np.nan])
    assert np.array_equal(searchsorted_right(tiny, q), np.searchsorted(tiny, q, side="right"))


def test_sort_keys_is_numpys_sort() -> None:
    rng = np.random.default_rng(2)
    for n in (0, 1, 2, 3, 10, 2048, 5000):
        for top in (1, 2, 2047, 2048, 10**6, 2**40, 2**62):
            keys = rng.integers(0, top, n, dtype=np.int64)
            assert np.array_equal(sort_keys(keys), np.sort(keys)), (n, top)


def test_rows_of_two_nested_masks_are_numpys() -> None:
    """The engaged ties' and the partners' ties' indices, found in one pass."""
    rng = np.random.default_rng(4)
    for n in [0, 1, 2, 7, 100, 16_001]:
        for share in (0.0, 0.02, 0.5, 1.0):
            first = rng.random(n) < share
            second = first & (rng.random(n) < 0.5)
            for threads in (0, 1, 2, 3, 7):  # serially, and in that many stretches
                rows, inner = _rows_of_both(first, second, threads)
                assert np.array_equal(rows, np.flatnonzero(first)), (n, threads)
                assert np.array_equal(inner, np.flatnonzero(second)), (n, threads)


@pytest.mark.parametrize("seed", [0, 1])
def test_contacts_follow_the_rule_as_numpy_writes_it(seed: int) -> None:
    """The contact pass looks each tie's chance up by its ends' engagement states
    (``communication._pair_chances``); the rule as numpy writes it, ``draw < rate *
    activity[state of u] * activity[state of v]`` over the same draws, picks the same ties
    and gives the same face-to-face weights, serially and in stretches."""
    rng = np.random.default_rng(seed)
    n, m = 500, 4000
    u = rng.integers(0, n, m).astype(np.int32)
    v = rng.integers(0, n, m).astype(np.int32)
    engagement = rng.integers(0, 3, n).astype(np.int8)
    activity = np.array([0.13, 0.47, 1.0])
    for rate in (0.0, 0.37, 0.9, 1.0):
        constants = (rate, 0.6, 0.46, 0.1, 0.05, 0.2, 0.3)
        draws = np.random.default_rng(seed + 10)
        chance = draws.random(m)
        picked = np.flatnonzero(chance < rate * activity[engagement[u]] * activity[engagement[v]])
        face = draws.random(picked.size) < 0.6
        for threads in (0, 2, 3):
            active, weight, exposure = np.zeros(m, np.bool_), np.zeros(m), np.zeros(n)
            communication.contact(
                np.random.default_rng(seed + 10), u, v, engagement, engagement, activity,
                constants, active, weight, exposure, threads,
            )  # fmt: skip
            assert np.array_equal(np.flatnonzero(active), picked), (rate, threads)
            assert np.array_equal(weight[picked], np.where(face, 1.0, 0.46)), (rate, threads)
        assert (picked.size > 0) == (rate > 0)


SPECIAL = np.array(
    [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, -1e-310, 1e308, -745.2, 709.8, 1.0]
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numpys_math_called_from_kernels_is_numpys_bit_for_bit(seed: int) -> None:
    """``exp``, ``log``, ``**`` and ``@`` inside kernels call numpy's own loops and BLAS."""
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for n in [1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 1001, 20_000]:
            x = np.concatenate([rng.normal(size=n) * 10.0 ** rng.uniform(-3, 2.5, n), SPECIAL])
            assert np.array_equal(np_exp(NUMPY, x), np.exp(x), equal_nan=True), n
            assert np.array_equal(np_log(NUMPY, x), np.log(x), equal_nan=True), n
            assert np.array_equal(np_log(NUMPY, np.abs(x)), np.log(np.abs(x)), equal_nan=True)
            counts = rng.integers(0, 500, n)
            for base in (0.0, 0.3, 0.95, 1.0 - 1e-9, 1.0, rng.random()):
                assert np.array_equal(np_power(NUMPY, base, counts), base**counts), (n, base)
    for n in [*range(1, 40), 100, 1000]:  # need @ gain: a handful of areas, or more
        a, b = rng.random(n) * 10.0 ** rng.uniform(-3, 3, n), rng.normal(size=n)
        assert np_dot(NUMPY, a, b) == a @ b, n


def test_the_c_librarys_exp_would_not_be_numpys() -> None:
    """The test above can fail: a kernel's own ``np.exp`` (the C library's) differs from
    numpy's on this machine, and so would a dot product without fused multiply-adds.
    Where numpy's ``exp`` is the C library's (no SIMD version), this is skipped."""
    x = np.random.default_rng(0).normal(size=200_000) * 5.0
    own = njit(lambda a: np.exp(a))(x)
    if np.array_equal(own, np.exp(x)):
        pytest.skip("numpy's exp is the C library's here")
    assert not np.array_equal(np_exp(NUMPY, x), own)


def test_a_naive_loop_would_not_be_numpys_sum() -> None:
    """The exactness test above can fail: a plain running sum differs from numpy's."""
    a = np.random.default_rng(0).random(10_000) * 10.0 ** np.linspace(-3, 3, 10_000)
    running = 0.0
    for x in a:
        running += x
    assert running != a.sum()


@njit
def _draw_in_kernel(rng, n: int, m: int, lam: float):
    return rng.random(n), rng.permutation(m), rng.poisson(lam), rng.random()


@pytest.mark.parametrize("seed", [0, 7, 42])
def test_kernels_draw_numpys_random_stream(seed: int) -> None:
    """Kernels draw from the model's generator: the same values, in the same order, as the
    numpy calls they replace (the premise of bit-identical results)."""
    sizes = np.random.default_rng(seed + 100)
    for _ in range(20):
        n, m = int(sizes.integers(0, 3000)), int(sizes.integers(0, 3000))
        lam = float(sizes.exponential(15.0))
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        got = _draw_in_kernel(a, n, m, lam)
        want = (b.random(n), b.permutation(m), b.poisson(lam), b.random())
        assert np.array_equal(got[0], want[0])
        assert np.array_equal(got[1], want[1])
        assert got[2] == want[2] and got[3] == want[3]


@njit
def _draw_through_handle(handle, n: int, m: int, lam: float):
    rng = generator_at(handle)
    return rng.random(n), rng.permutation(m), rng.poisson(lam), rng.normal(), rng.integers(0, 9)


@pytest.mark.parametrize("seed", [0, 7, 42])
def test_a_generator_handle_draws_from_the_generator_itself(seed: int) -> None:
    """The month's kernels take the generator's addresses (no 10 µs hand-over): the same
    draws as from the generator, and the generator itself is advanced."""
    sizes = np.random.default_rng(seed + 100)
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    handle = generator_handle(a)
    for _ in range(20):
        n, m = int(sizes.integers(0, 3000)), int(sizes.integers(0, 3000))
        lam = float(sizes.exponential(15.0))
        got = _draw_through_handle(handle, n, m, lam)
        want = (b.random(n), b.permutation(m), b.poisson(lam), b.normal(), b.integers(0, 9))
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert got[2:] == want[2:]
        assert a.random() == b.random()  # a's own state moved with the kernel's draws
    assert a.bit_generator.state == b.bit_generator.state


BIT_GENERATORS = [np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64]


@njit
def _mixed_draws(rng, sizes):
    """Draws of every kind in turn: the compiled-in step must leave the state where the
    bit generator's own functions (integers, poisson) continue from it, and back."""
    out = []
    for n in sizes:
        out.append(uniforms(rng, n))
        out.append(np.array([uniforms(rng, 1)[0], rng.random(), float(rng.integers(0, 1000))]))
        out.append(np.array([float(rng.poisson(3.5)), uniforms(rng, 1)[0]]))
    return out


@njit
def _mixed_draws_through_handle(handle, sizes):
    return _mixed_draws(generator_at(handle), sizes)


def _mixed_draws_in_numpy(rng: np.random.Generator, sizes: np.ndarray) -> list[np.ndarray]:
    out = []
    for n in sizes:
        out.append(rng.random(n))
        out.append(np.array([rng.random(), rng.random(), float(rng.integers(0, 1000))]))
        out.append(np.array([float(rng.poisson(3.5)), rng.random()]))
    return out


@pytest.mark.parametrize("seed", [0, 7, 42])
@pytest.mark.parametrize("bit_generator", BIT_GENERATORS, ids=lambda c: c.__name__)
def test_uniform_draws_what_numpy_draws(seed: int, bit_generator: type) -> None:
    """``uniforms`` (PCG64's step compiled in, any other bit generator called)
    draw numpy's doubles, interleaved with numba's own draws, from a generator handed
    over or through a handle; the generator ends in numpy's state."""
    sizes = np.random.default_rng(seed + 100).integers(0, 2000, 12)
    want = np.random.Generator(bit_generator(seed))
    expected = _mixed_draws_in_numpy(want, sizes)
    for through_handle in (False, True):
        rng = np.random.Generator(bit_generator(seed))
        got = (
            _mixed_draws_through_handle(generator_handle(rng), sizes)
            if through_handle
            else _mixed_draws(rng, sizes)
        )
        assert len(got) == len(expected)
        assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=True))
        assert str(rng.bit_generator.state) == str(want.bit_generator.state)


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS, ids=lambda c: c.__name__)
def test_uniforms_of_every_length_around_the_lanes(bit_generator: type) -> None:
    """``uniforms`` steps PCG64's states four side by side, then one by one for the rest:
    every length (none, fewer than the lanes, whole blocks, blocks and a rest) draws
    numpy's doubles and leaves numpy's state."""
    from cimsim.kernels import _PCG64_LANES

    for n in range(3 * _PCG64_LANES + 2):
        rng, want = np.random.Generator(bit_generator(n)), np.random.Generator(bit_generator(n))
        assert np.array_equal(uniforms(rng, n), want.random(n))
        assert str(rng.bit_generator.state) == str(want.bit_generator.state)


@pytest.mark.parametrize("steps", [1, 2, 4, 8, 1000])
def test_pcg64_jump_is_numpys_advance(steps: int) -> None:
    """The multiplier and increment factor of a jump are PCG64's ``advance``."""
    from cimsim.kernels import _pcg64_jump

    multiplier, factor = _pcg64_jump(steps)
    bits = np.random.PCG64(steps)
    state = bits.state["state"]
    bits.advance(steps)
    jumped = (state["state"] * multiplier + state["inc"] * factor) % 2**128
    assert bits.state["state"]["state"] == jumped


def test_pcg64_state_layout_is_recognised() -> None:
    """The compiled-in PCG64 step reads the state where numpy keeps it; the layout check
    agrees with numpy's own account of the state, after any number of draws."""
    from cimsim.kernels import _pcg64_words

    if sys.platform in ("linux", "darwin") and sys.maxsize > 2**32:
        assert PCG64_INLINE  # gcc and clang have 128-bit integers
    for seed, draws in [(0, 0), (1, 1), (2, 17), (3, 1000)]:
        bits = np.random.PCG64(seed)
        bits.random_raw(draws)
        state = bits.state["state"]
        assert _pcg64_words(bits) == (state["state"], state["inc"])


def test_a_run_is_the_same_without_the_compiled_in_step() -> None:
    """With the layout check failing (as on a numpy without 128-bit integers), every draw
    goes through numpy's own function: a run from the kernel cache gives the same months."""
    script = (
        "import numpy as np, cimsim.kernels as k\n"
        "k._pcg64_words = lambda bits: (0, 0)\n"
        "assert not k._register_pcg64()\n"
        "from helpers import small_model\n"
        "m = small_model('skive', seed=5)\n"
        "[m.step() for _ in range(8)]\n"
        "print(repr(m.initiative.series().tobytes().hex()), m.initiative.rng.random())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    model = small_model("skive", seed=5)
    for _ in range(8):
        model.step()
    here = f"{model.initiative.series().tobytes().hex()!r} {model.initiative.rng.random()}"
    assert done.stdout.strip() == here


def test_the_backbones_support_is_fixed_within_a_month_only() -> None:
    """``step`` works the backbone's support out once for the month; a change made between
    months (a planner's slider, an event) is read by the next month and by a direct call."""
    ini = small_model("mechelen", seed=3).initiative.run(2)
    first = ini.backbone_support()
    ini.resources = 0.05
    lower = ini.backbone_support()
    assert lower < first
    seen = []
    original = ini.work_and_learn

    def spy() -> None:
        seen.append(ini.backbone_support())
        original()

    ini.work_and_learn = spy
    ini.step()
    assert seen == [lower]
    assert ini._support is None  # forgotten after the month
    ini.resources = 0.9
    assert ini.backbone_support() > first


def test_a_copied_initiative_draws_from_its_own_generator() -> None:
    """A copy made mid-run (a planner's branch) has a generator of its own: it must not
    draw from the original's through a handle read before the copy."""
    original = small_model("mechelen", seed=11).initiative
    original.run(3)
    branch = copy.deepcopy(original)
    shipped = pickle.loads(pickle.dumps(original))  # as a worker receives it
    swapped = copy.deepcopy(original)
    replaced = swapped.rng
    before = replaced.bit_generator.state
    swapped.rng = copy.deepcopy(replaced)  # a new generator object in the same state
    for twin in (branch, shipped, swapped):
        twin.run(6)
    assert replaced.bit_generator.state == before  # the handle followed the new generator
    original.run(6)
    straight = small_model("mechelen", seed=11).initiative.run(9)
    for twin in (branch, shipped, swapped, original):
        assert twin.history == straight.history
    draws = {twin.rng.random() for twin in (branch, shipped, swapped, original, straight)}
    assert len(draws) == 1


def test_kernel_files_are_every_file_with_kernels() -> None:
    """The cache stamp covers every file that holds a kernel, and each imports the
    kernels module (its cache locator) before its first kernel."""
    import cimsim

    root = Path(cimsim.__file__).parent
    with_kernels = set()
    for path in root.rglob("*.py"):
        text = path.read_text()
        if "@njit" in text:
            name = path.relative_to(root).as_posix()
            with_kernels.add(name)
            if name != "kernels.py":
                first_kernel = text.index("@njit")
                imports = r"^from cimsim(\.kernels import| import kernels)"
                assert re.search(imports, text[:first_kernel], re.M), name
    assert with_kernels == set(KERNEL_FILES)


def test_every_cached_kernel_is_stale_when_any_kernel_file_changes(tmp_path: Path) -> None:
    """numba checks only a kernel's own file; the month's kernels compile in kernels from
    other files. Every cached kernel's freshness stamp covers all kernel files: an edit of
    one (a comment in mechanisms/trust.py) changes it, an edit elsewhere does not."""
    import sys

    from numba.core.dispatcher import Dispatcher

    import cimsim
    import cimsim.initiative

    kernels = {
        value
        for name, module in list(sys.modules.items())
        if name.startswith("cimsim")
        for value in vars(module).values()
        if isinstance(value, Dispatcher)
    }
    assert len(kernels) > 50
    for kernel in kernels:
        locator = kernel._cache._impl.locator
        assert isinstance(locator, KernelCacheLocator), kernel
        assert locator.get_source_stamp()[1] == kernel_sources_stamp()

    root = Path(cimsim.__file__).parent
    for name in [*KERNEL_FILES, "scenario.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((root / name).read_bytes())
    stamp = kernel_sources_stamp.__wrapped__
    before = stamp(str(tmp_path))
    assert before == kernel_sources_stamp()
    with open(tmp_path / "scenario.py", "a") as f:
        f.write("# not a kernel file\n")
    assert stamp(str(tmp_path)) == before
    with open(tmp_path / "mechanisms" / "trust.py", "a") as f:
        f.write("# edited\n")
    assert stamp(str(tmp_path)) != before


_COMPILE_ONE = """
import sys, time
import cimsim.kernels  # numba's cache saves under a lock from here on
sys.path.insert(0, sys.argv[1])
import tiny
print("start", flush=True)
t = time.perf_counter()
value = tiny.grow(int(sys.argv[2]) if sys.argv[3] == "int" else float(sys.argv[2]))
hits = sum(tiny.grow.stats.cache_hits.values())  # 1: loaded from the cache
print("done", value, round(time.perf_counter() - t, 3), hits, flush=True)
"""


def _compile_one(folder: Path, value: str, kind: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _COMPILE_ONE, str(folder), value, kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kernel_cache_saves_wait_for_each_other(tmp_path: Path) -> None:
    """numba writes a kernel's cache index without a lock, so two processes compiling two
    signatures of one kernel at once could pair one's index entry with the other's code.
    A save waits for the lock beside the index; once it has it, both signatures are in the
    index, each with its own data file, and a third process loads both from the cache."""
    import fcntl

    (tmp_path / "tiny.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef grow(x):\n    return x * 2 + 1\n"
    )
    first = _compile_one(tmp_path, "3", "int")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    alone = float(out.split()[-2])  # seconds to compile and save with nobody waiting
    (index,) = (tmp_path / "__pycache__").glob("tiny.grow-*.nbi")
    with open(str(index) + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is saving
        second = _compile_one(tmp_path, "2.5", "float")
        assert second.stdout.readline().startswith("start")
        try:
            second.wait(timeout=max(4.0, 5 * alone))
            waited = False
        except subprocess.TimeoutExpired:
            waited = True
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = second.communicate(timeout=300)
    assert waited, "the save did not wait for the lock"
    assert second.returncode == 0 and out.split()[:2] == ["done", "6.0"], err[-2000:]
    assert out.split()[3] == "0"  # compiled, not loaded
    assert sorted(p.name.split(".")[-2] for p in index.parent.glob("tiny.grow-*.nbc")) == [
        "1",
        "2",
    ]
    for value, kind, expected in (("3", "int", "7"), ("2.5", "float", "6.0")):
        third = _compile_one(tmp_path, value, kind)
        out, err = third.communicate(timeout=300)
        assert third.returncode == 0, err[-2000:]
        assert out.split()[1:3] + out.split()[4:] == ["done", expected, "1"], out


def _state(model) -> list[np.ndarray]:
    pop, ties = model.pop, model.ties
    return [pop.engagement, pop.position, pop.attended, ties.u, ties.v, ties.trust,
            ties.active, ties.mediated, ties.weight]  # fmt: skip


def _village_model(seed: int):
    """A small Skive (village coordination groups) a year in, with this month's contacts."""
    model = small_model("skive", seed=seed)
    for _ in range(12):
        model.step()
    communication.reset_month(model.initiative)
    communication.communicate(model.initiative)
    return model.initiative


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_village_groups_convening_together_equal_one_after_another(seed: int) -> None:
    fused = _village_model(seed)
    assert len(fused.backbones) > 1 and len({u.village for u in fused.backbones}) > 1
    one_by_one = copy.deepcopy(fused)
    backbone.convene_units(fused, fused.backbones)
    for unit in one_by_one.backbones:
        unit.convene()
    assert sum(u.meetings_held for u in fused.backbones) > 0
    for a, b in zip(_state(fused), _state(one_by_one), strict=True):
        assert np.array_equal(a, b)
    assert [u.meetings_held for u in fused.backbones] == [
        u.meetings_held for u in one_by_one.backbones
    ]
    assert fused.rng.random() == one_by_one.rng.random()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_village_groups_brokering_together_equal_one_after_another(seed: int) -> None:
    fused = _village_model(seed)
    fused.pop.engagement[fused.pop.sector != 1] = ENGAGED  # plenty to introduce
    one_by_one = copy.deepcopy(fused)
    before = len(fused.ties)
    for _ in range(6):  # several months' brokering
        backbone.broker_units(fused, fused.backbones)
        for unit in one_by_one.backbones:
            unit.broker_ties()
    assert len(fused.ties) > before
    for a, b in zip(_state(fused), _state(one_by_one), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(fused.ties.keys, one_by_one.ties.keys)
    assert [u.ties_brokered for u in fused.backbones] == [
        u.ties_brokered for u in one_by_one.backbones
    ]


def test_tie_keys_appended_since_the_last_merge_are_known() -> None:
    """Appended keys wait in a short sorted list, merged into the others when they reach
    1,024: a tie in either is not added again, and ``keys`` holds all of them, sorted."""
    from cimsim.population import Ties

    rng = np.random.default_rng(11)
    n = 400
    ties = Ties.make(n, np.array([0]), np.array([1]), 0.5, rng.random(n) < 0.3)
    seen = {1}
    merges = 0
    for _ in range(40):
        a, b = rng.integers(0, n, 100), rng.integers(0, n, 100)
        waiting = ties._new_keys.size
        fresh = {
            min(x, y) * n + max(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True) if x != y
        }
        assert ties.add(a, b, 0.5) == len(fresh - seen)
        seen |= fresh
        merges += ties._new_keys.size < waiting
        assert ties._new_keys.size < 1024
        assert ties.add(a, b, 0.5) == 0  # all known now, merged or waiting
    assert merges >= 2
    assert np.array_equal(ties.keys, np.array(sorted(seen)))
    assert np.array_equal(ties.keys, np.sort(ties.u.astype(np.int64) * n + ties.v))


def test_ties_appended_in_place_equal_ties_made_at_once() -> None:
    from cimsim.population import Ties

    rng = np.random.default_rng(7)
    n = 60
    org = rng.random(n) < 0.3
    first = np.unique(np.sort(rng.integers(0, n, (2, 40)), axis=0), axis=1)
    first = first[:, first[0] < first[1]]
    ties = Ties.make(n, first[0], first[1], 0.5, org)
    for _ in range(12):  # small batches: the buffers are written in place and grow twice
        added = ties.add(rng.integers(0, n, 30), rng.integers(0, n, 30), 0.5)
        assert added >= 0
        assert ties.u.base is not None  # a view of its buffer, not a fresh copy
    assert len(ties) > 1.5 * first.shape[1]
    whole = Ties.make(n, ties.u, ties.v, 0.5, org)
    assert np.array_equal(np.sort(ties.u * n + ties.v), whole.keys)
    assert np.array_equal(ties.keys, whole.keys)
    assert np.array_equal(ties.degree, whole.degree)
    assert np.array_equal(ties.counts_u, whole.counts_u)
    assert np.array_equal(ties.counts_v, whole.counts_v)
    assert not ties.active.any() and not ties.mediated.any()
    # a copy keeps columns of its own: its appends do not land in the original's buffers
    absent = [k for k in range(n * n) if k // n < k % n and k not in set(ties.keys)][:2]
    (a, b), (c, d) = [divmod(k, n) for k in absent]
    twin = copy.copy(ties)
    assert twin.add(np.array([a]), np.array([b]), 0.9) == 1
    assert ties.add(np.array([c]), np.array([d]), 0.5) == 1
    assert (twin.u[-1], twin.v[-1], twin.trust[-1]) == (a, b, 0.9)
    assert (ties.u[-1], ties.v[-1], ties.trust[-1]) == (c, d, 0.5)


def test_batches_of_ties_are_appended_as_batch_after_batch() -> None:
    """``add_batches`` (one compiled call) appends each batch's new ties in key order,
    skipping loops, repeats within a batch, existing ties and ties an earlier batch added;
    a column replaced from outside keeps its values whether or not a tie is added."""
    from cimsim.population import Ties

    rng = np.random.default_rng(5)
    n = 50
    org = rng.random(n) < 0.3
    ties = Ties.make(n, np.array([0, 2]), np.array([1, 3]), 0.5, org)
    seen = {1, 2 * n + 3}
    for _ in range(30):
        sizes = rng.integers(0, 6, rng.integers(1, 5))
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        a, b = rng.integers(0, n, bounds[-1]), rng.integers(0, n, bounds[-1])
        a[: bounds[-1] // 3] = b[: bounds[-1] // 3]  # some loops
        expected_counts, expected_keys = [], []
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            pairs = zip(a[lo:hi].tolist(), b[lo:hi].tolist(), strict=True)
            batch = {min(x, y) * n + max(x, y) for x, y in pairs if x != y}
            fresh = sorted(batch - seen)
            seen |= batch
            expected_counts.append(len(fresh))
            expected_keys += fresh
        m = len(ties)
        ties.trust = ties.trust.copy()  # replaced from outside: copied into a new buffer
        kept = ties.trust.copy()
        added = ties.add_batches(a, b, bounds, 0.25)
        assert added.tolist() == expected_counts
        assert (ties.u[m:].astype(np.int64) * n + ties.v[m:]).tolist() == expected_keys
        assert np.array_equal(ties.trust[:m], kept)
        assert np.all(ties.trust[m:] == 0.25)
        assert ties.trust.base is not None  # a view of its buffer again
    assert np.array_equal(ties.keys, np.array(sorted(seen)))
    assert np.array_equal(ties.degree, Ties.make(n, ties.u, ties.v, 0.5, org).degree)


def _grown_ties(seed: int):
    """Ties made at once, then grown by appends (as brokering grows them every month)."""
    from cimsim.population import Ties

    rng = np.random.default_rng(seed)
    n = 80
    org = rng.random(n) < 0.3
    first = np.unique(np.sort(rng.integers(0, n, (2, 160)), axis=0), axis=1)
    first = first[:, first[0] < first[1]]
    ties = Ties.make(n, first[0], first[1], 0.5, org)
    for _ in range(6):
        ties.add(rng.integers(0, n, 25), rng.integers(0, n, 25), 0.5)
    ties.trust[:] = rng.random(len(ties))
    return ties, rng


def _index_of_first(ties, k: int):
    """A tie index made when only the first ``k`` ties existed (the rest appended since)."""
    from cimsim.population import TieIndex, _by_end

    return TieIndex(*_by_end(ties.u[:k], ties.n_nodes), *_by_end(ties.v[:k], ties.n_nodes))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tie_index_lists_each_stakeholders_ties_in_tie_order(seed: int) -> None:
    ties, _ = _grown_ties(seed)
    index = ties.index()
    assert index.u_ties.size == len(ties)  # made after the appends: covers them all
    for i in range(ties.n_nodes):
        mine_u = index.u_ties[index.u_start[i] : index.u_start[i + 1]]
        mine_v = index.v_ties[index.v_start[i] : index.v_start[i + 1]]
        assert np.array_equal(mine_u, np.flatnonzero(ties.u == i))
        assert np.array_equal(mine_v, np.flatnonzero(ties.v == i))


def test_tie_index_is_kept_for_a_few_appended_ties_and_remade_for_many() -> None:
    ties, rng = _grown_ties(3)
    index = ties.index()
    assert ties.index() is index
    ties.add(rng.integers(0, 80, 10), rng.integers(0, 80, 10), 0.5)
    assert ties.index() is index  # the new ties are read after the indexed ones
    absent = [k for k in range(80 * 80) if k // 80 < k % 80 and k not in set(ties.keys)]
    many = np.array(absent[:1100])
    ties.add(many // 80, many % 80, 0.5)
    fresh = ties.index()
    assert fresh is not index and fresh.u_ties.size == len(ties)
    ties.u = ties.u.copy()  # ends replaced from outside: made again
    assert ties.index() is not fresh


@pytest.mark.parametrize("engaged_share", [0.08, 0.6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernels_read_the_same_ties_through_any_tie_index(seed: int, engaged_share: float) -> None:
    """Reading each stakeholder's own ties through an index, then the ties appended since,
    gives what one pass over all ties in tie order gives (an index of no ties is that
    pass), bit for bit: neighbourhood means, drive, meetings, withdrawal, engaged ties
    (also in the one pass taken for large networks where many are engaged)."""
    from cimsim.mechanisms import recruitment, trust
    from cimsim.population import (
        CITIZEN,
        _engaged_ties_in_one_pass,
        engaged_ties_of,
        neighbourhood_mean_at,
        neighbourhood_mean_of,
    )

    ties, rng = _grown_ties(seed)
    n, m = ties.n_nodes, len(ties)
    engagement = rng.integers(0, 2, n).astype(np.int8)
    engagement[rng.random(n) < engaged_share] = ENGAGED
    sector = np.where(ties.org, 0, CITIZEN).astype(np.int8)
    influence, champion = rng.random(n), rng.random(n) < 0.2
    wanted = rng.random(n) < 0.3
    rows = np.flatnonzero(wanted)
    indices = [_index_of_first(ties, k) for k in (0, m // 2, m)]
    constants = (3.0, 0.1, 0.2, 0.5, 1.0, 0.0)
    ends = (ties.u, ties.v, ties.counts_u, ties.counts_v, ties.trust)
    results = []
    for index in indices:
        got = [neighbourhood_mean_at(rows, *ends, ties.degree, 0.4, index, 0)]
        on_threads = neighbourhood_mean_at(rows, *ends, ties.degree, 0.4, index, 2)
        assert np.array_equal(got[-1].view(np.uint8), on_threads.view(np.uint8))
        people = (sector, influence, engagement, champion, np.zeros(n), np.zeros(n, np.bool_))
        got.append(recruitment.drive(*ends, *people, constants, wanted, index, 0))
        on_threads = recruitment.drive(*ends, *people, constants, wanted, index, 2)
        assert np.array_equal(got[-1], on_threads, equal_nan=True)
        trust_after = ties.trust.copy()
        trust._withdraw(rows, n, ties.u, ties.v, trust_after, 0.7, index)
        got.append(trust_after)
        marked = []
        for threads in (0, 2):
            active, mediated, weight = np.zeros(m, np.bool_), np.zeros(m, np.bool_), np.zeros(m)
            meeting = (rows, rows % 3, n, active, mediated, weight, True, index, threads)
            backbone._contact_in_meetings(ties.u, ties.v, *meeting)
            marked.append([active, mediated, weight])
        assert all(np.array_equal(a, b) for a, b in zip(*marked, strict=True))
        got += marked[0]
        got += list(engaged_ties_of(*ends, ties.degree, 0.4, engagement, ties.org, index, 0))
        on_threads = engaged_ties_of(*ends, ties.degree, 0.4, engagement, ties.org, index, 2)
        for a, b in zip(got[-5:], on_threads, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))
        results.append(got)
    one_pass = _engaged_ties_in_one_pass(
        *ends, ties.degree, 0.4, engagement == ENGAGED, ties.org
    )  # what large networks with many engaged take
    results.append(results[0][:6] + list(one_pass))
    for got in results[1:]:
        for a, b in zip(results[0], got, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))
    first = results[0]
    assert np.array_equal(
        first[0][rows], neighbourhood_mean_of(*ends, ties.degree, 0.4, wanted)[rows]
    )
    left = np.zeros(n, np.bool_)
    left[rows] = True
    either = left[ties.u] | left[ties.v]
    assert np.array_equal(first[2], np.where(either, ties.trust * 0.7, ties.trust))  # once
    group = np.full(n, -1)
    group[rows] = rows % 3
    inside = (group[ties.u] >= 0) & (group[ties.u] == group[ties.v])
    assert np.array_equal(first[3], inside) and np.array_equal(first[4], inside)
    engaged = engagement == ENGAGED
    assert np.array_equal(first[6], ties.between(engaged))
    assert np.array_equal(first[7], ties.between(engaged, ties.org))
    assert np.array_equal(first[8], np.flatnonzero(first[6]))
    assert np.array_equal(
        first[10][engaged], neighbourhood_mean_of(*ends, ties.degree, 0.4, engaged)[engaged]
    )


def test_tie_ends_are_int32_and_keys_stay_int64() -> None:
    """Tie ends take four bytes (every pass over the ties reads them) while they fit, also
    after appends; the keys ``min * n + max`` exceed int32 and stay int64."""
    from cimsim.population import Ties

    org = np.array([True, False, True, False])
    big = 3_000_000_000  # more nodes than int32 holds: the ends widen
    for n_nodes, ends in [(4, np.int32), (120_000, np.int32), (big, np.int64)]:
        ties = Ties.make(n_nodes, np.array([0, 1]), np.array([2, 3]), 0.5, org)
        assert ties.u.dtype == ties.v.dtype == ends and ties.keys.dtype == np.int64
        assert list(ties.keys) == [2, n_nodes + 3]
        if n_nodes == 4:
            ties.add(np.array([0]), np.array([3]), 0.5)
            assert ties.u.dtype == ties.v.dtype == np.int32 and list(ties.v) == [2, 3, 3]
    model = small_model("mechelen", seed=3).initiative.run(3)
    assert model.ties.u.dtype == model.ties.v.dtype == np.int32


BACKBONE_EVENTS = [
    {"kind": "launch_measurement", "month": 4},
    {"kind": "remove_backbone", "month": 9},
    {"kind": "change_funding", "month": 12, "resources": 0.8},
    {"kind": "add_backbone", "month": 15, "capacity": 0.5},
    {"kind": "change_funding", "month": 20, "resources": 0.2},
]
"""Events that change what the month's compiled calls take of the backbone (its units, its
capacity per function, the measurement share): the conveners and the units' capacities,
worked out once (``Initiative.conveners``, once a month ``Initiative.unit_capacities``),
must follow them as the mechanisms' functions, which work them out at every ask, do."""


def _month_by_mechanisms(state) -> None:
    """One month by the mechanisms' own functions, one after another (the schedule of the
    ``Initiative`` docstring), as the model ran before its steps were compiled."""
    from cimsim import indicators
    from cimsim.mechanisms import activities, agenda, measurement, recruitment, resources, trust

    state.begin_month()
    communication.communicate(state)
    backbone.convene_units(state, state.backbones)  # meetings do not change trust
    backbone.convene_as_partners(state)
    agenda.exchange_agenda(state)
    trust.update_trust(state)
    recruitment.become_aware(state)
    recruitment.engage(state)
    recruitment.drop_out(state)
    backbone.broker_units(state, state.backbones)
    state._eng_ties = state.engaged_ties()
    state._partner_ties = state.partner_ties()
    activities.allocate_activities(state, state.gap_info)
    intensity = resources.activity_intensity(state)
    month = activities.make_progress(state, intensity)
    shared = measurement.measure(state)
    state.gap_info = measurement.gap_information(state, shared)
    wins = measurement.small_wins(state, shared)
    recruitment.update_commitment(state, wins)
    trust.reward_small_wins(state, wins)
    resources.flow_resources(state, intensity, wins)
    month.update(
        shared_measurement=shared,
        mutually_reinforcing=(1.0 - month["duplication"]) * month["area_coverage"],
        gap_information=state.gap_info,
        visible_wins=wins,
        dropped=state.dropped,
    )
    state.latest = indicators.compute(state, month)
    state.history.append(state.latest)
    state.area_history.append(state.progress.copy())


@pytest.mark.parametrize(
    ("name", "seed", "overrides"),
    [
        ("malmo", 1, {}),
        ("mechelen", 2, {}),
        ("skive", 3, {}),  # village coordination groups, events
        ("mechelen", 4, {"measurement.enabled": False, "structure.urgency": "additive"}),
        ("malmo", 5, {"backbone.enabled": False}),  # partners convene, nobody brokers
        ("skive", 6, {"interventions": BACKBONE_EVENTS}),
        ("mechelen", 7, {"interventions": BACKBONE_EVENTS, "measurement.enabled": False}),
    ],
)
def test_compiled_month_equals_the_mechanisms_one_after_another(
    name: str, seed: int, overrides: dict
) -> None:
    """Steps 2-12 run as three compiled calls; the mechanisms' functions, called in the
    schedule's order, give the same months bit for bit (and leave the generator in the
    same place)."""
    compiled = small_model(name, seed=seed, **overrides).initiative
    by_mechanisms = copy.deepcopy(compiled)
    for _ in range(36):
        compiled.step()
        _month_by_mechanisms(by_mechanisms)
    assert compiled.history == by_mechanisms.history
    assert np.array_equal(compiled.series(), by_mechanisms.series())
    for a, b in zip(_state(compiled), _state(by_mechanisms), strict=True):
        assert np.array_equal(a, b)
    assert [u.meetings_held for u in compiled.backbones] == [
        u.meetings_held for u in by_mechanisms.backbones
    ]
    assert compiled.rng.random() == by_mechanisms.rng.random()
    assert compiled.history[-1]["participation"] > 0  # something happened


def _assign(state, month: int) -> None:
    """Between months, a user changes the settings and the calibration in place (a field
    assigned at month 4, a section replaced at month 8) and replaces them whole (month 12)."""
    if month == 4:
        state.settings.communication = 0.35
        state.cal.agenda.convergence = 0.6
    elif month == 8:
        cal = state.cal.recruitment.model_copy(update={"forgetting": 0.2, "commitment_rate": 0.4})
        state.cal.recruitment = cal
    elif month == 12:
        state.settings = state.settings.model_copy(update={"trust_gain": 0.25})
        state.cal = state.cal.model_copy(deep=True)
        state.cal.resources.fatigue_gain = 0.11


@pytest.mark.parametrize(("name", "seed"), [("mechelen", 6), ("skive", 7)])
def test_fixed_constants_follow_every_change_of_the_settings(name: str, seed: int) -> None:
    """The compiled calls' constants are worked out once (``fixed_constants``), yet a field
    assigned in place, a section replaced and the settings or calibration replaced whole
    between months take effect the next month, as when the mechanisms' functions work
    them out every month; the same run without the changes differs."""
    compiled = small_model(name, seed=seed).initiative
    by_mechanisms = copy.deepcopy(compiled)
    unchanged = copy.deepcopy(compiled)
    for month in range(1, 17):
        _assign(compiled, month)
        _assign(by_mechanisms, month)
        compiled.step()
        _month_by_mechanisms(by_mechanisms)
        unchanged.step()
    assert compiled.history == by_mechanisms.history
    for a, b in zip(_state(compiled), _state(by_mechanisms), strict=True):
        assert np.array_equal(a, b)
    assert compiled.history[4:] != unchanged.history[4:]
    fixed = compiled.fixed_constants()
    assert fixed is compiled.fixed_constants()  # kept while nothing changes
    assert fixed.channels == communication.channels(compiled)[1]
    assert fixed.trust == trust_mechanism.params(compiled)
    assert fixed.dropout == recruitment_mechanism.dropout_params(compiled.cal.recruitment)
