"""Compiled helpers shared by the mechanisms' kernels: sums that equal numpy's exactly,
and numpy's own math.

The monthly rules run as small numba kernels, one per mechanism, next to the rule they
implement. A kernel gives the same floating-point result as the numpy expression it
replaces: element-wise arithmetic in the same order, per-node sums accumulated tie by tie
in tie order (as ``np.bincount`` does), sums of whole arrays by numpy's own pairwise
summation (:func:`pairwise_sum`), and ``exp``, ``log``, ``**`` and ``@`` by numpy's own
loops and BLAS (:data:`NUMPY`, :func:`np_exp`, ...), so a seed gives the same run bit for
bit.

Kernels that draw take the model's ``numpy.random.Generator``. Handing one to a compiled
call costs about 10 µs (numba types it, then reads its bit generator's four addresses
through ctypes); the month's three calls take :func:`generator_handle` instead, those
addresses read once (an array: 0.2 µs), and :func:`generator_at` makes the same generator
of them inside the kernel: the same draws from the same state. Uniform draws go through
:func:`uniforms`, which steps numpy's PCG64 in compiled code, two states side by side
(:func:`fill_uniforms`): the same doubles, 1.35 ns a draw instead of 6.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import sys
import threading
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import get_num_threads, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic, typeof_impl


def _import_numba_array_math() -> None:
    """Import numba's array functions without their BLAS probe.

    On import, ``numba.np.arraymath`` checks that scipy's BLAS is there by importing
    ``scipy.linalg`` (0.1-0.14 s, a tenth of ``cimsim run --json``); the answer is only read
    when ``np.correlate`` or ``np.convolve`` is compiled, and no kernel uses either (nor
    numba's ``np.dot``: :func:`np_dot` calls numpy's BLAS). The probe is answered yes, as
    it would be (scipy is a dependency), and put back after the import, so numba's linear
    algebra still checks scipy when something compiles it."""
    if "numba.np.arraymath" in sys.modules:
        return
    from numba.np import linalg

    probe = linalg.ensure_blas
    linalg.ensure_blas = lambda: None
    try:
        from numba.np import arraymath
    finally:
        linalg.ensure_blas = probe
    arraymath.ensure_blas = probe


_import_numba_array_math()

KERNEL_FILES = (
    "kernels.py",
    "population.py",
    "indicators.py",
    "initiative.py",
    "mechanisms/activities.py",
    "mechanisms/agenda.py",
    "mechanisms/backbone.py",
    "mechanisms/communication.py",
    "mechanisms/measurement.py",
    "mechanisms/recruitment.py",
    "mechanisms/resources.py",
    "mechanisms/trust.py",
)
"""The package's files that hold compiled kernels (relative to the package; a test keeps
the list whole). Each must import this module before its first kernel."""

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def kernel_sources_stamp(root: str = _PACKAGE) -> str:
    """SHA-256 of the :data:`KERNEL_FILES` under ``root``, one after another."""
    digest = hashlib.sha256()
    for name in KERNEL_FILES:
        digest.update(name.encode())
        try:
            with open(os.path.join(root, name), "rb") as source:
                digest.update(source.read())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


class KernelCacheLocator:
    """Where numba caches a kernel of this package, and when the cache is stale.

    numba keeps a compiled kernel until the kernel's own file changes, but the month's
    kernels compile in the kernels they call from other files: after an edit of
    ``mechanisms/trust.py``, ``initiative._talk`` would go on running the old trust rule
    from its cache. This locator is the one numba would choose (the same folder and file
    names), with a freshness stamp that also covers every file in :data:`KERNEL_FILES`,
    so an edit of any of them compiles every kernel anew."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def get_source_stamp(self) -> tuple[object, str]:
        """numba's own stamp of the kernel's file, and the stamp of all kernel files."""
        return self._inner.get_source_stamp(), kernel_sources_stamp()

    @classmethod
    def from_function(cls, py_func: object, py_file: str) -> KernelCacheLocator | None:
        """The locator for a kernel in this package (None for any other function)."""
        if not os.path.abspath(py_file).startswith(_PACKAGE + os.sep):
            return None
        for locator in _NUMBA_LOCATORS:
            inner = locator.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner)
        return None


def _use_kernel_cache_locator() -> tuple[type, ...]:
    """Put :class:`KernelCacheLocator` first in numba's list of cache locators; return
    numba's own (numba without the list keeps its own rule)."""
    from numba.core import caching

    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    locators = getattr(impl, "_locator_classes", None)
    if not isinstance(locators, list):
        return ()
    own = tuple(c for c in locators if c is not KernelCacheLocator)
    if KernelCacheLocator not in locators:
        locators.insert(0, KernelCacheLocator)
    return own


_NUMBA_LOCATORS = _use_kernel_cache_locator()


