"""Transport wrappers for tests: record what a party receives, or tamper with what it sends."""

from __future__ import annotations

import numpy as np

from cme import messages as M
from cme.transport import Recorder
from prover.bn254 import G1, G2


def Recording(inner, log: list):
    """Keeps every payload received, in order, with its sender."""
    return Recorder(inner, received=log)


def peek(payload: bytes) -> M.Message:
    """Decode any CME message without the receiver's expectations."""
    kind = payload[4]
    job = payload[5:5 + M.JOB_ID_BYTES]
    sender = int.from_bytes(payload[5 + M.JOB_ID_BYTES:7 + M.JOB_ID_BYTES], "little", signed=True)
    return M.decode(payload, peer=sender, job_id=job, kind=kind)


class Tampering:
    """Wraps a transport; ``edit(to, Message) -> Message | bytes | None`` rewrites sends."""

    def __init__(self, inner, edit):
        self._inner, self._edit = inner, edit
        self.edited = 0

    @property
    def index(self):
        return self._inner.index

    def send(self, to, payload):
        out = self._edit(to, peek(payload))
        if out is None:
            self._inner.send(to, payload)
            return
        self.edited += 1
        self._inner.send(to, out if isinstance(out, bytes) else M.encode(out))

    def recv(self, frm):
        return self._inner.recv(frm)

    def stats(self):
        return self._inner.stats()


def bump_first_value(msg: M.Message) -> M.Message:
    vals = msg.values.copy()
    vals[0, 0] = np.uint64((int(vals[0, 0]) + 1) % 2**64) if int(vals[0, 3]) < 2**60 else vals[0, 0] ^ np.uint64(1)
    msg.values = vals
    return msg


def shift_point(msg: M.Message, slot: int) -> M.Message:
    pts = list(msg.points)
    curve = G2 if (msg.kind == M.OUTPUT and M.OUTPUT_POINTS[slot][1]) else G1
    pts[slot] = curve.add(pts[slot], curve.generator)
    msg.points = tuple(pts)
    return msg
