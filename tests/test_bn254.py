"""Reference arithmetic against py_ecc on fresh random inputs."""

import secrets

import numpy as np
import pytest
from py_ecc import optimized_bn128 as pe

from prover import bn254
from prover.bn254 import FR_MODULUS, G1, G2
from prover.limbs import below, ints_to_limbs, limbs_to_ints, mul_mod_array

GROUPS = [
    pytest.param(G1, pe.G1, bn254.from_py_ecc_g1, bn254.to_py_ecc_g1, id="g1"),
    pytest.param(G2, pe.G2, bn254.from_py_ecc_g2, bn254.to_py_ecc_g2, id="g2"),
]


def rand_scalar():
    return secrets.randbelow(FR_MODULUS)


@pytest.mark.parametrize("curve, pgen, from_pe, to_pe", GROUPS)
def test_group_law_matches_py_ecc(curve, pgen, from_pe, to_pe):
    assert from_pe(pgen) == curve.generator
    for _ in range(3):
        k, m = rand_scalar(), rand_scalar()
        p, q = curve.mul(curve.generator, k), curve.mul(curve.generator, m)
        assert p == from_pe(pe.multiply(pgen, k))
        assert curve.add(p, q) == from_pe(pe.add(pe.multiply(pgen, k), pe.multiply(pgen, m)))
        assert curve.add(p, p) == from_pe(pe.double(to_pe(p)))
        assert curve.add(p, curve.neg(p)) is None
        assert curve.add(None, p) == p and curve.add(p, None) == p
        assert curve.mul(p, 0) is None and curve.mul(None, k) is None
        assert curve.mul(p, FR_MODULUS - 1) == curve.neg(p)
        assert from_pe(to_pe(p)) == p


def test_subgroup_check_rejects_twist_point_outside_subgroup():
    # Points on the G2 twist curve with x = (i, 1) for small i: the twist has a large
    # cofactor, so such points are on the curve but almost never in the subgroup.
    F = bn254.FQ2
    q = bn254.FQ_MODULUS
    for i in range(1, 50):
        x = (i, 1)
        rhs = F.add(F.mul(F.sqr(x), x), bn254.B2)
        y = _fq2_sqrt(rhs, q)
        if y is not None:
            p = (x, y)
            assert G2.is_on_curve(p)
            assert not G2.in_subgroup(p)
            return
    pytest.fail("no test point found")


def _fq2_sqrt(a, q):
    # Brute force via norm: for q ≡ 3 mod 4, the standard complex-method square root.
    a0, a1 = a
    norm = (a0 * a0 + a1 * a1) % q
    n = pow(norm, (q + 1) // 4, q)
    if n * n % q != norm:
        return None
    for sign in (1, -1):
        t = (a0 + sign * n) * pow(2, -1, q) % q
        x0 = pow(t, (q + 1) // 4, q)
        if x0 * x0 % q == t and x0:
            x1 = a1 * pow(2 * x0, -1, q) % q
            if bn254.f2_sqr((x0, x1)) == (a0 % q, a1 % q):
                return (x0, x1)
    return None


def test_limbs_round_trip_and_layout():
    vals = [0, 1, (1 << 64) + 2, bn254.FQ_MODULUS - 1] + [secrets.randbits(256) for _ in range(5)]
    arr = ints_to_limbs(vals)
    assert arr.shape == (len(vals), 4) and arr.dtype == np.uint64
    assert arr[2].tolist() == [2, 1, 0, 0]  # little-endian limbs
    assert limbs_to_ints(arr) == vals


@pytest.mark.parametrize("modulus", [bn254.FR_MODULUS, bn254.FQ_MODULUS])
def test_below_matches_int_comparison(modulus):
    """The vectorised range check against Python's ``<``, on fresh values and on values
    that tie with the modulus in the top limbs (where the lower limbs decide)."""
    vals = [secrets.randbelow(2**256) for _ in range(200)] + [secrets.randbelow(modulus) for _ in range(200)]
    for limb in range(4):
        for delta in (-1, 0, 1):
            vals.append((modulus + delta * (1 << (64 * limb))) % 2**256)
    for top_bits in (64, 128, 192):
        vals += [(modulus >> top_bits << top_bits) | secrets.randbelow(1 << top_bits) for _ in range(50)]
    vals += [0, modulus - 1, modulus, modulus + 1, 2**256 - 1]
    got = below(ints_to_limbs(vals), modulus)
    assert got.tolist() == [v < modulus for v in vals]


def test_mul_mod_array_is_montgomery_exit():
    q = bn254.FQ_MODULUS
    vals = [secrets.randbelow(q) for _ in range(7)]
    mont = ints_to_limbs([v * bn254.MONT % q for v in vals])
    assert limbs_to_ints(mul_mod_array(mont, pow(bn254.MONT, -1, q), q)) == vals


@pytest.mark.parametrize("curve", [G1, G2], ids=["g1", "g2"])
def test_point_arrays_round_trip(curve):
    pts = [curve.mul(curve.generator, rand_scalar()) for _ in range(3)] + [None]
    to_arr = bn254.g1_to_array if curve is G1 else bn254.g2_to_array
    from_arr = bn254.g1_from_array if curve is G1 else bn254.g2_from_array
    arr = to_arr(pts)
    assert arr.shape == ((4, 2, 4) if curve is G1 else (4, 2, 2, 4))
    assert not arr[3].any()
    assert from_arr(arr) == pts
