"""Batch fixed-base scalar multiplication: scalars[i]·P for one point P and many scalars.

What a trusted setup needs (every proving-key point is a known scalar times a generator),
so the point is the same for the whole batch and a table of its multiples pays off:

table  T[w·256 + d] = d·2^(8w)·P for the 32 byte positions w and every byte d, affine
       (8192 points, built once per call: 8160 XYZZ additions and one batch inversion).
apply  scalars[i]·P = Σ_w T[w·256 + byte_w(scalars[i])]: at most 32 additions, no
       doublings.  The additions are affine, a chunk of outputs at a time: each window
       adds one table point to every output of the chunk and all those slopes share one
       field inversion (Montgomery's trick), as pippenger.accumulate_window does.  About
       6 products per addition against 10 for a mixed XYZZ addition, and the results come
       out affine, so there is no final normalisation.

Chunks are independent, so the chunk loop is the parallel one (prange).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from gpu_msm.cpu.convert import check_below, fq_rows_from_mont, fq_rows_to_mont
from gpu_msm.cpu.curve import (affine_add_finish, affine_add_parts, xyzz_add, xyzz_from_affine,
                               xyzz_inf)
from gpu_msm.cpu.fields import f_inv, f_is_zero, f_mul, f_one
from gpu_msm.cpu.layout import load, load_affine, store, store_affine, store_xyzz
from gpu_msm.cpu.serial import serialized

WINDOW_BITS = 8
TABLE = 1 << WINDOW_BITS
WINDOWS = 256 // WINDOW_BITS  # every byte of the 4×64-bit scalar, the top one mostly zero
# Outputs per chunk: large enough that the chunk's one inversion per window (~380 products)
# is a few percent of its 2048 additions, small enough that the chunk's accumulators,
# denominators and prefix products (G2: 2048 × 256 bytes) stay in a core's L2.
CHUNK = 2048


@njit(cache=True, inline="always")
def _digit(scalars, i, w):
    limb = scalars[i, w >> 3]
    return np.int64((limb >> np.uint64((w & 7) * WINDOW_BITS)) & np.uint64(TABLE - 1))


@njit(cache=True, nogil=True)
def build_table(point):
    """(WINDOWS·TABLE, 2) + element shape affine table (Montgomery) of the (1, 2, …) point."""
    size = WINDOWS * TABLE
    xyzz = np.empty((size, 4) + point.shape[2:], np.uint64)
    base = xyzz_from_affine(load_affine(point, 0))
    for w in range(WINDOWS):
        acc = xyzz_inf(base[0])
        for d in range(TABLE):
            store_xyzz(xyzz, w * TABLE + d, acc)
            acc = xyzz_add(acc, base)
        base = acc  # 256·2^(8w)·P = 2^(8(w+1))·P
    # to affine with one inversion: t_i = ZZ·ZZZ, 1/ZZ = ZZZ/t_i, 1/ZZZ = ZZ/t_i
    table = np.zeros((size, 2) + point.shape[2:], np.uint64)
    prefix = np.empty((size, 1) + point.shape[2:], np.uint64)
    prod = f_one(load(xyzz, 0, 0))
    for i in range(size):
        zz = load(xyzz, i, 2)
        if f_is_zero(zz):
            continue  # d = 0: infinity, left as (0, 0)
        store(prefix, i, 0, prod)
        prod = f_mul(prod, f_mul(zz, load(xyzz, i, 3)))
    inv = f_inv(prod)
    for i in range(size - 1, -1, -1):
        zz = load(xyzz, i, 2)
        if f_is_zero(zz):
            continue
        zzz = load(xyzz, i, 3)
        t_inv = f_mul(inv, load(prefix, i, 0))
        inv = f_mul(inv, f_mul(zz, zzz))
        store(table, i, 0, f_mul(load(xyzz, i, 0), f_mul(zzz, t_inv)))
        store(table, i, 1, f_mul(load(xyzz, i, 1), f_mul(zz, t_inv)))
    return table


@njit(cache=True)
def _apply_chunk(table, scalars, out, lo, hi):
    """out[lo:hi] (all infinity on entry) += the table points that scalars[lo:hi] select."""
    m = hi - lo
    like = load(table, 0, 0)
    dens = np.empty((m, 1) + table.shape[2:], np.uint64)
    prefix = np.empty_like(dens)
    for w in range(WINDOWS):
        # pass 1: slope denominators and their running product (zero digits add nothing)
        prod = f_one(like)
        any_digit = False
        for j in range(m):
            d = _digit(scalars, lo + j, w)
            if d == 0:
                continue
            any_digit = True
            _, den, _ = affine_add_parts(load_affine(out, lo + j), load_affine(table, w * TABLE + d))
            store(dens, j, 0, den)
            store(prefix, j, 0, prod)
            prod = f_mul(prod, den)
        if not any_digit:
            continue
        # pass 2: one inversion, then each denominator's inverse, last to first
        inv = f_inv(prod)
        for j in range(m - 1, -1, -1):
            if _digit(scalars, lo + j, w) == 0:
                continue
            den = load(dens, j, 0)
            store(dens, j, 0, f_mul(inv, load(prefix, j, 0)))
            inv = f_mul(inv, den)
        # pass 3: the sums
        for j in range(m):
            d = _digit(scalars, lo + j, w)
            if d == 0:
                continue
            p = load_affine(out, lo + j)
            q = load_affine(table, w * TABLE + d)
            num, _, kind = affine_add_parts(p, q)
            lam = f_mul(num, load(dens, j, 0))
            store_affine(out, lo + j, affine_add_finish(p, q, lam, kind))


@njit(parallel=True, cache=True, nogil=True)
def apply_table(table, scalars, out, chunk):
    n = scalars.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for c in prange(n_chunks):
        _apply_chunk(table, scalars, out, c * chunk, min(n, (c + 1) * chunk))


def _fixed_base(point, scalars, point_shape: tuple) -> np.ndarray:
    point = np.ascontiguousarray(point, dtype=np.uint64)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if point.shape != point_shape:
        raise ValueError(f"point: shape {point.shape}, expected {point_shape}")
    if scalars.ndim != 2 or scalars.shape[1] != 4:
        raise ValueError(f"scalars: shape {scalars.shape}, expected (n, 4)")
    n = scalars.shape[0]
    out = np.zeros((n,) + point_shape, np.uint64)  # (0, 0): infinity, also for zero scalars
    if n == 0 or not point.any():
        return out
    check_below(point.reshape(-1, 4), "q", "point")
    check_below(scalars, "r", "scalars")
    mont_point = fq_rows_to_mont(point.reshape(-1, 4)).reshape((1,) + point_shape)
    table = build_table(mont_point)
    apply_table(table, scalars, out, CHUNK)
    return fq_rows_from_mont(out.reshape(-1, 4)).reshape(out.shape)


@serialized
def fixed_base_g1(point, scalars):
    """scalars[i]·point in G1: canonical affine (2, 4) and (n, 4) scalars < r -> (n, 2, 4)."""
    return _fixed_base(point, scalars, (2, 4))


@serialized
def fixed_base_g2(point, scalars):
    """scalars[i]·point in G2: canonical affine (2, 2, 4) and (n, 4) -> (n, 2, 2, 4)."""
    return _fixed_base(point, scalars, (2, 2, 4))
