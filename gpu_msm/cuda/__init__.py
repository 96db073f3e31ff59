"""The CUDA backend: CUDA C kernels (``gpu_msm/kernels``) compiled with NVRTC, run by CuPy.

Same API as every backend (canonical numpy in and out, see ``gpu_msm``), plus device
residency: ``upload_bases(bases)`` uploads bases once and returns a handle that
``msm_g1`` / ``msm_g2`` accept in place of the array (the memory is freed with the handle); the vector functions, the NTTs and
the MSMs' scalars also take CuPy arrays, and then keep their results on the device
(``to_device`` / ``to_host`` move a vector; ``SparseMatrix`` keeps a circuit's
coefficients there).  Several device slots: ``upload_split(bases, devices)`` spreads
bases over them and ``split_msm`` / ``split_msm_start`` run one MSM across them.  Importing this module needs CuPy; kernels compile at first use
(and are cached on disk, see ``_build``).
"""

from __future__ import annotations

from gpu_msm.cuda.fixed_base import fixed_base_g1, fixed_base_g2
from gpu_msm.cuda.msm import ResidentBases, msm_g1, msm_g2, msm_start, upload_bases
from gpu_msm.cuda.slots import SplitBases, upload_split
from gpu_msm.cuda.slots import msm as split_msm
from gpu_msm.cuda.slots import msm_start as split_msm_start
from gpu_msm.cuda.transform import intt, ntt, odd_coset
from gpu_msm.cuda.vec import (SparseMatrix, add_vec, concat, mul_scalar, mul_vec, neg_vec,
                              sparse_matvec, sub_vec, to_device, to_host, to_host_into)

__all__ = ["msm_g1", "msm_g2", "msm_start", "ntt", "intt", "odd_coset",
           "upload_bases", "ResidentBases", "fixed_base_g1", "fixed_base_g2", "add_vec", "sub_vec",
           "mul_vec", "neg_vec", "mul_scalar", "sparse_matvec", "SparseMatrix", "to_device",
           "to_host", "to_host_into", "concat", "SplitBases", "upload_split", "split_msm", "split_msm_start"]
