"""A party's material on the wire, and its receipt piece by piece.

Layout: ``CMEM``, five little-endian u32 (index, n_parties, n_vars, domain_size, flags),
the 32-byte seed, then the correction vectors
this party owns, in ``dealing.CORRECTED`` order, as canonical 32-byte elements.  The
small fields come first so that a node can start a job as soon as they are in: parties
without the witness correction expand, multiply and send their round-1 shares while
their triple corrections are still arriving, and only wait where they need those
(:class:`IncomingVector`).

Material dealt ahead (``part``): ``"ahead"`` is the same layout without the witness
correction (header, seed, the triple corrections), sent before the job; ``"job"`` is
then the witness correction alone, with no header (nothing, for a party that does not own
it), and the party's material is the one dealt ahead plus that vector.
"""

from __future__ import annotations

import numpy as np

from cme.dealing import CORRECTED, N8, Corrections, PartyMaterial, owner
from cme.incoming import IncomingVector, MaterialError
from cme.prg import SEED_BYTES

_MAT_HEADER = b"CMEM"
_MAT_FIELDS = 5  # index, n_parties, n_vars, domain_size, flags
_HEAD_BYTES = len(_MAT_HEADER) + 4 * _MAT_FIELDS


PARTS = ("whole", "ahead", "job")


def _flags(index: int, n_parties: int, part: str = "whole") -> int:
    """Bit 1 + j: CORRECTED[j]'s correction.  Bit 0 stood for blinding shares, which
    are no longer dealt: a stream that sets it is from an older client and is refused."""
    bits = 0
    for j, key in enumerate(CORRECTED):
        carried = {"whole": True, "ahead": key != "w", "job": key == "w"}[part]
        if owner(key, n_parties) == index and carried:
            bits |= 2 << j
    return bits


def _prefix_size(part: str) -> int:
    return 0 if part == "job" else _HEAD_BYTES + SEED_BYTES


def _vector_rows(flags: int, n_vars: int, domain_size: int) -> list[tuple[str, int]]:
    return [(key, n_vars if key == "w" else domain_size)
            for j, key in enumerate(CORRECTED) if flags & (2 << j)]


def material_buffers(p: PartyMaterial, part: str = "whole") -> list:
    """:func:`material_to_bytes` as pieces (the vectors as views of their arrays), for a
    sender that streams them: 32 MB a party at 2^20 not copied twice into one bytes.
    ``part``: one of PARTS (the module's docstring)."""
    flags = _flags(p.index, p.n_parties, part)
    head = _MAT_HEADER + b"".join(int(v).to_bytes(4, "little")
                                  for v in (p.index, p.n_parties, p.n_vars, p.domain_size, flags))
    c = p.corrections
    out = [] if part == "job" else [head + p.seed]
    for key, _ in _vector_rows(flags, p.n_vars, p.domain_size):
        out.append(memoryview(np.ascontiguousarray(getattr(c, key), dtype="<u8")).cast("B"))
    return out


def material_to_bytes(p: PartyMaterial, part: str = "whole") -> bytes:
    return b"".join(material_buffers(p, part))


def material_size(index: int, n_parties: int, n_vars: int, domain_size: int, part: str = "whole") -> int:
    """Exact byte length of :func:`material_to_bytes` for this party, so a node can
    refuse an oversized or short upload before buffering it."""
    flags = _flags(index, n_parties, part)
    return _prefix_size(part) + sum(N8 * rows for _, rows in _vector_rows(flags, n_vars, domain_size))


