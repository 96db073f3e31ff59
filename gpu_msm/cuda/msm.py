"""Pippenger MSM on the device: the host side of ``kernels/msm.cu``.

Stages (one kernel each): breakdown -> sort (counting sort) -> accumulate (+ fixup) ->
integrate -> collect.  Bases live on the device in Montgomery form; ``resident_bases``
keeps them there under a caller's key (the prover uses the zkey hash) so that a proof
streams only its scalars.  Results come back as one XYZZ point and are made affine here.
"""

from __future__ import annotations

import os

import numpy as np

from gpu_msm.constants import FQ_MODULUS
from gpu_msm.cuda import _build

Q = FQ_MODULUS

# #defines for msm.cu.  ACC_CHUNK: sorted points per accumulate thread; ACC_BLOCK: its
# block size.  First values, to be replaced by measured ones (bench/gpu_msm.py).
TUNING = {"ACC_CHUNK": 64, "ACC_BLOCK": 128}
INTEGRATE_SEGMENT = 32  # buckets per integrate thread
BLOCK = 256

_POISON = os.environ.get("GPU_MSM_POISON", "") not in ("", "0")


class _Curve:
    def __init__(self, name: str, g2: bool):
        self.name, self.g2 = name, g2
        self.fq_per_coord = 2 if g2 else 1
        self.point_words = 16 * self.fq_per_coord  # affine (x, y), 32-bit words
        self.acc_words = 32 * self.fq_per_coord    # XYZZ
        self.shape = (2, 2, 4) if g2 else (2, 4)


G1 = _Curve("G1", False)
G2 = _Curve("G2", True)


def _cp():
    import cupy
    return cupy


def kernels(curve: _Curve):
    return _build.module("msm.cu", {"CURVE_G2": int(curve.g2), **TUNING})


def _u32(x):
    return np.uint32(x)


