"""Groth16 verification: a numba pairing check, and py_ecc (optimized_bn128) as its twin.

Checks e(−πA, πB)·e(α, β)·e(L, γ)·e(πC, δ) = 1 with L = IC_0 + Σ x_i·IC_i: four
Miller loops multiplied together and one final exponentiation.  Before any pairing
the proof's points must be on their curves and πB in the order-r subgroup (G1 has
cofactor 1), and each public input must be a canonical element of Fr, as snarkjs
requires.

``verify`` runs on gpu_msm.cpu's pairing kernels (gpu_msm/cpu/pairing.py) where numba
imports, else on ``verify_py_ecc``: the same checks on py_ecc, a verifier nobody here
wrote, in pure Python and far slower.  The client checks every proof it returns, so on a
0.6 s proving budget py_ecc's time is not affordable
(figures: bench/RESULTS.md, 'Measurements moved from code comments');
tests/test_pairing.py holds the two to the same verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass

from prover.bn254 import (FQ_MODULUS, FR_MODULUS, G1, G2, g1_to_array, g2_to_array,
                          to_py_ecc_g1, to_py_ecc_g2)
from prover.limbs import ints_to_limbs


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


def check_proof_points(pi_a, pi_b, pi_c, g2_in_subgroup=G2.in_subgroup) -> Verdict:
    """``g2_in_subgroup``: the test [r]P = O for a point on the curve (the reference
    by default; verify passes the numba one)."""
    for name, p, group, curve in (("pi_a", pi_a, "g1", G1), ("pi_b", pi_b, "g2", G2), ("pi_c", pi_c, "g1", G1)):
        if not _coords_in_range(p, group):
            return Verdict(False, f"{name} has a coordinate outside the base field")
        if not curve.is_on_curve(p):
            return Verdict(False, f"{name} is not on the curve")
    if not g2_in_subgroup(pi_b):
        return Verdict(False, "pi_b is not in the order-r subgroup of G2")
    return Verdict(True)


def _check_inputs(vkey, public, proof, g2_in_subgroup) -> Verdict:
    if len(public) != vkey.n_public:
        return Verdict(False, f"{len(public)} public inputs given, the verification key expects {vkey.n_public}")
    for i, x in enumerate(public):
        if not 0 <= x < FR_MODULUS:
            return Verdict(False, f"public input {i} is not below the scalar field modulus r")
    return check_proof_points(*proof, g2_in_subgroup=g2_in_subgroup)


def verify_py_ecc(vkey, public: list[int], proof) -> Verdict:
    """Verdict on ``proof`` = (pi_a, pi_b, pi_c) for ``public`` under ``vkey``, on py_ecc
    and the Python-int reference curves only."""
    from py_ecc.optimized_bn128 import FQ12, final_exponentiate, pairing

    pts = _check_inputs(vkey, public, proof, G2.in_subgroup)
    if not pts:
        return pts
    pi_a, pi_b, pi_c = proof

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


def _fast():
    """gpu_msm, whose CPU engine has the pairing kernels; None where numba is missing."""
    import gpu_msm
    return gpu_msm if gpu_msm.cpu_engine_available() else None


def verify_fast(vkey, public: list[int], proof) -> Verdict:
    """verify_py_ecc's checks on gpu_msm.cpu's kernels (needs numba)."""
    fast = _fast()
    if not fast:
        raise RuntimeError("verify_fast needs gpu_msm.cpu (numba)")

    def in_subgroup(p):
        return bool(fast.g2_in_subgroup(g2_to_array([p]))[0])

    pts = _check_inputs(vkey, public, proof, in_subgroup)
    if not pts:
        return pts
    pi_a, pi_b, pi_c = proof
    # IC_0 enters with scalar 1, so L is one linear combination
    vk_x = fast.g1_lincomb(g1_to_array(vkey.ic), ints_to_limbs([1, *public]))
    g1 = g1_to_array([G1.neg(pi_a), vkey.alpha1, None, pi_c])
    g1[2] = vk_x
    g2 = g2_to_array([pi_b, vkey.beta2, vkey.gamma2, vkey.delta2])
    if fast.pairing_check(g1, g2):
        return Verdict(True)
    return Verdict(False, "pairing check failed")


def verify(vkey, public: list[int], proof) -> Verdict:
    """Verdict on ``proof`` = (pi_a, pi_b, pi_c) for ``public`` under ``vkey``: verify_fast
    where gpu_msm.cpu imports, else verify_py_ecc."""
    if _fast():
        return verify_fast(vkey, public, proof)
    return verify_py_ecc(vkey, public, proof)
