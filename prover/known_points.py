"""Known answers for ``gpu_msm.tune``: its candidates are checked against these.

The tuner lives in the engine package, which imports nothing above it, so whoever runs
it (``coprove tune``, the tests) hands it this: multiples of the generators, arithmetic
progressions of points and MSMs, all from the pure-Python reference (``prover.bn254``,
``prover.msm``), as canonical arrays.
"""

from __future__ import annotations

import numpy as np

from prover.bn254 import G1, G2, g1_from_array, g1_to_array, g2_from_array, g2_to_array
from prover.limbs import limbs_to_ints
from prover.msm import msm_pippenger

_GROUPS = {"g1": (G1, g1_to_array, g1_from_array), "g2": (G2, g2_to_array, g2_from_array)}


def _walk(curve, start, step, m: int) -> list:
    """start, start + step, start + 2·step, …: m points, one affine addition (one field
    inversion) each."""
    F = curve.F
    out, p = [start], start
    for _ in range(m - 1):
        if p is None or p[0] == step[0]:  # doubling or infinity: not worth a fast path
            p = curve.add(p, step)
        else:
            (x, y), (sx, sy) = p, step
            lam = F.mul(F.sub(sy, y), F.inv(F.sub(sx, x)))
            x3 = F.sub(F.sub(F.sqr(lam), x), sx)
            p = (x3, F.sub(F.mul(lam, F.sub(x, x3)), y))
        out.append(p)
    return out


class KnownPoints:
    def multiple(self, group: str, k: int) -> np.ndarray:
        """k·G for the group's generator, (2, 4) or (2, 2, 4)."""
        curve, to_array, _ = _GROUPS[group]
        return to_array([curve.mul(curve.generator, k)])[0]

    def walk(self, group: str, a: int, d: int, m: int) -> np.ndarray:
        """(a + j·d)·G for j < m, (m, 2, 4) or (m, 2, 2, 4)."""
        curve, to_array, _ = _GROUPS[group]
        return to_array(_walk(curve, curve.mul(curve.generator, a), curve.mul(curve.generator, d), m))

    def msm(self, group: str, bases: np.ndarray, scalars: np.ndarray) -> np.ndarray:
        """Σ scalars[i]·bases[i] by the reference Pippenger."""
        curve, to_array, from_array = _GROUPS[group]
        return to_array([msm_pippenger(curve, from_array(bases), limbs_to_ints(scalars))])[0]
