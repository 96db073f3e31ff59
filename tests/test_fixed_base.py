"""The CPU backend's batch fixed-base multiplication against the pure-Python reference.

Fresh random inputs each run (the session seed, see conftest; COPROVE_TEST_SEED repeats
one), with the edge scalars 0, 1 and r − 1 planted at random positions.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import gpu_msm
from gpu_msm.cpu import fixed_base_g1, fixed_base_g2
from prover.bn254 import (FR_MODULUS, G1, G2, g1_from_array, g1_to_array, g2_from_array,
                          g2_to_array)
from prover.limbs import ints_to_limbs

R = FR_MODULUS

CURVES = {
    "g1": (G1, g1_to_array, g1_from_array, fixed_base_g1),
    "g2": (G2, g2_to_array, g2_from_array, fixed_base_g2),
}


@pytest.fixture
def rng(test_seed, request) -> random.Random:
    return random.Random(f"{test_seed}/{request.node.name}")


def _scalars(rng, n):
    scalars = [rng.randrange(R) for _ in range(n)]
    for k, slot in zip((0, 1, R - 1), rng.sample(range(n), min(n, 3))):
        scalars[slot] = k
    return scalars


@pytest.mark.parametrize("group", ["g1", "g2"])
@pytest.mark.parametrize("n", [1, 2, 31, 300])
def test_matches_reference(group, n, rng):
    curve, to_array, from_array, fixed_base = CURVES[group]
    point = curve.mul(curve.generator, rng.randrange(1, R))
    scalars = _scalars(rng, n)
    out = fixed_base(to_array([point])[0], ints_to_limbs(scalars))
    assert out.shape == (n,) + to_array([point]).shape[1:]
    assert from_array(out) == [curve.mul(point, k) for k in scalars]


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_edge_scalars(group, rng):
    """0 -> infinity as (0, 0), 1 -> the point, r − 1 -> its negative, on the generator too."""
    curve, to_array, from_array, fixed_base = CURVES[group]
    for point in (curve.generator, curve.mul(curve.generator, rng.randrange(2, R))):
        out = fixed_base(to_array([point])[0], ints_to_limbs([0, 1, R - 1, 0]))
        assert not out[0].any() and not out[3].any()
        assert from_array(out) == [None, point, curve.neg(point), None]


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_chunks_and_dispatch(group, rng):
    """More outputs than one chunk (each chunk shares inversions), through the public
    wrapper; checked against a walk k·P, (k+1)·P, … so the reference stays cheap."""
    curve, to_array, from_array, _ = CURVES[group]
    from gpu_msm.cpu.fixed_base import CHUNK
    n = CHUNK + 37
    point = curve.mul(curve.generator, rng.randrange(1, R))
    k0 = rng.randrange(R)
    fn = gpu_msm.fixed_base_g1 if group == "g1" else gpu_msm.fixed_base_g2
    out = fn(to_array([point])[0], ints_to_limbs([(k0 + i) % R for i in range(n)]), backend="cpu")
    expected, p = [], curve.mul(point, k0)
    for _ in range(n):
        expected.append(p)
        p = curve.add(p, point)
    assert from_array(out) == expected


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_empty_infinity_and_bad_input(group):
    curve, to_array, _, fixed_base = CURVES[group]
    g = to_array([curve.generator])[0]
    assert fixed_base(g, np.zeros((0, 4), np.uint64)).shape == (0,) + g.shape
    assert not fixed_base(np.zeros_like(g), ints_to_limbs([5, 7])).any()
    with pytest.raises(ValueError, match="scalars"):
        fixed_base(g, ints_to_limbs([R]))
    with pytest.raises(ValueError, match="shape"):
        fixed_base(g[..., :3], ints_to_limbs([1]))
