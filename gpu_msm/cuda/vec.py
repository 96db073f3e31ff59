"""Fr vector arithmetic and the sparse A·w / B·w products on the device (``kernels/vec.cu``).

Same functions as the CPU backend's ``vec``.  Vectors are canonical ``(n, 4)`` uint64;
a numpy argument is checked (< r) and copied to the device, and the result comes back
as numpy; CuPy arguments stay on the device and so does the result, which is how the
prover keeps a job's vectors resident between steps (``to_device`` / ``to_host``).
"""

from __future__ import annotations

import numpy as np

from gpu_msm.constants import FR_MODULUS
from gpu_msm.cuda import _build

R = FR_MODULUS
BLOCK = 256


def _cp():
    import cupy
    return cupy


def kernels():
    return _build.module("vec.cu", {})


def _grid(n: int) -> tuple[int]:
    return (max(1, -(-n // BLOCK)),)


def _check_below_r(a: np.ndarray, what: str) -> None:
    from gpu_msm.cuda.msm import _check_below
    _check_below(a, R, what)


def _on_device(a, what: str):
    """(device array, came from host?) for a canonical (n, 4) vector."""
    cp = _cp()
    if isinstance(a, cp.ndarray):
        d = cp.ascontiguousarray(a, dtype=cp.uint64)
        host = False
    else:
        h = np.ascontiguousarray(a, dtype=np.uint64)
        if h.ndim == 2 and h.shape[1] == 4:
            _check_below_r(h, what)
        d, host = cp.asarray(h), True
    if d.ndim != 2 or d.shape[1] != 4:
        raise ValueError(f"{what}: shape {d.shape}, expected (n, 4)")
    return d, host


def _back(d, host: bool):
    return d.get() if host else d


def to_device(a):
    """A canonical (n, 4) vector on the device (checked < r when it comes from the host)."""
    return _on_device(a, "vector")[0]


def to_host(a) -> np.ndarray:
    cp = _cp()
    return cp.asnumpy(a) if isinstance(a, cp.ndarray) else np.ascontiguousarray(a, dtype=np.uint64)


def to_host_into(a, out: np.ndarray) -> None:
    """``out[...] = to_host(a)``: a device vector copied straight into a host buffer
    (a C-contiguous uint64 array of its shape), without an intermediate one."""
    cp = _cp()
    if isinstance(a, cp.ndarray):
        cp.ascontiguousarray(a, dtype=cp.uint64).get(out=out)
    else:
        np.copyto(out, a)


def concat(vs):
    cp = _cp()
    return cp.concatenate([to_device(v) for v in vs]) if vs else cp.zeros((0, 4), cp.uint64)


def _binary(name: str, a, b):
    cp = _cp()
    da, ha = _on_device(a, "a")
    db, hb = _on_device(b, "b")
    if da.shape != db.shape:
        raise ValueError(f"a and b differ in shape: {da.shape} vs {db.shape}")
    out = cp.empty_like(da)
    n = da.shape[0]
    if n:
        kernels().get_function(name)(_grid(n), (BLOCK,), (da, db, out, np.uint32(n)))
    return _back(out, ha and hb)


def add_vec(a, b):
    return _binary("fr_add_vec", a, b)


def sub_vec(a, b):
    return _binary("fr_sub_vec", a, b)


def mul_vec(a, b):
    """a ∘ b mod r, element-wise."""
    return _binary("fr_mul_vec", a, b)


def neg_vec(a):
    cp = _cp()
    da, host = _on_device(a, "a")
    return _back(_binary("fr_sub_vec", cp.zeros_like(da), da), host)


def mul_scalar(a, k: int):
    """k·a mod r for a Python int k (any size, reduced mod r)."""
    cp = _cp()
    da, host = _on_device(a, "a")
    k_mont = (k % R) * (1 << 256) % R
    kd = cp.asarray(np.frombuffer(k_mont.to_bytes(32, "little"), dtype="<u8").astype(np.uint64))
    out = cp.empty_like(da)
    n = da.shape[0]
    if n:
        kernels().get_function("fr_mul_const")(_grid(n), (BLOCK,), (da, kd, out, np.uint32(n)))
    return _back(out, host)


class SparseMatrix:
    """A coefficient list in CSR form on the device, coefficients in Montgomery form:
    built once per circuit and matrix, then each product is one kernel."""

    def __init__(self, rows: int, constraint, signal, value, n_cols: int | None = None):
        cp = _cp()
        constraint = np.ascontiguousarray(constraint, dtype=np.uint32)
        signal = np.ascontiguousarray(signal, dtype=np.uint32)
        value = np.ascontiguousarray(value, dtype=np.uint64)
        k = constraint.shape[0]
        if constraint.ndim != 1 or signal.shape != (k,) or value.shape != (k, 4):
            raise ValueError(f"constraint {constraint.shape}, signal {signal.shape} and value "
                             f"{value.shape} must describe the same {k} entries")
        if k and int(constraint.max()) >= rows:
            raise ValueError(f"constraint index {int(constraint.max())} out of range for {rows} rows")
        _check_below_r(value, "value")
        order = np.argsort(constraint, kind="stable")
        ptr = np.zeros(rows + 1, np.uint32)
        np.cumsum(np.bincount(constraint, minlength=rows), out=ptr[1:])
        self.rows = rows
        self.max_col = int(signal.max()) if k else -1
        self.ptr = cp.asarray(ptr)
        self.col = cp.asarray(signal[order])
        self.coef = cp.asarray(value[order])
        if k:
            kernels().get_function("fr_vec_to_mont")(_grid(k), (BLOCK,), (self.coef, np.uint32(k)))

    def matvec(self, v):
        cp = _cp()
        dv, host = _on_device(v, "v")
        if self.max_col >= dv.shape[0]:
            raise ValueError(f"signal index {self.max_col} out of range for {dv.shape[0]} signals")
        out = cp.empty((self.rows, 4), cp.uint64)
        if self.rows:
            kernels().get_function("fr_csr_matvec")(_grid(self.rows), (BLOCK,),
                                                    (self.ptr, self.col, self.coef, dv, out,
                                                     np.uint32(self.rows)))
        return _back(out, host)


def sparse_matvec(rows: int, constraint, signal, value, v):
    """(rows, 4): row c is Σ value[e]·v[signal[e]] over the entries e with constraint[e] = c."""
    return SparseMatrix(rows, constraint, signal, value).matvec(v)
