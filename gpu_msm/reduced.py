"""Which 4-limb rows are reduced (below a modulus): the range check every vector, scalar
set and coordinate array gets where it enters an engine or arrives from a peer."""

from __future__ import annotations

import numpy as np


def rows_below(limbs, modulus: int, xp=np):
    """Row-wise value < modulus for (k, 4) uint64 limbs (numpy, or CuPy with xp=cupy),
    lexicographic from the top limb."""
    m = [(modulus >> (64 * i)) & (2**64 - 1) for i in range(4)]
    if xp is np:
        # on the host the lower limbs are compared only where the top limbs tie, which
        # field elements rarely do: every vector uploaded goes through here (figures:
        # bench/RESULTS.md, "Measurements moved from code comments")
        below = limbs[:, 3] < np.uint64(m[3])
        tie = np.flatnonzero(limbs[:, 3] == np.uint64(m[3]))
        if len(tie):
            below[tie] = _rows_below_all_limbs(limbs[tie], m, np)
        return below
    return _rows_below_all_limbs(limbs, m, xp)


def _rows_below_all_limbs(limbs, m, xp):
    below = xp.zeros(len(limbs), bool)
    equal = xp.ones(len(limbs), bool)
    for i in (3, 2, 1, 0):
        below |= equal & (limbs[:, i] < xp.uint64(m[i]))
        equal &= limbs[:, i] == xp.uint64(m[i])
    return below
