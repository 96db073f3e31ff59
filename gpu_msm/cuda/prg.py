"""Uniform Fr vectors from a ChaCha20 stream, generated on the device (``kernels/chacha.cu``).

The same function as ``cme.prg.expand`` on the host, value for value: candidate j is
bytes [32 j, 32 j + 32) of the keystream read as four little-endian 64-bit limbs with the
top two bits cleared, kept when below r, and the output is the first n kept candidates
in stream order.  A party expands its seed-derived shares here straight into device
memory instead of generating ~0.2 GB of keystream on the host and copying it over.
"""

from __future__ import annotations

import numpy as np

from gpu_msm.constants import FR_MODULUS
from gpu_msm.cuda import _build
from gpu_msm.reduced import rows_below

BLOCK = 256
_TOP_MASK = (1 << 62) - 1


def _cp():
    import cupy
    return cupy


def chacha_fr(key: bytes, nonce16: bytes, n: int):
    """n uniform Fr elements (canonical (n, 4) uint64 CuPy array) from the ChaCha20 stream
    with this 32-byte key and 16-byte counter‖nonce (the ``cryptography`` layout)."""
    cp = _cp()
    if len(key) != 32 or len(nonce16) != 16:
        raise ValueError("ChaCha20 takes a 32-byte key and a 16-byte counter and nonce")
    kern = _build.module("chacha.cu", {}).get_function("chacha20_blocks")
    kd = cp.asarray(np.frombuffer(key, dtype="<u4").astype(np.uint32))
    ctr = int.from_bytes(nonce16[:4], "little")
    nd = cp.asarray(np.frombuffer(nonce16[4:], dtype="<u4").astype(np.uint32))
    parts, have, cand_done = [], 0, 0
    while have < n:
        want = n - have
        cands = want + want // 3 + 64          # ~76% pass; an even count keeps blocks whole
        cands += cands & 1
        blocks = cands // 2
        raw = cp.empty((blocks, 16), cp.uint32)
        kern((-(-blocks // BLOCK),), (BLOCK,), (kd, nd, np.uint32(ctr + cand_done // 2), raw, np.uint64(blocks)))
        cand = raw.view(cp.uint64).reshape(cands, 4)
        cand[:, 3] &= cp.uint64(_TOP_MASK)
        good = cand[rows_below(cand, FR_MODULUS, cp)][:want]
        parts.append(good)
        have += good.shape[0]
        cand_done += cands
    out = parts[0] if len(parts) == 1 else cp.concatenate(parts)
    return cp.ascontiguousarray(out)
