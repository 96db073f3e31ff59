"""The signed-message digest: a sender hashes a payload part by part as it goes out
(``BlockHasher``, its blocks side by side on a thread pool), a receiver hashes each part
as it lands (``block_hashes``), a checker hashes the whole (``payload_hash``); all three
must give one digest, for every payload size and part size, or honest nodes would be
blamed for each other's messages."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from coordinator_free import signing

MB = signing.DIGEST_BLOCK


def _slow_digest(payload: bytes) -> bytes:
    """The definition, written out: SHA-256 of the length and of every block's SHA-256."""
    blocks = [payload[i:i + MB] for i in range(0, len(payload), MB)] or [b""]
    return hashlib.sha256(len(payload).to_bytes(8, "little")
                          + b"".join(hashlib.sha256(b).digest() for b in blocks)).digest()


@pytest.mark.parametrize("size", [0, 1, MB - 1, MB, MB + 1, 5 * MB, 9 * MB + 12345])
def test_sender_receiver_and_checker_agree(size, test_seed):
    rng = np.random.default_rng([test_seed, 170, size])
    payload = rng.integers(0, 256, size=size, dtype=np.uint8).tobytes()
    want = _slow_digest(payload)
    assert signing.payload_hash(payload) == want
    for part in (MB, 2 * MB, 4 * MB):  # whole blocks, as the node's PART_BYTES is
        hasher = signing.BlockHasher(payload)
        received = []
        for lo in range(0, max(size, 1), part):
            hasher.through(lo + part)
            received += signing.block_hashes(payload[lo:lo + part])
        assert hasher.digest() == want, part
        assert signing.digest_of_blocks(size, received) == want, part


def test_a_flipped_byte_changes_the_digest(test_seed):
    rng = np.random.default_rng([test_seed, 171])
    payload = bytearray(rng.integers(0, 256, size=3 * MB + 5, dtype=np.uint8).tobytes())
    before = signing.payload_hash(payload)
    payload[int(rng.integers(0, len(payload)))] ^= 1 << int(rng.integers(0, 8))
    assert signing.payload_hash(payload) != before
