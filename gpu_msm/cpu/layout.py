"""Field elements and points between numpy arrays and register tuples.

A G1 array has one Fq per ``arr[i, k]`` (ndim 3: ``(n, coords, 4)``); a G2 array one
Fq2 per ``arr[i, k]`` (ndim 4: ``(n, coords, 2, 4)``).  The overloads pick the layout
from ``ndim`` at compile time, which is what lets G1 and G2 share every kernel.
"""

from __future__ import annotations

from numba.extending import overload


def load(arr, i, k):
    """The field element at ``arr[i, k]`` as a tuple (numba only)."""
    raise NotImplementedError


def store(arr, i, k, v):
    raise NotImplementedError


@overload(load)
def _load(arr, i, k):
    if arr.ndim == 3:
        return lambda arr, i, k: (arr[i, k, 0], arr[i, k, 1], arr[i, k, 2], arr[i, k, 3])
    if arr.ndim == 4:
        return lambda arr, i, k: (
            (arr[i, k, 0, 0], arr[i, k, 0, 1], arr[i, k, 0, 2], arr[i, k, 0, 3]),
            (arr[i, k, 1, 0], arr[i, k, 1, 1], arr[i, k, 1, 2], arr[i, k, 1, 3]))


@overload(store)
def _store(arr, i, k, v):
    if arr.ndim == 3:
        def impl(arr, i, k, v):
            for j in range(4):
                arr[i, k, j] = v[j]
        return impl
    if arr.ndim == 4:
        def impl(arr, i, k, v):
            for j in range(4):
                arr[i, k, 0, j] = v[0][j]
                arr[i, k, 1, j] = v[1][j]
        return impl


def load_affine(arr, i):
    raise NotImplementedError


def store_affine(arr, i, p):
    raise NotImplementedError


@overload(load_affine)
def _load_affine(arr, i):
    return lambda arr, i: (load(arr, i, 0), load(arr, i, 1))


@overload(store_affine)
def _store_affine(arr, i, p):
    def impl(arr, i, p):
        store(arr, i, 0, p[0])
        store(arr, i, 1, p[1])
    return impl


def load_xyzz(arr, i):
    raise NotImplementedError


def store_xyzz(arr, i, p):
    raise NotImplementedError


@overload(load_xyzz)
def _load_xyzz(arr, i):
    return lambda arr, i: (load(arr, i, 0), load(arr, i, 1), load(arr, i, 2), load(arr, i, 3))


@overload(store_xyzz)
def _store_xyzz(arr, i, p):
    def impl(arr, i, p):
        for k in range(4):
            store(arr, i, k, p[k])
    return impl
