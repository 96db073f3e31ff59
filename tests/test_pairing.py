"""gpu_msm.cpu.pairing and the fast verifier against py_ecc and the Python-int reference.

Fresh random points each run (the session seed, see conftest; COPROVE_TEST_SEED repeats
one).  The GT values are compared coefficient by coefficient with py_ecc's pairing (the
"plain" hard part, exponent (q¹²−1)/r) and with py_ecc's pairing to the power
2x(6x²+3x+1) (the addition chain pairing_check runs), and with snarkjs's
vk_alphabeta_12 in the committed fixtures.  Every verify case is run through both
verifiers, which must return the same Verdict, and against the verdict it should have.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

pytest.importorskip("numba")

import prover.verify as pv  # noqa: E402
from gpu_msm.cpu import pairing as pr  # noqa: E402
from prover.bn254 import (FQ_MODULUS, FR_MODULUS, G1, G2, f2_add, f2_mul, f2_sqr,  # noqa: E402
                          g1_from_array, g1_to_array, g2_to_array, to_py_ecc_g1, to_py_ecc_g2)
from prover.limbs import ints_to_limbs, limbs_to_ints  # noqa: E402
from prover.snarkjs_json import (SNARKJS_GT_EXPONENT, VerificationKey, read_proof,  # noqa: E402
                                 read_public, read_vkey)

from cli_helpers import DATA  # noqa: E402

Q, R = FQ_MODULUS, FR_MODULUS
FIXTURES = ["three_public", "mul_chain_2e10"]
PROOFS = ["proof.json", "proof_rs0.json", "proof_r12345_s67890.json"]
INF_G1 = np.zeros((2, 4), np.uint64)
INF_G2 = np.zeros((2, 2, 4), np.uint64)


@pytest.fixture
def rng(test_seed, request) -> random.Random:
    return random.Random(f"{test_seed}/{request.node.name}")


def _g1(rng, k=None):
    return G1.mul(G1.generator, rng.randrange(1, R) if k is None else k)


def _g2(rng, k=None):
    return G2.mul(G2.generator, rng.randrange(1, R) if k is None else k)


def _py_ecc_coeffs(gt: np.ndarray) -> list[int]:
    """Our tower coefficients -> py_ecc's FQ12 coefficients.  v^i·w^j is w^(2i+j) there,
    and u = w⁶ − 9, so (a0 + a1·u)·w^k = (a0 − 9a1)·w^k + a1·w^(k+6)."""
    v = limbs_to_ints(gt)  # [j, i, c] row-major
    out = [0] * 12
    for j in range(2):
        for i in range(3):
            a0, a1 = v[(3 * j + i) * 2], v[(3 * j + i) * 2 + 1]
            k = 2 * i + j
            out[k] = (out[k] + a0 - 9 * a1) % Q
            out[k + 6] = (out[k + 6] + a1) % Q
    return out


def _py_ecc_product(pairs, exponent=1):
    from py_ecc.optimized_bn128 import FQ12, pairing
    acc = FQ12.one()
    for p, q in pairs:
        acc = acc * pairing(to_py_ecc_g2(q), to_py_ecc_g1(p))
    return [int(c) for c in (acc ** exponent).coeffs]


def _check(pairs) -> bool:
    return pr.pairing_check(g1_to_array([p for p, _ in pairs]).reshape(-1, 2, 4),
                            g2_to_array([q for _, q in pairs]).reshape(-1, 2, 2, 4))


# ---------------------------------------------------------------- points off the subgroup

def _f2_pow(a, e):
    acc = (1, 0)
    for bit in bin(e)[2:]:
        acc = f2_sqr(acc)
        if bit == "1":
            acc = f2_mul(acc, a)
    return acc


def _f2_sqrt(a):
    """A square root in Fq2 (q ≡ 3 mod 4; Adj and Rodríguez-Henríquez, "Square root
    computation over even extension fields", algorithm 9), or None."""
    a1 = _f2_pow(a, (Q - 3) // 4)
    alpha = f2_mul(f2_sqr(a1), a)
    x0 = f2_mul(a1, a)
    if alpha == (Q - 1, 0):
        x = f2_mul((0, 1), x0)
    else:
        x = f2_mul(_f2_pow(f2_add((1, 0), alpha), (Q - 1) // 2), x0)
    return x if f2_sqr(x) == a else None


def _twist_point_off_subgroup(rng):
    for _ in range(100):
        x = (rng.randrange(Q), rng.randrange(Q))
        y = _f2_sqrt(G2.F.add(G2.F.mul(f2_sqr(x), x), G2.b))
        if y is not None:
            p = (x, y)
            assert G2.is_on_curve(p) and not G2.in_subgroup(p)
            return p
    raise AssertionError("no twist point found in 100 tries")


# ---------------------------------------------------------------- GT values

def test_gt_plain_equals_py_ecc_pairing(rng):
    p, q = _g1(rng), _g2(rng)
    gt = pr.pairing_gt(g1_to_array([p]), g2_to_array([q]), hard="plain")
    ref = _py_ecc_product([(p, q)])
    assert ref != [1] + [0] * 11  # a degenerate reference would prove nothing
    assert _py_ecc_coeffs(gt) == ref


def test_gt_product_of_two_equals_py_ecc(rng):
    pairs = [(_g1(rng), _g2(rng)), (_g1(rng), _g2(rng))]
    gt = pr.pairing_gt(g1_to_array([p for p, _ in pairs]), g2_to_array([q for _, q in pairs]))
    assert _py_ecc_coeffs(gt) == _py_ecc_product(pairs)


def test_gt_chain_is_py_ecc_to_snarkjs_exponent(rng):
    p, q = _g1(rng), _g2(rng)
    gt = pr.pairing_gt(g1_to_array([p]), g2_to_array([q]), hard="chain")
    assert pr.CHAIN_MULTIPLE == SNARKJS_GT_EXPONENT
    assert _py_ecc_coeffs(gt) == _py_ecc_product([(p, q)], SNARKJS_GT_EXPONENT)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_gt_chain_reproduces_vk_alphabeta_12(fixture):
    raw = json.loads((DATA / fixture / "verification_key.json").read_text())
    vk = read_vkey(DATA / fixture / "verification_key.json")
    gt = pr.pairing_gt(g1_to_array([vk.alpha1]), g2_to_array([vk.beta2]), hard="chain")
    expected = [int(c) for row in raw["vk_alphabeta_12"] for fq2 in row for c in fq2]
    assert limbs_to_ints(gt) == expected


# ---------------------------------------------------------------- pairing_check

def test_bilinearity(rng):
    a, b = rng.randrange(2, R), rng.randrange(2, R)
    p, q = G1.generator, G2.generator
    ap, bq = G1.mul(p, a), G2.mul(q, b)
    abp = G1.mul(p, a * b)
    assert _check([(ap, bq), (G1.neg(abp), q)])
    assert _check([(p, G2.mul(q, a * b)), (G1.neg(ap), bq)])
    assert not _check([(ap, bq), (G1.neg(G1.mul(p, a * b + 1)), q)])
    assert not _check([(ap, bq), (abp, q)])  # e(P, Q)^(2ab) ≠ 1
    assert not _check([(ap, bq)])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_random_products(rng, k):
    """Π e([s_i]G1, [t_i]G2) = e(G1, G2)^(Σ s_i t_i): 1 exactly when the sum is 0 mod r."""
    s = [rng.randrange(1, R) for _ in range(k)]
    t = [rng.randrange(1, R) for _ in range(k)]
    # make Σ s_i t_i ≡ 0 by choosing the last s
    s[-1] = -sum(si * ti for si, ti in zip(s[:-1], t[:-1])) * pow(t[-1], -1, R) % R
    g1 = [_g1(rng, si) for si in s]
    g2 = [_g2(rng, ti) for ti in t]
    assert _check(list(zip(g1, g2)))
    bumped = g1[:-1] + [G1.add(g1[-1], G1.generator)]
    assert not _check(list(zip(bumped, g2)))
    swapped = list(zip(g1, g2[1:] + g2[:1]))  # Σ s_i t_{i+1}: almost surely not 0
    assert _check(swapped) == (sum(si * ti for si, ti in zip(s, t[1:] + t[:1])) % R == 0)


def test_infinity_contributes_one(rng):
    p, q = _g1(rng), _g2(rng)
    other = _g2(rng)
    g1 = g1_to_array([p, G1.neg(p), None, p])
    g2 = g2_to_array([q, q, other, None])
    assert pr.pairing_check(g1, g2)
    assert not pr.pairing_check(g1[[0, 2, 3]], g2[[0, 2, 3]])
    assert pr.pairing_check(g1[2:], g2[2:])  # only infinite pairs
    assert pr.pairing_check(np.zeros((0, 2, 4), np.uint64), np.zeros((0, 2, 2, 4), np.uint64))
    gt = pr.pairing_gt(g1[2:], g2[2:], hard="plain")
    assert _py_ecc_coeffs(gt) == [1] + [0] * 11


def test_rejects_bad_input(rng):
    p, q = _g1(rng), _g2(rng)
    g1, g2 = g1_to_array([p]), g2_to_array([q])
    off1 = g1.copy()
    off1[0, 1, 0] ^= np.uint64(1)
    with pytest.raises(ValueError, match=r"g1\[0\] is not on the curve"):
        pr.pairing_check(off1, g2)
    off2 = g2.copy()
    off2[0, 0, 1, 0] ^= np.uint64(1)
    with pytest.raises(ValueError, match=r"g2\[0\] is not on the curve"):
        pr.pairing_check(g1, off2)
    big = g1.copy()
    big[0, 0] = ints_to_limbs([Q + 1])[0]
    with pytest.raises(ValueError, match="not reduced"):
        pr.pairing_check(big, g2)
    with pytest.raises(ValueError, match="shape"):
        pr.pairing_check(g1, np.concatenate([g2, g2]))
    with pytest.raises(ValueError, match="hard"):
        pr.pairing_gt(g1, g2, hard="fast")


# ---------------------------------------------------------------- group helpers

def test_g2_subgroup_matches_reference(rng):
    pts = [_g2(rng), None, _twist_point_off_subgroup(rng), G2.generator,
           _twist_point_off_subgroup(rng)]
    got = pr.g2_in_subgroup(g2_to_array(pts)).tolist()
    assert got == [G2.in_subgroup(p) for p in pts] == [True, True, False, True, False]


def test_g1_lincomb_matches_reference(rng):
    bases = [_g1(rng), None, _g1(rng), _g1(rng), G1.generator]
    scalars = [rng.randrange(R), 5, 0, R - 1, (1 << 256) - 1]
    out = pr.g1_lincomb(g1_to_array(bases), ints_to_limbs(scalars))
    acc = None
    for p, k in zip(bases, scalars):
        acc = G1.add(acc, G1.mul(p, k))
    assert g1_from_array(out[None]) == [acc]
    # a sum that cancels is infinity, (0, 0)
    p = _g1(rng)
    out = pr.g1_lincomb(g1_to_array([p, p]), ints_to_limbs([1, R - 1]))
    assert not out.any()


# ---------------------------------------------------------------- verify: fast vs py_ecc

def _both(vk, public, proof, expect_ok: bool, reason: str = ""):
    fast = pv.verify_fast(vk, public, proof)
    slow = pv.verify_py_ecc(vk, public, proof)
    assert fast == slow
    assert fast.ok is expect_ok, fast
    assert reason in fast.reason
    return fast


def _load(fixture):
    d = DATA / fixture
    return read_vkey(d / "verification_key.json"), read_public(d / "public.json")


@pytest.mark.parametrize("fixture", FIXTURES)
def test_verify_fixture_proofs(fixture):
    vk, public = _load(fixture)
    for name in PROOFS:
        _both(vk, public, read_proof(DATA / fixture / name), True)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_verify_tampered_coordinates(fixture):
    """Each coordinate plus one: off the curve (or, with odds 2^-254, another point)."""
    vk, public = _load(fixture)
    pi_a, pi_b, pi_c = read_proof(DATA / fixture / "proof.json")
    for what in range(8):
        a, c = list(pi_a), list(pi_c)
        b = [list(pi_b[0]), list(pi_b[1])]
        if what < 2:
            a[what] = (a[what] + 1) % Q
        elif what < 4:
            c[what - 2] = (c[what - 2] + 1) % Q
        else:
            b[(what - 4) // 2][what % 2] = (b[(what - 4) // 2][what % 2] + 1) % Q
        proof = (tuple(a), (tuple(b[0]), tuple(b[1])), tuple(c))
        _both(vk, public, proof, False, "not on the curve")
    # a coordinate q or more
    _both(vk, public, ((pi_a[0] + Q, pi_a[1]), pi_b, pi_c), False, "outside the base field")


@pytest.mark.parametrize("fixture", FIXTURES)
def test_verify_tampered_public(fixture):
    vk, public = _load(fixture)
    proof = read_proof(DATA / fixture / "proof.json")
    for i in range(len(public)):
        changed = list(public)
        changed[i] = (changed[i] + 1) % R
        _both(vk, changed, proof, False, "pairing check failed")
    _both(vk, [public[0] + R] + public[1:], proof, False, "not below the scalar field")
    _both(vk, public + [1], proof, False, "public inputs given")


def test_verify_valid_points_that_are_not_the_proof(rng):
    vk, public = _load("three_public")
    pi_a, pi_b, pi_c = read_proof(DATA / "three_public" / "proof.json")
    _both(vk, public, (G1.neg(pi_a), pi_b, pi_c), False, "pairing check failed")
    _both(vk, public, (_g1(rng), pi_b, pi_c), False, "pairing check failed")
    _both(vk, public, (pi_a, pi_b, _g1(rng)), False, "pairing check failed")
    _both(vk, public, (pi_a, _g2(rng), pi_c), False, "pairing check failed")
    _both(vk, public, (pi_a, G2.neg(pi_b), pi_c), False, "pairing check failed")
    _both(vk, public, (None, pi_b, pi_c), False, "pairing check failed")
    _both(vk, public, (pi_a, None, pi_c), False, "pairing check failed")
    _both(vk, public, (pi_a, _twist_point_off_subgroup(rng), pi_c), False, "order-r subgroup")


def test_verify_made_up_key(rng):
    """A key made of known multiples of the generators, so that a valid proof is one
    with A·B = a·b + l·g + c·d on the scalars: choose A and B, solve for c.  Also the
    public inputs that make L = IC_0 + Σ x_i·IC_i infinite."""
    a, b, g, d = (rng.randrange(1, R) for _ in range(4))
    ic_k = [rng.randrange(R) for _ in range(3)]
    public = [rng.randrange(R), rng.randrange(R)]
    vk = VerificationKey(n_public=2, alpha1=_g1(rng, a), beta2=_g2(rng, b), gamma2=_g2(rng, g),
                         delta2=_g2(rng, d), ic=[_g1(rng, k) if k else None for k in ic_k])
    l_k = (ic_k[0] + ic_k[1] * public[0] + ic_k[2] * public[1]) % R
    A, B = rng.randrange(1, R), rng.randrange(1, R)
    c = (A * B - a * b - l_k * g) * pow(d, -1, R) % R
    proof = (_g1(rng, A), _g2(rng, B), _g1(rng, c) if c else None)
    _both(vk, public, proof, True)
    # public inputs that make L infinite: IC_0 + x0·IC_1 + x1·IC_2 = 0
    x1 = rng.randrange(R)
    x0 = -(ic_k[0] + ic_k[2] * x1) * pow(ic_k[1], -1, R) % R if ic_k[1] else None
    if x0 is not None:
        c = (A * B - a * b) * pow(d, -1, R) % R
        _both(vk, [x0, x1], (_g1(rng, A), _g2(rng, B), _g1(rng, c) if c else None), True)
        _both(vk, [x0, x1], proof, l_k == 0)


def test_verify_picks_fast_path(monkeypatch):
    vk, public = _load("three_public")
    proof = read_proof(DATA / "three_public" / "proof.json")

    def refuse(*args):
        raise AssertionError("py_ecc used although numba is present")
    monkeypatch.setattr(pv, "verify_py_ecc", refuse)
    assert pv.verify(vk, public, proof)


def test_verify_falls_back_to_py_ecc(monkeypatch):
    vk, public = _load("three_public")
    proof = read_proof(DATA / "three_public" / "proof.json")
    import gpu_msm
    monkeypatch.setattr(gpu_msm, "cpu_engine_available", lambda: False)  # as if numba were missing
    calls = []
    real = pv.verify_py_ecc
    monkeypatch.setattr(pv, "verify_py_ecc", lambda *a: calls.append(1) or real(*a))
    assert pv.verify(vk, public, proof)
    assert calls == [1]
    with pytest.raises(RuntimeError, match="numba"):
        pv.verify_fast(vk, public, proof)
