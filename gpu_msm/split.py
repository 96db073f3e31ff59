"""How an MSM's points are divided among device slots: contiguous ranges in proportion to
each slot's weight (its device's measured speed, shared among the slots on that device).

Pure arithmetic, no device: the CUDA backend's split MSM (``gpu_msm.cuda.slots``) and the
tests use it alike.  Σ s_i·P_i over the whole range is the sum of the ranges' sums, so a
split MSM gives the same point as one slot does, whatever the weights.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence


def split_bounds(n: int, weights: Sequence[float]) -> list[int]:
    """[0 = b_0 <= b_1 <= ... <= b_k = n]: slot i takes rows [b_i, b_(i+1)), about
    n·w_i / Σw of them (rounded at the cumulative share, so the ranges tile [0, n))."""
    if n < 0:
        raise ValueError(f"n = {n}: a size is never negative")
    if not weights:
        raise ValueError("no slots to split over")
    if any(not w > 0 for w in weights):  # also catches NaN
        raise ValueError(f"weights {list(weights)}: each slot needs a positive weight")
    total = float(sum(weights))
    bounds, acc = [0], 0.0
    for w in weights[:-1]:
        acc += w
        bounds.append(min(n, max(bounds[-1], round(n * acc / total))))
    bounds.append(n)
    return bounds


def slot_weights(devices: Sequence[int], speed: dict[int, float]) -> list[float]:
    """Each slot's weight: its device's speed divided among the slots on that device (two
    slots on one GPU share it; ``speed`` maps device -> relative speed)."""
    per = Counter(devices)
    return [speed[d] / per[d] for d in devices]
