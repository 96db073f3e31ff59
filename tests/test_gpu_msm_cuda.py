"""The CUDA backend against the pure-Python reference (prover.msm, prover.ntt).

GPU tests are marked ``gpu`` and skip where CuPy sees no device.  Every test draws fresh
random inputs from the session seed (``test_seed``; repeat with $COPROVE_TEST_SEED).
The first tests need no GPU: they check the kernel sources and constants.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import gpu_msm
from gpu_msm import constants
from gpu_msm.cuda import _build
from prover import bn254, msm as pmsm, ntt as pntt

R = constants.FR_MODULUS
Q = constants.FQ_MODULUS

needs_cuda = pytest.mark.skipif("cuda" not in gpu_msm.available_backends(),
                                reason="no CUDA device visible to CuPy")


# ---------------------------------------------------------------- no GPU needed

def _header_array(text: str, name: str) -> int:
    m = re.search(r"\b%s\[8\]\s*=\s*\{([^}]*)\}" % name, text)
    limbs = [int(x, 16) for x in m.group(1).split(",")]
    return sum(v << (32 * i) for i, v in enumerate(limbs))


def test_constants_header_matches_python():
    text = (_build.KERNEL_DIR / "bn254_constants.cuh").read_text()
    for p, mod in (("FQ", Q), ("FR", R)):
        assert _header_array(text, f"{p}_MOD") == mod
        assert _header_array(text, f"{p}_R2") == pow(2, 512, mod)
        assert _header_array(text, f"{p}_ONE") == pow(2, 256, mod)
        assert _header_array(text, f"{p}_MOD_M2") == mod - 2
        inv = int(re.search(r"#define %s_INV32 (0x[0-9a-f]+)u" % p, text).group(1), 16)
        assert inv == (-pow(mod, -1, 1 << 32)) % (1 << 32)


@pytest.mark.parametrize("name", ["msm.cu", "msm_check.cu", "ntt.cu"])
def test_sources_expand(name):
    src = _build.source(name, {"CURVE_G2": 1, "ACC_CHUNK": 64})
    assert "#include" not in src
    assert src.startswith("#define ACC_CHUNK 64\n#define CURVE_G2 1\n")
    assert src.count("__constant__ unsigned int FQ_MOD[8]") == 1


# ---------------------------------------------------------------- inputs

def _progression(curve, rng, n):
    """n affine points (a + i·d)·G by successive additions: cheap random-looking bases."""
    a = int(rng.integers(1, 2**62)) * int(rng.integers(1, 2**62)) % R
    d = int(rng.integers(1, 2**62)) * int(rng.integers(1, 2**62)) % R
    p, step = curve.mul(curve.generator, a), curve.mul(curve.generator, d)
    out = []
    for _ in range(n):
        out.append(p)
        p = curve.add(p, step)
    return out


def _scalars(rng, n, kind):
    if kind == "zero":
        return [0] * n
    if kind == "r-1":
        return [R - 1] * n
    vals = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n)]
    if kind == "mixed":  # zeros, ones, small values, r-1, a repeated value
        for i in range(n):
            u = rng.random()
            if u < 0.25:
                vals[i] = 0
            elif u < 0.4:
                vals[i] = 1
            elif u < 0.5:
                vals[i] = int(rng.integers(2, 40))
            elif u < 0.55:
                vals[i] = R - 1
            elif u < 0.6:
                vals[i] = vals[0]
    return vals


def _case(curve, rng, n, kind):
    pts = _progression(curve, rng, n)
    if n >= 4:
        for i in rng.choice(n, size=max(1, n // 8), replace=False):  # repeated bases
            pts[i] = pts[int(rng.integers(0, n))]
        for i in rng.choice(n, size=max(1, n // 16), replace=False):  # infinity bases
            pts[i] = None
    return pts, _scalars(rng, n, kind)


def _limbs(values):
    buf = b"".join(int(v).to_bytes(32, "little") for v in values)
    return np.frombuffer(buf, dtype="<u8").astype(np.uint64).reshape(-1, 4)


def _ints(arr):
    raw = np.ascontiguousarray(arr, dtype="<u8").tobytes()
    return [int.from_bytes(raw[i:i + 32], "little") for i in range(0, len(raw), 32)]


# ---------------------------------------------------------------- GPU

SIZES = [1, 2, 31, 1000, (1 << 12) + 3]
KINDS = ["random", "mixed", "zero", "r-1"]


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind", KINDS)
def test_msm_g1_matches_reference(test_seed, n, kind):
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, n, KINDS.index(kind), 1])
    pts, scalars = _case(bn254.G1, rng, n, kind)
    expect = pmsm.msm_pippenger(bn254.G1, pts, scalars)
    got = gc.msm_g1(bn254.g1_to_array(pts), _limbs(scalars))
    assert np.array_equal(got, bn254.g1_to_array([expect])[0])


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind", ["random", "mixed"])
def test_msm_g2_matches_reference(test_seed, n, kind):
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, n, KINDS.index(kind), 2])
    pts, scalars = _case(bn254.G2, rng, n, kind)
    expect = pmsm.msm_pippenger(bn254.G2, pts, scalars)
    got = gc.msm_g2(bn254.g2_to_array(pts), _limbs(scalars))
    assert np.array_equal(got, bn254.g2_to_array([expect])[0])


@pytest.mark.gpu
@needs_cuda
def test_msm_g2_edge_scalars(test_seed):
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, 3])
    pts, _ = _case(bn254.G2, rng, 33, "random")
    for kind in ("zero", "r-1"):
        scalars = _scalars(rng, 33, kind)
        expect = pmsm.msm_pippenger(bn254.G2, pts, scalars)
        assert np.array_equal(gc.msm_g2(bn254.g2_to_array(pts), _limbs(scalars)),
                              bn254.g2_to_array([expect])[0])


@pytest.mark.gpu
@needs_cuda
def test_resident_bases(test_seed):
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, 4])
    pts, scalars = _case(bn254.G1, rng, 300, "random")
    key = ("test_resident_bases", test_seed)
    handle = gc.resident_bases(key, bn254.g1_to_array(pts))
    try:
        assert gc.resident_bases(key) is handle
        for m in (300, 17):  # the whole set and a prefix
            expect = pmsm.msm_pippenger(bn254.G1, pts[:m], scalars[:m])
            assert np.array_equal(gc.msm_g1(handle, _limbs(scalars[:m])), bn254.g1_to_array([expect])[0])
        with pytest.raises(ValueError):
            gc.msm_g2(handle, _limbs(scalars))
    finally:
        gc.release_bases(key)
    with pytest.raises(KeyError):
        gc.resident_bases(key)


@pytest.mark.gpu
@needs_cuda
def test_backend_dispatch():
    backend = gpu_msm.get_backend("cuda")
    for name in ("msm_g1", "msm_g2", "ntt", "intt", "odd_coset"):
        assert callable(getattr(backend, name))


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("n", [1, 2, 4, 32, 1024, 4096])
def test_ntt_matches_reference(test_seed, n):
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, n, 5])
    vals = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n)]
    if n >= 4:
        vals[0], vals[1] = 0, R - 1
    arr = _limbs(vals)
    assert _ints(gc.ntt(arr)) == pntt.ntt(vals)
    assert _ints(gc.intt(arr)) == pntt.intt(vals)
    assert _ints(gc.odd_coset(arr)) == pntt.odd_coset(vals)


def test_window_combination_on_host():
    """finish(): the host's Horner over window sums (XYZZ, Montgomery words); no GPU."""
    from gpu_msm.cuda import msm as cmsm
    rng = np.random.default_rng(11)
    for curve, cv in ((bn254.G1, cmsm.G1), (bn254.G2, cmsm.G2)):
        c = 16
        nwin = -(-255 // c)
        logs = [int(rng.integers(0, 2**62)) if i % 5 else 0 for i in range(nwin)]
        rows = []
        for k in logs:
            p = curve.mul(curve.generator, k) if k else None
            if p is None:
                vals = [0] * (8 if cv.g2 else 4)
            elif cv.g2:  # ZZ = ZZZ = 1
                vals = [p[0][0], p[0][1], p[1][0], p[1][1], 1, 0, 1, 0]
            else:
                vals = [p[0], p[1], 1, 1]
            mont = [v * (1 << 256) % Q for v in vals]
            rows.append(np.frombuffer(b"".join(v.to_bytes(32, "little") for v in mont), dtype="<u4"))
        got = cmsm.finish(cv, np.stack(rows).astype(np.uint32), c)
        assert got == curve.mul(curve.generator, sum(k << (w * c) for w, k in enumerate(logs)) % R)
