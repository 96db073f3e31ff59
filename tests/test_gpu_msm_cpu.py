"""gpu_msm backends against the pure-Python reference in prover, on fresh random inputs.

Every backend runs the same tests through the ``backend`` fixture; "cuda" skips where
CuPy sees no device.  Inputs come from the session seed (conftest: repeat a run with
COPROVE_TEST_SEED), so there are no stored expected values.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gpu_msm
from prover import ntt as ref_ntt
from prover.bn254 import (FQ_MODULUS, FR_MODULUS, G1, G2, g1_from_array, g1_to_array,
                          g2_from_array, g2_to_array)
from prover.limbs import ints_to_limbs, limbs_to_ints
from prover.msm import msm_naive, msm_pippenger

R = FR_MODULUS


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def backend(request):
    if request.param not in gpu_msm.available_backends():
        pytest.skip("no CUDA device visible to CuPy")
    return gpu_msm.get_backend(request.param)


@pytest.fixture
def rng(test_seed, request) -> random.Random:
    return random.Random(f"{test_seed}/{request.node.name}")


CURVES = {
    "g1": (G1, g1_to_array, g1_from_array, "msm_g1"),
    "g2": (G2, g2_to_array, g2_from_array, "msm_g2"),
}


def _walk(curve, rng, n):
    """n distinct random points a·G, (a+b)·G, (a+2b)·G, …: one scalar multiplication each
    for a·G and b·G, then one addition per point, which keeps 2^12 points cheap."""
    p = curve.mul(curve.generator, rng.randrange(1, R))
    step = curve.mul(curve.generator, rng.randrange(1, R))
    out = []
    for _ in range(n):
        out.append(p)
        p = curve.add(p, step)
    return out


def _msm_case(curve, rng, n):
    """Random bases and scalars with the awkward cases planted where n allows."""
    points = _walk(curve, rng, n)
    scalars = [rng.randrange(R) for _ in range(n)]
    slots = rng.sample(range(n), min(n, 10))
    if n >= 2:
        scalars[slots[0]] = 0
        scalars[slots[1]] = R - 1
    if n >= 4:
        points[slots[2]] = None  # infinity base with a nonzero scalar
        points[slots[3]] = points[slots[4 % n]]  # repeated base
    if n >= 10:
        points[slots[5]] = points[slots[6]]  # repeated base, same scalar
        scalars[slots[5]] = scalars[slots[6]]
        points[slots[7]] = curve.neg(points[slots[8]])  # cancels: k·(−P) + k·P
        scalars[slots[7]] = scalars[slots[8]]
        points[slots[9]] = points[slots[8]]  # cancels: (r − k)·P + k·P
        scalars[slots[9]] = (R - scalars[slots[8]]) % R
    return points, scalars


def _run_msm(backend, name, points, scalars):
    curve, to_array, from_array, fn = CURVES[name]
    out = getattr(backend, fn)(to_array(points), ints_to_limbs(scalars))
    assert out.dtype == np.uint64 and out.shape == to_array([None]).shape[1:]
    return from_array(out[None])[0]


@pytest.mark.parametrize("name,n", [
    ("g1", 1), ("g1", 2), ("g1", 31), ("g1", 1000), ("g1", 2**12 + 3),
    ("g2", 1), ("g2", 2), ("g2", 31), ("g2", 1000), ("g2", 2**12 + 3),
])
def test_msm_matches_reference(backend, rng, name, n):
    curve = CURVES[name][0]
    points, scalars = _msm_case(curve, rng, n)
    reference = msm_naive if n <= 31 else msm_pippenger
    assert _run_msm(backend, name, points, scalars) == reference(curve, points, scalars)


@pytest.mark.parametrize("name", ["g1", "g2"])
def test_msm_results_at_infinity(backend, rng, name):
    curve = CURVES[name][0]
    points = _walk(curve, rng, 5)
    k = rng.randrange(1, R)
    assert _run_msm(backend, name, points, [0] * 5) is None  # all-zero scalars
    assert _run_msm(backend, name, [None] * 3, [k, 1, R - 1]) is None  # all-infinity bases
    assert _run_msm(backend, name, [points[0], points[0]], [k, R - k]) is None
    assert _run_msm(backend, name, [points[1], curve.neg(points[1])], [k, k]) is None
    assert _run_msm(backend, name, [], []) is None


@pytest.mark.parametrize("name", ["g1", "g2"])
def test_msm_single_terms(backend, rng, name):
    curve = CURVES[name][0]
    p = _walk(curve, rng, 1)[0]
    k = rng.randrange(R)
    for scalar in (k, 1, 2, R - 1):
        assert _run_msm(backend, name, [p], [scalar]) == curve.mul(p, scalar)


@pytest.mark.parametrize("name", ["g1", "g2"])
def test_msm_skewed_digits(backend, rng, name):
    """One scalar for every base puts each window's points in a single bucket; one base
    for every scalar makes the bucket sums double."""
    curve = CURVES[name][0]
    points = _walk(curve, rng, 200)
    k = rng.randrange(R)
    assert _run_msm(backend, name, points, [k] * 200) == msm_pippenger(curve, points, [k] * 200)
    same = [points[0]] * 200
    assert _run_msm(backend, name, same, [k] * 200) == curve.mul(points[0], k * 200)


def _witness_like(rng, n):
    """Scalars as real witnesses have them: mostly 0s and 1s, some small values, sums of
    words, a few full-width ones, and the limb edges (2^64 − 1, 2^64, r − 1)."""
    kinds = [lambda: 0, lambda: 1, lambda: rng.randrange(2, 256), lambda: rng.randrange(1 << 32),
             lambda: rng.randrange(1 << 64), lambda: rng.randrange(1 << 64, 1 << 128),
             lambda: rng.randrange(1 << 128, 1 << 192), lambda: rng.randrange(R)]
    weights = [30, 30, 10, 8, 6, 4, 4, 8]
    scalars = [rng.choices(kinds, weights)[0]() for _ in range(n)]
    for i, v in zip(rng.sample(range(n), min(n, 4)), ((1 << 64) - 1, 1 << 64, R - 1, 2)):
        scalars[i] = v
    return scalars


@pytest.mark.parametrize("name,n", [("g1", 7), ("g1", 300), ("g1", 3000), ("g2", 7), ("g2", 300)])
def test_msm_witness_like_scalars(backend, rng, name, n):
    curve = CURVES[name][0]
    points = _walk(curve, rng, n)
    points[rng.randrange(n)] = None  # an infinity base among them
    scalars = _witness_like(rng, n)
    reference = msm_naive if n <= 31 else msm_pippenger
    assert _run_msm(backend, name, points, scalars) == reference(curve, points, scalars)


def test_cpu_msm_groups_scalars_by_size(rng):
    """The CPU engine runs each size class over only the windows it reaches: check the
    classes it formed, and the same answer whatever window the caller fixes."""
    from gpu_msm.cpu import msm
    points = _walk(G1, rng, 64)
    scalars = [0] * 16 + [1] * 16 + [rng.randrange(2, 1 << 20) for _ in range(16)] + \
        [rng.randrange(1 << 200, R) for _ in range(16)]
    expected = msm_pippenger(G1, points, scalars)
    got = g1_from_array(msm.msm_g1(g1_to_array(points), ints_to_limbs(scalars))[None])[0]
    assert got == expected
    widths = {bits: n for n, bits in msm.last_config["groups"]}
    assert widths == {1: 16, max(scalars[32:48]).bit_length(): 16, max(scalars[48:]).bit_length(): 16}
    for c in (2, 7, 13):
        assert g1_from_array(msm.msm_g1(g1_to_array(points), ints_to_limbs(scalars), c)[None])[0] == expected
    assert g1_from_array(msm.msm_g1(g1_to_array(points), ints_to_limbs([0] * 64))[None])[0] is None
    ones = g1_from_array(msm.msm_g1(g1_to_array(points), ints_to_limbs([1] * 64))[None])[0]
    assert ones == msm_naive(G1, points, [1] * 64)


def test_cpu_msm_every_window_size(rng):
    """Window sizes from 2 (254 = 2·127: the carry needs its own top window) to 16."""
    from gpu_msm.cpu import msm
    points, scalars = _msm_case(G1, rng, 40)
    expected = msm_naive(G1, points, scalars)
    for c in (2, 3, 5, 8, 13, 16):
        got = g1_from_array(msm.msm_g1(g1_to_array(points), ints_to_limbs(scalars), c)[None])[0]
        assert got == expected, f"window {c}"


@pytest.mark.parametrize("name", ["g1", "g2"])
def test_msm_rejects_bad_input(backend, rng, name):
    curve, to_array, _, fn = CURVES[name]
    bases = to_array(_walk(curve, rng, 3))
    msm = getattr(backend, fn)
    with pytest.raises(ValueError):
        msm(bases, ints_to_limbs([1, 2, R]))  # not reduced
    with pytest.raises(ValueError):
        msm(bases, ints_to_limbs([1, 2]))  # length mismatch
    bad = bases.copy()
    bad.reshape(-1, 4)[0] = ints_to_limbs([FQ_MODULUS])[0]
    with pytest.raises(ValueError):
        msm(bad, ints_to_limbs([1, 2, 3]))


@pytest.mark.parametrize("n", [1, 2, 16, 1024])
def test_ntt_matches_reference(backend, rng, n):
    values = [rng.randrange(R) for _ in range(n)]
    arr = ints_to_limbs(values)
    assert limbs_to_ints(backend.ntt(arr)) == ref_ntt.ntt(values)
    assert limbs_to_ints(backend.intt(arr)) == ref_ntt.intt(values)
    assert limbs_to_ints(backend.odd_coset(arr)) == ref_ntt.odd_coset(values)
    assert limbs_to_ints(backend.intt(backend.ntt(arr))) == values
    assert limbs_to_ints(backend.ntt(backend.intt(arr))) == values


def test_ntt_rejects_bad_sizes(backend):
    with pytest.raises(ValueError):
        backend.ntt(np.zeros((12, 4), np.uint64))
    with pytest.raises(ValueError):
        backend.intt(np.zeros((0, 4), np.uint64))


def _needs(backend, name):
    # every backend has the vector functions now (cuda since session 2): a missing one fails
    return getattr(backend, name)


def test_vector_ops(backend, rng):
    n = 1000
    a = [rng.randrange(R) for _ in range(n)]
    b = [rng.randrange(R) for _ in range(n)]
    a[0], b[0], a[1], b[1] = 0, R - 1, R - 1, R - 1
    A, B = ints_to_limbs(a), ints_to_limbs(b)
    k = rng.randrange(1 << 300)
    assert limbs_to_ints(_needs(backend, "mul_vec")(A, B)) == [x * y % R for x, y in zip(a, b)]
    assert limbs_to_ints(_needs(backend, "add_vec")(A, B)) == [(x + y) % R for x, y in zip(a, b)]
    assert limbs_to_ints(_needs(backend, "sub_vec")(A, B)) == [(x - y) % R for x, y in zip(a, b)]
    assert limbs_to_ints(_needs(backend, "neg_vec")(A)) == [-x % R for x in a]
    assert limbs_to_ints(_needs(backend, "mul_scalar")(A, k)) == [x * k % R for x in a]


def test_sparse_matvec(backend, rng):
    matvec = _needs(backend, "sparse_matvec")
    rows, m, k = 300, 500, 3000
    constraint = [rng.randrange(rows) for _ in range(k)]
    signal = [rng.randrange(m) for _ in range(k)]
    value = [rng.randrange(R) for _ in range(k)]
    v = [rng.randrange(R) for _ in range(m)]
    expected = [0] * rows
    for c, s, x in zip(constraint, signal, value):
        expected[c] = (expected[c] + x * v[s]) % R
    out = matvec(rows, np.array(constraint, np.uint32), np.array(signal, np.uint32),
                 ints_to_limbs(value), ints_to_limbs(v))
    assert limbs_to_ints(out) == expected
    with pytest.raises(ValueError):
        matvec(rows - 1, np.array([rows - 1], np.uint32), np.array([0], np.uint32),
               ints_to_limbs([1]), ints_to_limbs(v))


def test_concurrent_calls_from_threads(backend, rng):
    """A prover may run its independent MSMs and NTTs from several threads."""
    points, scalars = _msm_case(G1, rng, 300)
    bases, scal = g1_to_array(points), ints_to_limbs(scalars)
    values = ints_to_limbs([rng.randrange(R) for _ in range(256)])
    expected_msm = backend.msm_g1(bases, scal)
    expected_ntt = backend.ntt(values)
    with ThreadPoolExecutor(4) as pool:
        msms = [pool.submit(backend.msm_g1, bases, scal) for _ in range(4)]
        ntts = [pool.submit(backend.ntt, values) for _ in range(4)]
        assert all(np.array_equal(f.result(), expected_msm) for f in msms)
        assert all(np.array_equal(f.result(), expected_ntt) for f in ntts)


def test_cpu_warm_up_compiles_every_family():
    from gpu_msm.cpu import warmup
    assert warmup._G1_POINT == G1.mul(G1.generator, 2)
    assert warmup._G2_POINT == G2.mul(G2.generator, 2)
    default = {"msm_g1", "msm_g2", "ntt", "vector_ops", "conversions", "pairing"}
    assert set(warmup.warm_up()) == default
    assert set(warmup.warm_up(everything=True)) == default | {"msm_xyzz", "fixed_base"}
