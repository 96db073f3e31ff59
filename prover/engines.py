"""Where the local work runs: the pure-Python reference, or a ``gpu_msm`` backend.

Both engines give the same answers (tests compare them on fresh inputs); they differ in
how a vector is held: the reference keeps lists of ints, a backend keeps canonical
``(n, 4)`` uint64 arrays and calls ``gpu_msm`` for MSMs, NTTs and vector arithmetic.
MSM results come back as reference points either way: the handful of point operations
after them (sums, the completion with r and s) are cheap and stay in ``prover.bn254``.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Protocol

import numpy as np

from prover import ntt
from prover.bn254 import FR_MODULUS, G1, G2, g1_from_array, g2_from_array
from prover.limbs import ints_to_limbs, limbs_to_ints
from prover.msm import msm_pippenger

R = FR_MODULUS
REFERENCE = "reference"


class Engine(Protocol):
    """What the prover asks of the place its local work runs: one class per backend
    (``ReferenceEngine``, ``CpuEngine``, ``CudaEngine``), each implementing all of it.
    Vectors are the engine's own (ints, numpy or CuPy arrays); ``vector`` and ``to_wire``
    cross from and to canonical ``(n, 4)`` arrays; points come back as reference points."""
    name: str
    on_device: bool  # vectors live on a device: shares are best expanded there

    def sync(self) -> None: ...
    def vector(self, arr: np.ndarray) -> Any: ...
    def to_wire(self, v) -> np.ndarray: ...
    def to_wire_into(self, v, out: np.ndarray) -> None: ...
    def concat(self, vs) -> Any: ...
    def sparse_matvec(self, matrix: int, coeffs, v, rows: int) -> Any: ...
    def odd_coset(self, v) -> Any: ...
    def add_vec(self, a, b) -> Any: ...
    def sub_vec(self, a, b) -> Any: ...
    def mul_vec(self, a, b) -> Any: ...
    def scale_vec(self, a, k: int) -> Any: ...
    def msm(self, group: str, bases, v) -> Any: ...
    def msm_later(self, group: str, bases, v) -> Callable[[], Any]: ...


class ReferenceEngine:
    name = REFERENCE
    on_device = False

    def vector(self, arr: np.ndarray):
        return limbs_to_ints(arr)

    def sync(self):
        pass

    def to_wire(self, v) -> np.ndarray:
        return ints_to_limbs(v)

    def to_wire_into(self, v, out: np.ndarray) -> None:
        out[...] = ints_to_limbs(v)

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


class _OnBackend:
    """The vector arithmetic both backends run as their module's functions (``self._b``)."""

    def odd_coset(self, v):
        return self._b.odd_coset(v)

    def add_vec(self, a, b):
        return self._b.add_vec(a, b)

    def sub_vec(self, a, b):
        return self._b.sub_vec(a, b)

    def mul_vec(self, a, b):
        return self._b.mul_vec(a, b)

    def scale_vec(self, a, k: int):
        return self._b.mul_scalar(a, k)


class CpuEngine(_OnBackend):
    """``gpu_msm``'s CPU backend (numba); vectors are canonical numpy arrays."""
    name = "cpu"
    on_device = False

    def __init__(self):
        import gpu_msm
        self._b = gpu_msm.get_backend("cpu")
        self._split: dict = {}  # per zkey's coefficients, kept while they live: split by matrix

    def sync(self):
        pass

    def vector(self, arr: np.ndarray):
        return np.ascontiguousarray(arr, dtype=np.uint64)

    def to_wire(self, v) -> np.ndarray:
        return np.ascontiguousarray(v, dtype=np.uint64)

    def to_wire_into(self, v, out: np.ndarray) -> None:
        np.copyto(out, v)

    def concat(self, vs):
        return np.concatenate(vs) if vs else np.zeros((0, 4), dtype=np.uint64)

    def sparse_matvec(self, matrix, coeffs, v, rows):
        per = _cached(self._split, coeffs)
        if per is None:
            per = {}
            for mtx in (0, 1):
                sel = coeffs.matrix == mtx
                per[mtx] = (np.ascontiguousarray(coeffs.constraint[sel]), np.ascontiguousarray(coeffs.signal[sel]),
                            np.ascontiguousarray(coeffs.value[sel]))
            _remember(self._split, coeffs, per)
        constraint, signal, value = per[matrix]
        return self._b.sparse_matvec(rows, constraint, signal, value, v)

    def msm(self, group, bases, v):
        return _point(group, self._b.msm_g1(bases, v) if group == "g1" else self._b.msm_g2(bases, v))

    def msm_later(self, group, bases, v):
        """Computed now: the CPU has no stream to run it on while the caller goes on."""
        p = self.msm(group, bases, v)
        return lambda: p


