"""msm_g1 / msm_g2: canonical arrays in, canonical affine point out."""

from __future__ import annotations

import numpy as np
from numba import parallel_chunksize

from gpu_msm.cpu.convert import check_below, fq_rows_from_mont, fq_rows_to_mont
from gpu_msm.cpu.pippenger import (SCALAR_BITS, breakdown, collect, window_count, window_sums,
                                   window_sums_xyzz)
from gpu_msm.cpu.serial import serialized
from gpu_msm.msm_plan import plan_msm

# Relative costs of the window-size model, fitted to measured stage costs (figures:
# bench/RESULTS.md, "Measurements moved from code comments"): integrating a bucket (a mixed
# plus a full XYZZ addition) costs about 3 times sorting and accumulating a point.
ACCUMULATE_COST = 1.0
INTEGRATE_COST = 3.0
MAX_WINDOW = 16

# Bucket accumulation: sorted affine pairs sharing inversions, or XYZZ buckets (see
# pippenger's docstring for why batch-affine is the default).
STRATEGIES = {"affine": window_sums, "xyzz": window_sums_xyzz}
DEFAULT_STRATEGY = "affine"

# What the last MSM ran with, and where that came from (msm_plan's "argument", "tune
# cache" or "built-in"): lets tests and `coprove tune` see that a tuned entry is really
# used, without wrapping the MSM.
last_config: dict = {}


def window_bits(n: int, bits: int = SCALAR_BITS) -> int:
    """The c minimising windows · (n accumulations + 2^(c−1) integration steps) for n
    scalars of at most ``bits`` bits."""
    def cost(c):
        return window_count(c, bits) * (ACCUMULATE_COST * n + INTEGRATE_COST * (1 << (c - 1)))
    return min(range(2, MAX_WINDOW + 1), key=cost)


def size_classes(scalars: np.ndarray, skip: np.ndarray) -> list[tuple[np.ndarray, int]] | None:
    """Real witnesses are mostly 0s, 1s and small values (bits, sums of a few words):
    ``(indices, bits)`` groups by the highest nonzero limb, ones apart, so that each group
    runs only the windows its scalars reach (a 1 costs one addition, not 25 windows' worth).
    None when every scalar uses the top limb (uniform shares: they lose one column scan).
    Zero scalars and the skipped rows are in no group.
    """
    if ((scalars[:, 3] != 0) | skip).all():
        return None
    limb = np.full(scalars.shape[0], -1, np.int64)
    for k in range(4):  # ascending, so the highest nonzero limb is the one left
        limb[scalars[:, k] != 0] = k
    limb[skip] = -1
    one = (limb == 0) & (scalars[:, 0] == 1)
    groups = []
    if one.any():
        groups.append((np.flatnonzero(one), 1))
    for k in range(4):
        idx = np.flatnonzero((limb == k) & ~one)
        if idx.size:
            # an upper bound: the float conversion may round up to the next power of two
            hi = float(scalars[idx, k].max())
            groups.append((idx, min(SCALAR_BITS, 64 * k + int(np.frexp(hi)[1]))))
    return groups


def _choose(group: str, n: int, c: int | None, strategy: str | None) -> tuple[int, str]:
    plan = plan_msm("cpu", group, n, lambda n: (window_bits(n), DEFAULT_STRATEGY), window=c, strategy=strategy)
    if not 2 <= plan.window <= 24:  # c = 1 leaves no room for the sign; past 24 the buckets take gigabytes
        raise ValueError(f"window {plan.window}: use 2 to 24 bits")
    last_config.clear()
    last_config.update(group=group, n=n, window=plan.window, strategy=plan.strategy,
                       window_from=plan.sources["window"], strategy_from=plan.sources["strategy"])
    return plan.window, plan.strategy


