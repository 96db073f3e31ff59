"""NTT and MSM references against their obviously-right definitions."""

import secrets

import pytest
from py_ecc import optimized_bn128 as pe

from prover import bn254, ntt
from prover.bn254 import FR_MODULUS, G1, G2
from prover.msm import msm_naive, msm_pippenger

R = FR_MODULUS


@pytest.mark.parametrize("n", [1, 2, 8, 64])
def test_ntt_is_evaluation_on_the_domain(n):
    coeffs = [secrets.randbelow(R) for _ in range(n)]
    w = ntt.root_of_unity(n)
    evals = ntt.ntt(coeffs)
    assert evals == [ntt.evaluate_naive(coeffs, pow(w, i, R)) for i in range(n)]
    assert ntt.intt(evals) == coeffs


def test_root_of_unity_is_primitive_and_matches_snarkjs_generator():
    for k in range(1, 29):
        w = ntt.root_of_unity(1 << k)
        assert pow(w, 1 << k, R) == 1 and pow(w, 1 << (k - 1), R) == R - 1
    assert ntt.root_of_unity(1 << 28) == pow(5, (R - 1) >> 28, R)
    with pytest.raises(ValueError):
        ntt.root_of_unity(12)


@pytest.mark.parametrize("n", [1, 4, 32])
def test_odd_coset_evaluates_at_shifted_points(n):
    dom = [secrets.randbelow(R) for _ in range(n)]
    coeffs = ntt.intt(dom)
    g, w = ntt.root_of_unity(2 * n), ntt.root_of_unity(n)
    assert ntt.odd_coset(dom) == [ntt.evaluate_naive(coeffs, g * pow(w, i, R) % R) for i in range(n)]


def _points(curve, n):
    pts = [curve.mul(curve.generator, secrets.randbelow(R)) for _ in range(max(1, n // 2))]
    return [pts[i % len(pts)] for i in range(n)]  # repeated bases on purpose


@pytest.mark.parametrize("curve", [G1, G2], ids=["g1", "g2"])
@pytest.mark.parametrize("n", [1, 2, 31])
def test_pippenger_matches_naive(curve, n):
    pts = _points(curve, n)
    scalars = [secrets.randbelow(R) for _ in range(n)]
    # edge cases: zero scalar, r − 1, infinity base, a scalar ≥ r (reduced)
    if n >= 2:
        scalars[0] = 0
        scalars[1] = R - 1
    if n >= 31:
        pts[5] = None
        scalars[6] = R + 7
    expected = msm_naive(curve, pts, scalars)
    for c in (None, 1, 5, 13):
        assert msm_pippenger(curve, pts, scalars, c) == expected


def test_pippenger_matches_py_ecc():
    n = 20
    ks = [secrets.randbelow(R) for _ in range(n)]
    ss = [secrets.randbelow(R) for _ in range(n)]
    acc = None
    for k, s in zip(ks, ss):
        term = pe.multiply(pe.multiply(pe.G1, k), s)
        acc = term if acc is None else pe.add(acc, term)
    pts = [G1.mul(G1.generator, k) for k in ks]
    assert msm_pippenger(G1, pts, ss) == bn254.from_py_ecc_g1(acc)


def test_pippenger_all_cancel_to_infinity():
    p = G1.mul(G1.generator, 99)
    assert msm_pippenger(G1, [p, p], [5, R - 5]) is None
    assert msm_pippenger(G2, [G2.generator], [0]) is None
