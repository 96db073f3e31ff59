"""A threshold party's material on the wire, and its receipt piece by piece.

Layout: ``CMSH``, four little-endian u32 (index, n_parties, threshold, n_vars), then
either the 32-byte seed (parties 0..t−1) or the share itself (the others), n_vars
canonical 32-byte elements.  Which one follows is fixed by index and threshold, so the
node knows the exact size from the manifest and refuses a stream of any other length.
The party needs the whole share for its first step (A·w), so the material is only handed
over once complete.
"""

from __future__ import annotations

import numpy as np

from cme.dealing import N8
from cme.incoming import MaterialError
from cme.prg import SEED_BYTES
from cme.shamir import ShamirMaterial
from gpu_msm.constants import FR_MODULUS
from prover.limbs import below

_HEADER = b"CMSH"
_FIELDS = 4  # index, n_parties, threshold, n_vars
_HEAD_BYTES = len(_HEADER) + 4 * _FIELDS


def _seeded(index: int, threshold: int) -> bool:
    return index < threshold


def shamir_material_size(index: int, n_parties: int, threshold: int, n_vars: int) -> int:
    return _HEAD_BYTES + (SEED_BYTES if _seeded(index, threshold) else N8 * n_vars)


def shamir_buffers(p: ShamirMaterial) -> list:
    """The material as pieces (the share as a view of its array, not copied)."""
    head = _HEADER + b"".join(int(v).to_bytes(4, "little") for v in (p.index, p.n_parties, p.threshold, p.n_vars))
    if p.seed is not None:
        return [head + p.seed]
    return [head, memoryview(np.ascontiguousarray(p.share, dtype="<u8")).cast("B")]


def shamir_to_bytes(p: ShamirMaterial) -> bytes:
    return b"".join(bytes(b) for b in shamir_buffers(p))


class ShamirStream:
    """Parse a threshold party's material as its chunks arrive; ``material`` is set once
    all of it is in and checked.  Same contract as :class:`cme.material.MaterialStream`:
    ``feed`` raises MaterialError on anything that does not match what the manifest and
    circuit say, ``close()`` at the end, ``fail()`` if the stream breaks off."""

    def __init__(self, *, index: int, n_parties: int, threshold: int, n_vars: int):
        self.index, self.n_parties, self.threshold, self.n_vars = index, n_parties, threshold, n_vars
        self.size = shamir_material_size(index, n_parties, threshold, n_vars)
        self.received = 0
        self.material: ShamirMaterial | None = None
        self._head = bytearray()
        self._seed = bytearray()
        # received straight into its array: no second copy of n_vars · 32 bytes
        self._share = None if _seeded(index, threshold) else np.empty((n_vars, 4), dtype=np.uint64)
        self._share_bytes = None if self._share is None else memoryview(self._share).cast("B")

    def feed(self, data) -> None:
        if self.received + len(data) > self.size:
            raise MaterialError(f"more than the announced {self.size} bytes of threshold material")
        view = memoryview(data).cast("B")
        pos = 0
        if len(self._head) < _HEAD_BYTES:
            pos = min(len(view), _HEAD_BYTES - len(self._head))
            self._head += view[:pos]
            if len(self._head) == _HEAD_BYTES:
                self._check_head(bytes(self._head))
        body = self.received + pos - _HEAD_BYTES  # bytes of the body already in
        rest = view[pos:]
        if self._share is None:
            self._seed += rest
        elif len(rest):
            self._share_bytes[body:body + len(rest)] = rest
        self.received += len(view)
        if self.received == self.size:
            self.material = self._assemble()

    def close(self) -> None:
        if self.received != self.size:
            raise MaterialError(f"threshold material is {self.received} bytes, expected {self.size} "
                                f"for party {self.index}")

    def fail(self, why: str) -> None:
        if self._share is not None:
            self._share.fill(0)
        self._seed[:] = bytes(len(self._seed))

    def _check_head(self, raw: bytes) -> None:
        if raw[:4] != _HEADER:
            raise MaterialError("threshold material has a bad header (is the client in additive mode?)")
        fields = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "little") for i in range(_FIELDS)]
        want = [self.index, self.n_parties, self.threshold, self.n_vars]
        if fields != want:
            raise MaterialError(f"threshold material is for party {fields[0]} of {fields[1]}, threshold "
                                f"{fields[2]}, nVars {fields[3]}; the manifest and circuit say party "
                                f"{want[0]} of {want[1]}, threshold {want[2]}, nVars {want[3]}")

    def _assemble(self) -> ShamirMaterial:
        m = ShamirMaterial(self.index, self.n_parties, self.threshold, self.n_vars)
        if self._share is None:
            m.seed = bytes(self._seed)
            self._seed[:] = bytes(len(self._seed))
        else:
            _check_canonical(self._share, self.index)
            m.share = self._share
            self._share = None
        return m


def _check_canonical(share: np.ndarray, index: int) -> None:
    """Every element below r: a share from an honest client always is."""
    ok = below(share, FR_MODULUS)
    if not ok.all():
        raise MaterialError(f"party {index}'s share: element {int(np.argmin(ok))} is not below the field modulus")


def shamir_from_bytes(raw, *, index: int, n_parties: int, threshold: int, n_vars: int) -> ShamirMaterial:
    """Parse and check whole material against what the manifest and circuit say."""
    stream = ShamirStream(index=index, n_parties=n_parties, threshold=threshold, n_vars=n_vars)
    if len(raw) != stream.size:
        raise MaterialError(f"threshold material is {len(raw)} bytes, expected {stream.size} for party {index}")
    stream.feed(raw)
    stream.close()
    return stream.material