def _msm(bases: np.ndarray, scalars: np.ndarray, point_shape: tuple, c: int | None,
         strategy: str | None, group: str):
    bases = np.ascontiguousarray(bases, dtype=np.uint64)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if bases.ndim != 1 + len(point_shape) or bases.shape[1:] != point_shape:
        expected = ", ".join(map(str, point_shape))
        raise ValueError(f"bases: shape {bases.shape}, expected (n, {expected})")
    if scalars.ndim != 2 or scalars.shape[1] != 4 or scalars.shape[0] != bases.shape[0]:
        raise ValueError(f"scalars: shape {scalars.shape}, expected ({bases.shape[0]}, 4)")
    n = bases.shape[0]
    if n == 0:
        return np.zeros(point_shape, np.uint64)
    flat = bases.reshape(-1, 4)
    check_below(flat, "q", "bases")
    check_below(scalars, "r", "scalars")
    skip = ~bases.reshape(n, -1).any(axis=1)  # (0, 0) is infinity
    groups = size_classes(scalars, skip)
    if groups is None:
        c, strategy = _choose(group, n, c, strategy)
        mont_bases = fq_rows_to_mont(flat).reshape(bases.shape)
        affine = _pippenger(mont_bases, scalars, skip, c, SCALAR_BITS, strategy)
        return fq_rows_from_mont(affine.reshape(-1, 4)).reshape(point_shape)
    if not groups:
        return np.zeros(point_shape, np.uint64)
    # the tune cache's windows were timed on full-width scalars: each group takes the
    # cost model's window for its size and width, unless the caller fixed one
    largest = max(groups, key=lambda g: g[0].size)
    _, strategy = _choose(group, n, c or window_bits(largest[0].size, largest[1]), strategy)
    parts = [_pippenger(fq_rows_to_mont(bases[idx].reshape(-1, 4)).reshape((idx.size,) + point_shape),
                        scalars[idx], skip[idx], c or window_bits(idx.size, bits), bits, strategy)
             for idx, bits in groups]
    last_config.update(window_from="argument" if c else "cost model, by scalar size",
                       groups=[(int(idx.size), bits) for idx, bits in groups])
    affine = parts[0] if len(parts) == 1 else _sum_points(np.concatenate(parts), strategy)
    return fq_rows_from_mont(affine.reshape(-1, 4)).reshape(point_shape)


def _pippenger(mont_bases, scalars, skip, c: int, bits: int, strategy: str) -> np.ndarray:
    """(1, 2) + element shape, Montgomery affine: Σ scalars[i]·bases[i] over ``bits``-bit scalars."""
    digits = breakdown(scalars, skip, c, window_count(c, bits))
    # One window per grab, not equal static shares: the top window is light, and a thread
    # that the OS parks should not hold up a fixed half of the work.
    with parallel_chunksize(1):
        sums = STRATEGIES[strategy](mont_bases, digits, c)
    return collect(sums, c)


def _sum_points(mont_points, strategy: str) -> np.ndarray:
    """The sum of a few Montgomery affine points, as an MSM with digits 1: the kernels
    already compiled for the MSM do it, where a kernel of its own would cost a JIT."""
    digits = np.ones((1, mont_points.shape[0]), np.int32)
    return collect(STRATEGIES[strategy](mont_points, digits, 2), 2)


@serialized
def msm_g1(bases, scalars, c: int | None = None, strategy: str | None = None):
    """Σ scalars[i]·bases[i] in G1: (n, 2, 4) canonical affine and (n, 4) -> (2, 4).

    ``c`` (window bits) and ``strategy`` ("affine" or "xyzz", ``gpu_msm.strategy_names``):
    None takes the `coprove tune` cache's entry for this machine and size, else the cost
    model and "affine" (``gpu_msm.msm_plan``).
    """
    return _msm(bases, scalars, (2, 4), c, strategy, "g1")


@serialized
def msm_g2(bases, scalars, c: int | None = None, strategy: str | None = None):
    """Σ scalars[i]·bases[i] in G2: (n, 2, 2, 4) canonical affine and (n, 4) -> (2, 2, 4);
    ``c`` and ``strategy`` as for msm_g1."""
    return _msm(bases, scalars, (2, 2, 4), c, strategy, "g2")
