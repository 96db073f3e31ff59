"""The iden3 binary container shared by ``.zkey``, ``.wtns`` and ``.r1cs``.

Layout (iden3 binfileutils, as used by snarkjs and circom; also described in
iden3/r1csfile ``doc/r1cs_bin_format.md``), all integers little-endian::

    4 bytes  magic ("zkey", "wtns", "r1cs")
    u32      version
    u32      number of sections
    repeated: u32 section type, u64 section size, `size` bytes of payload

Sections may come in any order (circom writes the r1cs constraints before the
header).  The file is memory-mapped so that multi-GiB proving keys cost nothing until a
section is actually touched.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field

import numpy as np

from prover.bn254 import FQ_MODULUS, FR_MODULUS
from prover.errors import FormatError
from prover.limbs import N8


@dataclass
class BinFile:
    path: str
    magic: bytes
    version: int
    buf: memoryview | bytes
    size: int
    # section type -> list of (payload offset, payload size), in file order
    sections: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    # -- locating ----------------------------------------------------------------

    def label(self, sid: int) -> str:
        name = self.names.get(sid)
        return f"section {sid} ({name})" if name else f"section {sid}"

    def error(self, sid: int | str, message: str) -> FormatError:
        where = sid if isinstance(sid, str) else self.label(sid)
        return FormatError(self.path, where, message)

    def has(self, sid: int) -> bool:
        return sid in self.sections

    def section(self, sid: int) -> tuple[int, int]:
        """(offset, size) of the one section of this type; missing or repeated -> error."""
        entries = self.sections.get(sid)
        if not entries:
            raise self.error(sid, "missing")
        if len(entries) > 1:
            raise self.error(sid, f"appears {len(entries)} times, expected once")
        return entries[0]

    def raw(self, sid: int) -> memoryview:
        off, size = self.section(sid)
        return memoryview(self.buf)[off:off + size]

    # -- typed views -----------------------------------------------------------------

    def expect_size(self, sid: int, expected: int, what: str) -> None:
        _, size = self.section(sid)
        if size != expected:
            raise self.error(sid, f"expected {what} ({expected} bytes), found {size} bytes")

    def limbs(self, sid: int, count: int, per_item: int, shape: tuple, what: str,
              start: int = 0) -> np.ndarray:
        """Zero-copy ``uint64`` view of ``count`` items of ``per_item`` 32-byte field
        elements, reshaped to ``(count, *shape, 4)``; the section (after ``start``
        bytes) must hold exactly that many bytes."""
        off, size = self.section(sid)
        expected = count * per_item * N8
        if size - start != expected:
            raise self.error(sid, f"expected {count} {what} ({expected + start} bytes), "
                                  f"found {size} bytes")
        arr = np.frombuffer(self.buf, dtype="<u8", count=expected // 8, offset=off + start)
        return arr.reshape((count, *shape, 4))


class Reader:
    """Sequential little-endian reads inside one section, with bounds checks that name
    the section instead of raising ``struct.error``."""

    def __init__(self, bf: BinFile, sid: int):
        self.bf, self.sid = bf, sid
        self.off, self.size = bf.section(sid)
        self.pos = 0

    def _take(self, n: int, what: str) -> memoryview:
        if self.pos + n > self.size:
            raise self.bf.error(self.sid, f"too short: {what} needs {n} bytes at offset "
                                          f"{self.pos}, section has {self.size}")
        start = self.off + self.pos
        self.pos += n
        return memoryview(self.bf.buf)[start:start + n]

    def u32(self, what: str = "u32") -> int:
        return struct.unpack("<I", self._take(4, what))[0]

    def u64(self, what: str = "u64") -> int:
        return struct.unpack("<Q", self._take(8, what))[0]

    def bigint(self, n8: int, what: str = "integer") -> int:
        return int.from_bytes(self._take(n8, what), "little")

    def bytes(self, n: int, what: str = "bytes") -> memoryview:
        return self._take(n, what)

    def remaining(self) -> int:
        return self.size - self.pos

    def expect_end(self) -> None:
        if self.pos != self.size:
            raise self.bf.error(self.sid, f"{self.size - self.pos} unexpected trailing bytes")


def read_binfile(path, magic: bytes, versions, names: dict[int, str] | None = None,
                 unique: bool = True) -> BinFile:
    """Map ``path`` and index its sections.

    ``versions``: accepted version numbers.  ``names``: section type -> human name used
    in error messages.  ``unique``: refuse repeated section types (none of the formats
    we read allows them).
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            # mmap refuses empty files; those fail the header check below anyway
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    except OSError as e:
        raise FormatError(path, None, f"cannot open: {e.strerror or e}") from None
    bf = BinFile(path=path, magic=magic, version=0, buf=buf, size=size, names=names or {})

    if size < 12:
        raise bf.error("header", f"file is {size} bytes, too short for a {magic.decode()} header")
    if bytes(buf[:4]) != magic:
        raise bf.error("header", f"magic is {bytes(buf[:4])!r}, expected {magic!r}")
    version, n_sections = struct.unpack_from("<II", buf, 4)
    if version not in versions:
        raise bf.error("header", f"version {version} not supported (expected "
                                 f"{' or '.join(map(str, versions))})")
    bf.version = version

    pos = 12
    for i in range(n_sections):
        if pos + 12 > size:
            raise bf.error("header", f"truncated: header of section #{i + 1} of "
                                     f"{n_sections} at offset {pos} is past the end "
                                     f"of the file ({size} bytes)")
        sid, ssize = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        if pos + ssize > size:
            raise bf.error(sid, f"truncated: needs {ssize} bytes at offset {pos}, "
                                f"file ends after {size - pos}")
        bf.sections.setdefault(sid, []).append((pos, ssize))
        pos += ssize
    if unique:
        for sid, entries in bf.sections.items():
            if len(entries) > 1:
                raise bf.error(sid, f"appears {len(entries)} times, expected once")
    return bf


