"""Compiled helpers shared by the mechanisms' kernels: sums that equal numpy's exactly,
and numpy's own math.

The monthly rules run as small numba kernels, one per mechanism, next to the rule they
implement. A kernel gives the same floating-point result as the numpy expression it
replaces: element-wise arithmetic in the same order, per-node sums accumulated tie by tie
in tie order (as ``np.bincount`` does), sums of whole arrays by numpy's own pairwise
summation (:func:`pairwise_sum`), and ``exp``, ``log``, ``**`` and ``@`` by numpy's own
loops and BLAS (:data:`NUMPY`, :func:`np_exp`, ...), so a seed gives the same run bit for
bit.

Kernels that draw take the model's ``numpy.random.Generator``. Numba types such an
argument anew on every call (about 8 of the 15 µs it takes to hand one over);
:func:`_generator_type` gives the one type it always is, so the hand-over costs half.
"""

from __future__ import annotations

import ctypes
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, typeof_impl

_GENERATOR = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")


@typeof_impl.register(np.random.Generator)
def _generator_type(value: np.random.Generator, context: object) -> types.Type:
    """Numba's type of a numpy ``Generator`` argument: always the same one."""
    return _GENERATOR


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
    r = a[start : start + 8].copy()
    i = 8
    stop = n - n % 8
    while i < stop:
        for j in range(8):
            r[j] += a[start + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
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


@njit(cache=True)
def masked_sum(values: np.ndarray, mask: np.ndarray) -> float:
    """``values[mask].sum()``, exactly."""
    return pairwise_sum(values[mask])


@njit(cache=True)
def masked_mean(values: np.ndarray, mask: np.ndarray, default: float) -> float:
    """``values[mask].mean()`` exactly, or ``default`` where the mask is empty."""
    picked = values[mask]
    return pairwise_sum(picked) / picked.size if picked.size else default


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