def _save_under_lock(self: object, key: object, data: object) -> None:
    """numba's ``IndexDataCacheFile.save``, one process at a time per index.

    numba reads a kernel's cache index, picks a free data file for a new signature, writes
    the index, then the data, with no lock: two processes compiling two signatures of one
    kernel at once (a test suite on several workers, a sweep's workers on a fresh machine)
    can both pick the same data file, and one signature's index entry then names the
    other's machine code. Here an exclusive ``flock`` on a file beside the index is held
    from reading the index to writing it, and the data is written before the index that
    names it (so a reader never finds an entry without its data)."""
    import fcntl

    try:
        lock = open(self._index_path + ".lock", "a")
    except OSError:  # a cache folder we may not write a lock into: numba's own save
        _NUMBA_SAVE(self, key, data)
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        overloads = self._load_index()
        name = overloads.get(key)
        if name is None:
            taken = set(overloads.values())
            number = 1
            while self._data_name(number) in taken:
                number += 1
            name = self._data_name(number)
        self._save_data(name, data)
        overloads[key] = name
        self._save_index(overloads)


def _lock_cache_saves() -> object:
    """Put :func:`_save_under_lock` in the place of numba's cache save (where numba has the
    save this replaces and the system has ``flock``); return numba's own save."""
    from numba.core import caching

    cache_file = getattr(caching, "IndexDataCacheFile", None)
    own = getattr(cache_file, "save", None)
    needed = ("_load_index", "_save_index", "_save_data", "_data_name")
    if own is None or own is _save_under_lock or not all(hasattr(cache_file, n) for n in needed):
        return own
    try:
        import fcntl  # noqa: F401 (POSIX only)
    except ImportError:
        return own
    cache_file.save = _save_under_lock
    return own


_NUMBA_SAVE = _lock_cache_saves()

_GENERATOR = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")


_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")
_BIT_GENERATOR_FIELDS = (
    "state_address",
    "state",
    "fnptr_next_uint64",
    "fnptr_next_uint32",
    "fnptr_next_double",
    "bit_generator",
)
"""What numba keeps of a bit generator (its data model), in :func:`generator_handle`'s order."""


@typeof_impl.register(np.random.Generator)
def _generator_type(value: np.random.Generator, context: object) -> types.Type:
    """Numba's type of a numpy ``Generator`` argument: always the same one."""
    return _GENERATOR


def generator_handle(rng: np.random.Generator) -> np.ndarray:
    """The addresses numba reads from ``rng``'s bit generator (its state and its draw
    functions, as numba's own unboxing does), for :func:`generator_at`. Valid while ``rng``
    lives: keep ``rng`` alive as long as the handle is used."""
    c = rng.bit_generator.ctypes

    def address(pointer: object) -> int:
        return ctypes.cast(pointer, ctypes.c_void_p).value or 0

    return np.array(
        [
            c.state_address,
            c.state.value,
            address(c.next_uint64),
            address(c.next_uint32),
            address(c.next_double),
            c.bit_generator.value,
        ],
        np.uint64,
    )


@intrinsic
def generator_at(typingctx, handle):
    """The numpy ``Generator`` whose :func:`generator_handle` is ``handle``, inside a
    kernel: numba's own generator value over the same state and draw functions, so its
    draws advance ``rng`` exactly as drawing from ``rng`` itself would."""
    if not (isinstance(handle, types.Array) and handle.dtype == types.uint64):
        return None

    def codegen(context, builder, signature, values):
        data = context.make_array(signature.args[0])(context, builder, values[0]).data
        bits = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)  # parent: NULL
        for i, field in enumerate(_BIT_GENERATOR_FIELDS):
            setattr(bits, field, builder.load(builder.gep(data, [ir.IntType(64)(i)])))
        generator = cgutils.create_struct_proxy(_GENERATOR)(context, builder)  # no meminfo
        generator.bit_generator = bits._getvalue()
        return generator._getvalue()

    return _GENERATOR(handle), codegen


_PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
"""PCG64's 128-bit LCG multiplier (``PCG_DEFAULT_MULTIPLIER_128`` in numpy's ``pcg64.h``)."""

_PCG64_SYMBOL = "cimsim_pcg64_next_double"
"""The name under which compiled code finds numpy's PCG64 ``next_double`` address."""


_NOWHERE = ctypes.c_char()
"""An address no bit generator's draw function has: the symbol's value when draws are not
compiled in."""


def _pcg64_words(bit_generator: np.random.PCG64) -> tuple[int, int]:
    """The 128-bit state and increment where :func:`fill_uniforms` reads them (through the
    state pointer numpy's ``next_double`` is given), as little-endian 128-bit integers
    (numpy's layout where the compiler has ``__uint128_t``)."""
    holder = ctypes.c_void_p.from_address(bit_generator.ctypes.state.value).value or 0
    words = (ctypes.c_uint64 * 4).from_address(holder)
    return words[0] | words[1] << 64, words[2] | words[3] << 64


def _register_pcg64() -> bool:
    """Tell compiled code where numpy's PCG64 ``next_double`` is, if PCG64's state lies in
    memory as :func:`fill_uniforms` reads it (checked on a generator that has drawn); else an
    address no generator has, so every draw goes through the bit generator's own function.
    Returns whether draws are inlined."""
    from llvmlite import binding

    probe = np.random.PCG64(20261129)
    probe.random_raw(3)
    expected = probe.state["state"]
    inline = _pcg64_words(probe) == (expected["state"], expected["inc"])
    pointer = ctypes.cast(probe.ctypes.next_double, ctypes.c_void_p).value
    binding.add_symbol(_PCG64_SYMBOL, pointer if inline else ctypes.addressof(_NOWHERE))
    return inline