class CudaEngine(_OnBackend):
    """``gpu_msm``'s CUDA backend; a job's vectors are CuPy arrays on the selected device.
    They cross to the device once (witness share, opened values) and back once (the
    values a party sends), and every step between runs where they are.  A zkey's point
    sections and sparse matrices are uploaded once and kept while the zkey lives.

    With several device slots (``gpu_msm.select_devices``, ``--gpus``) each point section
    is spread over them and every MSM runs on all of them at once; the vectors, NTTs and
    matrix products stay on the first (a job's work besides the MSMs is a few percent of
    it, and moving vectors between GPUs would cost more than it saves)."""
    name = "cuda"
    on_device = True

    def __init__(self, slots: tuple[int, ...] = (0,)):
        import gpu_msm
        self._b = gpu_msm.get_backend("cuda")
        self._slots = tuple(slots)
        self._split_msm = len(self._slots) > 1
        self._split: dict = {}  # per zkey's coefficients: the device CSR form of each matrix
        self._resident: dict = {}  # per point-section array: its device handle
        self._upload_lock = threading.Lock()

    def sync(self):
        import cupy
        cupy.cuda.get_current_stream().synchronize()

    def vector(self, arr: np.ndarray):
        return self._b.to_device(arr)

    def to_wire(self, v) -> np.ndarray:
        return self._b.to_host(v)

    def to_wire_into(self, v, out: np.ndarray) -> None:
        self._b.to_host_into(v, out)

    def concat(self, vs):
        return self._b.concat(vs)

    def sparse_matvec(self, matrix, coeffs, v, rows):
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
        return mat.matvec(v)

    def _bases(self, bases):
        with self._upload_lock:
            handle = _cached(self._resident, bases)
            if handle is None:
                # kept on the device for as long as the zkey holding the array lives (not
                # in the backend's keyed registry: an id is reused once its array is
                # freed).  Under the lock: two parties in threads each uploading and one
                # handle replacing the other left an MSM still running on freed bases.
                handle = (self._b.upload_split(bases, self._slots) if self._split_msm
                          else self._b.upload_bases(bases))
                _remember(self._resident, bases, handle)
        return handle

    def msm(self, group, bases, v):
        b = self._bases(bases)
        if self._split_msm:
            return _point(group, self._b.split_msm(group, b, v))
        return _point(group, self._b.msm_g1(b, v) if group == "g1" else self._b.msm_g2(b, v))

    def msm_later(self, group, bases, v):
        """Started now on its own stream (one per slot), so it overlaps what the caller
        does next."""
        start = self._b.split_msm_start if self._split_msm else self._b.msm_start
        result = start(group, self._bases(bases), v)
        return lambda: _point(group, result())


def _point(group, arr: np.ndarray):
    """A reference point from a backend's affine (2, 4) or (2, 2, 4) array."""
    if group == "g1":
        return g1_from_array(arr.reshape(1, 2, 4))[0]
    return g2_from_array(arr.reshape(1, 2, 2, 4))[0]


def _cached(cache: dict, obj):
    hit = cache.get(id(obj))
    return hit[1] if hit is not None and hit[0]() is obj else None


def _remember(cache: dict, obj, value):
    key = id(obj)
    cache[key] = (weakref.ref(obj, lambda _: cache.pop(key, None)), value)


_ENGINES: dict = {}


def get_engine(name: str | None = None) -> Engine:
    """``"reference"``, ``"cpu"``, ``"cuda"``, or None for the best ``gpu_msm`` backend
    (the one ``gpu_msm.select_device`` chose)."""
    if name == REFERENCE:
        return ReferenceEngine()
    import gpu_msm
    key = (name or gpu_msm.selected_kind() or "best", gpu_msm.device_slots())
    eng = _ENGINES.get(key)
    if eng is None:
        backend = gpu_msm.get_backend(name).__name__.rsplit(".", 1)[-1]
        eng = _ENGINES[key] = CudaEngine(key[1]) if backend == "cuda" else CpuEngine()
    return eng
