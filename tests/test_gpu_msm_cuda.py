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


@pytest.mark.parametrize("name", ["msm.cu", "msm_check.cu", "ntt.cu", "vec.cu", "fixed_base.cu", "chacha.cu"])
def test_sources_expand(name):
    src = _build.source(name, {"CURVE_G2": 1, "ACC_CHUNK": 64})
    assert "#include" not in src
    assert src.startswith("#define ACC_CHUNK 64\n#define CURVE_G2 1\n")
    # the field constants once in every file of field arithmetic (chacha.cu has none)
    assert src.count("__constant__ unsigned int FQ_MOD[8]") == (name != "chacha.cu")


def test_fq2_lazy_multiply_on_host(tmp_path):
    """kernels/fq2_lazy.cuh is plain C on u32/u64: compile it for the host and compare the
    lazily reduced Fq2 product with Python ints (edge limbs and random values); no GPU."""
    import shutil
    import subprocess
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    consts = (_build.KERNEL_DIR / "bn254_constants.cuh").read_text()
    mod = re.search(r"FQ_MOD\[8\]\s*=\s*\{([^}]*)\}", consts).group(1)
    inv = re.search(r"#define FQ_INV32 (0x[0-9a-f]+u)", consts).group(1)
    src = tmp_path / "fq2.cpp"
    src.write_text(f"""#include <cstdio>
#include <cstdint>
typedef uint32_t u32; typedef uint64_t u64;
static const u32 FQ_MOD[8] = {{{mod}}};
#define FQ_INV32 {inv}
#define FQ2L_FN static inline
#include "{_build.KERNEL_DIR / 'fq2_lazy.cuh'}"
int main() {{ u32 v[4][8], r0[8], r1[8];
  for (;;) {{ for (int k = 0; k < 4; k++) for (int j = 0; j < 8; j++) if (scanf("%x", &v[k][j]) != 1) return 0;
    fq2l_mul(v[0], v[1], v[2], v[3], r0, r1);
    for (int j = 0; j < 8; j++) printf("%x ", r0[j]);
    for (int j = 0; j < 8; j++) printf("%x ", r1[j]);
    printf("\\n"); }} }}
""")
    exe = tmp_path / "fq2"
    subprocess.run([cxx, "-O1", "-o", str(exe), str(src)], check=True, capture_output=True)
    rng = np.random.default_rng(17)
    mont = 1 << 256
    edge = [0, 1, Q - 1, Q - 2, mont % Q]
    cases = [(a, b, c, d) for a in edge for b in edge for c in edge for d in edge]
    cases += [tuple(int.from_bytes(rng.bytes(32), "little") % Q for _ in range(4)) for _ in range(3000)]
    words = lambda x: " ".join("%x" % ((x >> (32 * i)) & 0xFFFFFFFF) for i in range(8))  # noqa: E731
    out = subprocess.run([str(exe)], input="\n".join(" ".join(words(x) for x in c) for c in cases) + "\n",
                         capture_output=True, text=True, check=True).stdout.split("\n")
    rinv = pow(mont, -1, Q)
    for (a0, a1, b0, b1), line in zip(cases, out):
        v = [int(x, 16) for x in line.split()]
        r0 = sum(x << (32 * i) for i, x in enumerate(v[:8]))
        r1 = sum(x << (32 * i) for i, x in enumerate(v[8:]))
        assert (r0, r1) == ((a0 * b0 - a1 * b1) * rinv % Q, (a0 * b1 + a1 * b0) * rinv % Q)


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


AFFINE = ["affine-1", "affine-2", "affine-3"]


