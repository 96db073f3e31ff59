"""Pippenger's bucket method, one stage per function, generic over G1 and G2.

breakdown  scalars -> signed c-bit digits in [−2^(c−1), 2^(c−1)], so a window needs
           2^(c−1) buckets and a negative digit adds −P (negating y is free).
sort       per window, a counting sort of the (signed) points by bucket.
accumulate per window, each bucket's points summed in affine coordinates, pairwise in
           rounds, every round sharing one field inversion (Montgomery's trick).
integrate  per window, Σ d·bucket[d] as running sums in XYZZ.
collect    Σ 2^(c·w)·window[w], most significant window first.

Windows are independent, so the window loop is the parallel one (prange).

Why batch-affine accumulation: an affine addition with a shared inversion costs about
6 products against 10 for a mixed addition into XYZZ buckets, and it measured faster
for both curves (figures: bench/RESULTS.md, "Measurements moved from code comments").

The XYZZ bucket method stays here as a second strategy (``window_sums_xyzz``: every point
added straight into its bucket, no sort, then running sums of XYZZ buckets) so that the
claim above can be re-measured on other machines: ``coprove tune --backend cpu`` times
both and keeps the faster in its cache (figures in bench/RESULTS.md, "Autotuner").
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from gpu_msm.cpu.curve import (affine_add_finish, affine_add_parts, affine_neg,
                               xyzz_add, xyzz_add_affine, xyzz_double, xyzz_inf,
                               xyzz_to_affine)
from gpu_msm.cpu.fields import f_inv, f_mul, f_one
from gpu_msm.cpu.layout import load, load_affine, load_xyzz, store, store_affine, store_xyzz

SCALAR_BITS = 254


def window_count(c: int, bits: int = SCALAR_BITS) -> int:
    # digits carry into the next window, so a scalar below 2^bits may need one more
    return bits // c + 1


@njit(parallel=True, cache=True, nogil=True)
def breakdown(scalars, skip, c, n_windows):
    """(n, 4) canonical scalars -> (n_windows, n) int32 signed digits; zero where skip."""
    n = scalars.shape[0]
    digits = np.empty((n_windows, n), np.int32)
    mask = (1 << c) - 1
    half = 1 << (c - 1)
    for i in prange(n):
        carry = 0
        for w in range(n_windows):
            off = w * c
            limb = off >> 6
            shift = off & 63
            bits = scalars[i, limb] >> np.uint64(shift)
            if shift + c > 64 and limb < 3:
                bits |= scalars[i, limb + 1] << np.uint64(64 - shift)
            d = np.int64(bits & np.uint64(mask)) + carry
            carry = 0
            if d > half:
                d -= 1 << c
                carry = 1
            digits[w, i] = 0 if skip[i] else d
    return digits


@njit(cache=True)
def sort_window(bases, digits, half):
    """Points of one window grouped by bucket, negated where the digit is negative.

    Returns (points, start, count): bucket b's points are points[start[b]:start[b]+count[b]].
    """
    n = digits.shape[0]
    count = np.zeros(half + 1, np.int64)
    for i in range(n):
        count[abs(digits[i])] += 1
    count[0] = 0  # digit 0 adds nothing
    start = np.empty(half + 1, np.int64)
    total = 0
    for b in range(half + 1):
        start[b] = total
        total += count[b]
    fill = start.copy()
    points = np.empty((total,) + bases.shape[1:], np.uint64)
    for i in range(n):
        d = digits[i]
        if d == 0:
            continue
        p = load_affine(bases, i)
        b = abs(d)
        store_affine(points, fill[b], p if d > 0 else affine_neg(p))
        fill[b] += 1
    return points, start, count


@njit(cache=True)
def accumulate_window(points, start, count):
    """Reduce every bucket to at most one affine point, in place.

    Each round adds disjoint pairs inside every bucket; all the round's slopes share one
    inversion.  Rounds halve the largest bucket, so a skewed window (all digits equal)
    costs log2(n) rounds and still n − 1 additions.
    """
    half = start.shape[0] - 1
    n_pairs = points.shape[0] // 2
    if n_pairs == 0:
        return
    like = load(points, 0, 0)
    dens = np.empty((n_pairs, 1) + points.shape[2:], np.uint64)
    prefix = np.empty_like(dens)
    while True:
        # pass 1: denominators and their running product
        k = 0
        acc = f_one(like)
        for b in range(1, half + 1):
            s = start[b]
            for j in range(count[b] // 2):
                _, den, _ = affine_add_parts(load_affine(points, s + 2 * j),
                                             load_affine(points, s + 2 * j + 1))
                store(dens, k, 0, den)
                store(prefix, k, 0, acc)
                acc = f_mul(acc, den)
                k += 1
        if k == 0:
            return
        # pass 2: one inversion, then each pair's inverse, last to first
        inv = f_inv(acc)
        for t in range(k - 1, -1, -1):
            den = load(dens, t, 0)
            store(dens, t, 0, f_mul(inv, load(prefix, t, 0)))
            inv = f_mul(inv, den)
        # pass 3: the sums, written to the front of each bucket (never over an unread pair)
        k = 0
        for b in range(1, half + 1):
            s = start[b]
            c = count[b]
            for j in range(c // 2):
                p = load_affine(points, s + 2 * j)
                q = load_affine(points, s + 2 * j + 1)
                num, _, kind = affine_add_parts(p, q)
                lam = f_mul(num, load(dens, k, 0))
                store_affine(points, s + j, affine_add_finish(p, q, lam, kind))
                k += 1
            if c & 1:
                store_affine(points, s + c // 2, load_affine(points, s + c - 1))
            count[b] = (c + 1) // 2


@njit(cache=True)
def integrate_window(points, start, count, out, w):
    """out[w] = Σ_b b·bucket[b] for one window: running sums from the top bucket down."""
    half = start.shape[0] - 1
    like = load(out, w, 0)  # only its type matters: which field the sums live in
    running = xyzz_inf(like)
    total = xyzz_inf(like)
    for b in range(half, 0, -1):
        if count[b]:
            running = xyzz_add_affine(running, load_affine(points, start[b]))
        total = xyzz_add(total, running)
    store_xyzz(out, w, total)


# The window loop calls the stages directly: every level of njit calls recompiles
# everything below it, so a wrapper per window here added to the cold JIT (figures:
# bench/RESULTS.md, "Measurements moved from code comments").
@njit(parallel=True, cache=True, nogil=True)
def window_sums(bases, digits, c):
    """XYZZ sum of every window, (n_windows, 4) + element shape."""
    n_windows = digits.shape[0]
    half = 1 << (c - 1)
    out = np.empty((n_windows, 4) + bases.shape[2:], np.uint64)
    for w in prange(n_windows):
        points, start, count = sort_window(bases, digits[w], half)
        accumulate_window(points, start, count)
        integrate_window(points, start, count, out, w)
    return out


@njit(cache=True, nogil=True)
def collect(sums, c):
    """Σ_w 2^(c·w)·sums[w] as a (1, 2) + element shape affine array (Montgomery form)."""
    n_windows = sums.shape[0]
    acc = load_xyzz(sums, n_windows - 1)
    for w in range(n_windows - 2, -1, -1):
        for _ in range(c):
            acc = xyzz_double(acc)
        acc = xyzz_add(acc, load_xyzz(sums, w))
    out = np.empty((1, 2) + sums.shape[2:], np.uint64)
    store_affine(out, 0, xyzz_to_affine(acc))
    return out


# ---------------------------------------------------------------- XYZZ buckets (strategy "xyzz")

@njit(cache=True)
def bucket_sums_xyzz(bases, digits, half):
    """One window's buckets as XYZZ sums, (half + 1, 4) + element shape; bucket 0 unused.

    No sort: each point is a mixed addition into its bucket, in input order.  All-zero
    limbs are XYZZ infinity (ZZ = 0) in Montgomery form too, so np.zeros starts every
    bucket empty.
    """
    buckets = np.zeros((half + 1, 4) + bases.shape[2:], np.uint64)
    for i in range(digits.shape[0]):
        d = digits[i]
        if d == 0:
            continue
        p = load_affine(bases, i)
        b = abs(d)
        store_xyzz(buckets, b, xyzz_add_affine(load_xyzz(buckets, b), p if d > 0 else affine_neg(p)))
    return buckets


@njit(cache=True)
def integrate_buckets_xyzz(buckets, out, w):
    """integrate_window for XYZZ buckets: the same running sums, full additions throughout."""
    half = buckets.shape[0] - 1
    like = load(out, w, 0)
    running = xyzz_inf(like)
    total = xyzz_inf(like)
    for b in range(half, 0, -1):
        running = xyzz_add(running, load_xyzz(buckets, b))
        total = xyzz_add(total, running)
    store_xyzz(out, w, total)


# A separate entry point rather than a flag on window_sums: numba would otherwise compile
# both strategies into the default path's kernel, and every installation pays that JIT.
@njit(parallel=True, cache=True, nogil=True)
def window_sums_xyzz(bases, digits, c):
    """window_sums with XYZZ buckets instead of sorted batch-affine accumulation."""
    n_windows = digits.shape[0]
    half = 1 << (c - 1)
    out = np.empty((n_windows, 4) + bases.shape[2:], np.uint64)
    for w in prange(n_windows):
        buckets = bucket_sums_xyzz(bases, digits[w], half)
        integrate_buckets_xyzz(buckets, out, w)
    return out
