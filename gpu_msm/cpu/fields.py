"""Fq, Fr and Fq2 = Fq[u]/(u²+1) in Montgomery form, plus type-generic field operations.

Fq and Fr elements are ``UniTuple(uint64, 4)``; an Fq2 element is a pair of them
``(c0, c1)`` meaning c0 + c1·u.  The ``f_*`` functions dispatch on that type at compile
time (numba ``overload``), so one curve routine serves G1 and G2.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

from gpu_msm.constants import FQ_INV64, FQ_MODULUS, FR_INV64, FR_MODULUS
from gpu_msm.cpu import mont
from gpu_msm.cpu.mont import limbs

FQ_P = limbs(FQ_MODULUS)
FQ_PINV = np.uint64(FQ_INV64)
FQ_ONE = limbs((1 << 256) % FQ_MODULUS)  # 1 in Montgomery form: R mod q
FQ_R2 = limbs((1 << 512) % FQ_MODULUS)  # R² mod q: canonical -> Montgomery
FQ_ONE_CANON = limbs(1)  # Montgomery -> canonical is a product with plain 1
FQ_INV_EXP = limbs(FQ_MODULUS - 2)  # Fermat: a^(q−2) = a^{-1}

FR_P = limbs(FR_MODULUS)
FR_PINV = np.uint64(FR_INV64)
FR_ONE = limbs((1 << 256) % FR_MODULUS)
FR_R2 = limbs((1 << 512) % FR_MODULUS)
FR_INV_EXP = limbs(FR_MODULUS - 2)

assert FQ_MODULUS < 1 << 254 and FR_MODULUS < 1 << 254  # mont.py's no-carry CIOS needs this


# ---------------------------------------------------------------- Fq

@njit(cache=True)
def fq_mul(a, b):
    return mont.mont_mul(a, b, FQ_P, FQ_PINV)


@njit(cache=True)
def fq_add(a, b):
    return mont.add_mod(a, b, FQ_P)


@njit(cache=True)
def fq_sub(a, b):
    return mont.sub_mod(a, b, FQ_P)


@njit(cache=True)
def fq_inv(a):
    """a^{-1}; 0 maps to 0 (callers keep zero out of batch inversions)."""
    return mont.mont_pow(a, FQ_INV_EXP, FQ_ONE, FQ_P, FQ_PINV)


@njit(cache=True)
def fq_to_mont(a):
    return mont.mont_mul(a, FQ_R2, FQ_P, FQ_PINV)


@njit(cache=True)
def fq_from_mont(a):
    return mont.mont_mul(a, FQ_ONE_CANON, FQ_P, FQ_PINV)


# ---------------------------------------------------------------- Fr

@njit(cache=True)
def fr_mul(a, b):
    return mont.mont_mul(a, b, FR_P, FR_PINV)


@njit(cache=True)
def fr_add(a, b):
    return mont.add_mod(a, b, FR_P)


@njit(cache=True)
def fr_sub(a, b):
    return mont.sub_mod(a, b, FR_P)


@njit(cache=True)
def fr_inv(a):
    return mont.mont_pow(a, FR_INV_EXP, FR_ONE, FR_P, FR_PINV)


@njit(cache=True)
def fr_to_mont(a):
    return mont.mont_mul(a, FR_R2, FR_P, FR_PINV)


@njit(cache=True)
def fr_from_mont(a):
    return mont.mont_mul(a, FQ_ONE_CANON, FR_P, FR_PINV)


# ---------------------------------------------------------------- Fq2

@njit(cache=True)
def fq2_mul(a, b):
    # Karatsuba: three Fq products instead of four
    t0 = fq_mul(a[0], b[0])
    t1 = fq_mul(a[1], b[1])
    t2 = fq_mul(fq_add(a[0], a[1]), fq_add(b[0], b[1]))
    return (fq_sub(t0, t1), fq_sub(fq_sub(t2, t0), t1))


@njit(cache=True)
def fq2_sqr(a):
    # (a0 + a1·u)² = (a0 + a1)(a0 − a1) + 2·a0·a1·u
    t = fq_mul(a[0], a[1])
    return (fq_mul(fq_add(a[0], a[1]), fq_sub(a[0], a[1])), fq_add(t, t))


@njit(cache=True)
def fq2_inv(a):
    # 1/(a0 + a1·u) = (a0 − a1·u) / (a0² + a1²)
    t = fq_inv(fq_add(fq_mul(a[0], a[0]), fq_mul(a[1], a[1])))
    return (fq_mul(a[0], t), fq_sub(mont.ZERO, fq_mul(a[1], t)))


# ---------------------------------------------------------------- generic (Fq or Fq2)

def _is_fq(t):
    return isinstance(t, types.UniTuple) and t.dtype == types.uint64


def _is_fq2(t):
    return isinstance(t, types.UniTuple) and t.count == 2 and _is_fq(t.dtype)


def f_add(a, b):
    raise NotImplementedError  # numba-only; see the overloads below


def f_sub(a, b):
    raise NotImplementedError


def f_mul(a, b):
    raise NotImplementedError


def f_sqr(a):
    raise NotImplementedError


def f_inv(a):
    raise NotImplementedError


def f_is_zero(a):
    raise NotImplementedError


def f_eq(a, b):
    raise NotImplementedError


def f_zero(a):
    """The zero of a's field."""
    raise NotImplementedError


def f_one(a):
    """The one (Montgomery form) of a's field."""
    raise NotImplementedError


@overload(f_add)
def _f_add(a, b):
    if _is_fq(a):
        return lambda a, b: fq_add(a, b)
    if _is_fq2(a):
        return lambda a, b: (fq_add(a[0], b[0]), fq_add(a[1], b[1]))


@overload(f_sub)
def _f_sub(a, b):
    if _is_fq(a):
        return lambda a, b: fq_sub(a, b)
    if _is_fq2(a):
        return lambda a, b: (fq_sub(a[0], b[0]), fq_sub(a[1], b[1]))


@overload(f_mul)
def _f_mul(a, b):
    if _is_fq(a):
        return lambda a, b: fq_mul(a, b)
    if _is_fq2(a):
        return lambda a, b: fq2_mul(a, b)


@overload(f_sqr)
def _f_sqr(a):
    if _is_fq(a):
        return lambda a: fq_mul(a, a)
    if _is_fq2(a):
        return lambda a: fq2_sqr(a)


@overload(f_inv)
def _f_inv(a):
    if _is_fq(a):
        return lambda a: fq_inv(a)
    if _is_fq2(a):
        return lambda a: fq2_inv(a)


@overload(f_is_zero)
def _f_is_zero(a):
    if _is_fq(a):
        return lambda a: mont.is_zero(a)
    if _is_fq2(a):
        return lambda a: mont.is_zero(a[0]) and mont.is_zero(a[1])


@overload(f_eq)
def _f_eq(a, b):
    if _is_fq(a):
        return lambda a, b: mont.equal(a, b)
    if _is_fq2(a):
        return lambda a, b: mont.equal(a[0], b[0]) and mont.equal(a[1], b[1])


@overload(f_zero)
def _f_zero(a):
    if _is_fq(a):
        return lambda a: mont.ZERO
    if _is_fq2(a):
        return lambda a: (mont.ZERO, mont.ZERO)


@overload(f_one)
def _f_one(a):
    if _is_fq(a):
        return lambda a: FQ_ONE
    if _is_fq2(a):
        return lambda a: (FQ_ONE, mont.ZERO)
