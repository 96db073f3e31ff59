"""NTT, inverse NTT and the odd-coset shift over Fr on the device (``kernels/ntt.cu``).

snarkjs's domain: ω_n = 5^((r−1)/n).  odd_coset: iNTT, coefficient i times g^i with
g = ω_2n, NTT.  Canonical (n, 4) uint64 in and out; Montgomery form on the device only.
Twiddle tables and coset powers are built on the device once per (device, n) and kept.
A CuPy argument gives a CuPy result (the vector stays on the device); numpy gives numpy.
"""

from __future__ import annotations

import numpy as np

from gpu_msm.constants import FR_GENERATOR, FR_MODULUS, FR_TWO_ADICITY
from gpu_msm.cuda import _build

R = FR_MODULUS
BLOCK = 256
_TABLES: dict = {}


def _cp():
    import cupy
    return cupy


def kernels():
    return _build.module("ntt.cu", {})


def _grid(threads: int) -> tuple[int]:
    return (max(1, -(-threads // BLOCK)),)


def root_of_unity(n: int) -> int:
    if n < 1 or n & (n - 1) or n > 1 << FR_TWO_ADICITY:
        raise ValueError(f"domain size {n} is not a power of two in [1, 2^{FR_TWO_ADICITY}]")
    return pow(FR_GENERATOR, (R - 1) // n, R)


def _mont_words(x: int):
    """x in Montgomery form as a (1, 8) uint32 device array."""
    cp = _cp()
    v = x * (1 << 256) % R
    return cp.asarray(np.frombuffer(v.to_bytes(32, "little"), dtype="<u4").astype(np.uint32).reshape(1, 8))


def _powers(base: int, count: int):
    cp = _cp()
    out = cp.empty((count, 8), cp.uint32)
    kernels().get_function("fr_powers")(_grid(count), (BLOCK,), (_mont_words(base), out, np.uint32(count)))
    return out


def _tables(n: int) -> dict:
    """Forward and inverse twiddles (w^k, k < n/2), coset powers g^i (i < n), 1/n."""
    cp = _cp()
    key = (cp.cuda.Device().id, n)
    t = _TABLES.get(key)
    if t is None:
        w = root_of_unity(n)
        half = max(n // 2, 1)
        t = {
            "fwd": _powers(w, half),
            "inv": _powers(pow(w, -1, R), half),
            "coset": _powers(root_of_unity(2 * n), n),
            "n_inv": _mont_words(pow(n, -1, R)),
        }
        _TABLES[key] = t
    return t


def _upload(values):
    """(Montgomery copy on the device, n, came from the host?)"""
    cp = _cp()
    host = not isinstance(values, cp.ndarray)
    arr = values if isinstance(values, cp.ndarray) else cp.asarray(np.ascontiguousarray(values, dtype=np.uint64))
    arr = cp.ascontiguousarray(arr, dtype=cp.uint64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"values of shape {arr.shape}: want (n, 4) uint64")
    n = arr.shape[0]
    root_of_unity(n)  # validates n
    d = arr.copy().view(cp.uint32).reshape(n, 8)
    kernels().get_function("fr_to_mont")(_grid(n), (BLOCK,), (d, np.uint32(n)))
    return d, host


def _download(d, host: bool = True):
    """Canonical (n, 4) uint64: numpy when the input came from the host, else on the device."""
    n = d.shape[0]
    kernels().get_function("fr_from_mont")(_grid(n), (BLOCK,), (d, np.uint32(n)))
    out = d.view(_cp().uint64).reshape(n, 4)
    return out.get() if host else out


def _ntt_mont(d, tw):
    """Radix-2 DIT NTT of the Montgomery values d (n, 8) with twiddle table tw; new array."""
    cp = _cp()
    k = kernels()
    n = d.shape[0]
    log_n = n.bit_length() - 1
    out = cp.empty_like(d)
    k.get_function("fr_bit_reverse")(_grid(n), (BLOCK,), (d, out, np.uint32(n), np.uint32(log_n)))
    half = 1
    stage = k.get_function("fr_ntt_stage")
    while half < n:
        stage(_grid(n // 2), (BLOCK,), (out, tw, np.uint32(n), np.uint32(half)))
        half *= 2
    return out


def _scale(d, f, broadcast: bool):
    n = d.shape[0]
    kernels().get_function("fr_scale")(_grid(n), (BLOCK,), (d, f, np.uint32(n), np.uint32(int(broadcast))))


def ntt_mont(d):
    return _ntt_mont(d, _tables(d.shape[0])["fwd"])


def intt_mont(d):
    t = _tables(d.shape[0])
    out = _ntt_mont(d, t["inv"])
    _scale(out, t["n_inv"], True)
    return out


def odd_coset_mont(d):
    t = _tables(d.shape[0])
    coeffs = intt_mont(d)
    _scale(coeffs, t["coset"], False)
    return ntt_mont(coeffs)


def ntt(values) -> np.ndarray:
    """Evaluations on the size-n domain of the coefficients (n, 4)."""
    d, host = _upload(values)
    return _download(ntt_mont(d), host)


def intt(values) -> np.ndarray:
    """Coefficients of the polynomial with the given evaluations on the size-n domain."""
    d, host = _upload(values)
    return _download(intt_mont(d), host)


def odd_coset(values) -> np.ndarray:
    """Domain evaluations (n, 4) -> evaluations on the odd coset g·ω^i, g = ω_2n."""
    d, host = _upload(values)
    return _download(odd_coset_mont(d), host)
