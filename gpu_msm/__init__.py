"""Compute engine: MSM and fixed-base multiplication for G1/G2, NTT and field kernels,
with CUDA and CPU backends.

Knows nothing of shares or protocols.  Every function takes and returns canonical
(non-Montgomery) numpy uint64 arrays, little-endian limbs:

    scalars / field vectors  (n, 4)
    G1 affine points         (n, 2, 4)      infinity = all zeros
    G2 affine points         (n, 2, 2, 4)   [x, y], each [c0, c1]

``backend`` is None (the best available: "cuda" where CuPy sees a device, else
"cpu"), "cpu" or "cuda".  Backends live in ``gpu_msm.cpu`` and ``gpu_msm.cuda`` and are
imported lazily, so this package imports with numpy alone.
"""

from __future__ import annotations

from gpu_msm.backend import (available_backends, device_slots, get_backend, parse_gpu_list, select_device,
                             select_devices, selected_kind)
from gpu_msm.reduced import rows_below
from gpu_msm.split import split_bounds


def msm_g1(bases, scalars, backend=None):
    """Σ scalars[i]·bases[i] in G1: (n, 2, 4) and (n, 4) -> (2, 4)."""
    return get_backend(backend).msm_g1(bases, scalars)


def msm_g2(bases, scalars, backend=None):
    """Σ scalars[i]·bases[i] in G2: (n, 2, 2, 4) and (n, 4) -> (2, 2, 4)."""
    return get_backend(backend).msm_g2(bases, scalars)


def fixed_base_g1(point, scalars, backend=None):
    """scalars[i]·point in G1: (2, 4) and (n, 4) -> (n, 2, 4); a zero scalar gives (0, 0)."""
    return get_backend(backend).fixed_base_g1(point, scalars)


def fixed_base_g2(point, scalars, backend=None):
    """scalars[i]·point in G2: (2, 2, 4) and (n, 4) -> (n, 2, 2, 4)."""
    return get_backend(backend).fixed_base_g2(point, scalars)


def ntt(values, backend=None):
    """Evaluations on the size-n domain (ω_n = 5^((r−1)/n)) of the coefficients (n, 4)."""
    return get_backend(backend).ntt(values)


def intt(values, backend=None):
    """Coefficients of the polynomial with the given evaluations on the size-n domain."""
    return get_backend(backend).intt(values)


def odd_coset(values, backend=None):
    """Domain evaluations (n, 4) -> evaluations on the odd coset g·ω^i, g = ω_2n."""
    return get_backend(backend).odd_coset(values)


# What only the CPU engine offers: reading a zkey (its points and coefficients are stored
# in Montgomery form) and checking a proof run once per file or proof on the host.

def cpu_engine_available() -> bool:
    """Whether the CPU engine imports (numba is installed); without it callers take their
    pure-Python reference."""
    import importlib.util
    return importlib.util.find_spec("numba") is not None


def fq_from_montgomery(rows):
    """(k, 4) Fq values x·R mod q -> x (canonical), on the CPU engine."""
    from gpu_msm.cpu import convert
    return convert.fq_from_montgomery(rows)


def fr_from_montgomery(rows):
    """(k, 4) Fr values x·R mod r -> x (canonical), on the CPU engine."""
    from gpu_msm.cpu import convert
    return convert.fr_from_montgomery(rows)


def pairing_check(g1, g2) -> bool:
    """Π e(g1[i], g2[i]) == 1: (k, 2, 4) and (k, 2, 2, 4) canonical affine points on their
    curves (G2 points in the subgroup: see g2_in_subgroup), on the CPU engine."""
    from gpu_msm.cpu import pairing
    return pairing.pairing_check(g1, g2)


def g2_in_subgroup(g2):
    """(k,) bool: [r]Q == O for each point of a (k, 2, 2, 4) array on the curve."""
    from gpu_msm.cpu import pairing
    return pairing.g2_in_subgroup(g2)


def g1_lincomb(bases, scalars):
    """Σ scalars[i]·bases[i] in G1 for a handful of terms (double-and-add): (n, 2, 4) and
    (n, 4) -> (2, 4); on the CPU engine."""
    from gpu_msm.cpu import pairing
    return pairing.g1_lincomb(bases, scalars)


__all__ = ["msm_g1", "msm_g2", "fixed_base_g1", "fixed_base_g2", "ntt", "intt", "odd_coset",
           "available_backends", "get_backend", "select_device", "select_devices", "parse_gpu_list",
           "device_slots", "selected_kind", "split_bounds", "rows_below",
           "cpu_engine_available", "fq_from_montgomery", "fr_from_montgomery", "pairing_check",
           "g2_in_subgroup", "g1_lincomb"]
