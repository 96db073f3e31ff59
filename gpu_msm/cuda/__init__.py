"""The CUDA backend: CUDA C kernels (``gpu_msm/kernels``) compiled with NVRTC, run by CuPy.

Same API as every backend (canonical numpy in and out, see ``gpu_msm``), plus device
residency of bases: ``resident_bases(key, bases)`` uploads once and returns a handle that
``msm_g1`` / ``msm_g2`` accept in place of the array.  Importing this module needs CuPy;
kernels compile at first use (and are cached on disk, see ``_build``).
"""

from __future__ import annotations

from gpu_msm.cuda.msm import (ResidentBases, msm_g1, msm_g2, release_bases, resident_bases,
                              upload_bases)
from gpu_msm.cuda.transform import intt, ntt, odd_coset

__all__ = ["msm_g1", "msm_g2", "ntt", "intt", "odd_coset", "resident_bases", "release_bases",
           "upload_bases", "ResidentBases"]
