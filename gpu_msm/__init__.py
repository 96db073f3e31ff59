"""Compute engine: MSM for G1/G2, NTT and field kernels (CUDA and CPU backends).

Knows nothing of shares or protocols.  Not built yet (issue "GPU engine"); the
single-party prover uses the pure-Python reference in ``prover`` until then.
"""