PCG64_INLINE = _register_pcg64()
"""Whether :func:`fill_uniforms` steps numpy's PCG64 itself: True where numpy keeps the state
as a 128-bit integer (its Linux and macOS builds); a build whose compiler has no 128-bit
integers (MSVC) keeps two halves, high first, and its draws go through numpy's function."""


def _pcg64_jump(steps: int) -> tuple[int, int]:
    """The multiplier and the factor of the increment that advance PCG64 by ``steps``
    draws at once: ``state * M**steps + inc * (1 + M + ... + M**(steps - 1))``, mod 2**128."""
    mod = 1 << 128
    multiplier, factor = 1, 0
    for _ in range(steps):
        factor = (factor * _PCG64_MULTIPLIER + 1) % mod
        multiplier = multiplier * _PCG64_MULTIPLIER % mod
    return multiplier, factor


def _pcg64_double(builder: ir.IRBuilder, state: ir.Value) -> ir.Value:
    """PCG64's double of a (new) 128-bit state: XSL-RR's 64 bits, the top 53 scaled by
    2**-53, as numpy's ``pcg64_next_double``."""
    i64, i128 = ir.IntType(64), ir.IntType(128)
    high = builder.trunc(builder.lshr(state, ir.Constant(i128, 64)), i64)
    mixed = builder.xor(high, builder.trunc(state, i64))
    turn = builder.trunc(builder.lshr(state, ir.Constant(i128, 122)), i64)
    rotate = builder.module.declare_intrinsic(
        "llvm.fshr", [i64], ir.FunctionType(i64, [i64, i64, i64])
    )
    bits64 = builder.call(rotate, [mixed, mixed, turn])
    return builder.fmul(
        builder.uitofp(builder.lshr(bits64, ir.Constant(i64, 11)), ir.DoubleType()),
        ir.Constant(ir.DoubleType(), 1.0 / 9007199254740992.0),
    )


def _is_pcg64(builder: ir.IRBuilder, proxy: object) -> ir.Value:
    """Whether the bit generator's draw function is numpy's PCG64 ``next_double`` (the
    address registered as :data:`_PCG64_SYMBOL`)."""
    known = builder.module.globals.get(_PCG64_SYMBOL)
    if known is None:
        known = ir.GlobalVariable(builder.module, ir.IntType(8), _PCG64_SYMBOL)
        known.linkage = "external"
    return builder.icmp_unsigned(
        "==", proxy.fnptr_next_double, builder.ptrtoint(known, ir.IntType(64))
    )


def _pcg64_state(builder: ir.IRBuilder, proxy: object) -> ir.Value:
    """Pointer to PCG64's 128-bit state, its increment next to it: numpy's ``pcg64_state``
    is ``{pcg64_random_t *pcg_state; ...}`` and ``pcg_state`` points to ``{state, inc}``."""
    i128 = ir.IntType(128)
    holder = builder.inttoptr(proxy.state, i128.as_pointer().as_pointer())
    return builder.load(holder, align=8)


def _pcg64_increment(builder: ir.IRBuilder, words: ir.Value) -> ir.Value:
    """PCG64's increment, kept after its state (:func:`_pcg64_state`)."""
    return builder.load(builder.gep(words, [ir.IntType(32)(1)]), align=8)


def _pcg64_step(
    builder: ir.IRBuilder, state: ir.Value, inc: ir.Value, multiplier: int = _PCG64_MULTIPLIER
) -> ir.Value:
    """PCG64's next state: ``state * multiplier + inc`` mod 2**128 (one draw; with the
    multiplier and increment of :func:`_pcg64_jump`, several)."""
    return builder.add(builder.mul(state, ir.Constant(ir.IntType(128), multiplier)), inc)


def _draw_function(builder: ir.IRBuilder, proxy: object) -> ir.Value:
    """The bit generator's own ``next_double``, as numba calls it."""
    signature = ir.FunctionType(ir.DoubleType(), [ir.IntType(64)])
    return builder.inttoptr(proxy.fnptr_next_double, signature.as_pointer())


_PCG64_LANES = 2
"""How many PCG64 states :func:`fill_uniforms` advances side by side: two draw in 1.35 ns
instead of 1.95 one after another; three (1.40 ns) and four (1.55 ns) run out of registers
(a 128-bit state takes two)."""


def _fill_pcg64(
    builder: ir.IRBuilder,
    put: object,
    n: ir.Value,
    start: ir.Value,
    inc: ir.Value,
    lanes: int = _PCG64_LANES,
) -> ir.Value:
    """PCG64's next ``n`` doubles from state ``start``, each handed to ``put(i, draw)``
    (``i`` from 0), ``lanes`` states stepped side by side (:func:`fill_uniforms`). Returns the
    state after the last draw."""
    i64, i128 = ir.IntType(64), ir.IntType(128)
    multiplier, factor = _pcg64_jump(lanes)
    jump = builder.mul(inc, ir.Constant(i128, factor))
    current = cgutils.alloca_once(builder, i128)
    builder.store(start, current)
    blocks = builder.udiv(n, ir.Constant(i64, lanes))
    lane = [cgutils.alloca_once(builder, i128) for _ in range(lanes)]
    with builder.if_then(builder.icmp_unsigned(">", blocks, ir.Constant(i64, 0))):
        state = builder.load(current)
        for slot in lane:  # the states of the first block's draws
            state = _pcg64_step(builder, state, inc)
            builder.store(state, slot)
        with cgutils.for_range(builder, blocks) as loop:
            first = builder.mul(loop.index, ir.Constant(i64, lanes))
            for j, slot in enumerate(lane):
                state = builder.load(slot)
                put(builder.add(first, ir.Constant(i64, j)), _pcg64_double(builder, state))
                if j == lanes - 1:
                    builder.store(state, current)
                builder.store(_pcg64_step(builder, state, jump, multiplier), slot)
    done = builder.mul(blocks, ir.Constant(i64, lanes))
    with cgutils.for_range(builder, builder.sub(n, done)) as loop:
        state = _pcg64_step(builder, builder.load(current), inc)
        builder.store(state, current)
        put(builder.add(done, loop.index), _pcg64_double(builder, state))
    return builder.load(current)


