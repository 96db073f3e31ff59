"""Radix-2 NTT over Fr on the snarkjs domain ω_n = 5^((r−1)/n), and its odd coset.

Cooley–Tukey, decimation in time: bit-reverse, then log2(n) stages of n/2 butterflies.
Every stage is one prange over its butterflies, so the two cores share each stage
whatever its block size.  Inputs and outputs are canonical; the conversions to and from
Montgomery form are folded into the bit reversal and into the final scaling.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from gpu_msm.constants import FR_GENERATOR, FR_MODULUS, FR_TWO_ADICITY
from gpu_msm.cpu.convert import check_below
from gpu_msm.cpu.fields import FR_ONE, FR_R2, fr_add, fr_mul, fr_sub
from gpu_msm.cpu.mont import limbs
from gpu_msm.cpu.serial import serialized

R = FR_MODULUS
_MONT = 1 << 256


def root_of_unity(n: int) -> int:
    return pow(FR_GENERATOR, (R - 1) // n, R)


def _mont_limbs(value: int) -> tuple:
    return limbs(value * _MONT % R)


@njit(cache=True, nogil=True)
def _powers(first, base, count):
    """first·base^i for i < count, Montgomery in and out, as (count, 4) rows."""
    out = np.empty((count, 4), np.uint64)
    acc = first
    for i in range(count):
        for j in range(4):
            out[i, j] = acc[j]
        acc = fr_mul(acc, base)
    return out


@functools.lru_cache(maxsize=8)
def twiddles(n: int, inverse: bool) -> np.ndarray:
    """ω_n^j (or ω_n^−j) for j < n/2, Montgomery form; cached: a prover reuses its n."""
    w = root_of_unity(n)
    if inverse:
        w = pow(w, -1, R)
    return _powers(FR_ONE, _mont_limbs(w), max(n // 2, 1))


@functools.lru_cache(maxsize=8)
def _coset_factors(n: int) -> np.ndarray:
    """g^i / n for i < n, g = ω_2n, Montgomery form: the iNTT's 1/n folded in."""
    return _powers(_mont_limbs(pow(n, -1, R)), _mont_limbs(root_of_unity(2 * n)), n)


@njit(cache=True)
def _reverse_bits(i, bits):
    j = 0
    for _ in range(bits):
        j = (j << 1) | (i & 1)
        i >>= 1
    return j


@njit(parallel=True, cache=True, nogil=True)
def _bit_reverse_scaled(values, log_n, factors):
    """out[rev(i)] = values[i]·factors[i] (Montgomery product); one factor row = all alike.

    With factor R² mod r this converts canonical input to Montgomery form on the way.
    """
    n = values.shape[0]
    step = 0 if factors.shape[0] == 1 else 1
    out = np.empty_like(values)
    for i in prange(n):
        j = _reverse_bits(i, log_n)
        f = i * step
        v = fr_mul((values[i, 0], values[i, 1], values[i, 2], values[i, 3]),
                   (factors[f, 0], factors[f, 1], factors[f, 2], factors[f, 3]))
        for k in range(4):
            out[j, k] = v[k]
    return out


@njit(cache=True)
def _butterfly_range(a, tw, half, stride, lo, hi):
    """Butterflies lo..hi−1 of the stage whose pairs are half apart."""
    mask = half - 1  # half is a power of two: no division in the loop
    for t in range(lo, hi):
        k = t & mask
        i = ((t - k) << 1) + k
        j = i + half
        w = (tw[k * stride, 0], tw[k * stride, 1], tw[k * stride, 2], tw[k * stride, 3])
        u = (a[i, 0], a[i, 1], a[i, 2], a[i, 3])
        v = fr_mul((a[j, 0], a[j, 1], a[j, 2], a[j, 3]), w)
        s = fr_add(u, v)
        d = fr_sub(u, v)
        for q in range(4):
            a[i, q] = s[q]
            a[j, q] = d[q]


@njit(cache=True)
def _block_stages(a, tw, lo, size):
    """Every stage whose pairs lie within a[lo:lo+size] (size a power of two)."""
    n = a.shape[0]
    half = 1
    while half < size:
        _butterfly_range(a, tw, half, n // (2 * half), lo // 2, (lo + size) // 2)
        half *= 2


# Elements per block for the early stages: 2^12 × 32 B = 128 KiB stays in L2 through
# twelve stages; smaller and larger blocks, and one prange per stage, were slower
# (figures: bench/RESULTS.md, "Measurements moved from code comments").
_BLOCK = 1 << 12
_CHUNKS = 16  # prange pieces per late stage: enough for two cores to balance


@njit(parallel=True, cache=True, nogil=True)
def _butterflies(a, tw):
    n = a.shape[0]
    block = min(n, _BLOCK)
    for b in prange(n // block):
        _block_stages(a, tw, b * block, block)
    pairs = n // 2
    piece = max(pairs // _CHUNKS, 1)
    half = block
    while half < n:
        stride = n // (2 * half)
        for c in prange((pairs + piece - 1) // piece):
            _butterfly_range(a, tw, half, stride, c * piece, min(pairs, (c + 1) * piece))
        half *= 2


@njit(parallel=True, cache=True, nogil=True)
def _scale_by(a, factor):
    """a[i]·factor (Montgomery product), in place."""
    for i in prange(a.shape[0]):
        v = fr_mul((a[i, 0], a[i, 1], a[i, 2], a[i, 3]), factor)
        for q in range(4):
            a[i, q] = v[q]


def _check(values) -> tuple[np.ndarray, int]:
    values = np.ascontiguousarray(values, dtype=np.uint64)
    if values.ndim != 2 or values.shape[1] != 4:
        raise ValueError(f"values: shape {values.shape}, expected (n, 4)")
    n = values.shape[0]
    if n < 1 or n & (n - 1) or n > 1 << FR_TWO_ADICITY:
        raise ValueError(f"domain size {n} is not a power of two in [1, 2^{FR_TWO_ADICITY}]")
    check_below(values, "r", "values")
    return values, n.bit_length() - 1


_TO_MONT = np.array([FR_R2], np.uint64)
_CANONICAL_ONE = limbs(1)  # a Montgomery product with plain 1 leaves Montgomery form


@serialized
def ntt(values):
    """Evaluations at ω_n^i of the coefficients (n, 4) -> (n, 4), canonical."""
    values, log_n = _check(values)
    a = _bit_reverse_scaled(values, log_n, _TO_MONT)
    _butterflies(a, twiddles(1 << log_n, False))
    _scale_by(a, _CANONICAL_ONE)
    return a


@serialized
def intt(values):
    """Coefficients of the polynomial with these evaluations on the size-n domain."""
    values, log_n = _check(values)
    a = _bit_reverse_scaled(values, log_n, _TO_MONT)
    _butterflies(a, twiddles(1 << log_n, True))
    _scale_by(a, limbs(pow(1 << log_n, -1, R)))  # leaves Montgomery form and divides by n
    return a


@serialized
def odd_coset(values):
    """Domain evaluations -> evaluations at g·ω_n^i, g = ω_2n (iNTT, coefficient i × g^i, NTT)."""
    values, log_n = _check(values)
    n = 1 << log_n
    a = _bit_reverse_scaled(values, log_n, _TO_MONT)
    _butterflies(a, twiddles(n, True))
    a = _bit_reverse_scaled(a, log_n, _coset_factors(n))  # coefficients × g^i/n, reordered
    _butterflies(a, twiddles(n, False))
    _scale_by(a, _CANONICAL_ONE)
    return a
