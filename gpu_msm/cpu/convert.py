"""Canonical <-> Montgomery conversion and range checks on (m, 4) limb rows."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from gpu_msm.cpu import mont
from gpu_msm.cpu.fields import FQ_P, FR_P, fq_from_mont, fq_to_mont, fr_from_mont, fr_to_mont
from gpu_msm.cpu.serial import serialized


@njit(parallel=True, cache=True, nogil=True)
def fq_rows_to_mont(rows):
    out = np.empty_like(rows)
    for i in prange(rows.shape[0]):
        v = fq_to_mont((rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3]))
        for j in range(4):
            out[i, j] = v[j]
    return out


@njit(parallel=True, cache=True, nogil=True)
def fq_rows_from_mont(rows):
    out = np.empty_like(rows)
    for i in prange(rows.shape[0]):
        v = fq_from_mont((rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3]))
        for j in range(4):
            out[i, j] = v[j]
    return out


@njit(parallel=True, cache=True, nogil=True)
def fr_rows_to_mont(rows):
    out = np.empty_like(rows)
    for i in prange(rows.shape[0]):
        v = fr_to_mont((rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3]))
        for j in range(4):
            out[i, j] = v[j]
    return out


@njit(parallel=True, cache=True, nogil=True)
def fr_rows_from_mont(rows):
    out = np.empty_like(rows)
    for i in prange(rows.shape[0]):
        v = fr_from_mont((rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3]))
        for j in range(4):
            out[i, j] = v[j]
    return out


@njit(cache=True, nogil=True)
def _count_not_below(rows, p):
    bad = 0
    for i in range(rows.shape[0]):
        if not mont.less_than((rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3]), p):
            bad += 1
    return bad


def check_below(rows: np.ndarray, modulus: str, what: str) -> None:
    """Raise ValueError unless every row is a canonical element (< q or < r)."""
    bad = _count_not_below(rows, FQ_P if modulus == "q" else FR_P)
    if bad:
        raise ValueError(f"{what}: {bad} value(s) not reduced mod {modulus} "
                         "(canonical form expected)")


@serialized
def fq_from_montgomery(rows) -> np.ndarray:
    """(k, 4) x·R mod q -> x; the backend's lock held, as for every public function."""
    return fq_rows_from_mont(np.ascontiguousarray(rows, dtype=np.uint64))


@serialized
def fr_from_montgomery(rows) -> np.ndarray:
    return fr_rows_from_mont(np.ascontiguousarray(rows, dtype=np.uint64))