def _grid(threads: int, block: int = BLOCK) -> tuple[int]:
    return (max(1, -(-threads // block)),)


# ---------------------------------------------------------------- bases on the device

class ResidentBases:
    """Affine bases in device memory (Montgomery form): pass in place of the numpy array."""

    def __init__(self, key, curve: _Curve, data, n: int):
        self.key, self.curve, self.data, self.n = key, curve, data, n

    def __len__(self):
        return self.n

    def __repr__(self):
        return f"ResidentBases({self.key!r}, {self.curve.name}, n={self.n})"


_RESIDENT: dict = {}


def _curve_of(bases) -> _Curve:
    shape = np.shape(bases)
    if len(shape) == 3 and shape[1:] == (2, 4):
        return G1
    if len(shape) == 4 and shape[1:] == (2, 2, 4):
        return G2
    raise ValueError(f"bases of shape {shape}: want (n, 2, 4) for G1 or (n, 2, 2, 4) for G2")


def _check_below(limbs: np.ndarray, modulus: int, what: str) -> None:
    """Every 4-limb row < modulus (lexicographic from the top limb), vectorised."""
    m = [(modulus >> (64 * i)) & (2**64 - 1) for i in range(4)]
    below = np.zeros(len(limbs), bool)
    equal = np.ones(len(limbs), bool)
    for i in (3, 2, 1, 0):
        below |= equal & (limbs[:, i] < np.uint64(m[i]))
        equal &= limbs[:, i] == np.uint64(m[i])
    if not below.all():
        raise ValueError(f"{what}: coordinate not reduced below the modulus at row "
                         f"{int(np.argmin(below))}")


def upload_bases(bases, curve: _Curve | None = None, key=None) -> ResidentBases:
    """Copy canonical affine bases to the device and convert them to Montgomery form."""
    cp = _cp()
    curve = curve or _curve_of(bases)
    if isinstance(bases, cp.ndarray):
        d = cp.ascontiguousarray(bases, dtype=cp.uint64)
        n = d.shape[0]
    else:
        arr = np.ascontiguousarray(bases, dtype=np.uint64)
        n = arr.shape[0]
        _check_below(arr.reshape(-1, 4), Q, f"{curve.name} bases")
        d = cp.asarray(arr)
    d = d.view(cp.uint32).reshape(n, curve.point_words)
    count = n * curve.point_words // 8
    if count:
        kernels(curve).get_function("fq_to_mont")(_grid(count), (BLOCK,), (d, np.uint64(count)))
    return ResidentBases(key, curve, d, n)


def resident_bases(key, bases=None) -> ResidentBases:
    """Bases kept on the current device under ``key`` (e.g. the zkey hash and section).

    The first call with a key uploads ``bases``; later calls return the same handle (and
    may omit ``bases``).  msm_g1 / msm_g2 accept the handle in place of the array.
    """
    cp = _cp()
    full = (cp.cuda.Device().id, key)
    handle = _RESIDENT.get(full)
    if handle is None:
        if bases is None:
            raise KeyError(f"no resident bases under {key!r}")
        handle = upload_bases(bases, key=key)
        _RESIDENT[full] = handle
    return handle


def release_bases(key=None) -> None:
    """Forget the resident bases under ``key`` (all keys when None); frees device memory."""
    for full in [k for k in _RESIDENT if key is None or k[1] == key]:
        del _RESIDENT[full]


# ---------------------------------------------------------------- the MSM

SCALAR_BITS = 254


def window_bits(n: int) -> int:
    """Window c minimising windows x (n mixed adds + 2 * 2^(c-1) bucket adds at ~2x cost)."""
    best, best_cost = 1, None
    for c in range(2, 21):
        nwin = -(-(SCALAR_BITS + 1) // c)
        cost = nwin * (n + 4 * (1 << (c - 1)))
        if best_cost is None or cost < best_cost:
            best, best_cost = c, cost
    return best


def _scalars_on_device(scalars, n_max: int):
    cp = _cp()
    if isinstance(scalars, cp.ndarray):
        s = cp.ascontiguousarray(scalars)
        if s.dtype == cp.uint32 and s.ndim == 2 and s.shape[1] == 8:
            return s
        s = s.astype(cp.uint64, copy=False)
    else:
        s = cp.asarray(np.ascontiguousarray(scalars, dtype=np.uint64))
    if s.ndim != 2 or s.shape[1] != 4:
        raise ValueError(f"scalars of shape {s.shape}: want (n, 4) uint64")
    if s.shape[0] > n_max:
        raise ValueError(f"{s.shape[0]} scalars for {n_max} bases")
    return s.view(cp.uint32).reshape(-1, 8)


def msm_device(curve: _Curve, bases: ResidentBases, scalars, window: int | None = None,
               marks: list | None = None):
    """Run the pipeline; returns the XYZZ result (Montgomery) as a device array of words.

    ``scalars`` (n, 4) uint64 (numpy or CuPy) or (n, 8) uint32 on the device; n may be
    smaller than len(bases): the first n bases are used.  Asynchronous: nothing syncs.
    ``marks``, when a list, receives (stage name, recorded CUDA event) pairs.
    """
    cp = _cp()

    def mark(stage):
        if marks is not None:
            ev = cp.cuda.Event()
            ev.record()
            marks.append((stage, ev))

    mark("start")
    s = _scalars_on_device(scalars, bases.n)
    n = s.shape[0]
    k = kernels(curve)
    out = cp.zeros(curve.acc_words, cp.uint32)  # infinity
    if n == 0:
        return out
    c = window or window_bits(n)
    nwin = -(-(SCALAR_BITS + 1) // c)
    B = 1 << (c - 1)
    nb = nwin * B
    chunk = TUNING["ACC_CHUNK"]
    max_entries = nwin * n
    nchunks = -(-max_entries // chunk)

    counts = cp.zeros(nb, cp.uint32)
    k.get_function("msm_breakdown")(_grid(n), (BLOCK,), (s, _u32(n), _u32(c), _u32(nwin), counts))
    ends = cp.cumsum(counts, dtype=cp.uint32)
    total = ends[-1:].copy()
    entries = cp.empty(max_entries, cp.uint32)
    keys = cp.empty(max_entries, cp.uint32)
    k.get_function("msm_sort_scatter")(_grid(n), (BLOCK,),
                                       (s, _u32(n), _u32(c), _u32(nwin), ends, entries, keys))
    starts = ends
    mark("breakdown+sort")

    aw = curve.acc_words
    buckets = cp.empty((nb, aw), cp.uint32)
    first_part = cp.empty((nchunks, aw), cp.uint32)
    last_part = cp.empty((nchunks, aw), cp.uint32)
    M = min(INTEGRATE_SEGMENT, B)
    S = B // M
    seg = cp.empty((nwin * S, aw), cp.uint32)
    win = cp.empty((nwin, aw), cp.uint32)
    if _POISON:
        for a in (buckets, first_part, last_part, seg, win):
            a.fill(0xFFFFFFFF)
    ab = TUNING["ACC_BLOCK"]
    k.get_function("msm_accumulate")(_grid(nchunks, ab), (ab,),
                                     (bases.data, entries, keys, starts, counts, total,
                                      buckets, first_part, last_part))
    mark("accumulate")
    k.get_function("msm_accumulate_fixup")(_grid(nb * 32), (BLOCK,),
                                           (starts, counts, first_part, last_part, buckets, _u32(nb)))
    mark("fixup")
    k.get_function("msm_integrate")(_grid(nwin * S, 64), (64,),
                                    (buckets, _u32(B), _u32(M), _u32(S), _u32(nwin), seg))
    mark("integrate")
    k.get_function("msm_collect_windows")((nwin,), (256,), (seg, _u32(S), win))
    k.get_function("msm_collect_final")((1,), (32,), (win, _u32(nwin), _u32(c), out))
    mark("collect")
    return out


def stage_times(marks) -> dict:
    """{stage: ms} from the marks msm_device recorded (synchronises)."""
    from cupy.cuda import get_elapsed_time
    marks[-1][1].synchronize()
    return {name: get_elapsed_time(marks[i - 1][1], ev) for i, (name, ev) in enumerate(marks) if i}


# ---------------------------------------------------------------- host side of the result

def _words_to_ints(words: np.ndarray) -> list[int]:
    w = np.ascontiguousarray(words, dtype=np.uint32).reshape(-1, 8)
    return [int.from_bytes(row.astype("<u4").tobytes(), "little") for row in w]


def _f2_mul(a, b):
    t0, t1 = a[0] * b[0], a[1] * b[1]
    return ((t0 - t1) % Q, ((a[0] + a[1]) * (b[0] + b[1]) - t0 - t1) % Q)


def _f2_inv(a):
    t = pow(a[0] * a[0] + a[1] * a[1], -1, Q)
    return (a[0] * t % Q, -a[1] * t % Q)


def xyzz_to_affine_ints(curve: _Curve, words: np.ndarray):
    """XYZZ words (Montgomery) -> affine ints ((x, y) or ((x0, x1), (y0, y1))), None = infinity.

    x = X / ZZ and y = Y / ZZZ: the Montgomery factor cancels in each ratio.
    """
    v = _words_to_ints(words)
    if curve.g2:
        X, Y, ZZ, ZZZ = (v[0], v[1]), (v[2], v[3]), (v[4], v[5]), (v[6], v[7])
        if ZZ == (0, 0):
            return None
        return _f2_mul(X, _f2_inv(ZZ)), _f2_mul(Y, _f2_inv(ZZZ))
    X, Y, ZZ, ZZZ = v
    if ZZ == 0:
        return None
    return X * pow(ZZ, -1, Q) % Q, Y * pow(ZZZ, -1, Q) % Q


def _ints_to_array(values, shape) -> np.ndarray:
    buf = b"".join(int(x).to_bytes(32, "little") for x in values)
    return np.frombuffer(buf, dtype="<u8").astype(np.uint64).reshape(shape)


def affine_to_array(curve: _Curve, p) -> np.ndarray:
    if p is None:
        return np.zeros(curve.shape, np.uint64)
    if curve.g2:
        return _ints_to_array([p[0][0], p[0][1], p[1][0], p[1][1]], curve.shape)
    return _ints_to_array([p[0], p[1]], curve.shape)


def msm(curve: _Curve, bases, scalars, window: int | None = None) -> np.ndarray:
    if not isinstance(bases, ResidentBases):
        bases = upload_bases(bases, curve)
    elif bases.curve is not curve:
        raise ValueError(f"resident bases are {bases.curve.name}, not {curve.name}")
    words = msm_device(curve, bases, scalars, window).get()
    return affine_to_array(curve, xyzz_to_affine_ints(curve, words))


def msm_g1(bases, scalars) -> np.ndarray:
    """Σ scalars[i]·bases[i] in G1: (n, 2, 4) (or a ResidentBases) and (n, 4) -> (2, 4)."""
    return msm(G1, bases, scalars)


def msm_g2(bases, scalars) -> np.ndarray:
    """Σ scalars[i]·bases[i] in G2: (n, 2, 2, 4) (or a ResidentBases) and (n, 4) -> (2, 2, 4)."""
    return msm(G2, bases, scalars)
