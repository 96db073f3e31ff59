"""The protocol's messages and their byte encoding.

Every message starts with a header naming the job, the kind and the sender, so a
receiver rejects a message from another job, round or party before reading its
body.  Bodies hold canonical field elements (32 bytes each) and affine points
(infinity = zeros), checked on decoding: values below their modulus, points on
their curve.

    ROUND1_SHARES  party → party k   chunk k of the sender's masked-vector shares
    ROUND1_OPENED  party k → party   the opened chunk k
    OUTPUT         party → client    the sender's bare MSMs (A, B1 and C in G1, B2 in G2),
                                     which the client sums and completes with r, s

No point travels between parties: r and s stay with the client.  The magic names the
protocol's version (CME2: the client completes the proof).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from gpu_msm.constants import FQ_MODULUS, FR_MODULUS
from prover.bn254 import G1, G2, g1_from_array, g1_to_array, g2_from_array, g2_to_array
from prover.limbs import below, limbs_to_ints

MAGIC = b"CME2"
CLIENT_INDEX = -1  # the client's index as a sender or receiver
ROUND1_SHARES, ROUND1_OPENED, OUTPUT = 1, 2, 3
KIND_NAMES = {ROUND1_SHARES: "round-1 shares", ROUND1_OPENED: "round-1 opened chunk", OUTPUT: "output"}
JOB_ID_BYTES = 16
_HEADER = struct.Struct("<4sB16sh")  # magic, kind, job id, sender (−1 = client)
_CHUNK = struct.Struct("<IIx")  # chunk index, element count, a pad byte: values start at byte 32
G1_BYTES, G2_BYTES, FR_BYTES = 64, 128, 32
OUTPUT_POINTS = (("A", False), ("B1", False), ("B2", True), ("C", False))  # (name, in G2)
OUTPUT_BODY_BYTES = sum(G2_BYTES if g2 else G1_BYTES for _, g2 in OUTPUT_POINTS)


class MessageError(ValueError):
    """A message that is malformed, from another job, or not the one expected."""

    def __init__(self, peer, message: str):
        self.peer = peer
        super().__init__(f"party {peer}: {message}")


@dataclass
class Message:
    kind: int
    job_id: bytes
    sender: int
    chunk: int = 0
    values: np.ndarray | None = None  # (k, 4) canonical Fr
    points: tuple = ()  # OUTPUT: the sender's bare MSMs (A, B1, B2, C) as reference points


def _g1(p) -> bytes:
    return g1_to_array([p]).tobytes()


def _g2(p) -> bytes:
    return g2_to_array([p]).tobytes()


def encode_values(kind: int, job_id: bytes, sender: int, chunk: int, count: int, fill) -> bytearray:
    """``encode`` of a round-1 message whose ``count`` values ``fill(out)`` writes straight
    into the message (``out``: an aligned ``(count, 4)`` uint64 view of it), e.g. from the
    device: at 2^20 a party's 67 MB of outgoing chunks are not copied once more."""
    if kind not in (ROUND1_SHARES, ROUND1_OPENED):
        raise ValueError(f"kind {kind} carries no values")
    head = _HEADER.pack(MAGIC, kind, job_id, sender) + _CHUNK.pack(chunk, count)
    buf = bytearray(len(head) + count * FR_BYTES)
    buf[:len(head)] = head
    fill(np.frombuffer(buf, dtype=np.uint64, count=4 * count, offset=len(head)).reshape(count, 4))
    return buf


def encode(msg: Message) -> bytes:
    head = _HEADER.pack(MAGIC, msg.kind, msg.job_id, msg.sender)
    if msg.kind in (ROUND1_SHARES, ROUND1_OPENED):
        vals = np.ascontiguousarray(msg.values, dtype="<u8")
        # one copy of the values (22 MB a peer at 2^20): concatenating bytes made three
        return b"".join([head, _CHUNK.pack(msg.chunk, len(vals)), memoryview(vals).cast("B")])
    if msg.kind == OUTPUT:
        a, b1, b2, c = msg.points
        return head + _g1(a) + _g1(b1) + _g2(b2) + _g1(c)
    raise ValueError(f"unknown message kind {msg.kind}")


def _check_coords(peer, what, arr):
    if any(c >= FQ_MODULUS for c in limbs_to_ints(arr)):
        raise MessageError(peer, f"{what}: coordinate not below q")


def _point(peer, what, raw: bytes, g2: bool):
    arr = np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape((1, 2, 2, 4) if g2 else (1, 2, 4))
    _check_coords(peer, what, arr)
    p = (g2_from_array if g2 else g1_from_array)(arr)[0]
    if not (G2 if g2 else G1).is_on_curve(p):
        raise MessageError(peer, f"{what}: point is not on the curve")
    return p


def decode(raw: bytes, *, peer, job_id: bytes, kind: int, chunk: int | None = None,
           count: int | None = None) -> Message:
    """Decode a message from ``peer`` that must be of ``kind`` for ``job_id``."""
    if len(raw) < _HEADER.size:
        raise MessageError(peer, f"message of {len(raw)} bytes is shorter than a header")
    magic, k, jid, sender = _HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise MessageError(peer, "not a CME message (bad magic)")
    if jid != job_id:
        raise MessageError(peer, f"message for job {jid.hex()}, expected job {job_id.hex()}")
    if sender != peer:
        raise MessageError(peer, f"message claims to come from party {sender}")
    if k != kind:
        raise MessageError(peer, f"sent a {KIND_NAMES.get(k, f'kind {k}')} message where a "
                                 f"{KIND_NAMES[kind]} message was expected")
    body = memoryview(raw)[_HEADER.size:]
    msg = Message(kind, jid, sender)
    if kind in (ROUND1_SHARES, ROUND1_OPENED):
        if len(body) < _CHUNK.size:
            raise MessageError(peer, "truncated chunk header")
        msg.chunk, n = _CHUNK.unpack_from(body)
        if chunk is not None and msg.chunk != chunk:
            raise MessageError(peer, f"sent chunk {msg.chunk}, expected chunk {chunk}")
        if count is not None and n != count:
            raise MessageError(peer, f"chunk of {n} elements, expected {count}")
        want = _CHUNK.size + n * FR_BYTES
        if len(body) != want:
            raise MessageError(peer, f"{KIND_NAMES[kind]} body is {len(body)} bytes, expected {want}")
        # a read-only view of the message: no copy before the values reach the engine
        msg.values = np.frombuffer(body[_CHUNK.size:_CHUNK.size + n * FR_BYTES], dtype=np.uint64).reshape(n, 4)
        if not below(msg.values, FR_MODULUS).all():
            raise MessageError(peer, "a field element is not below r")
        return msg
    if kind == OUTPUT:
        if len(body) != OUTPUT_BODY_BYTES:
            raise MessageError(peer, f"output body is {len(body)} bytes, expected {OUTPUT_BODY_BYTES}")
        pts, off = [], 0
        for name, g2 in OUTPUT_POINTS:
            size = G2_BYTES if g2 else G1_BYTES
            pts.append(_point(peer, f"bare MSM {name}", bytes(body[off:off + size]), g2))
            off += size
        msg.points = tuple(pts)
        return msg
    raise ValueError(f"unknown message kind {kind}")
