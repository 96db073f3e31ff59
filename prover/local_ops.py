"""The local half of the share operations, on the pure-Python reference engine.

Every method here is linear in the party's values (or acts on public data), so the
same code serves one party holding everything (``PlainOps``) and each of N parties
holding an additive summand (``cme``).  Vectors are lists of ints mod r, points
are reference affine tuples (``prover.bn254``).  The wire form of a vector is the
canonical ``(n, 4)`` uint64 array, as everywhere between packages.
"""

from __future__ import annotations

import time

import numpy as np

from prover import ntt
from prover.bn254 import FR_MODULUS, G1, G2, g1_from_array, g2_from_array
from prover.limbs import ints_to_limbs, limbs_to_ints
from prover.msm import msm_pippenger

R = FR_MODULUS
CURVES = {"g1": G1, "g2": G2}


def public_point(group, p):
    """Reference point from a canonical array (a zkey header point) or a reference point."""
    if isinstance(p, np.ndarray):
        return (g1_from_array if group == "g1" else g2_from_array)(p.reshape((1,) + p.shape))[0]
    return p


class LocalOps:
    """Local operations; ``timings`` accumulates seconds per stage for the proof log."""

    engine = "reference"

    def __init__(self):
        self.timings: dict[str, float] = {}

    def _timed(self, stage, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0
        return out

    # vectors ------------------------------------------------------------------
    def sparse_matvec(self, matrix, coeffs, v, rows):
        def run():
            out = [0] * rows
            sel = coeffs.matrix == matrix
            values = limbs_to_ints(coeffs.value[sel])
            for c, sig, val in zip(coeffs.constraint[sel].tolist(), coeffs.signal[sel].tolist(), values):
                out[c] += val * v[sig]
            return [x % R for x in out]
        return self._timed("matvec", run)

    def odd_coset(self, v):
        return self._timed("ntt", ntt.odd_coset, v)

    def add_vec(self, a, b):
        return [(x + y) % R for x, y in zip(a, b, strict=True)]

    def sub_vec(self, a, b):
        return [(x - y) % R for x, y in zip(a, b, strict=True)]

    def mul_vec(self, a, b):
        return [x * y % R for x, y in zip(a, b, strict=True)]

    def scale_vec(self, a, k: int):
        return [x * k % R for x in a]

    def tail(self, v, start):
        return v[start:]

    def to_wire(self, v) -> np.ndarray:
        return ints_to_limbs(v)

    def from_wire(self, arr: np.ndarray):
        return limbs_to_ints(arr)

    # points -------------------------------------------------------------------
    def msm(self, group, bases, v):
        def run():
            points = (g1_from_array if group == "g1" else g2_from_array)(bases)
            return msm_pippenger(CURVES[group], points, v)
        return self._timed(f"msm_{group}", run)

    def scalar_mul(self, group, k, p):
        return CURVES[group].mul(public_point(group, p), k)

    def add(self, group, a, b):
        return CURVES[group].add(a, b)

    def sub(self, group, a, b):
        return CURVES[group].sub(a, b)
