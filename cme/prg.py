"""Seed expansion: a 32-byte seed and a label -> a vector of uniform Fr elements.

ChaCha20 (``cryptography``) keyed by the seed, with a per-label nonce, so one seed
yields independent streams for the witness share and each triple component.  Each 32-byte block becomes a candidate below 2^254 (top two bits
cleared) and is kept only if below r: rejection keeps the output exactly uniform
(r/2^254 ≈ 0.76 of candidates pass).
"""

from __future__ import annotations

import hashlib

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from gpu_msm.constants import FR_MODULUS
from prover.limbs import below

SEED_BYTES = 32
_TOP_MASK = np.uint64((1 << 62) - 1)  # limb 3 holds bits 192..255; keep 192..253


def expand(seed: bytes, label: str, n: int, device: bool = False) -> np.ndarray:
    """``n`` uniform elements of Fr as a canonical ``(n, 4)`` uint64 array; ``device``:
    generated on the CUDA device instead (the same values, as a CuPy array)."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes, got {len(seed)}")
    # nonce = 32-bit block counter (0) || 96 bits naming the stream
    nonce = b"\0" * 4 + hashlib.sha256(label.encode()).digest()[:12]
    if device:
        from gpu_msm.cuda.prg import chacha_fr
        return chacha_fr(seed, nonce, n)
    stream = Cipher(algorithms.ChaCha20(seed, nonce), mode=None).encryptor()
    out = np.empty((n, 4), dtype=np.uint64)
    filled = 0
    while filled < n:
        want = n - filled
        batch = want + want // 3 + 8
        cand = np.frombuffer(stream.update(b"\0" * (32 * batch)), dtype="<u8").reshape(batch, 4).copy()
        cand[:, 3] &= _TOP_MASK
        good = cand[below(cand, FR_MODULUS)][:want]
        out[filled:filled + len(good)] = good
        filled += len(good)
    return out

