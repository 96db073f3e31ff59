"""circom witness files (``.wtns``, version 2): read and write.

Layout (circom ``witness_calculator`` / snarkjs ``wtns_utils.js``), iden3 container with:

 1. header: u32 n8, prime (n8 bytes, little-endian), u32 nWitness
 2. values: nWitness × n8 bytes, canonical (not Montgomery), little-endian

Order of values: [1, outputs, public inputs, private inputs, internal signals], so
entries 1..nPublic are public.json.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

from prover.binfile import Reader, check_below, read_binfile, read_modulus
from prover.bn254 import FR_MODULUS
from prover.errors import InputError
from prover.limbs import N8, ints_to_limbs

SECTION_NAMES = {1: "header", 2: "witness values"}


@dataclass
class Witness:
    path: str
    values: np.ndarray  # (m, 4) uint64, canonical Fr

    def __len__(self) -> int:
        return int(self.values.shape[0])


def read_wtns(path) -> Witness:
    bf = read_binfile(path, b"wtns", (2,), names=SECTION_NAMES)
    rd = Reader(bf, 1)
    read_modulus(bf, rd, FR_MODULUS, "prime")
    n = rd.u32("nWitness")
    rd.expect_end()
    raw = bf.limbs(2, n, 1, (), "witness values")
    check_below(bf, 2, raw, FR_MODULUS, "witness value")
    # copy: the witness is small next to the key and callers may keep it after the
    # file is replaced
    return Witness(path=bf.path, values=np.array(raw, dtype=np.uint64))


def write_wtns(path, values, prime: int = FR_MODULUS) -> None:
    """Write a version-2 witness.  ``values``: ``(m, 4)`` uint64 array or ints.

    Values are written as given (not reduced) and ``prime`` may be any field, so tests
    can build out-of-range or foreign-curve files.
    """
    if not isinstance(values, np.ndarray):
        values = ints_to_limbs(values)
    values = np.ascontiguousarray(values, dtype="<u8").reshape(-1, 4)
    header = struct.pack("<I", N8) + prime.to_bytes(N8, "little") + struct.pack("<I", len(values))
    body = values.tobytes()
    with open(os.fspath(path), "wb") as fh:
        fh.write(b"wtns" + struct.pack("<II", 2, 2))
        fh.write(struct.pack("<IQ", 1, len(header)) + header)
        fh.write(struct.pack("<IQ", 2, len(body)) + body)


def check_witness_for(witness: Witness, n_vars: int, key_path: str = "") -> None:
    """A witness belongs to a key only if it has exactly nVars values and starts with 1."""
    if len(witness) != n_vars:
        raise InputError(witness.path, None,
                         f"has {len(witness)} values, but {os.path.basename(key_path) or 'the key'}"
                         f" expects nVars = {n_vars}")
    if len(witness) and (witness.values[0].tolist() != [1, 0, 0, 0]):
        raise InputError(witness.path, "value 0", "must be 1 (the constant signal)")
