"""Where the local work runs: the pure-Python reference, or a ``gpu_msm`` backend.

Both engines give the same answers (tests compare them on fresh inputs); they differ in
how a vector is held: the reference keeps lists of ints, a backend keeps canonical
``(n, 4)`` uint64 arrays and calls ``gpu_msm`` for MSMs, NTTs and vector arithmetic.
MSM results come back as reference points either way: the handful of point operations
around them (blinding terms, sums) are cheap and stay in ``prover.bn254``.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from prover import ntt
from prover.bn254 import FR_MODULUS, G1, G2, g1_from_array, g2_from_array
from prover.limbs import ints_to_limbs, limbs_to_ints
from prover.msm import msm_pippenger

R = FR_MODULUS
REFERENCE = "reference"


class ReferenceEngine:
    name = REFERENCE

    def vector(self, arr: np.ndarray):
        return limbs_to_ints(arr)

    def sync(self):
        pass

    def to_wire(self, v) -> np.ndarray:
        return ints_to_limbs(v)

    def concat(self, vs):
        return [e for v in vs for e in v]

    def sparse_matvec(self, matrix, coeffs, v, rows):
        out = [0] * rows
        sel = coeffs.matrix == matrix
        values = limbs_to_ints(coeffs.value[sel])
        for c, sig, val in zip(coeffs.constraint[sel].tolist(), coeffs.signal[sel].tolist(), values):
            out[c] += val * v[sig]
        return [x % R for x in out]

    def odd_coset(self, v):
        return ntt.odd_coset(v)

    def add_vec(self, a, b):
        return [(x + y) % R for x, y in zip(a, b, strict=True)]

    def sub_vec(self, a, b):
        return [(x - y) % R for x, y in zip(a, b, strict=True)]

    def mul_vec(self, a, b):
        return [x * y % R for x, y in zip(a, b, strict=True)]

    def scale_vec(self, a, k: int):
        return [x * k % R for x in a]

    def msm(self, group, bases, v):
        points = (g1_from_array if group == "g1" else g2_from_array)(bases)
        return msm_pippenger(G1 if group == "g1" else G2, points, v)

    def msm_later(self, group, bases, v):
        p = self.msm(group, bases, v)
        return lambda: p


class BackendEngine:
    """A ``gpu_msm`` backend ("cpu" or "cuda"); vectors are canonical arrays.

    On a backend with device residency (cuda: ``to_device``), a job's vectors are CuPy
    arrays: they cross to the device once (witness share, opened values) and back once
    (the values a party sends), and every step between runs where they are.
    """

    def __init__(self, backend: str | None):
        import gpu_msm
        self._b = gpu_msm.get_backend(backend)
        self.name = self._b.__name__.rsplit(".", 1)[-1]
        # vector arithmetic and the sparse products run on the CPU backend unless the
        # chosen backend has its own
        self._vec = self._b if hasattr(self._b, "mul_vec") else gpu_msm.get_backend("cpu")
        self._device = self.on_device = hasattr(self._b, "to_device")
        # per zkey object, kept while it lives: its coefficients split by matrix, and
        # (cuda) the device handles of its point sections
        self._split: dict = {}
        self._resident: dict = {}
        self._upload_lock = threading.Lock()

    def sync(self):
        if self._device:
            import cupy
            cupy.cuda.get_current_stream().synchronize()

    def vector(self, arr: np.ndarray):
        if self._device:
            return self._b.to_device(arr)
        return np.ascontiguousarray(arr, dtype=np.uint64)

    def to_wire(self, v) -> np.ndarray:
        if self._device:
            return self._b.to_host(v)
        return np.ascontiguousarray(v, dtype=np.uint64)

    def to_wire_into(self, v, out: np.ndarray) -> None:
        if self._device:
            self._b.to_host_into(v, out)
        else:
            np.copyto(out, v)

    def concat(self, vs):
        if self._device:
            return self._b.concat(vs)
        return np.concatenate(vs) if vs else np.zeros((0, 4), dtype=np.uint64)

    def sparse_matvec(self, matrix, coeffs, v, rows):
        if self._device:
            return self._device_matrix(matrix, coeffs, rows).matvec(v)
        per = _cached(self._split, coeffs)
        if per is None:
            per = {}
            for mtx in (0, 1):
                sel = coeffs.matrix == mtx
                per[mtx] = (np.ascontiguousarray(coeffs.constraint[sel]), np.ascontiguousarray(coeffs.signal[sel]),
                            np.ascontiguousarray(coeffs.value[sel]))
            _remember(self._split, coeffs, per)
        constraint, signal, value = per[matrix]
        return self._vec.sparse_matvec(rows, constraint, signal, value, v)

    def _device_matrix(self, matrix, coeffs, rows):
        """The CSR form of one matrix on the device, kept while the coefficients live."""
        with self._upload_lock:
            per = _cached(self._split, coeffs)
            if per is None:
                per = {}
                _remember(self._split, coeffs, per)
            mat = per.get((matrix, rows))
            if mat is None:
                sel = coeffs.matrix == matrix
                mat = per[(matrix, rows)] = self._b.SparseMatrix(rows, coeffs.constraint[sel],
                                                                 coeffs.signal[sel], coeffs.value[sel])
        return mat

    def odd_coset(self, v):
        return self._b.odd_coset(v)

    def add_vec(self, a, b):
        return self._vec.add_vec(a, b)

    def sub_vec(self, a, b):
        return self._vec.sub_vec(a, b)

    def mul_vec(self, a, b):
        return self._vec.mul_vec(a, b)

    def scale_vec(self, a, k: int):
        return self._vec.mul_scalar(a, k)

    def _bases(self, bases):
        if not hasattr(self._b, "upload_bases"):
            return bases
        with self._upload_lock:
            handle = _cached(self._resident, bases)
            if handle is None:
                # kept on the device for as long as the zkey holding the array lives (not
                # in the backend's keyed registry: an id is reused once its array is
                # freed).  Under the lock: two parties in threads each uploading and one
                # handle replacing the other left an MSM still running on freed bases.
                handle = self._b.upload_bases(bases)
                _remember(self._resident, bases, handle)
        return handle

    def msm(self, group, bases, v):
        if group == "g1":
            return g1_from_array(self._b.msm_g1(self._bases(bases), v).reshape(1, 2, 4))[0]
        return g2_from_array(self._b.msm_g2(self._bases(bases), v).reshape(1, 2, 2, 4))[0]

    def msm_later(self, group, bases, v):
        """A function giving the MSM: started now on its own stream where the backend can
        (cuda), so it overlaps what the caller does next; else computed now."""
        if not hasattr(self._b, "msm_start"):
            p = self.msm(group, bases, v)
            return lambda: p
        result = self._b.msm_start(group, self._bases(bases), v)
        if group == "g1":
            return lambda: g1_from_array(result().reshape(1, 2, 4))[0]
        return lambda: g2_from_array(result().reshape(1, 2, 2, 4))[0]


def _cached(cache: dict, obj):
    hit = cache.get(id(obj))
    return hit[1] if hit is not None and hit[0]() is obj else None


def _remember(cache: dict, obj, value):
    key = id(obj)
    cache[key] = (weakref.ref(obj, lambda _: cache.pop(key, None)), value)


_ENGINES: dict = {}


def get_engine(name: str | None = None):
    """``"reference"``, ``"cpu"``, ``"cuda"``, or None for the best ``gpu_msm`` backend."""
    if name == REFERENCE:
        return ReferenceEngine()
    key = name or "best"
    eng = _ENGINES.get(key)
    if eng is None:
        eng = _ENGINES[key] = BackendEngine(name)
    return eng
