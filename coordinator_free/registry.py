"""The node's circuit registry: zkeys on disk by SHA-256, loaded once, kept in memory.

Uploads land in ``<sha>.partial`` and become ``<sha>.zkey`` only after the hash
matches and the zkey reader accepts the file, so a job never sees a half-written or
invalid circuit.  A restarted upload resumes from the partial file's length.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from prover.errors import FormatError
from prover.zkey import read_zkey

log = logging.getLogger("coprove.node")
_SHA = re.compile(r"[0-9a-f]{64}\Z")


class UploadError(ValueError):
    pass


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class CircuitRegistry:
    def __init__(self, data_dir: Path, max_bytes: int, max_loaded: int = 8):
        self.dir = Path(data_dir) / "circuits"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        # circuits kept loaded (converted sections, device-resident bases): the rest are
        # re-read from disk when a job needs them, so memory does not grow with uploads
        self.max_loaded = max_loaded
        self._loaded: OrderedDict = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self._upload_locks: dict[str, threading.Lock] = {}

    @staticmethod
    def check_sha(sha: str) -> str:
        if not _SHA.match(sha or ""):
            raise UploadError(f"circuit id {sha[:80]!r} is not a lowercase hex SHA-256")
        return sha

    def path(self, sha: str) -> Path:
        return self.dir / f"{self.check_sha(sha)}.zkey"

    def partial(self, sha: str) -> Path:
        return self.dir / f"{self.check_sha(sha)}.partial"

    def present(self, sha: str) -> bool:
        return self.path(sha).exists()

    def bytes_received(self, sha: str) -> int:
        p = self.partial(sha)
        return p.stat().st_size if p.exists() else 0

    def upload_lock(self, sha: str) -> threading.Lock:
        with self._lock:
            return self._upload_locks.setdefault(self.check_sha(sha), threading.Lock())

    def append(self, sha: str, total: int, offset: int, data: bytes) -> int:
        """Write ``data`` at ``offset`` of the partial file; returns its new length."""
        if total > self.max_bytes:
            raise UploadError(f"circuit of {total} bytes exceeds this node's limit of {self.max_bytes}")
        p = self.partial(sha)
        have = p.stat().st_size if p.exists() else 0
        if offset != have:
            raise UploadError(f"chunk at offset {offset}, but {have} bytes have arrived: resume from {have}")
        if offset + len(data) > total:
            raise UploadError(f"chunk runs past the declared size {total}")
        with open(p, "ab") as fh:
            fh.write(data)
        return offset + len(data)

    def finish(self, sha: str, total: int):
        """Check hash and format, then publish; a bad file is deleted so a retry starts clean."""
        p = self.partial(sha)
        size = p.stat().st_size if p.exists() else 0
        if size != total:
            raise UploadError(f"upload incomplete: {size} of {total} bytes")
        got = file_sha256(p)
        if got != sha:
            p.unlink()
            raise UploadError(f"uploaded bytes hash to {got}, not {sha}; upload discarded")
        try:
            zkey = read_zkey(p)
            _ = (zkey.coeffs, zkey.a, zkey.b1, zkey.b2, zkey.c, zkey.h)
        except FormatError as e:
            p.unlink()
            raise UploadError(f"not a valid Groth16 zkey: {e}") from None
        os.replace(p, self.path(sha))
        log.info("circuit %s stored (%d bytes)", sha[:12], total)

    def get(self, sha: str):
        """The loaded zkey, every section converted once and kept (bases stay resident)
        while it is among the ``max_loaded`` most recently used."""
        with self._lock:
            z = self._loaded.get(sha)
            if z is None:
                z = read_zkey(self.path(sha))
                _ = (z.coeffs, z.a, z.b1, z.b2, z.c, z.h)
                self._loaded[sha] = z
                while len(self._loaded) > self.max_loaded:
                    old, _ = self._loaded.popitem(last=False)
                    log.info("circuit %s unloaded (least recently used)", old[:12])
            else:
                self._loaded.move_to_end(sha)
            return z