def _pcg64_advance(
    builder: ir.IRBuilder, state: ir.Value, inc: ir.Value, delta: ir.Value
) -> ir.Value:
    """PCG64's state ``delta`` draws on (a 64-bit count), in 64 squarings: the multiplier and
    increment of ``2**b`` steps are squared up bit by bit and applied where ``delta`` has
    bit ``b`` (Brown 1994, "Random number generation with arbitrary strides"; PCG's
    ``pcg_advance_lcg_128``)."""
    i64, i128 = ir.IntType(64), ir.IntType(128)
    slots = [cgutils.alloca_once(builder, i128) for _ in range(4)]
    values = (1, 0, _PCG64_MULTIPLIER, None)  # acc_mult, acc_plus, cur_mult, cur_plus
    for slot, value in zip(slots, values, strict=True):
        builder.store(inc if value is None else ir.Constant(i128, value), slot)
    acc_mult, acc_plus, cur_mult, cur_plus = slots
    with cgutils.for_range(builder, ir.Constant(i64, 64)) as loop:
        bit = builder.trunc(builder.lshr(delta, loop.index), ir.IntType(1))
        mult, plus = builder.load(cur_mult), builder.load(cur_plus)
        a_mult, a_plus = builder.load(acc_mult), builder.load(acc_plus)
        builder.store(builder.select(bit, builder.mul(a_mult, mult), a_mult), acc_mult)
        stepped = builder.add(builder.mul(a_plus, mult), plus)
        builder.store(builder.select(bit, stepped, a_plus), acc_plus)
        builder.store(builder.mul(builder.add(mult, ir.Constant(i128, 1)), plus), cur_plus)
        builder.store(builder.mul(mult, mult), cur_mult)
    return builder.add(builder.mul(builder.load(acc_mult), state), builder.load(acc_plus))


def _pcg64_words_at(builder: ir.IRBuilder, address: ir.Value) -> ir.Value:
    """:func:`_pcg64_state` of the state pointer ``address`` (see :func:`pcg64_address`)."""
    holder = builder.inttoptr(address, ir.IntType(128).as_pointer().as_pointer())
    return builder.load(holder, align=8)


@intrinsic
def pcg64_address(typingctx, bits):
    """The bit generator's state pointer where its draws are numpy's PCG64 stepped here
    (:data:`PCG64_INLINE`), else 0: what :func:`uniforms_on` hands its threads."""
    if not isinstance(bits, types.NumPyRandomBitGeneratorType):
        return None

    def codegen(context, builder, signature, values):
        proxy = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=values[0])
        nowhere = ir.Constant(ir.IntType(64), 0)
        return builder.select(_is_pcg64(builder, proxy), proxy.state, nowhere)

    return types.uint64(bits), codegen


@intrinsic
def fill_pcg64_stretch(typingctx, address, out, lo, hi):
    """Fill ``out[lo:hi]`` with the draws ``lo`` to ``hi - 1`` from PCG64's state at
    ``address`` (:func:`pcg64_address`), leaving the state as it is: the state ``lo`` draws
    on is worked out at once (:func:`_pcg64_advance`)."""
    if not (
        isinstance(out, types.Array)
        and out.dtype == types.float64
        and out.ndim == 1
        and out.layout == "C"
        and isinstance(lo, types.Integer)
        and isinstance(hi, types.Integer)
    ):
        return None

    def codegen(context, builder, signature, values):
        array = context.make_array(signature.args[1])(context, builder, values[1])
        first = context.cast(builder, values[2], signature.args[2], types.int64)
        last = context.cast(builder, values[3], signature.args[3], types.int64)
        data = array.data
        words = _pcg64_words_at(builder, values[0])
        inc = _pcg64_increment(builder, words)
        start = _pcg64_advance(builder, builder.load(words, align=8), inc, first)

        def put(at: ir.Value, draw: ir.Value) -> None:
            builder.store(draw, builder.gep(data, [builder.add(first, at)]))

        with builder.if_then(builder.icmp_signed(">", last, first)):
            _fill_pcg64(builder, put, builder.sub(last, first), start, inc)
        return context.get_dummy_value()

    return types.none(address, out, lo, hi), codegen


