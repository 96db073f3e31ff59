"""Deliberate deviations, for tests of the client's checks and audit (``--misbehave``).

Each wraps a party's transport and corrupts one kind of message it sends, except
``frame``, which corrupts a message it received before using it and reports the
corrupted one as what it received (a receiver trying to frame an honest sender; the
senders' signatures expose it), and ``bad-signature``, which the node's transport
carries out (``coordinator_free.mesh``: it signs the wrong statement).  Nothing here runs
unless a node is started with the hook.
"""

from __future__ import annotations

import secrets
import threading

import numpy as np

from cme import messages as M
from prover.bn254 import G1

MODES = ("flip-share", "wrong-opening", "wrong-msm", "replay", "wrong-job-id", "frame", "bad-signature")
_LAST_SHARES: dict = {}  # per process: the previous job's round-1 message, for "replay"


def _decode_any(payload: bytes) -> M.Message:
    job = payload[5:5 + M.JOB_ID_BYTES]
    sender = int.from_bytes(payload[5 + M.JOB_ID_BYTES:7 + M.JOB_ID_BYTES], "little", signed=True)
    return M.decode(payload, peer=sender, job_id=job, kind=payload[4])


def _bump(msg: M.Message) -> M.Message:
    vals = msg.values.copy()
    vals[0, 0] ^= np.uint64(1)  # stays below r: only the lowest bit changes
    msg.values = vals
    return msg


def wrong_msm(points: tuple) -> tuple:
    """A party's bare MSMs (A, B1, B2, C) with C off by the generator: a wrong MSM result."""
    a, b1, b2, c = points
    return a, b1, b2, G1.add(c, G1.generator)


class Misbehaving:
    def __init__(self, inner, mode: str):
        if mode not in MODES:
            raise ValueError(f"unknown misbehaviour {mode!r}; one of {', '.join(MODES)}")
        self._inner, self._mode, self._done = inner, mode, False
        self._lock = threading.Lock()

    @property
    def index(self):
        return self._inner.index

    def stats(self):
        return self._inner.stats()

    def recv(self, frm):
        payload = self._inner.recv(frm)
        if self._mode == "frame" and payload[4] == M.ROUND1_SHARES:
            with self._lock:
                if self._done:
                    return payload
                self._done = True
            bad = M.encode(_bump(_decode_any(payload)))
            report = getattr(self._inner, "misreport", None)
            if report is not None:  # a node: its transcript now shows the corrupted message
                report(frm, payload, bad)
            return bad
        return payload

    def send(self, to, payload):
        kind = payload[4]
        with self._lock:  # parties send to their peers from several threads
            if not self._done:
                payload = self._corrupt(kind, payload)
        self._inner.send(to, payload)

    def _corrupt(self, kind, payload):
        mode = self._mode
        if mode == "flip-share" and kind == M.ROUND1_SHARES:
            self._done = True
            return M.encode(_bump(_decode_any(payload)))
        if mode == "wrong-opening" and kind == M.ROUND1_OPENED:
            self._done = True
            return M.encode(_bump(_decode_any(payload)))
        if mode == "wrong-msm" and kind == M.OUTPUT:
            msg = _decode_any(payload)
            msg.points = wrong_msm(msg.points)
            self._done = True
            return M.encode(msg)
        if mode == "replay" and kind == M.ROUND1_SHARES:
            old = _LAST_SHARES.get(self.index)
            _LAST_SHARES[self.index] = payload
            if old is not None:
                self._done = True
                return old
        if mode == "wrong-job-id" and kind == M.ROUND1_SHARES:
            self._done = True
            return payload[:5] + secrets.token_bytes(M.JOB_ID_BYTES) + payload[5 + M.JOB_ID_BYTES:]
        return payload
