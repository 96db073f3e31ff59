"""The CPU engine's two bucket strategies, XYZZ and batch-affine ("affine"), against each other and
the pure-Python reference on fresh random inputs (the tuner picks between them, so both
must be right at every window it may choose)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gpu_msm.cpu import msm as cpu_msm
from prover.bn254 import FR_MODULUS as R
from prover.limbs import ints_to_limbs
from prover.msm import msm_naive, msm_pippenger
from test_gpu_msm_cpu import CURVES, _msm_case, _walk

STRATEGIES = sorted(cpu_msm.STRATEGIES)


@pytest.fixture
def rng(test_seed, request) -> random.Random:
    return random.Random(f"{test_seed}/{request.node.name}")


def _both(name, points, scalars, c=None):
    """{strategy: result point} for the same input."""
    _, to_array, from_array, fn = CURVES[name]
    msm = getattr(cpu_msm, fn)
    out = {}
    for s in STRATEGIES:
        arr = msm(to_array(points), ints_to_limbs(scalars), c=c, strategy=s)
        assert cpu_msm.last_config["strategy"] == s
        out[s] = from_array(arr[None])[0]
    return out


@pytest.mark.parametrize("name,n", [("g1", 1), ("g1", 2), ("g1", 31), ("g1", 1000),
                                    ("g2", 1), ("g2", 31), ("g2", 600)])
def test_strategies_match_reference(rng, name, n):
    curve = CURVES[name][0]
    points, scalars = _msm_case(curve, rng, n)
    expected = (msm_naive if n <= 31 else msm_pippenger)(curve, points, scalars)
    got = _both(name, points, scalars)
    assert got == {s: expected for s in STRATEGIES}


@pytest.mark.parametrize("name", ["g1", "g2"])
def test_strategies_at_every_window(rng, name):
    """Small windows put many points in a bucket; large ones leave most buckets empty."""
    curve = CURVES[name][0]
    points, scalars = _msm_case(curve, rng, 40)
    expected = msm_naive(curve, points, scalars)
    for c in (2, 3, 7, 11, 16):
        assert _both(name, points, scalars, c) == {s: expected for s in STRATEGIES}, f"window {c}"


@pytest.mark.parametrize("name", ["g1", "g2"])
def test_strategies_skewed_and_cancelling(rng, name):
    """One scalar for all: each window's points in one bucket (XYZZ: a chain of mixed
    additions that meets doublings and P + (−P) along the way)."""
    curve = CURVES[name][0]
    points = _walk(curve, rng, 150)
    k = rng.randrange(R)
    assert _both(name, points, [k] * 150) == {s: msm_pippenger(curve, points, [k] * 150)
                                              for s in STRATEGIES}
    same = [points[0]] * 64
    assert _both(name, same, [k] * 64, 5) == {s: curve.mul(points[0], 64 * k) for s in STRATEGIES}
    pair = [points[1], curve.neg(points[1])] * 20
    assert _both(name, pair, [k] * 40) == {s: None for s in STRATEGIES}


def test_unknown_strategy_and_window_rejected(rng):
    points, scalars = _msm_case(CURVES["g1"][0], rng, 4)
    bases, scal = CURVES["g1"][1](points), ints_to_limbs(scalars)
    with pytest.raises(ValueError, match="strategy"):
        cpu_msm.msm_g1(bases, scal, strategy="jacobian")
    with pytest.raises(ValueError, match="window"):
        cpu_msm.msm_g1(bases, scal, c=1)
    assert np.array_equal(cpu_msm.msm_g1(bases, scal, c=4, strategy="xyzz"),
                          cpu_msm.msm_g1(bases, scal, c=4, strategy="affine"))