@intrinsic
def advance_pcg64(typingctx, address, steps):
    """Move PCG64's state at ``address`` (:func:`pcg64_address`) ``steps`` draws on."""
    if not isinstance(steps, types.Integer):
        return None

    def codegen(context, builder, signature, values):
        delta = context.cast(builder, values[1], signature.args[1], types.int64)
        words = _pcg64_words_at(builder, values[0])
        inc = _pcg64_increment(builder, words)
        state = _pcg64_advance(builder, builder.load(words, align=8), inc, delta)
        builder.store(state, words, align=8)
        return context.get_dummy_value()

    return types.none(address, steps), codegen


@intrinsic
def fill_uniforms(typingctx, bits, out):
    """Fill ``out`` (a contiguous float64 array) with the bit generator's next doubles, as
    ``rng.random(out.size)`` does, and leave the state where numpy's would be.

    For numpy's PCG64, :data:`_PCG64_LANES` states are stepped side by side: the state of
    draw ``i + 2`` is that of draw ``i`` times ``M**2`` plus the increment times ``1 + M``
    (mod 2**128, :func:`_pcg64_jump`), so two independent multiplications run at once
    instead of one chain (PCG64's step is a chain: each state waits for the last). The
    same states, so the same doubles, in the same order. Any other bit generator is
    called draw by draw through its function address, as numba does (as does a numpy
    whose layout :data:`PCG64_INLINE` did not recognise)."""
    if not (
        isinstance(bits, types.NumPyRandomBitGeneratorType)
        and isinstance(out, types.Array)
        and out.dtype == types.float64
        and out.ndim == 1
        and out.layout == "C"
    ):
        return None

    def codegen(context, builder, signature, values):
        proxy = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=values[0])
        array = context.make_array(signature.args[1])(context, builder, values[1])
        n, data = builder.extract_value(array.shape, 0), array.data

        def put(at: ir.Value, draw: ir.Value) -> None:
            builder.store(draw, builder.gep(data, [at]))

        with builder.if_else(_is_pcg64(builder, proxy), likely=True) as (pcg64, other):
            with pcg64:
                words = _pcg64_state(builder, proxy)
                inc = _pcg64_increment(builder, words)
                state = _fill_pcg64(builder, put, n, builder.load(words, align=8), inc)
                builder.store(state, words, align=8)
            with other:
                function = _draw_function(builder, proxy)
                with cgutils.for_range(builder, n) as loop:
                    put(loop.index, builder.call(function, [proxy.state]))
        return context.get_dummy_value()

    return types.none(bits, out), codegen


@njit(cache=True)
def uniforms(rng, n: int) -> np.ndarray:
    """``rng.random(n)``, the same draws in the same order (:func:`fill_uniforms`)."""
    out = np.empty(n, np.float64)
    fill_uniforms(rng.bit_generator, out)
    return out


THREADED_DRAWS = 100_000
"""From how many draws :func:`uniforms_on` draws on the threads."""


@njit(cache=True)
def uniforms_on(rng, n: int, threads: int) -> np.ndarray:
    """:func:`uniforms` (``rng.random(n)``), drawn in ``threads`` stretches on numba's
    threads where ``threads`` (:func:`use_threads`), there are many draws and the bit
    generator is numpy's PCG64 stepped here: each stretch starts from the state its first
    draw follows (:func:`fill_pcg64_stretch`), so the draws and the state after them are
    the serial ones."""
    address = pcg64_address(rng.bit_generator)
    if threads and n >= THREADED_DRAWS and address:
        return _uniforms_threads(address, n, threads)
    return uniforms(rng, n)


@njit(cache=True, parallel=True)
def _uniforms_threads(address: int, n: int, parts: int) -> np.ndarray:
    """PCG64's next ``n`` doubles in ``parts`` stretches on the threads; then the state is
    moved past them."""
    out = np.empty(n, np.float64)
    for c in prange(parts):
        lo, hi = stretch(n, parts, c)
        fill_pcg64_stretch(address, out, lo, hi)
    advance_pcg64(address, n)
    return out


def constants(*values: float) -> tuple[float, ...]:
    """The constants a kernel takes, as floats: a kernel is compiled for its argument types,
    so an int where a float was (a slider, a hand-written scenario) would compile it anew."""
    return tuple(map(float, values))


_BLOCK = 128
"""numpy's pairwise-summation block size (``PW_BLOCKSIZE``)."""


