"""Montgomery arithmetic on 4×64-bit limbs, R = 2^256, for a modulus below 2^254.

An element is a ``UniTuple(uint64, 4)``, little-endian, in [0, p).  Tuples rather than
arrays so that elements live in registers: LLVM sees plain SSA values and no loads.
The modulus ``p`` and ``pinv`` = −p^{-1} mod 2^64 are passed as global tuples, which
numba freezes into constants; after inlining LLVM folds them into the instructions.

Why the i128 intrinsic (gpu_msm/cpu/wide.py): timed on dependent Fq products, this
CIOS was far faster than the same CIOS with 64×64 products assembled from 32-bit halves
and than CIOS on 8×32-bit limbs held in uint64 words
(figures: bench/RESULTS.md, 'Measurements moved from code comments').
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gpu_msm.cpu.wide import adc, mac, sbb

ZERO64 = np.uint64(0)
ZERO = (ZERO64, ZERO64, ZERO64, ZERO64)


def limbs(value: int) -> tuple:
    """Python int -> limb tuple (for constants)."""
    return tuple(np.uint64((value >> (64 * i)) & 0xFFFFFFFFFFFFFFFF) for i in range(4))


@njit(cache=True, inline="always")
def _cios_round(t, a, bi, p, pinv):
    # One CIOS step, "no-carry" form: valid because p < 2^254 leaves the top
    # word's two high bits clear, so t stays below 2p and fits four words.
    t0, t1, t2, t3 = t
    t0, c = mac(a[0], bi, t0, ZERO64)
    m = t0 * pinv
    _, c2 = mac(m, p[0], t0, ZERO64)
    t1, c = mac(a[1], bi, t1, c)
    t0, c2 = mac(m, p[1], t1, c2)
    t2, c = mac(a[2], bi, t2, c)
    t1, c2 = mac(m, p[2], t2, c2)
    t3, c = mac(a[3], bi, t3, c)
    t2, c2 = mac(m, p[3], t3, c2)
    return (t0, t1, t2, c + c2)


@njit(cache=True, inline="always")
def reduce_once(t, p):
    """t − p if t ≥ p, for t < 2p."""
    d0, b = sbb(t[0], p[0], ZERO64)
    d1, b = sbb(t[1], p[1], b)
    d2, b = sbb(t[2], p[2], b)
    d3, b = sbb(t[3], p[3], b)
    if b:
        return t
    return (d0, d1, d2, d3)


@njit(cache=True, inline="always")
def mont_mul(a, b, p, pinv):
    """a·b·R^{-1} mod p."""
    t = _cios_round(ZERO, a, b[0], p, pinv)
    t = _cios_round(t, a, b[1], p, pinv)
    t = _cios_round(t, a, b[2], p, pinv)
    t = _cios_round(t, a, b[3], p, pinv)
    return reduce_once(t, p)


@njit(cache=True, inline="always")
def add_mod(a, b, p):
    s0, c = adc(a[0], b[0], ZERO64)
    s1, c = adc(a[1], b[1], c)
    s2, c = adc(a[2], b[2], c)
    s3, c = adc(a[3], b[3], c)
    return reduce_once((s0, s1, s2, s3), p)


@njit(cache=True, inline="always")
def sub_mod(a, b, p):
    d0, br = sbb(a[0], b[0], ZERO64)
    d1, br = sbb(a[1], b[1], br)
    d2, br = sbb(a[2], b[2], br)
    d3, br = sbb(a[3], b[3], br)
    if br:
        d0, c = adc(d0, p[0], ZERO64)
        d1, c = adc(d1, p[1], c)
        d2, c = adc(d2, p[2], c)
        d3, c = adc(d3, p[3], c)
    return (d0, d1, d2, d3)


@njit(cache=True, inline="always")
def is_zero(a):
    return (a[0] | a[1] | a[2] | a[3]) == ZERO64


@njit(cache=True, inline="always")
def equal(a, b):
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == ZERO64


@njit(cache=True, inline="always")
def less_than(a, b):
    """a < b as 256-bit integers."""
    _, br = sbb(a[0], b[0], ZERO64)
    _, br = sbb(a[1], b[1], br)
    _, br = sbb(a[2], b[2], br)
    _, br = sbb(a[3], b[3], br)
    return br != ZERO64


@njit(cache=True)
def mont_pow(a, e, one, p, pinv):
    """a^e for an exponent given as a limb tuple (e.g. p − 2 for inversion)."""
    acc = one
    for i in range(255, -1, -1):
        acc = mont_mul(acc, acc, p, pinv)
        if (e[i >> 6] >> np.uint64(i & 63)) & np.uint64(1):
            acc = mont_mul(acc, a, p, pinv)
    return acc
