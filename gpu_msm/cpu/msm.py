"""msm_g1 / msm_g2: canonical arrays in, canonical affine point out."""

from __future__ import annotations

import numpy as np
from numba import parallel_chunksize

from gpu_msm.cpu.convert import check_below, fq_rows_from_mont, fq_rows_to_mont
from gpu_msm.cpu.pippenger import (breakdown, collect, window_count, window_sums,
                                   window_sums_xyzz)
from gpu_msm.cpu.serial import serialized

# Relative costs fitted on this project's 2-core EPYC, one thread, c = 10 and 13: sorting
# and accumulating a point 240 ns (G1 at 2^16) / 580–720 ns (G2 at 2^14); integrating a
# bucket (a mixed plus a full XYZZ addition) 650–700 ns / 2470–2490 ns: about 3 to 1.
ACCUMULATE_COST = 1.0
INTEGRATE_COST = 3.0
MAX_WINDOW = 16

# Bucket accumulation: sorted affine pairs sharing inversions, or XYZZ buckets (see
# pippenger's docstring for why batch-affine is the default).
STRATEGIES = {"batch-affine": window_sums, "xyzz": window_sums_xyzz}
DEFAULT_STRATEGY = "batch-affine"

# What the last MSM ran with, and where that came from ("argument", "tune cache" or
# "cost model" / "default"): lets tests and `coprove tune` see that a tuned entry is
# really used, without wrapping the MSM.
last_config: dict = {}


def window_bits(n: int) -> int:
    """The c minimising window_count(c) · (n accumulations + 2^(c−1) integration steps)."""
    def cost(c):
        return window_count(c) * (ACCUMULATE_COST * n + INTEGRATE_COST * (1 << (c - 1)))
    return min(range(2, MAX_WINDOW + 1), key=cost)


def _choose(group: str, n: int, c: int | None, strategy: str | None) -> tuple[int, str]:
    tuned = None
    if c is None or strategy is None:
        from gpu_msm import tune  # stdlib only; never raises (a bad cache reads as empty)
        tuned = tune.lookup("cpu", group, n)
    window_from = strategy_from = "argument"
    if c is None:
        if tuned is not None:
            c, window_from = tuned["window"], "tune cache"
        else:
            c, window_from = window_bits(n), "cost model"
    if strategy is None:
        if tuned is not None and tuned.get("strategy") in STRATEGIES:
            strategy, strategy_from = tuned["strategy"], "tune cache"
        else:
            strategy, strategy_from = DEFAULT_STRATEGY, "default"
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    if not 2 <= c <= 24:  # c = 1 leaves no room for the sign; past 24 the buckets take gigabytes
        raise ValueError(f"window {c}: use 2 to 24 bits")
    last_config.clear()
    last_config.update(group=group, n=n, window=c, strategy=strategy, window_from=window_from,
                       strategy_from=strategy_from)
    return c, strategy


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
    c, strategy = _choose(group, n, c, strategy)
    flat = bases.reshape(-1, 4)
    check_below(flat, "q", "bases")
    check_below(scalars, "r", "scalars")
    skip = ~bases.reshape(n, -1).any(axis=1)  # (0, 0) is infinity
    mont_bases = fq_rows_to_mont(flat).reshape(bases.shape)
    digits = breakdown(scalars, skip, c, window_count(c))
    # One window per grab, not equal static shares: the top window is light, and a thread
    # that the OS parks should not hold up a fixed half of the work.
    with parallel_chunksize(1):
        sums = STRATEGIES[strategy](mont_bases, digits, c)
    affine = collect(sums, c)
    return fq_rows_from_mont(affine.reshape(-1, 4)).reshape(point_shape)


@serialized
def msm_g1(bases, scalars, c: int | None = None, strategy: str | None = None):
    """Σ scalars[i]·bases[i] in G1: (n, 2, 4) canonical affine and (n, 4) -> (2, 4).

    ``c`` (window bits) and ``strategy`` ("batch-affine" or "xyzz"): None takes the
    `coprove tune` cache's entry for this machine and size, else the cost model and
    batch-affine.
    """
    return _msm(bases, scalars, (2, 4), c, strategy, "g1")


@serialized
def msm_g2(bases, scalars, c: int | None = None, strategy: str | None = None):
    """Σ scalars[i]·bases[i] in G2: (n, 2, 2, 4) canonical affine and (n, 4) -> (2, 2, 4);
    ``c`` and ``strategy`` as for msm_g1."""
    return _msm(bases, scalars, (2, 2, 4), c, strategy, "g2")