@njit(cache=True)
def _block_sum(a: np.ndarray, start: int, n: int) -> float:
    """numpy's sum of one block of at most ``_BLOCK`` values."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    # eight running sums in registers (an array of eight, allocated for every block and
    # summed through memory, took 1.6 times as long on 300,000 values)
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        b = start + i
        r0 += a[b]
        r1 += a[b + 1]
        r2 += a[b + 2]
        r3 += a[b + 3]
        r4 += a[b + 4]
        r5 += a[b + 5]
        r6 += a[b + 6]
        r7 += a[b + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum(a: np.ndarray) -> float:
    """``a.sum()`` exactly as numpy computes it: blocks of ``_BLOCK`` values, 8-way
    unrolled, combined pairwise (numpy halves the range, rounded down to a multiple of 8).
    The halving runs on an explicit stack: numba cannot cache a recursive kernel."""
    n = a.size
    if n <= _BLOCK:
        return _block_sum(a, 0, n)
    start = np.empty(64, np.int64)
    size = np.empty(64, np.int64)
    left = np.empty(64)
    right_next = np.zeros(64, np.bool_)
    start[0], size[0], top = 0, n, 1
    result, returned = 0.0, False
    while top > 0:
        k = top - 1
        if returned:  # a half of frame k was just summed into result
            returned = False
            if not right_next[k]:
                left[k], right_next[k] = result, True
            else:
                result, top, returned = left[k] + result, top - 1, True
                continue
        half = size[k] // 2
        half -= half % 8
        lo, m = (start[k], half) if not right_next[k] else (start[k] + half, size[k] - half)
        if m <= _BLOCK:
            result, returned = _block_sum(a, lo, m), True
        else:
            start[top], size[top], right_next[top] = lo, m, False
            top += 1
    return result


@njit(cache=True)
def searchsorted_right(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.searchsorted(a, q, side="right")`` of a nondecreasing ``a``, exactly, for many
    queries spread over its range (the network's weighted picks: thousands of queries into
    thousands of cumulative weights, where numpy's binary search mispredicts a branch at
    every step). A table of where each of ``a.size`` equal slices of its range starts gives
    each query a place to start; a short scan from there finds the answer, the same as any
    search would (the table only saves time)."""
    n = a.size
    out = np.empty(q.size, np.intp)
    low = a[0] if n else 0.0
    step = (a[n - 1] - low) / n if n else 0.0
    if not step > 0:  # empty, one value, NaN or a range too small to slice: numpy's search
        out[:] = np.searchsorted(a, q, side="right")
        return out
    start = np.empty(n, np.intp)
    i = 0
    for j in range(n):
        edge = low + j * step
        while i < n and a[i] <= edge:
            i += 1
        start[j] = i
    for k in range(q.size):
        x = q[k]
        if not x < a[n - 1]:  # at or past the last value (NaN sorts after everything)
            out[k] = n
            continue
        j = int((x - low) / step) if x > low else 0
        i = start[min(j, n - 1)]
        while i < n and a[i] <= x:
            i += 1
        while i > 0 and a[i - 1] > x:
            i -= 1
        out[k] = i
    return out


@njit(cache=True)
def sort_keys(keys: np.ndarray) -> np.ndarray:
    """``np.sort(keys)`` of non-negative int64 keys (the ties' ``u * n + v``): a radix sort,
    11 bits a pass, as many passes as the largest key needs (3 at the default sizes, 4 at
    full scale), where numpy's comparison sort took 0.43 ms on Malmö's 16,000 keys."""
    n = keys.size
    out = keys.copy()
    if n < 2:
        return out
    top = out.max()
    spare = np.empty(n, np.int64)
    shift = 0
    while shift < 63 and (top >> shift) > 0:
        count = np.zeros(2049, np.int64)
        for i in range(n):
            count[((out[i] >> shift) & 2047) + 1] += 1
        for d in range(2048):
            count[d + 1] += count[d]
        for i in range(n):
            d = (out[i] >> shift) & 2047
            spare[count[d]] = out[i]
            count[d] += 1
        out, spare = spare, out
        shift += 11
    return out