def _cuda_strategy_msm(curve_name, pts, scalars, strategy, window=None):
    from gpu_msm.cuda import msm as cm
    curve = cm.G1 if curve_name == "G1" else cm.G2
    to_array = bn254.g1_to_array if curve_name == "G1" else bn254.g2_to_array
    got = cm.msm_ints(curve, cm.upload_bases(to_array(pts)), _limbs(scalars), window, strategy)
    return cm.affine_to_array(curve, got)


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind", KINDS)
def test_msm_g1_batch_affine_matches_reference(test_seed, n, kind):
    """Every batch-affine round count: chords, tangents (repeated bases), P + (-P) and
    infinity inside the rounds, against prover.msm."""
    rng = np.random.default_rng([test_seed, n, KINDS.index(kind), 11])
    pts, scalars = _case(bn254.G1, rng, n, kind)
    expect = bn254.g1_to_array([pmsm.msm_pippenger(bn254.G1, pts, scalars)])[0]
    for strategy in AFFINE:
        assert np.array_equal(_cuda_strategy_msm("G1", pts, scalars, strategy), expect), strategy


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("n", [31, 1000, (1 << 12) + 3])
@pytest.mark.parametrize("kind", ["random", "mixed"])
def test_msm_g2_batch_affine_matches_reference(test_seed, n, kind):
    rng = np.random.default_rng([test_seed, n, KINDS.index(kind), 12])
    pts, scalars = _case(bn254.G2, rng, n, kind)
    expect = bn254.g2_to_array([pmsm.msm_pippenger(bn254.G2, pts, scalars)])[0]
    for strategy in AFFINE:
        assert np.array_equal(_cuda_strategy_msm("G2", pts, scalars, strategy), expect), strategy


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("window", [2, 5, 9])
def test_batch_affine_long_buckets_and_one_base(test_seed, window):
    """Small windows give buckets of hundreds of points (several rounds deep); one base
    repeated everywhere makes every pair a tangent or a cancellation."""
    rng = np.random.default_rng([test_seed, window, 13])
    pts, scalars = _case(bn254.G1, rng, 2000, "mixed")
    one = [next(p for p in pts if p is not None)] * 500
    for bases, sc in ((pts, scalars), (one, scalars[:500])):
        expect = bn254.g1_to_array([pmsm.msm_pippenger(bn254.G1, bases, sc)])[0]
        for strategy in ["xyzz", *AFFINE]:
            assert np.array_equal(_cuda_strategy_msm("G1", bases, sc, strategy, window), expect), strategy


@pytest.mark.gpu
@needs_cuda
def test_uploaded_bases_serve_many_msms(test_seed):
    """One upload, many MSMs: the whole set and a prefix (the C section's scalars are the
    witness tail), and the handle refuses the other group's MSM."""
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, 4])
    pts, scalars = _case(bn254.G1, rng, 300, "random")
    handle = gc.upload_bases(bn254.g1_to_array(pts))
    for m in (300, 17):
        expect = pmsm.msm_pippenger(bn254.G1, pts[:m], scalars[:m])
        assert np.array_equal(gc.msm_g1(handle, _limbs(scalars[:m])), bn254.g1_to_array([expect])[0])
    with pytest.raises(ValueError):
        gc.msm_g2(handle, _limbs(scalars))


