"""The CPU backend of gpu_msm: numba kernels, canonical numpy arrays in and out.

Inside, field elements are in Montgomery form (R = 2^256) as 4×64-bit limb tuples;
``wide`` supplies the 64×64→128 products numba lacks, ``mont`` the Montgomery
arithmetic, ``fields`` Fq/Fr/Fq2, ``curve`` the G1/G2 formulas, ``pippenger`` the MSM
stages, ``transform`` the NTTs and ``vec`` the vector operations.  Kernels release
the GIL; public functions take one lock (``serial``), so threads may share the backend.

Kernels are compiled on first use and cached in a per-user folder (``kernel_cache``),
never inside the package.
"""

from __future__ import annotations

import os

from gpu_msm.cpu.kernel_cache import configure as _configure_kernel_cache

# numba's OpenMP threads otherwise spin at each barrier; on a machine shared with other
# work the spinning thread held the core the other thread needed and every parallel
# region paid a scheduler tick (figures: bench/RESULTS.md, "Measurements moved from code
# comments").  Only read when libgomp loads, i.e. at the first parallel kernel; an
# explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
_configure_kernel_cache()  # before any kernel module is imported: see kernel_cache

# The public functions, by module.  Each module is imported on first use of one of its
# names (PEP 562): numba decorates a module's kernels when it loads, a cost paid per
# module (figures: bench/RESULTS.md, "Measurements moved from code comments"), and
# ``coprove verify`` needs only the pairing.
_EXPORTS = {
    "msm": ("msm_g1", "msm_g2"),
    "transform": ("ntt", "intt", "odd_coset"),
    "vec": ("sparse_matvec", "mul_vec", "add_vec", "sub_vec", "neg_vec", "mul_scalar"),
    "fixed_base": ("fixed_base_g1", "fixed_base_g2"),
    "pairing": ("pairing_check",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    import importlib

    if name in _HOME:
        value = getattr(importlib.import_module(f"gpu_msm.cpu.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gpu_msm.cpu' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_HOME))