@njit(cache=True)
def flatnonzero(mask: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(mask)`` of a 1-d boolean array, without a branch per element
    (numba's own takes 5.5 times as long on 1.7 million ties, 30% true, here)."""
    n = 0
    for i in range(mask.size):
        n += mask[i]
    rows = np.empty(n + 1, np.intp)
    k = 0
    for i in range(mask.size):
        rows[k] = i
        k += mask[i]
    return rows[:n]


# ---------------------------------------------------------------- threads within a run

THREADS_FROM_TIES = 200_000
"""From how many ties a month's widest passes run on numba's threads (:func:`use_threads`).
Below it a pass is too short for the start of a parallel region to pay much (Malmö on two
threads: 1.04x as fast at 84,000 ties, 1.10x at 167,000, 1.11x at 333,000, about 1.3-1.4x
at full scale's 1.68 million)."""

_threads_allowed = True


def single_threaded() -> None:
    """Keep this process's runs on one thread (the workers of a process pool: the pool
    already uses the cores). Touches nothing of numba's, so it is safe before a fork."""
    global _threads_allowed
    _threads_allowed = False


def use_threads(n_ties: int) -> int:
    """How many threads a month on ``n_ties`` ties gives its widest passes: numba's thread
    count (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``) where there are enough ties
    (:data:`THREADS_FROM_TIES`), the process's runs may take threads
    (:func:`single_threaded`) and this is the process's main thread (Dask's and the app's
    worker threads run serially: numba's fallback thread pool must not be entered from two
    threads at once); else 0, and the passes run serially. Numba's thread count is asked
    last, since asking starts its thread pool; it is handed to the kernels as a number
    because a kernel that asks for it cannot be cached. A pass gives the same result either
    way: its threads take stretches of the elements and nothing depends on the stretches
    (the same sums in the same order), so runs stay bit-identical."""
    if (
        _threads_allowed
        and n_ties >= THREADS_FROM_TIES
        and threading.current_thread() is threading.main_thread()
    ):
        threads = get_num_threads()
        return threads if threads > 1 else 0
    return 0


@njit(cache=True)
def stretch(n: int, parts: int, part: int) -> tuple[int, int]:
    """The bounds of stretch ``part`` of ``parts`` nearly equal stretches of ``range(n)``."""
    size = (n + parts - 1) // parts
    lo = min(n, part * size)
    return lo, min(n, lo + size)


@njit(cache=True, parallel=True)
def join_stretches(rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The stretches' rows one after another: stretch ``c`` (of ``counts.size - 1``) wrote
    ``counts[c + 1]`` rows into ``rows`` from ``lo + c`` on (``lo`` its first element: one
    spare slot per stretch for the write past its last row that finds rows without a
    branch)."""
    parts = counts.size - 1
    n = rows.size - parts
    starts = np.zeros(parts + 1, np.int64)
    for c in range(parts):
        starts[c + 1] = starts[c] + counts[c + 1]
    out = np.empty(starts[parts], rows.dtype)
    for c in prange(parts):
        lo = stretch(n, parts, c)[0]
        for k in range(counts[c + 1]):
            out[starts[c] + k] = rows[lo + c + k]
    return out


@njit(cache=True, parallel=True)
def flatnonzero_threads(mask: np.ndarray, parts: int) -> np.ndarray:
    """:func:`flatnonzero` on the threads, in ``parts`` stretches of the mask (the same
    rows)."""
    rows = np.empty(mask.size + parts, np.intp)
    counts = np.zeros(parts + 1, np.int64)
    for c in prange(parts):
        lo, hi = stretch(mask.size, parts, c)
        k = lo + c
        for i in range(lo, hi):
            rows[k] = i
            k += mask[i]
        counts[c + 1] = k - lo - c
    return join_stretches(rows, counts)


@njit(cache=True)
def rows_of(mask: np.ndarray, threads: int) -> np.ndarray:
    """:func:`flatnonzero`, on ``threads`` threads (:func:`use_threads`; 0: serially)."""
    if threads:
        return flatnonzero_threads(mask, threads)
    return flatnonzero(mask)


@njit(cache=True)
def masked_sum(values: np.ndarray, mask: np.ndarray) -> float:
    """``values[mask].sum()``, exactly."""
    return pairwise_sum(values[mask])


@njit(cache=True)
def masked_mean(values: np.ndarray, mask: np.ndarray, default: float) -> float:
    """``values[mask].mean()`` exactly, or ``default`` where the mask is empty."""
    picked = values[mask]
    return pairwise_sum(picked) / picked.size if picked.size else default


@njit(cache=True)
def mean_at(values: np.ndarray, idx: np.ndarray, default: float) -> float:
    """``values[idx].mean()`` exactly, or ``default`` where ``idx`` is empty (with ``idx``
    the ``flatnonzero`` of a mask, the same as :func:`masked_mean`)."""
    return pairwise_sum(values[idx]) / idx.size if idx.size else default


# ---------------------------------------------------------------- numpy's own math


class NumpyMath(NamedTuple):
    """Addresses of numpy's own loops for ``exp``, ``log`` and ``power`` on float64 and of
    the BLAS ``ddot`` numpy's ``@`` uses (0: numpy has none), and whether that ``ddot``
    takes 64-bit integers. Kernels take this as an argument: an address baked into cached
    machine code would be wrong in the next process."""

    exp: int
    log: int
    power: int
    dot: int
    dot_ilp64: bool


_UFUNC_FUNCTIONS, _UFUNC_DATA, _UFUNC_NTYPES, _UFUNC_NAME, _UFUNC_TYPES = 32, 40, 48, 56, 64
"""Offsets in numpy's ``PyUFuncObject`` (``numpy/ufuncobject.h``, part of numpy's ABI):
``functions``, ``data``, ``ntypes``, ``name``, ``types``."""


def _ufunc_loop(ufunc: np.ufunc, signature: str) -> int:
    """Address of the inner loop numpy runs for ``ufunc`` on ``signature`` (the first loop
    of that signature, as numpy's type resolution picks it). The ufunc's own name, loop
    count and type codes are checked against what Python sees, so a numpy whose layout
    differs is refused rather than misread."""
    at = id(ufunc)
    name = ctypes.c_char_p.from_address(at + _UFUNC_NAME).value
    ntypes = ctypes.c_int.from_address(at + _UFUNC_NTYPES).value
    if name != ufunc.__name__.encode() or ntypes != len(ufunc.types):
        raise RuntimeError(f"numpy {np.__version__}: unknown ufunc layout ({ufunc.__name__})")
    i = ufunc.types.index(signature)
    codes = ctypes.string_at(
        ctypes.c_void_p.from_address(at + _UFUNC_TYPES).value + i * ufunc.nargs, ufunc.nargs
    )
    if list(codes) != [np.dtype(np.float64).num] * ufunc.nargs:
        raise RuntimeError(f"numpy {np.__version__}: unknown ufunc layout ({ufunc.__name__})")
    data = ctypes.c_void_p.from_address(at + _UFUNC_DATA).value
    if ctypes.c_void_p.from_address(data + 8 * i).value:  # the loop needs its data: not ours
        raise RuntimeError(f"numpy {np.__version__}: {ufunc.__name__} loop takes data")
    return ctypes.c_void_p.from_address(
        ctypes.c_void_p.from_address(at + _UFUNC_FUNCTIONS).value + 8 * i
    ).value


def _blas_ddot() -> tuple[int, bool]:
    """Address of the ``cblas_ddot`` numpy links (searched through numpy's own extension
    and the libraries it loads), and whether it takes 64-bit integers; (0, False) where
    numpy has no BLAS."""
    from numpy._core import _multiarray_umath

    lib = ctypes.CDLL(_multiarray_umath.__file__)
    for symbol, ilp64 in (
        ("scipy_cblas_ddot64_", True),
        ("cblas_ddot64_", True),
        ("scipy_cblas_ddot", False),
        ("cblas_ddot", False),
    ):
        try:
            return ctypes.cast(lib[symbol], ctypes.c_void_p).value, ilp64
        except AttributeError:
            continue
    return 0, False


def _numpy_math() -> NumpyMath:
    dot, ilp64 = _blas_ddot()
    return NumpyMath(
        _ufunc_loop(np.exp, "d->d"),
        _ufunc_loop(np.log, "d->d"),
        _ufunc_loop(np.power, "dd->d"),
        dot,
        ilp64,
    )


NUMPY = _numpy_math()
"""numpy's math in this process, for the kernels' ``numpy`` argument."""
NUMPY_FIELDS = tuple(NUMPY)
""":data:`NUMPY` as a plain tuple, as the month's compiled calls take it (numba types a
plain tuple in its compiled dispatcher, a named tuple in Python: 0.3 against 1.0 µs a
call); they make the :class:`NumpyMath` of it inside."""


@intrinsic
def _call_loop(typingctx, loop, args, dims, steps):
    """Call numpy's inner loop at address ``loop`` (``loop(args, dims, steps, NULL)``)."""

    def codegen(context, builder, signature, values):
        ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ptr, ptr, ptr, ptr])
        fn = builder.inttoptr(values[0], fnty.as_pointer())
        builder.call(fn, [builder.inttoptr(x, ptr) for x in values[1:]] + [ptr(None)])
        return context.get_dummy_value()

    return types.none(loop, args, dims, steps), codegen