@pytest.mark.gpu
@needs_cuda
def test_multiply_variants(test_seed):
    """mul_ptx / mul_wide / sqr_wide (FIELD_MUL chooses among them) against Python ints."""
    import cupy as cp
    rng = np.random.default_rng([test_seed, 6])
    mont = 1 << 256
    n = 1024
    edge = [0, 1, Q - 1, Q - 2, mont % Q]
    a = edge + [int.from_bytes(rng.bytes(32), "little") % Q for _ in range(n - len(edge))]
    b = edge[::-1] + [int.from_bytes(rng.bytes(32), "little") % Q for _ in range(n - len(edge))]
    to_words = lambda vals: cp.asarray(np.frombuffer(b"".join((v * mont % Q).to_bytes(32, "little") for v in vals),  # noqa: E731
                                                     dtype="<u4").astype(np.uint32).reshape(-1, 8))
    out = cp.full((5 * n, 8), 0xFFFFFFFF, cp.uint32)
    mod = _build.module("msm_check.cu", {"CURVE_G2": 0})
    mod.get_function("test_mul_variants")((n // 128,), (128,), (to_words(a), to_words(b), out, np.uint32(n)))
    raw = out.get().astype("<u4").tobytes()
    got = [int.from_bytes(raw[i:i + 32], "little") for i in range(0, len(raw), 32)]
    for i, (x, y) in enumerate(zip(a, b)):  # Montgomery words, fully reduced
        xy, xx = x * y % Q * mont % Q, x * x % Q * mont % Q
        assert got[5 * i:5 * i + 5] == [xy, xy, xx, xx, xy]


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


@pytest.mark.gpu
@needs_cuda
def test_vectors_stay_on_the_device(test_seed):
    """CuPy in, CuPy out, same values as the numpy path and the reference: the prover's
    resident vectors (vector ops, sparse product, odd coset, MSM scalars)."""
    import cupy as cp
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, 7])
    n, m = 1024, 700
    a = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n)]
    b = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n)]
    a[0], b[0] = R - 1, R - 1
    da, db = gc.to_device(_limbs(a)), gc.to_device(_limbs(b))
    for name, want in (("add_vec", [(x + y) % R for x, y in zip(a, b)]),
                       ("sub_vec", [(x - y) % R for x, y in zip(a, b)]),
                       ("mul_vec", [x * y % R for x, y in zip(a, b)])):
        out = getattr(gc, name)(da, db)
        assert isinstance(out, cp.ndarray) and _ints(gc.to_host(out)) == want, name
    k = int.from_bytes(rng.bytes(40), "little")
    assert _ints(gc.to_host(gc.mul_scalar(da, k))) == [x * k % R for x in a]
    assert _ints(gc.to_host(gc.neg_vec(da))) == [-x % R for x in a]
    coset = gc.odd_coset(da)
    assert isinstance(coset, cp.ndarray) and _ints(gc.to_host(coset)) == pntt.odd_coset(a)
    # sparse product: rows with no entry, one row with many, repeated (row, column) pairs
    entries = [(int(rng.integers(0, n - 1)), int(rng.integers(0, m))) for _ in range(3000)]
    entries += [(5, j) for j in range(200)] + [(7, 3)] * 4
    vals = [int.from_bytes(rng.bytes(32), "little") % R for _ in entries]
    w = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(m)]
    mat = gc.SparseMatrix(n, np.array([e[0] for e in entries], np.uint32),
                          np.array([e[1] for e in entries], np.uint32), _limbs(vals))
    want = [0] * n
    for (row, col), v in zip(entries, vals):
        want[row] = (want[row] + v * w[col]) % R
    out = mat.matvec(gc.to_device(_limbs(w)))
    assert isinstance(out, cp.ndarray) and _ints(gc.to_host(out)) == want
    assert _ints(mat.matvec(_limbs(w))) == want
    with pytest.raises(ValueError):
        mat.matvec(_limbs(w[:10]))
    pts, scalars = _case(bn254.G1, rng, 300, "random")
    expect = pmsm.msm_pippenger(bn254.G1, pts, scalars)
    assert np.array_equal(gc.msm_g1(bn254.g1_to_array(pts), gc.to_device(_limbs(scalars))),
                          bn254.g1_to_array([expect])[0])


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("group", ["g1", "g2"])
def test_fixed_base_matches_reference(test_seed, group):
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, 8, group == "g2"])
    curve = bn254.G1 if group == "g1" else bn254.G2
    to_array = bn254.g1_to_array if group == "g1" else bn254.g2_to_array
    point = curve.mul(curve.generator, int.from_bytes(rng.bytes(32), "little") % R)
    ks = [0, 1, R - 1] + [int.from_bytes(rng.bytes(32), "little") % R for _ in range(297)]
    got = getattr(gc, f"fixed_base_{group}")(to_array([point])[0], _limbs(ks))
    assert np.array_equal(got, to_array([curve.mul(point, k) for k in ks]))


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("n", [1, 2, 7, 1000, 100_003])
def test_device_seed_expansion_matches_host(test_seed, n):
    """A party's shares expanded on the device equal the client's host expansion."""
    from cme.prg import expand
    seed = np.random.default_rng([test_seed, n, 9]).bytes(32)
    for label in ("w", "x1", "z2"):
        got = expand(seed, label, n, device=True)
        assert np.array_equal(got.get(), expand(seed, label, n)), label


