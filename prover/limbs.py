"""Field elements as numpy ``(n, 4)`` uint64 arrays of little-endian 64-bit limbs.

This is the representation at every package boundary (DESIGN.md, "Data"); the pure
Python reference works on ints, so these are the only two conversions it needs.
"""

from __future__ import annotations

import numpy as np

from gpu_msm import rows_below

LIMBS = 4
N8 = 8 * LIMBS  # bytes per element, as snarkjs calls it


def ints_to_limbs(values) -> np.ndarray:
    """Python ints (each < 2^256) -> ``(n, 4)`` uint64 array."""
    values = list(values)
    buf = b"".join(int(v).to_bytes(N8, "little") for v in values)
    return np.frombuffer(buf, dtype="<u8").reshape(len(values), LIMBS).astype(np.uint64)


def limbs_to_ints(arr: np.ndarray) -> list[int]:
    """``(..., 4)`` uint64 array -> flat list of Python ints (row-major over the leading axes)."""
    raw = np.ascontiguousarray(arr, dtype="<u8").tobytes()
    return [int.from_bytes(raw[i:i + N8], "little") for i in range(0, len(raw), N8)]


def mul_mod_array(arr: np.ndarray, factor: int, modulus: int) -> np.ndarray:
    """Every element times ``factor`` mod ``modulus``; same shape out.

    Used once per loaded section to leave Montgomery form (factor = R^-1) — the one
    conversion DESIGN.md allows.  Pure Python per element: fine up to 2^16 and replaced by
    the engine's field kernels for the large sizes
    (figures: bench/RESULTS.md, 'Measurements moved from code comments').
    """
    shape = arr.shape
    raw = np.ascontiguousarray(arr, dtype="<u8").tobytes()
    out = bytearray(len(raw))
    for i in range(0, len(raw), N8):
        v = int.from_bytes(raw[i:i + N8], "little") * factor % modulus
        out[i:i + N8] = v.to_bytes(N8, "little")
    return np.frombuffer(bytes(out), dtype="<u8").astype(np.uint64).reshape(shape)


def below(arr: np.ndarray, modulus: int) -> np.ndarray:
    """Row-wise ``value < modulus`` for ``(k, 4)`` limbs, vectorised."""
    return rows_below(arr, modulus)
