"""Groth16 verification on py_ecc (optimized_bn128), a verifier nobody here wrote.

Checks e(−πA, πB)·e(α, β)·e(L, γ)·e(πC, δ) = 1 with L = IC_0 + Σ x_i·IC_i: four
Miller loops multiplied together and one final exponentiation.  Before any pairing
the proof's points must be on their curves and πB in the order-r subgroup (G1 has
cofactor 1), and each public input must be a canonical element of Fr, as snarkjs
requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from prover.bn254 import FQ_MODULUS, FR_MODULUS, G1, G2, to_py_ecc_g1, to_py_ecc_g2


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""

    def __bool__(self):
        return self.ok


def _coords_in_range(p, group) -> bool:
    if p is None:
        return True
    flat = p if group == "g1" else (*p[0], *p[1])
    return all(0 <= c < FQ_MODULUS for c in flat)


def check_proof_points(pi_a, pi_b, pi_c) -> Verdict:
    for name, p, group, curve in (("pi_a", pi_a, "g1", G1), ("pi_b", pi_b, "g2", G2), ("pi_c", pi_c, "g1", G1)):
        if not _coords_in_range(p, group):
            return Verdict(False, f"{name} has a coordinate outside the base field")
        if not curve.is_on_curve(p):
            return Verdict(False, f"{name} is not on the curve")
    if not G2.in_subgroup(pi_b):
        return Verdict(False, "pi_b is not in the order-r subgroup of G2")
    return Verdict(True)


def verify(vkey, public: list[int], proof) -> Verdict:
    """Verdict on ``proof`` = (pi_a, pi_b, pi_c) for ``public`` under ``vkey``."""
    from py_ecc.optimized_bn128 import FQ12, final_exponentiate, neg, pairing

    pi_a, pi_b, pi_c = proof
    if len(public) != vkey.n_public:
        return Verdict(False, f"{len(public)} public inputs given, the verification key expects {vkey.n_public}")
    for i, x in enumerate(public):
        if not 0 <= x < FR_MODULUS:
            return Verdict(False, f"public input {i} is not below the scalar field modulus r")
    pts = check_proof_points(pi_a, pi_b, pi_c)
    if not pts:
        return pts

    acc = vkey.ic[0]
    for x, ic in zip(public, vkey.ic[1:], strict=True):
        acc = G1.add(acc, G1.mul(ic, x))

    product = FQ12.one()
    for q, p in (
        (pi_b, G1.neg(pi_a)),
        (vkey.beta2, vkey.alpha1),
        (vkey.gamma2, acc),
        (vkey.delta2, pi_c),
    ):
        product = product * pairing(to_py_ecc_g2(q), to_py_ecc_g1(p), final_exponentiate=False)
    if final_exponentiate(product) == FQ12.one():
        return Verdict(True)
    return Verdict(False, "pairing check failed")