@pytest.mark.gpu
@needs_cuda
def test_msm_start_from_threads_with_device_work_between(test_seed):
    """Deferred MSMs (own streams) started from several threads, with allocations and
    kernels on the default stream while they run, give the synchronous answers."""
    import threading
    import cupy as cp
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, 10])
    cases = []
    for t in range(4):
        curve, to_array = (bn254.G1, bn254.g1_to_array) if t % 2 == 0 else (bn254.G2, bn254.g2_to_array)
        pts, scalars = _case(curve, rng, 3000, "random")
        cases.append(("g1" if t % 2 == 0 else "g2", to_array(pts), _limbs(scalars)))
    want = [getattr(gc, f"msm_{g}")(b, s) for g, b, s in cases]
    got = [None] * len(cases)
    errors = []

    def party(i):
        try:
            g, b, s = cases[i]
            fin = gc.msm_start(g, b, gc.to_device(s))  # bases uploaded inside: a local handle
            mine = np.random.default_rng([test_seed, 11, i])  # a Generator is not thread-safe
            for _ in range(20):  # churn the default stream's pool while the MSM runs
                v = gc.to_device(_limbs([int(x) for x in mine.integers(0, 2**62, 4096)]))
                gc.mul_vec(v, v)
            got[i] = fin()
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=party, args=(i,)) for i in range(len(cases))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    for i, (w, g) in enumerate(zip(want, got)):
        assert np.array_equal(w, g), f"case {i}"
    cp.cuda.Device().synchronize()


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("group", ["g1", "g2"])
def test_msm_in_chunks_matches_reference(test_seed, group):
    """Host bases beyond what the device holds go through in chunks (forced small here),
    one chunk with only zero scalars."""
    from gpu_msm.cuda import msm as cmsm
    rng = np.random.default_rng([test_seed, 12, group == "g2"])
    curve, to_array = (bn254.G1, bn254.g1_to_array) if group == "g1" else (bn254.G2, bn254.g2_to_array)
    pts, scalars = _case(curve, rng, 2500, "random")
    scalars[1000:2000] = [0] * 1000
    expect = pmsm.msm_pippenger(curve, pts, scalars)
    got = cmsm.msm(cmsm.G1 if group == "g1" else cmsm.G2, to_array(pts), _limbs(scalars), max_points=1000)
    assert np.array_equal(got, to_array([expect])[0])
    assert cmsm.chunk_points(cmsm.G1, 80 << 30) > 1 << 27  # an H100's free memory: 2^24 fits whole


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


def test_horner_adds_several_slots_window_sums(test_seed):
    """horner(): the window sums of several device slots (affine, None = infinity, lists
    of different lengths) added in one pass equal the sum of each slot's own Horner; no GPU."""
    from gpu_msm.cuda import msm as cmsm
    rng = np.random.default_rng([test_seed, 12])
    for curve, cv in ((bn254.G1, cmsm.G1), (bn254.G2, cmsm.G2)):
        c = 13
        slots = [[int(rng.integers(0, 2**62)) if rng.random() < 0.8 else 0
                  for _ in range(int(rng.integers(1, 21)))] for _ in range(3)]
        sums = [[curve.mul(curve.generator, k) if k else None for k in logs] for logs in slots]
        want = curve.mul(curve.generator,
                         sum(k << (w * c) for logs in slots for w, k in enumerate(logs)) % R)
        assert cmsm.horner(cv, sums, c) == want
        assert cmsm.horner(cv, [], c) is None


@pytest.mark.gpu
@needs_cuda
def test_table_strategy_falls_back_when_rounds_do_not_fit(test_seed, monkeypatch):
    """The table's affine rounds give way to XYZZ where their arrays would not fit; an
    explicit strategy is the caller's to keep."""
    from gpu_msm.cuda import msm as cm
    assert cm._affine_fits(cm.G1, 1, 1000) and not cm._affine_fits(cm.G2, 3, 1 << 40)
    monkeypatch.setitem(cm.STRATEGY_TABLE, "G1", {k: "affine-3" for k in range(0, 27)})
    monkeypatch.setattr(cm, "_affine_fits", lambda curve, rounds, n: False)
    rng = np.random.default_rng([test_seed, 14])
    pts, scalars = _case(bn254.G1, rng, 500, "mixed")
    marks: list = []
    cm.msm_device(cm.G1, cm.upload_bases(bn254.g1_to_array(pts)), _limbs(scalars), marks=marks)
    assert "affine" not in cm.stage_times(marks)
    marks = []
    cm.msm_device(cm.G1, cm.upload_bases(bn254.g1_to_array(pts)), _limbs(scalars), marks=marks,
                  strategy="affine-2")
    assert "affine" in cm.stage_times(marks)
