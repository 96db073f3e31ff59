"""The Groth16 prover, written once against ``ShareOps``.

Notation and the exact computation follow snarkjs (src/groth16_prove.js), so a
proof made here with the same r and s has the same affine coordinates:

    pi_a = alpha1 + Σ w_i·A_i + r·delta1
    pi_b = beta2  + Σ w_i·B2_i + s·delta2
    b1   = beta1  + Σ w_i·B1_i + s·delta1
    pi_c = Σ_{i>ℓ} w_i·C_i + Σ_j h_j·H_j + s·pi_a + r·b1 − r·s·delta1

with h the evaluations of A(X)·B(X) − C(X) on the odd coset (the zkey's H section
already folds in 1/Z and 1/delta).
"""

from __future__ import annotations

from typing import Any

from prover.shareops import ShareOps

G1, G2 = "g1", "g2"


def groth16_prove(zkey, ops: ShareOps) -> Any:
    n = zkey.domain_size
    w = ops.witness()
    r, s, rs = ops.blinding()

    # Quotient inputs: the A and B rows on the domain.
    a_dom = ops.sparse_matvec(0, zkey.coeffs, w, n)
    b_dom = ops.sparse_matvec(1, zkey.coeffs, w, n)

    # pi_a and b1 are needed opened before pi_c: their MSMs run once the masked vectors
    # of round 1 are on their way, and the points ride in the exchange's second half.
    # The MSMs for pi_b and for pi_c's witness part depend on nothing from round 1: they
    # start there too and run during the exchange.
    late = {}

    def round1_points():
        pi_a = ops.add_public(G1, ops.add(G1, ops.msm(G1, zkey.a, w), ops.scalar_mul(G1, r, zkey.delta1)),
                              zkey.alpha1)
        b1 = ops.add_public(G1, ops.add(G1, ops.msm(G1, zkey.b1, w), ops.scalar_mul(G1, s, zkey.delta1)),
                            zkey.beta1)
        late["b2"] = ops.msm_later(G2, zkey.b2, w)
        late["c"] = ops.msm_later(G1, zkey.c, ops.tail(w, zkey.n_public + 1))
        return [(G1, pi_a), (G1, b1)]

    # Round 1: C = A∘B on the domain, A·B on the odd coset, and open pi_a, b1.
    (c_dom, ab_odd), (pi_a_open, b1_open) = ops.multiply_and_open(a_dom, b_dom, round1_points)
    b2_msm, c_msm = late["b2"], late["c"]
    h = ops.sub_vec(ab_odd, ops.odd_coset(c_dom))

    pi_b = ops.add_public(G2, ops.add(G2, b2_msm(), ops.scalar_mul(G2, s, zkey.delta2)), zkey.beta2)
    # pi_c: the private-witness part, the quotient, and the blinding cross terms.
    pi_c = ops.add(G1, c_msm(), ops.msm(G1, zkey.h, h))
    pi_c = ops.add(G1, pi_c, ops.scalar_mul(G1, s, pi_a_open))
    pi_c = ops.add(G1, pi_c, ops.scalar_mul(G1, r, b1_open))
    pi_c = ops.sub(G1, pi_c, ops.scalar_mul(G1, rs, zkey.delta1))

    return ops.output(pi_a_open, pi_b, pi_c)
