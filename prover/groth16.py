"""The Groth16 prover, written once against ``ShareOps``, and the client's completion.

Notation and the exact computation follow snarkjs (src/groth16_prove.js), so a
proof made here with the same r and s has the same affine coordinates:

    pi_a = alpha1 + Σ w_i·A_i + r·delta1
    pi_b = beta2  + Σ w_i·B2_i + s·delta2
    b1   = beta1  + Σ w_i·B1_i + s·delta1
    pi_c = Σ_{i>ℓ} w_i·C_i + Σ_j h_j·H_j + s·pi_a + r·b1 − r·s·delta1

with h the evaluations of A(X)·B(X) − C(X) on the odd coset (the zkey's H section
already folds in 1/Z and 1/delta).

The work is split where the MSMs end.  A party (one holding the whole witness, or one
holding a share of it) computes only the bare MSMs of what it holds (``BareParts``);
whoever holds r and s adds the constants and the blinding (``complete_proof``).  The
bare parts are linear in the witness, so shares of them combine like shares of the
witness; r and s never reach a party, and no point is opened between parties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prover.bn254 import FR_MODULUS, G1 as G1_CURVE, G2 as G2_CURVE
from prover.local_ops import public_point
from prover.shareops import ShareOps

G1, G2 = "g1", "g2"


@dataclass(frozen=True)
class BareParts:
    """A party's MSMs of its share: reference affine points, no constants, no blinding."""
    a: Any   # Σ w_i·A_i (G1)
    b1: Any  # Σ w_i·B1_i (G1)
    b2: Any  # Σ w_i·B2_i (G2)
    c: Any   # Σ_{i>ℓ} w_i·C_i + Σ_j h_j·H_j (G1)

    def __add__(self, other: "BareParts") -> "BareParts":
        return BareParts(G1_CURVE.add(self.a, other.a), G1_CURVE.add(self.b1, other.b1),
                         G2_CURVE.add(self.b2, other.b2), G1_CURVE.add(self.c, other.c))


@dataclass(frozen=True)
class Proof:
    pi_a: tuple
    pi_b: tuple
    pi_c: tuple


def groth16_bare(zkey, ops: ShareOps) -> Any:
    """Run the prover's circuit work on ``ops``; returns ``ops.output(BareParts)``."""
    n = zkey.domain_size
    w = ops.witness()

    # Quotient inputs: the A and B rows on the domain.
    a_dom = ops.sparse_matvec(0, zkey.coeffs, w, n)
    b_dom = ops.sparse_matvec(1, zkey.coeffs, w, n)

    # The witness MSMs depend on nothing from round 1: they start once the masked vectors
    # are on their way and run during the exchange.
    late = {}

    def start_witness_msms():
        late["a"] = ops.msm_later(G1, zkey.a, w)
        late["b1"] = ops.msm_later(G1, zkey.b1, w)
        late["b2"] = ops.msm_later(G2, zkey.b2, w)
        late["c"] = ops.msm_later(G1, zkey.c, ops.tail(w, zkey.n_public + 1))

    # Round 1: C = A∘B on the domain, A·B on the odd coset.
    c_dom, ab_odd = ops.multiply(a_dom, b_dom, start_witness_msms)
    h = ops.sub_vec(ab_odd, ops.odd_coset(c_dom))
    c = ops.add(G1, late["c"](), ops.msm(G1, zkey.h, h))
    return ops.output(BareParts(late["a"](), late["b1"](), late["b2"](), c))


@dataclass(frozen=True)
class BlindingTerms:
    """The witness-independent points of a completion with blinding r, s: a client computes
    them while its parties work, leaving two G1 multiplications for after their outputs."""
    r: int
    s: int
    r_delta1: Any   # r·δ1
    s_delta2: Any   # s·δ2 (G2)
    c_const: Any    # s·α1 + r·β1 + r·s·δ1: πC's part that no MSM touches


def blinding_terms(zkey, r: int, s: int) -> BlindingTerms:
    r, s = r % FR_MODULUS, s % FR_MODULUS
    delta1 = public_point(G1, zkey.delta1)
    c_const = G1_CURVE.add(G1_CURVE.mul(public_point(G1, zkey.alpha1), s),
                           G1_CURVE.mul(public_point(G1, zkey.beta1), r))
    c_const = G1_CURVE.add(c_const, G1_CURVE.mul(delta1, r * s % FR_MODULUS))
    return BlindingTerms(r, s, G1_CURVE.mul(delta1, r), G2_CURVE.mul(public_point(G2, zkey.delta2), s),
                         c_const)


def complete_proof(zkey, bare: BareParts, r: int, s: int, terms: BlindingTerms | None = None) -> Proof:
    """The proof from the witness's bare parts (the sum or recombination of the parties'),
    with blinding r, s (``terms``: their points, if computed ahead).  snarkjs computes

        πA = α1 + A + r·δ1,  B1' = β1 + B1 + s·δ1,  πB = β2 + B2 + s·δ2,
        πC = C + s·πA + r·B1' − r·s·δ1,

    and πC expands to C + s·A + r·B1 + (s·α1 + r·β1 + r·s·δ1): the same points."""
    t = terms if terms is not None else blinding_terms(zkey, r, s)
    if (t.r, t.s) != (r % FR_MODULUS, s % FR_MODULUS):
        raise ValueError("the blinding terms were computed for another r, s")
    pi_a = G1_CURVE.add(G1_CURVE.add(public_point(G1, zkey.alpha1), bare.a), t.r_delta1)
    pi_b = G2_CURVE.add(G2_CURVE.add(public_point(G2, zkey.beta2), bare.b2), t.s_delta2)
    pi_c = G1_CURVE.add(bare.c, G1_CURVE.add(G1_CURVE.mul(bare.a, t.s), G1_CURVE.mul(bare.b1, t.r)))
    return Proof(pi_a, pi_b, G1_CURVE.add(pi_c, t.c_const))
