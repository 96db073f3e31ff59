"""circom constraint system (``.r1cs``, version 1) reader.

Format: iden3/r1csfile ``doc/r1cs_bin_format.md``.  iden3 container whose sections may
come in any order (circom writes constraints before the header):

 1. header: u32 n8, prime (n8 bytes), u32 nWires, u32 nPubOut, u32 nPubIn, u32 nPrvIn,
    u64 nLabels, u32 mConstraints
 2. constraints: mConstraints × three linear combinations A, B, C, each
    u32 nTerms then nTerms × (u32 wireId, n8-byte coefficient, canonical)
 3. wire -> label map: nWires × u64
 4, 5. custom gates (PLONK only; ignored)

The constraint is A·w × B·w = C·w.  Constraints are kept as Python dicts: this reader
serves tests and tooling, not the proving hot path (the zkey has everything a prover
needs).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from prover.binfile import Reader, read_binfile, read_modulus
from prover.bn254 import FR_MODULUS

SECTION_NAMES = {1: "header", 2: "constraints", 3: "wire to label map",
                 4: "custom gates list", 5: "custom gates applications"}

LinearCombination = dict  # {wire id: coefficient int}


@dataclass
class R1CS:
    path: str
    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    n_labels: int
    n_constraints: int
    constraints: list = field(repr=False)  # [(A, B, C)] of LinearCombination
    wire_to_label: list | None = field(default=None, repr=False)

    @property
    def n_public(self) -> int:
        return self.n_pub_out + self.n_pub_in


def evaluate(lc: LinearCombination, witness) -> int:
    """Value of a linear combination on a witness given as a list of ints."""
    return sum(c * witness[k] for k, c in lc.items()) % FR_MODULUS


def read_r1cs(path) -> R1CS:
    bf = read_binfile(path, b"r1cs", (1,), names=SECTION_NAMES)

    rd = Reader(bf, 1)
    n8 = read_modulus(bf, rd, FR_MODULUS, "prime")  # == 32, checked
    n_wires = rd.u32("nWires")
    n_pub_out = rd.u32("nPubOut")
    n_pub_in = rd.u32("nPubIn")
    n_prv_in = rd.u32("nPrvIn")
    n_labels = rd.u64("nLabels")
    m = rd.u32("mConstraints")
    rd.expect_end()
    if 1 + n_pub_out + n_pub_in + n_prv_in > n_wires:
        raise bf.error(1, f"1 + {n_pub_out} outputs + {n_pub_in} public + {n_prv_in} "
                          f"private inputs exceeds nWires {n_wires}")

    rd = Reader(bf, 2)
    buf, base = bf.buf, rd.off
    constraints = []
    for i in range(m):
        lcs = []
        for name in "ABC":
            n_terms = rd.u32(f"constraint {i} {name} term count")
            # bounds of the whole term list first, then unpack without per-term checks
            start = rd.pos
            rd.bytes(n_terms * (4 + n8), f"constraint {i} {name} terms")
            lc = {}
            for t in range(n_terms):
                p = base + start + t * (4 + n8)
                wire = struct.unpack_from("<I", buf, p)[0]
                coef = int.from_bytes(buf[p + 4:p + 4 + n8], "little")
                if wire >= n_wires:
                    raise bf.error(2, f"constraint {i} {name}: wire {wire} >= nWires {n_wires}")
                if coef >= FR_MODULUS:
                    raise bf.error(2, f"constraint {i} {name}: coefficient of wire {wire} "
                                      f"is not below r")
                lc[wire] = coef
            lcs.append(lc)
        constraints.append(tuple(lcs))
    rd.expect_end()

    labels = None
    if bf.has(3):
        rd = Reader(bf, 3)
        bf.expect_size(3, 8 * n_wires, f"{n_wires} labels")
        labels = list(struct.unpack_from(f"<{n_wires}Q", buf, rd.off))

    return R1CS(path=bf.path, n_wires=n_wires, n_pub_out=n_pub_out, n_pub_in=n_pub_in,
                n_prv_in=n_prv_in, n_labels=n_labels, n_constraints=m,
                constraints=constraints, wire_to_label=labels)
