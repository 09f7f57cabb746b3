"""Compiled helpers shared by the mechanisms' kernels: sums that equal numpy's exactly.

The monthly rules run as small numba kernels, one per mechanism, next to the rule they
implement. A kernel gives the same floating-point result as the numpy expression it
replaces: element-wise arithmetic in the same order, per-node sums accumulated tie by tie
in tie order (as ``np.bincount`` does), and sums of whole arrays by numpy's own pairwise
summation (:func:`pairwise_sum`), so a seed gives the same run bit for bit. Random draws
stay outside the kernels, drawn from the model's generator in the same order as before.

Kernels that draw take the model's ``numpy.random.Generator``. Numba types such an
argument anew on every call (about 8 of the 15 µs it takes to hand one over);
:func:`_generator_type` gives the one type it always is, so the hand-over costs half.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import typeof_impl

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
def masked_sum(values: np.ndarray, mask: np.ndarray) -> float:
    """``values[mask].sum()``, exactly."""
    return pairwise_sum(values[mask])


@njit(cache=True)
def masked_mean(values: np.ndarray, mask: np.ndarray, default: float) -> float:
    """``values[mask].mean()`` exactly, or ``default`` where the mask is empty."""
    picked = values[mask]
    return pairwise_sum(picked) / picked.size if picked.size else default
