"""Batch multiples of one fixed point on the device (``kernels/fixed_base.cu``): setups.

Same signature as the CPU backend's: ``fixed_base_g1(point, scalars)`` -> (n, 2, 4)
canonical affine scalars[i]·point; ``fixed_base_g2`` -> (n, 2, 2, 4).
"""

from __future__ import annotations

import numpy as np

from gpu_msm.constants import FQ_MODULUS, FR_MODULUS
from gpu_msm.cuda import _build
from gpu_msm.cuda.msm import G1, G2, _check_below

BLOCK = 128


def _fixed_base(curve, point, scalars, chunk: int = 1 << 20) -> np.ndarray:
    import cupy as cp

    point = np.ascontiguousarray(point, dtype=np.uint64)
    if point.shape != curve.shape:
        raise ValueError(f"point: shape {point.shape}, expected {curve.shape}")
    _check_below(point.reshape(-1, 4), FQ_MODULUS, "point")
    if not point.any():
        raise ValueError("point: the point at infinity has no useful multiples")
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if scalars.ndim != 2 or scalars.shape[1] != 4:
        raise ValueError(f"scalars: shape {scalars.shape}, expected (n, 4)")
    _check_below(scalars, FR_MODULUS, "scalars")
    n = scalars.shape[0]
    coords = [int.from_bytes(row.astype("<u8").tobytes(), "little") for row in point.reshape(-1, 4)]
    mont = b"".join(((x << 256) % FQ_MODULUS).to_bytes(32, "little") for x in coords)
    base = cp.asarray(np.frombuffer(mont, dtype="<u4").astype(np.uint32).reshape(1, curve.point_words))
    k = _build.module("fixed_base.cu", {"CURVE_G2": int(curve.g2)}).get_function("fixed_base_mul")
    out = np.empty((n,) + curve.shape, np.uint64)
    for lo in range(0, n, chunk):
        s = cp.asarray(scalars[lo:lo + chunk])
        m = s.shape[0]
        d = cp.empty((m, curve.point_words), cp.uint32)
        k((-(-m // BLOCK),), (BLOCK,), (base, s, d, np.uint32(m)))
        out[lo:lo + m] = d.get().view(np.uint64).reshape((m,) + curve.shape)
    return out


def fixed_base_g1(point, scalars) -> np.ndarray:
    return _fixed_base(G1, point, scalars)


def fixed_base_g2(point, scalars) -> np.ndarray:
    return _fixed_base(G2, point, scalars)