# Moduli of the curves snarkjs supports, to name the curve a foreign file was made for.
_KNOWN_MODULI = {
    FQ_MODULUS: "BN254 base field",
    FR_MODULUS: "BN254 scalar field",
    int("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf"
        "6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16): "BLS12-381 base field",
    int("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16):
        "BLS12-381 scalar field",
}


def read_modulus(bf: BinFile, rd: Reader, expected: int, what: str) -> int:
    """Read ``u32 n8`` then an n8-byte modulus; refuse anything but ``expected`` with a
    message that says which curve the file seems to be for."""
    n8 = rd.u32(f"n8 of {what}")
    if n8 == 0 or n8 > 1024:
        raise bf.error(rd.sid, f"{what}: element size n8 = {n8} is not plausible")
    m = rd.bigint(n8, what)
    if n8 != N8 or m != expected:
        found = _KNOWN_MODULI.get(m, "an unknown field")
        raise bf.error(rd.sid, f"{what} is {m} ({n8} bytes, {found}), expected "
                               f"{_KNOWN_MODULI[expected]} modulus {expected}: file is for "
                               "another curve")
    return n8


def check_below(bf: BinFile, sid: int, arr: np.ndarray, modulus: int, what: str) -> None:
    """Every 256-bit element of ``arr`` (``(..., 4)`` uint64) is < ``modulus``.

    Vectorised lexicographic compare from the top limb down, so it costs numpy time
    even on 2^20 elements.
    """
    flat = arr.reshape(-1, 4)
    if flat.shape[0] == 0:
        return
    m = [(modulus >> (64 * k)) & (2**64 - 1) for k in range(4)]
    less = np.zeros(flat.shape[0], dtype=bool)
    equal = np.ones(flat.shape[0], dtype=bool)
    for k in (3, 2, 1, 0):
        limb = flat[:, k]
        less |= equal & (limb < np.uint64(m[k]))
        equal &= limb == np.uint64(m[k])
    bad = np.flatnonzero(~less)
    if bad.size:
        raise bf.error(sid, f"{what} #{int(bad[0])} is not below the field modulus "
                            f"({bad.size} such values)")
