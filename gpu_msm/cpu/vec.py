"""Element-wise Fr vector operations and the sparse matrix–vector product, canonical I/O.

A Montgomery product of a canonical a with b·R (b in Montgomery form) is the canonical
a·b, so each kernel converts at most one operand and never converts back.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from gpu_msm.constants import FR_MODULUS
from gpu_msm.cpu.convert import check_below, fr_rows_to_mont
from gpu_msm.cpu.fields import FR_R2, fr_add, fr_mul, fr_sub
from gpu_msm.cpu.mont import limbs
from gpu_msm.cpu.serial import serialized


@njit(cache=True, inline="always")
def _row(a, i):
    return (a[i, 0], a[i, 1], a[i, 2], a[i, 3])


@njit(cache=True, inline="always")
def _put(a, i, v):
    for j in range(4):
        a[i, j] = v[j]


@njit(parallel=True, cache=True, nogil=True)
def _mul(a, b):
    out = np.empty_like(a)
    for i in prange(a.shape[0]):
        _put(out, i, fr_mul(fr_mul(_row(a, i), _row(b, i)), FR_R2))
    return out


@njit(parallel=True, cache=True, nogil=True)
def _add(a, b):
    out = np.empty_like(a)
    for i in prange(a.shape[0]):
        _put(out, i, fr_add(_row(a, i), _row(b, i)))
    return out


@njit(parallel=True, cache=True, nogil=True)
def _sub(a, b):
    out = np.empty_like(a)
    for i in prange(a.shape[0]):
        _put(out, i, fr_sub(_row(a, i), _row(b, i)))
    return out


@njit(parallel=True, cache=True, nogil=True)
def _mul_const(a, k_mont):
    out = np.empty_like(a)
    for i in prange(a.shape[0]):
        _put(out, i, fr_mul(_row(a, i), k_mont))
    return out


@njit(cache=True)
def _matvec_rows(out, lo, hi, constraint, signal, value, v_mont):
    # every piece scans all entries and keeps its own rows: no two pieces write one row
    for e in range(constraint.shape[0]):
        row = constraint[e]
        if lo <= row < hi:
            _put(out, row, fr_add(_row(out, row), fr_mul(_row(value, e), _row(v_mont, signal[e]))))


@njit(parallel=True, cache=True, nogil=True)
def _matvec(rows, constraint, signal, value, v_mont, pieces):
    out = np.zeros((rows, 4), np.uint64)
    size = (rows + pieces - 1) // pieces
    for p in prange(pieces):
        _matvec_rows(out, p * size, min(rows, (p + 1) * size), constraint, signal, value, v_mont)
    return out


def _vector(a, what: str) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.uint64)
    if not a.flags.writeable:
        # numba types a read-only array (np.frombuffer over received bytes) apart and would
        # compile every kernel again for it: a copy costs less than a second JIT variant
        a = a.copy()
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{what}: shape {a.shape}, expected (n, 4)")
    check_below(a, "r", what)
    return a


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = _vector(a, "a"), _vector(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b differ in shape: {a.shape} vs {b.shape}")
    return a, b


@serialized
def mul_vec(a, b):
    """a ∘ b mod r, element-wise."""
    return _mul(*_pair(a, b))


@serialized
def add_vec(a, b):
    return _add(*_pair(a, b))


@serialized
def sub_vec(a, b):
    return _sub(*_pair(a, b))


@serialized
def neg_vec(a):
    a = _vector(a, "a")
    return _sub(np.zeros_like(a), a)


@serialized
def mul_scalar(a, k: int):
    """k·a mod r for a Python int k (any size, reduced mod r)."""
    return _mul_const(_vector(a, "a"), limbs((k % FR_MODULUS) * (1 << 256) % FR_MODULUS))


@serialized
def sparse_matvec(rows: int, constraint, signal, value, v):
    """(rows, 4): row c is Σ value[e]·v[signal[e]] over the entries e with constraint[e] = c.

    The layout of a snarkjs zkey's coefficient section (A·w and B·w for Groth16).
    """
    constraint = np.ascontiguousarray(constraint, dtype=np.uint32)
    signal = np.ascontiguousarray(signal, dtype=np.uint32)
    value = _vector(value, "value")
    v = _vector(v, "v")
    k = constraint.shape[0]
    if constraint.ndim != 1 or signal.shape != (k,) or value.shape[0] != k:
        raise ValueError(f"constraint {constraint.shape}, signal {signal.shape} and value "
                         f"{value.shape} must describe the same {k} entries")
    if k and int(constraint.max()) >= rows:
        raise ValueError(f"constraint index {int(constraint.max())} out of range for {rows} rows")
    if k and int(signal.max()) >= v.shape[0]:
        raise ValueError(f"signal index {int(signal.max())} out of range for {v.shape[0]} signals")
    if rows == 0:
        return np.zeros((0, 4), np.uint64)
    return _matvec(rows, constraint, signal, value, fr_rows_to_mont(v), get_num_threads())
