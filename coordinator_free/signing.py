"""Signed node-to-node messages: evidence of who sent what.

A sender signs, with its node key (P-256, ECDSA over SHA-256), a statement naming the
job, sender, receiver, the message's sequence number from that sender to that receiver,
and the SHA-256 of the payload.  The receiver checks it against the committee's
certificate for the sender before using the message, and keeps it in the job's
transcript; the client's audit checks it again.  A receiver that reports a message its
sender never signed (a framing receiver) is then itself named, not the sender.

The statement binds the receiver and the sequence number, so a signed message cannot be
replayed to another party or into another place of the same job; the job id binds it to
the job.
"""

from __future__ import annotations

import hashlib
import os
import struct
from concurrent.futures import ThreadPoolExecutor

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import load_pem_x509_certificate

_DOMAIN = b"coprove signed message v1\0"
_FIELDS = struct.Struct("<16shhI32s")  # job id, sender, receiver, seq, payload hash


def statement(job_id: bytes, sender: int, receiver: int, seq: int, payload_hash: bytes) -> bytes:
    return _DOMAIN + _FIELDS.pack(job_id, sender, receiver, seq, payload_hash)


# The payload's digest is SHA-256 over its length and the SHA-256 of each 1 MiB block:
# the blocks hash in parallel (hashlib lets go of the GIL), so a 30 MB round-1 message
# costs a few ms of wall time on a many-core host instead of one 15 ms pass.
DIGEST_BLOCK = 1 << 20
_pool = ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1)), thread_name_prefix="digest")


def _block_hash(block) -> bytes:
    return hashlib.sha256(block).digest()


def digest_of_blocks(length: int, block_hashes) -> bytes:
    return hashlib.sha256(length.to_bytes(8, "little") + b"".join(block_hashes)).digest()


def block_hashes(piece) -> list:
    """The hashes of ``piece``'s DIGEST_BLOCK blocks (the last may be short): a piece that
    starts on a block boundary contributes exactly these to its payload's digest."""
    view = memoryview(piece).cast("B")
    if not len(view):
        return [_block_hash(view)]
    return [_block_hash(view[i:i + DIGEST_BLOCK]) for i in range(0, len(view), DIGEST_BLOCK)]


def payload_hash(payload) -> bytes:
    view = memoryview(payload).cast("B")
    blocks = [view[i:i + DIGEST_BLOCK] for i in range(0, len(view), DIGEST_BLOCK)]
    hashes_ = list(_pool.map(_block_hash, blocks)) if len(blocks) > 1 else [_block_hash(view)]
    return digest_of_blocks(len(view), hashes_)


class BlockHasher:
    """A sender's digest, computed part by part as the parts go out (each block hashed once,
    while earlier parts are in flight), whatever the part size."""

    def __init__(self, payload):
        self._view = memoryview(payload).cast("B")
        self._hashes: list = []
        self._done = 0  # bytes hashed

    def through(self, end: int) -> None:
        """Hash every whole block that ends at or before ``end`` (a part's blocks side by side
        on the pool: one thread hashing a 30 MB message alone was 1.3x a 1->1 exchange on a
        16-core host, bench/RESULTS.md)."""
        stop = min(end, len(self._view))
        blocks = [self._view[i:i + DIGEST_BLOCK] for i in range(self._done, stop - DIGEST_BLOCK + 1, DIGEST_BLOCK)]
        if len(blocks) > 1:
            self._hashes += _pool.map(_block_hash, blocks)
        elif blocks:
            self._hashes.append(_block_hash(blocks[0]))
        self._done += len(blocks) * DIGEST_BLOCK

    def digest(self) -> bytes:
        self.through(len(self._view))
        if self._done < len(self._view) or not self._hashes:
            self._hashes.append(_block_hash(self._view[self._done:]))
            self._done = len(self._view)
        return digest_of_blocks(len(self._view), self._hashes)


class Signer:
    """A node's signing key, loaded once (each message costs one ECDSA signature)."""

    def __init__(self, key_pem: bytes):
        self._key = serialization.load_pem_private_key(key_pem, password=None)

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(data)
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


class Verifier:
    """Public keys by certificate fingerprint (the committee's certificates)."""

    def __init__(self, certs_by_fingerprint: dict[str, bytes]):
        self._keys = {fp: load_pem_x509_certificate(pem).public_key() for fp, pem in certs_by_fingerprint.items()}

    def check(self, fingerprint: str, data: bytes, signature: bytes) -> bool:
        key = self._keys.get(fingerprint)
        if key is None or not signature:
            return False
        try:
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(signature, data)
            else:
                key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True