@intrinsic
def _call_ddot(typingctx, dot, n, x, y, ilp64):
    """``cblas_ddot(n, x, 1, y, 1)`` at address ``dot`` (64- or 32-bit integers)."""

    def codegen(context, builder, signature, values):
        fn_at, n_, x_, y_, wide = values
        ptr = ir.DoubleType().as_pointer()
        out = cgutils.alloca_once(builder, ir.DoubleType())
        for bits, flag in ((64, True), (32, False)):
            integer = ir.IntType(bits)
            fnty = ir.FunctionType(ir.DoubleType(), [integer, ptr, integer, ptr, integer])
            pred = builder.icmp_unsigned("!=" if flag else "==", wide, wide.type(0))
            with builder.if_then(pred):
                fn = builder.inttoptr(fn_at, fnty.as_pointer())
                one = integer(1)
                count = builder.trunc(n_, integer) if bits < 64 else n_
                args = [count, builder.inttoptr(x_, ptr), one, builder.inttoptr(y_, ptr), one]
                builder.store(builder.call(fn, args), out)
        return builder.load(out)

    return types.float64(dot, n, x, y, ilp64), codegen


@intrinsic
def _keep_alive(typingctx, arrays):
    """Nothing, but the arrays are in use until here: numba frees an array after its last
    use, and a raw address handed to a C function is not a use."""

    def codegen(context, builder, signature, values):
        return context.get_dummy_value()

    return types.none(arrays), codegen


@njit(cache=True)
def _run_loop(loop, operands, steps):
    """Run numpy's inner loop at address ``loop`` over 1-d float64 ``operands`` (inputs,
    then the output), each advanced by its entry of ``steps`` (bytes; 0: a scalar), for
    as many elements as the output has."""
    args = np.empty(len(operands), np.intp)
    for j in range(len(operands)):
        args[j] = operands[j].ctypes.data
    dims = np.full(1, operands[-1].size, np.intp)
    _call_loop(loop, args.ctypes.data, dims.ctypes.data, steps.ctypes.data)
    _keep_alive((operands, args, dims, steps))


@njit(cache=True)
def _unary(loop, x):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    _run_loop(loop, (x, out), np.full(2, 8, np.intp))
    return out


@njit(cache=True)
def np_exp(numpy, x):
    """``np.exp(x)`` of a 1-d float64 array, by numpy's own loop."""
    return _unary(numpy.exp, x)


@njit(cache=True)
def np_log(numpy, x):
    """``np.log(x)`` of a 1-d float64 array, by numpy's own loop."""
    return _unary(numpy.log, x)


@njit(cache=True)
def np_power(numpy, base, exponents):
    """``base ** exponents`` (a float, a 1-d array of numbers) as numpy computes it."""
    x = exponents.astype(np.float64)
    out = np.empty(x.size)
    _run_loop(numpy.power, (np.full(1, base), x, out), np.array([0, 8, 8], np.intp))
    return out


@njit(cache=True)
def np_dot(numpy, a, b):
    """``a @ b`` of two contiguous float64 vectors as numpy computes it: by the BLAS numpy
    links, or in order where numpy links none (numpy's own loop, up to its compiler's
    contraction of multiply and add)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if numpy.dot != 0:
        dot = _call_ddot(numpy.dot, a.size, a.ctypes.data, b.ctypes.data, numpy.dot_ilp64)
        _keep_alive((a, b))
        return dot
    total = 0.0
    for i in range(a.size):
        total += a[i] * b[i]
    return total
