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

# numba's OpenMP threads otherwise spin at each barrier; on this 2-core machine, shared
# with other work, the spinning thread held the core the other thread needed and every
# parallel region cost a 4 ms scheduler tick (NTT 2^10: 24 ms, passive: 0.27 ms).  Only
# read when libgomp loads, i.e. at the first parallel kernel; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
_configure_kernel_cache()  # before any kernel module is imported: see kernel_cache

from gpu_msm.cpu.fixed_base import fixed_base_g1, fixed_base_g2  # noqa: E402
from gpu_msm.cpu.msm import msm_g1, msm_g2  # noqa: E402
from gpu_msm.cpu.pairing import pairing_check  # noqa: E402
from gpu_msm.cpu.transform import intt, ntt, odd_coset  # noqa: E402
from gpu_msm.cpu.vec import (add_vec, mul_scalar, mul_vec, neg_vec, sparse_matvec,  # noqa: E402
                             sub_vec)

__all__ = ["msm_g1", "msm_g2", "ntt", "intt", "odd_coset", "sparse_matvec", "mul_vec", "add_vec",
           "sub_vec", "neg_vec", "mul_scalar", "fixed_base_g1", "fixed_base_g2",
           "pairing_check"]