class MaterialStream:
    """Parse a party's material as its pieces arrive.  ``material`` is set (a
    PartyMaterial whose correction vectors are :class:`IncomingVector`) as soon as the
    header and seed are in; ``feed`` raises MaterialError on
    anything that does not match what the manifest and circuit say.  Whoever feeds it
    calls ``close()`` at the end of the stream, and ``fail()`` if it breaks off."""

    def __init__(self, *, index: int, n_parties: int, n_vars: int, domain_size: int, part: str = "whole",
                 ahead: PartyMaterial | None = None):
        """``part="job"`` needs ``ahead``, this party's material dealt ahead (checked
        against the same index, party count and sizes by whoever stored it)."""
        self.index, self.n_parties, self.n_vars, self.domain_size = index, n_parties, n_vars, domain_size
        self.part = part
        self.flags = _flags(index, n_parties, part)
        self.size = material_size(index, n_parties, n_vars, domain_size, part)
        self.received = 0
        self.material: PartyMaterial | None = None
        self._prefix = bytearray()
        self._vectors = [IncomingVector(key, rows) for key, rows in _vector_rows(self.flags, n_vars, domain_size)]
        self._current = 0
        if part == "job":
            # the seed and triple corrections are here already: the job starts at once
            found = {k: v for k, v in (ahead.corrections.vectors() if ahead.corrections else {}).items()}
            found.update({v.key: v for v in self._vectors})
            self.material = PartyMaterial(index, n_parties, n_vars, domain_size, ahead.seed,
                                          Corrections(**found) if found else None)

    def feed(self, data) -> None:
        if self.received + len(data) > self.size:
            raise MaterialError(f"more than the announced {self.size} bytes of material")
        self.received += len(data)
        view = memoryview(data).cast("B") if isinstance(data, memoryview) else memoryview(data)
        pos = 0
        if self.material is None:
            take = min(len(view), _prefix_size(self.part) - len(self._prefix))
            self._prefix += view[:take]
            pos = take
            if len(self._prefix) == _prefix_size(self.part):
                self.material = self._parse_prefix(bytes(self._prefix))
                self._prefix[:] = bytes(len(self._prefix))
        while pos < len(view):
            pos += self._vectors[self._current].write(view[pos:])
            if self._vectors[self._current].filled == self._vectors[self._current].nbytes:
                self._current += 1

    def close(self) -> None:
        if self.received != self.size:
            raise MaterialError(f"share material is {self.received} bytes, expected {self.size} "
                                f"for party {self.index}")

    def fail(self, why: str) -> None:
        for v in self._vectors:
            v.fail(why)

    def _parse_prefix(self, raw: bytes) -> PartyMaterial:
        if raw[:4] != _MAT_HEADER:
            raise MaterialError("share material has a bad header")
        fields = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "little") for i in range(_MAT_FIELDS)]
        if fields[:4] != [self.index, self.n_parties, self.n_vars, self.domain_size] or fields[4] != self.flags:
            raise MaterialError(f"share material is for party {fields[0]} of {fields[1]} (nVars {fields[2]}, "
                                f"domain {fields[3]}), not what the manifest says")
        seed = raw[_HEAD_BYTES:_HEAD_BYTES + SEED_BYTES]
        found: dict = {v.key: v for v in self._vectors}
        return PartyMaterial(self.index, self.n_parties, self.n_vars, self.domain_size, seed,
                             Corrections(**found) if found else None)


def material_from_bytes(raw, *, index: int, n_parties: int, n_vars: int, domain_size: int,
                        part: str = "whole") -> PartyMaterial:
    """Parse and check whole material (arrays, not IncomingVector) against what the job
    manifest and circuit say (``part``: "whole" or "ahead")."""
    want = material_size(index, n_parties, n_vars, domain_size, part)
    if len(raw) != want:
        raise MaterialError(f"share material is {len(raw)} bytes, expected {want} for party {index}")
    stream = MaterialStream(index=index, n_parties=n_parties, n_vars=n_vars, domain_size=domain_size, part=part)
    stream.feed(raw)
    stream.close()
    c = stream.material.corrections
    if c is not None:
        for key in CORRECTED:
            if isinstance(getattr(c, key), IncomingVector):
                setattr(c, key, getattr(c, key).take())
    return stream.material
