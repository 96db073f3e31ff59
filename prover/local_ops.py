"""The local half of the share operations, on an engine (``prover.engines``).

Every method here is linear in the party's values (or acts on public data), so the
same code serves one party holding everything (``PlainOps``) and each of N parties
holding an additive summand (``cme``).  Vectors are whatever the engine holds (lists of
ints for the reference, canonical arrays for a backend); points are reference affine
tuples (``prover.bn254``); the wire form of a vector is the canonical ``(n, 4)`` array.
"""

from __future__ import annotations

import time

import numpy as np

from prover.bn254 import G1, G2, g1_from_array, g2_from_array
from prover.engines import get_engine

CURVES = {"g1": G1, "g2": G2}


def public_point(group, p):
    """Reference point from a canonical array (a zkey header point) or a reference point."""
    if isinstance(p, np.ndarray):
        return (g1_from_array if group == "g1" else g2_from_array)(p.reshape((1,) + p.shape))[0]
    return p


class LocalOps:
    """Local operations; ``timings`` accumulates seconds per stage for the proof log."""

    def __init__(self, engine: str | None = None):
        self.eng = get_engine(engine)
        self.engine = self.eng.name
        self.timings: dict[str, float] = {}

    def _timed(self, stage, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        self.eng.sync()  # a device's kernels are asynchronous: charge them to their stage
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0
        return out

    # vectors ------------------------------------------------------------------
    def sparse_matvec(self, matrix, coeffs, v, rows):
        return self._timed("matvec", self.eng.sparse_matvec, matrix, coeffs, v, rows)

    def odd_coset(self, v):
        return self._timed("ntt", self.eng.odd_coset, v)

    def add_vec(self, a, b):
        return self.eng.add_vec(a, b)

    def sub_vec(self, a, b):
        return self.eng.sub_vec(a, b)

    def mul_vec(self, a, b):
        return self.eng.mul_vec(a, b)

    def scale_vec(self, a, k: int):
        return self.eng.scale_vec(a, k)

    def tail(self, v, start):
        return v[start:]

    def concat(self, vs):
        return self.eng.concat(vs)

    def to_wire(self, v) -> np.ndarray:
        return self.eng.to_wire(v)

    def to_wire_into(self, v, out: np.ndarray) -> None:
        """``out[...] = to_wire(v)``, without the intermediate array where the engine can."""
        self.eng.to_wire_into(v, out)

    def from_wire(self, arr: np.ndarray):
        return self.eng.vector(arr)

    # points -------------------------------------------------------------------
    def msm(self, group, bases, v):
        return self._timed(f"msm_{group}", self.eng.msm, group, bases, v)

    def msm_later(self, group, bases, v):
        started = self._timed(f"msm_{group}", self.eng.msm_later, group, bases, v)
        return lambda: self._timed("msm_wait", started)

    def add(self, group, a, b):
        return CURVES[group].add(a, b)
