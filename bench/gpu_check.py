"""Build, check and time the CUDA engine in one go (one call on a lent GPU).

    python bench/gpu_check.py                       # on a GPU machine: all checks + a short timing table
    python bench/gpu_check.py --quick               # small sizes only
    python bench/gpu_check.py --prebuild --nvrtc /path/libnvrtc.so.13 [--arch 90]
                                                    # no GPU needed: compile every module to the
                                                    # kernel cache ($GPU_MSM_KERNEL_CACHE) and print
                                                    # ptxas's resource report

Every check draws fresh random inputs (seed printed; --seed repeats one).  References are
the pure-Python ones in ``prover`` (bn254, msm, ntt: numpy and ints only, no py_ecc), or, at
sizes where Python is too slow, identities with bases of known discrete log: bases
b_i = (a + i·d)·G generated on the device, so Σ s_i·b_i = (Σ s_i·(a + i·d))·G, one
scalar multiplication on the host.  Scratch buffers are poisoned (GPU_MSM_POISON=1), so
an unwritten bucket shows up as a wrong answer.  Exit status 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gpu_msm.constants import FQ_MODULUS as Q, FR_MODULUS as R  # noqa: E402
from gpu_msm.cuda import _build  # noqa: E402

MODULES = [("ntt.cu", {}), ("vec.cu", {}), ("chacha.cu", {}), ("msm.cu", {"CURVE_G2": 0}), ("msm.cu", {"CURVE_G2": 1}),
           ("msm_check.cu", {"CURVE_G2": 0}), ("msm_check.cu", {"CURVE_G2": 1}),
           ("fixed_base.cu", {"CURVE_G2": 0}), ("fixed_base.cu", {"CURVE_G2": 1})]
MONT = 1 << 256
FAILURES: list[str] = []


def log(*a):
    print(*a, flush=True)


def check(ok: bool, what: str) -> bool:
    if not ok:
        FAILURES.append(what)
        log(f"  FAIL {what}")
    return ok


# ---------------------------------------------------------------- prebuild (no GPU)

def module_list(variants: str = ""):
    """(source, defines) of every module; msm.cu also in each variant ('K=V,K=V;K=V@G1')."""
    from gpu_msm.cuda import msm as cmsm
    out = []
    for name, d in MODULES:
        if name == "msm.cu":
            d = cmsm.defines(cmsm.G2 if d["CURVE_G2"] else cmsm.G1)
        out.append((name, dict(d)))
    for v in (x for x in variants.split(";") if x):
        spec, _, curves = v.partition("@")
        for cn in (curves.split("+") if curves else ["G1", "G2"]):
            d = {**cmsm.defines(cmsm.G2 if cn == "G2" else cmsm.G1),
                 **{k: int(x) for k, x in (kv.split("=") for kv in spec.split(","))}}
            out.append(("msm.cu", d))
    return out


def prebuild(libnvrtc: str, arch: str, jobs: int, variants: str = "") -> None:
    from concurrent.futures import ProcessPoolExecutor
    todo = []
    for name, d in module_list(variants):
        src = _build.source(name, d)
        path = _build.cubin_path(name, src, arch)
        if path.exists():
            log(f"cached  {path.name}")
        else:
            todo.append((name, d, src, path))
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        futs = [(name, d, path, ex.submit(_prebuild_one, src, arch, libnvrtc)) for name, d, src, path in todo]
        for name, d, path, f in futs:
            cubin, report, secs = f.result()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(cubin)
            log(f"built   {path.name}  {name} {d}  {secs:.0f} s")
            for line in report.splitlines():
                if "Used" in line or "stack frame" in line and "0 bytes stack" not in line:
                    log("   ", line.strip())


def _prebuild_one(src, arch, libnvrtc):
    t = time.time()
    cubin, report = _build.compile_ctypes(src, arch, libnvrtc, verbose=True)
    lines = report.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if "Compiling entry function" in line:
            keep.append(line.split("'")[1] if "'" in line else line)
        elif "Used" in line:
            keep.append("      " + line.split(":", 1)[1].strip())
    return cubin, "\n".join(keep).replace("\n      ", ": "), time.time() - t


# ---------------------------------------------------------------- helpers

def ints_to_words(values, mont_mod: int | None = None) -> np.ndarray:
    """ints -> (k, 8) uint32; times R mod mont_mod first when given."""
    vals = [v * MONT % mont_mod if mont_mod else v for v in values]
    buf = b"".join(int(v).to_bytes(32, "little") for v in vals)
    return np.frombuffer(buf, dtype="<u4").astype(np.uint32).reshape(-1, 8)


def words_to_ints(words, mont_mod: int | None = None) -> list[int]:
    w = np.ascontiguousarray(np.asarray(words), dtype="<u4").reshape(-1, 8)
    raw = w.tobytes()
    vals = [int.from_bytes(raw[i:i + 32], "little") for i in range(0, len(raw), 32)]
    if mont_mod:
        rinv = pow(MONT, -1, mont_mod)
        vals = [v * rinv % mont_mod for v in vals]
    return vals


def rand_scalars(rng, n: int) -> np.ndarray:
    """Uniform-ish canonical scalars < r as (n, 4) uint64."""
    s = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    s[:, 3] = rng.integers(0, (R >> 192), size=n, dtype=np.uint64)  # top limb below r's
    return s


def scalar_ints(s: np.ndarray) -> list[int]:
    raw = np.ascontiguousarray(s, dtype="<u8").tobytes()
    return [int.from_bytes(raw[i:i + 32], "little") for i in range(0, len(raw), 32)]


def set_scalar(s: np.ndarray, i, value: int) -> None:
    s[i] = np.frombuffer(value.to_bytes(32, "little"), dtype="<u8")


def special_scalars(rng, n: int, kind: str) -> np.ndarray:
    s = rand_scalars(rng, n)
    if kind == "random":
        return s
    if kind == "zero":
        return np.zeros_like(s)
    if kind == "r-1":
        s[:] = np.frombuffer((R - 1).to_bytes(32, "little"), dtype="<u8")
        return s
    if kind == "mixed":  # zeros, ones, small, r-1, one big repeated value
        u = rng.random(n)
        s[u < 0.3] = 0
        s[(u >= 0.3) & (u < 0.5)] = np.array([1, 0, 0, 0], np.uint64)
        small = (u >= 0.5) & (u < 0.6)
        s[small] = 0
        s[small, 0] = rng.integers(2, 64, size=int(small.sum()), dtype=np.uint64)
        s[(u >= 0.6) & (u < 0.65)] = np.frombuffer((R - 1).to_bytes(32, "little"), dtype="<u8")
        s[(u >= 0.65) & (u < 0.7)] = s[int(np.argmax(u >= 0.7))] if (u >= 0.7).any() else 0
        return s
    raise ValueError(kind)


# ---------------------------------------------------------------- field and curve unit checks

def check_fields(cp, rng):
    from prover import bn254
    log("field arithmetic")
    n = 4096
    # Fq via the G1 check module
    k1 = _build.module("msm_check.cu", {"CURVE_G2": 0})
    edge = [0, 1, 2, Q - 1, Q - 2, MONT % Q, (MONT * MONT) % Q]
    a = edge + [int(x) % Q for x in rng.integers(0, 2**63, size=8)] + \
        [int.from_bytes(rng.bytes(32), "little") % Q for _ in range(n - 15)]
    b = list(reversed(edge)) + [int.from_bytes(rng.bytes(32), "little") % Q for _ in range(n - 7)]
    da, db = cp.asarray(ints_to_words(a, Q)), cp.asarray(ints_to_words(b, Q))
    out = cp.full((4 * n, 8), 0xFFFFFFFF, cp.uint32)
    k1.get_function("test_field_ops")((n // 128,), (128,), (da, db, out, np.uint32(n)))
    got = words_to_ints(out.get(), Q)
    exp = []
    for x, y in zip(a, b):
        exp += [x * y % Q, (x + y) % Q, (x - y) % Q, x * x % Q]
    bad = sum(g != e for g, e in zip(got, exp))
    check(bad == 0, f"Fq mul/add/sub/sqr: {bad} of {4 * n} wrong")
    # Fq2 via the G2 check module
    k2 = _build.module("msm_check.cu", {"CURVE_G2": 1})
    a2 = [(x, y) for x, y in zip(a, b)]
    b2 = [(y, x) for x, y in zip(a[::-1], b)]
    fa = [c for p in a2 for c in p]
    fb = [c for p in b2 for c in p]
    da, db = cp.asarray(ints_to_words(fa, Q)), cp.asarray(ints_to_words(fb, Q))
    out = cp.full((8 * n, 8), 0xFFFFFFFF, cp.uint32)
    k2.get_function("test_field_ops")((n // 128,), (128,), (da, db, out, np.uint32(n)))
    got = words_to_ints(out.get(), Q)
    exp = []
    for x, y in zip(a2, b2):
        for v in (bn254.f2_mul(x, y), bn254.f2_add(x, y), bn254.f2_sub(x, y), bn254.f2_sqr(x)):
            exp += list(v)
    bad = sum(g != e for g, e in zip(got, exp))
    check(bad == 0, f"Fq2 mul/add/sub/sqr: {bad} of {8 * n} wrong")
    # Fr
    kn = _build.module("ntt.cu", {})
    a = [0, 1, R - 1] + [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n - 3)]
    b = [R - 1, R - 1, R - 1] + [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n - 3)]
    out = cp.full((n, 8), 0xFFFFFFFF, cp.uint32)
    kn.get_function("fr_test_mul")((n // 128,), (128,), (cp.asarray(ints_to_words(a, R)),
                                                         cp.asarray(ints_to_words(b, R)), out, np.uint32(n)))
    got = words_to_ints(out.get(), R)
    bad = sum(g != x * y % R for g, x, y in zip(got, a, b))
    check(bad == 0, f"Fr mul: {bad} of {n} wrong")


def progression_points(curve, rng, n: int):
    """n affine points (a + i·d)·G by successive additions (host, Python); returns (points, a, d)."""
    a = int.from_bytes(rng.bytes(32), "little") % R
    d = int.from_bytes(rng.bytes(32), "little") % R
    p = curve.mul(curve.generator, a)
    step = curve.mul(curve.generator, d)
    pts = []
    for _ in range(n):
        pts.append(p)
        p = curve.add(p, step)
    return pts, a, d


def point_words(curve_name: str, pts) -> np.ndarray:
    """affine points (None = infinity) -> (k, words) Montgomery uint32."""
    flat = []
    for p in pts:
        if p is None:
            flat += [0, 0] if curve_name == "G1" else [0, 0, 0, 0]
        elif curve_name == "G1":
            flat += [p[0], p[1]]
        else:
            flat += [p[0][0], p[0][1], p[1][0], p[1][1]]
    w = ints_to_words(flat, Q)
    return w.reshape(len(pts), -1)


def words_points(curve_name: str, words) -> list:
    v = words_to_ints(words, Q)
    out = []
    if curve_name == "G1":
        for i in range(0, len(v), 2):
            out.append(None if v[i] == 0 and v[i + 1] == 0 else (v[i], v[i + 1]))
    else:
        for i in range(0, len(v), 4):
            x, y = (v[i], v[i + 1]), (v[i + 2], v[i + 3])
            out.append(None if x == (0, 0) and y == (0, 0) else (x, y))
    return out


def check_curves(cp, rng):
    from prover import bn254
    log("curve formulas (XYZZ mixed add, full add, doubling, special cases)")
    for name, curve, g2 in (("G1", bn254.G1, 0), ("G2", bn254.G2, 1)):
        k = _build.module("msm_check.cu", {"CURVE_G2": g2})
        pts, _, _ = progression_points(curve, rng, 24)
        P, Qs = [], []
        for i in range(0, 24, 2):
            p, q = pts[i], pts[i + 1]
            P += [p, p, p, None, p, None, p]
            Qs += [q, p, curve.neg(p), q, None, None, curve.add(p, p)]
        n = len(P)
        out = cp.full((3 * n, 16 * (1 + g2)), 0xFFFFFFFF, cp.uint32)
        k.get_function("test_curve_ops")((1,), (128,), (cp.asarray(point_words(name, P)),
                                                        cp.asarray(point_words(name, Qs)), out, np.uint32(n)))
        got = words_points(name, out.get())
        bad = 0
        for i, (p, q) in enumerate(zip(P, Qs)):
            s = curve.add(p, q)
            bad += got[3 * i] != s
            bad += got[3 * i + 1] != s
            bad += got[3 * i + 2] != curve.add(p, p)
        check(bad == 0, f"{name} curve ops: {bad} of {3 * n} wrong")


# ---------------------------------------------------------------- MSM checks

def small_msm_case(curve, rng, n: int, kind: str):
    """Bases with known logs (some repeated, some infinity) and scalars of a kind."""
    pts, a, d = progression_points(curve, rng, n)
    logs = [(a + i * d) % R for i in range(n)]
    if n >= 4:  # repeated bases and infinity bases
        for i in rng.choice(n, size=max(1, n // 8), replace=False):
            j = int(rng.integers(0, n))
            pts[i], logs[i] = pts[j], logs[j]
        for i in rng.choice(n, size=max(1, n // 16), replace=False):
            pts[i], logs[i] = None, 0
    s = special_scalars(rng, n, kind)
    total = sum(x * y for x, y in zip(scalar_ints(s), logs)) % R
    return pts, s, curve.mul(curve.generator, total)


def check_msm_small(cp, rng, quick: bool):
    from prover import bn254, msm as pmsm
    import gpu_msm.cuda as gc
    log("MSM vs references (known-log bases; prover.msm Pippenger at a few sizes)")
    for name, curve, fn, to_arr in (("G1", bn254.G1, gc.msm_g1, bn254.g1_to_array),
                                    ("G2", bn254.G2, gc.msm_g2, bn254.g2_to_array)):
        sizes = [1, 2, 3, 31, 32, 33, 100, 257, 512, 513, 1000, 4099]
        if quick:
            sizes = [1, 2, 31, 513]
        for n in sizes:
            for kind in ("random", "mixed", "zero", "r-1"):
                if kind in ("zero", "r-1") and n not in (1, 31, 513):
                    continue
                pts, s, expect = small_msm_case(curve, rng, n, kind)
                got = fn(to_arr(pts), s)
                ok = check(np.array_equal(got, to_arr([expect])[0]), f"{name} MSM n={n} {kind}")
                if n in (31, 513) and kind == "mixed":  # the readable twin agrees too
                    ref = pmsm.msm_pippenger(curve, pts, scalar_ints(s))
                    check(ref == expect, f"{name} prover.msm reference n={n}")
                if not ok:
                    log(f"    got {got.tolist()}")
        log(f"  {name}: sizes {sizes} done")
    # uploaded bases give the same answer, for the whole set and a prefix
    pts, s, expect = small_msm_case(bn254.G1, rng, 777, "random")
    h = gc.upload_bases(bn254.g1_to_array(pts))
    check(np.array_equal(gc.msm_g1(h, s), bn254.g1_to_array([expect])[0]), "G1 MSM on resident bases")
    sub = s[:500]
    exp_sub = pmsm.msm_pippenger(bn254.G1, pts[:500], scalar_ints(sub))
    check(np.array_equal(gc.msm_g1(h, sub), bn254.g1_to_array([exp_sub])[0]),
          "G1 MSM on a prefix of resident bases")


def gen_bases_device(cp, curve_name: str, n: int, rng):
    """Bases (a + i·d)·G, i < n, generated on the device (Montgomery, ready to use)."""
    from prover import bn254
    from gpu_msm.cuda import msm as cmsm
    c = cmsm.G1 if curve_name == "G1" else cmsm.G2
    curve = bn254.G1 if curve_name == "G1" else bn254.G2
    m = 64
    T = -(-n // m)
    a = int.from_bytes(rng.bytes(32), "little") % R
    d = int.from_bytes(rng.bytes(32), "little") % R
    md = m * d % R
    starts, k = [], a
    for _ in range(T):
        starts.append(k)
        k = (k + md) % R
    g = cp.asarray(point_words(curve_name, [curve.generator]))
    step = cp.asarray(point_words(curve_name, [curve.mul(curve.generator, d)]))
    out = cp.empty((n, c.point_words), cp.uint32)
    kc = _build.module("msm_check.cu", {"CURVE_G2": int(c.g2)})
    kc.get_function("bench_gen_bases")((-(-T // 64),), (64,),
                                       (g, cp.asarray(ints_to_words(starts)), step, out,
                                        np.uint32(n), np.uint32(m)))
    cp.cuda.Device().synchronize()
    return cmsm.ResidentBases(None, c, out, n), a, d


def sum_s_log(s: np.ndarray, a: int, d: int, skip=(), xp=np) -> int:
    """Σ s_i·(a + i·d) mod r for (n, 4) uint64 scalars, exactly, with 16-bit limbs
    (numpy, or CuPy with xp=cupy for the large sizes)."""
    n = len(s)
    s0 = s1 = 0
    for lo in range(0, n, 1 << 20):  # chunks keep every uint64 sum exact and memory small
        part = xp.asarray(np.ascontiguousarray(s[lo:lo + (1 << 20)], dtype="<u8"))
        limbs = part.view(xp.uint16).astype(xp.uint64)
        idx = xp.arange(lo, lo + len(limbs), dtype=xp.uint64)
        c0 = limbs.sum(axis=0).tolist()
        c1 = (limbs * idx[:, None]).sum(axis=0).tolist()
        s0 += sum(int(v) << (16 * j) for j, v in enumerate(c0))
        s1 += sum(int(v) << (16 * j) for j, v in enumerate(c1))
    total = a * s0 + d * s1
    ints = scalar_ints(s[list(skip)]) if len(skip) else []
    for i, v in zip(skip, ints):
        total -= v * (a + i * d)
    return total % R


def check_msm_large(cp, rng, sizes, curves=("G1", "G2")):
    from prover import bn254
    from gpu_msm.cuda import msm as cmsm
    log(f"MSM at large sizes vs known-log identity: {sizes}")
    for name in curves:
        curve = bn254.G1 if name == "G1" else bn254.G2
        c = cmsm.G1 if name == "G1" else cmsm.G2
        for n in sizes:
            t0 = time.time()
            bases, a, d = gen_bases_device(cp, name, n, rng)
            tgen = time.time() - t0
            # the generator's own answer, spot-checked on the host
            for j in (0, n - 1, int(rng.integers(0, n))):
                got = words_points(name, bases.data[j:j + 1].get())[0]
                check(got == curve.mul(curve.generator, (a + j * d) % R), f"{name} gen base {j} n={n}")
            zero = sorted(set(int(i) for i in rng.choice(n, size=min(n, 37), replace=False)))
            bases.data[cp.asarray(np.array(zero, np.int64))] = 0
            for kind in ("random", "mixed"):
                s = special_scalars(rng, n, kind)
                total = sum_s_log(s, a, d, zero, xp=cp)
                got = cmsm.msm_ints(c, bases, s)
                check(got == curve.mul(curve.generator, total), f"{name} MSM n={n} {kind} (known logs)")
            log(f"  {name} n={n}: checked (bases generated in {tgen:.2f} s)")


# ---------------------------------------------------------------- NTT checks

def check_ntt(cp, rng, quick: bool):
    from prover import ntt as pntt
    import gpu_msm.cuda as gc
    log("NTT / iNTT / odd coset vs prover.ntt")
    for n in [1, 2, 4, 8, 32, 256, 1024] + ([] if quick else [4096]):
        v = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n)]
        if n >= 4:
            v[0], v[1] = 0, R - 1
        arr = ints_to_words(v).view(np.uint64).reshape(n, 4)
        for fn, ref in ((gc.ntt, pntt.ntt), (gc.intt, pntt.intt), (gc.odd_coset, pntt.odd_coset)):
            got = scalar_ints(fn(arr))
            check(got == ref(v), f"{fn.__name__} n={n}")
    for n in ([] if quick else [1 << 16, 1 << 20]):
        v = rand_scalars(rng, n)
        f = gc.ntt(v)
        check(np.array_equal(gc.intt(f), v), f"intt(ntt(x)) = x, n={n}")
        coeffs = scalar_ints(v[:])
        w = pntt.root_of_unity(n)
        oc = gc.odd_coset(f)
        g = pntt.root_of_unity(2 * n)
        ok = True
        for j in (0, 1, n - 1, int(rng.integers(0, n))):
            ok &= scalar_ints(f[j:j + 1])[0] == pntt.evaluate_naive(coeffs, pow(w, j, R))
            ok &= scalar_ints(oc[j:j + 1])[0] == pntt.evaluate_naive(coeffs, g * pow(w, j, R) % R)
        check(ok, f"ntt / odd_coset spot evaluations, n={n}")
    log("  done")


# ---------------------------------------------------------------- multiply variants

def check_mul_variants(cp, rng):
    """mul_ptx / mul_wide / sqr (both) on fresh random values against Python ints, then
    their throughput (G multiplies/s; two dependent chains per thread, a full chip)."""
    log("Fq multiply variants")
    k = _build.module("msm_check.cu", {"CURVE_G2": 0})
    n = 1 << 14
    edge = [0, 1, Q - 1, Q - 2, MONT % Q]
    a = edge + [int.from_bytes(rng.bytes(32), "little") % Q for _ in range(n - len(edge))]
    b = list(reversed(edge)) + [int.from_bytes(rng.bytes(32), "little") % Q for _ in range(n - len(edge))]
    out = cp.full((5 * n, 8), 0xFFFFFFFF, cp.uint32)
    k.get_function("test_mul_variants")((n // 128,), (128,), (cp.asarray(ints_to_words(a, Q)),
                                                              cp.asarray(ints_to_words(b, Q)), out, np.uint32(n)))
    got = words_to_ints(out.get(), Q)
    names = ["mul_ptx", "mul_wide", "sqr_ptx", "sqr_wide", "mul_wide#2"]
    for j, name in enumerate(names):
        exp = [x * (x if "sqr" in name else y) % Q for x, y in zip(a, b)]
        bad = sum(g != e for g, e in zip(got[j::5], exp))
        check(bad == 0, f"{name}: {bad} of {n} wrong")
    sms = cp.cuda.Device().attributes["MultiProcessorCount"]
    rates = {}
    for name in ("mul_ptx", "mul_wide", "sqr_ptx", "sqr_wide"):
        f = k.get_function("bench_" + name)
        for blocks_per_sm in (4, 8):
            threads = sms * blocks_per_sm * 256
            x = cp.asarray(ints_to_words([int.from_bytes(rng.bytes(32), "little") % Q for _ in range(64)], Q))
            x = cp.tile(x, (threads * 4 // 64, 1))
            iters = 200
            ms = time_ms(cp, lambda: f((sms * blocks_per_sm,), (256,), (x, np.int32(iters))), reps=5, warm=1)
            rates[(name, blocks_per_sm)] = threads * iters * 4 / (ms * 1e-3) / 1e9
    log("  G Fq ops/s (2 chains/thread; 4 or 8 blocks of 256 per SM): " +
        ", ".join(f"{nm}@{b} {r:.1f}" for (nm, b), r in rates.items()))
    return rates


# ---------------------------------------------------------------- timing

def time_ms(cp, fn, reps: int = 10, warm: int = 2) -> float:
    for _ in range(warm):
        fn()
    cp.cuda.Device().synchronize()
    ts = []
    for _ in range(reps):
        a, b = cp.cuda.Event(), cp.cuda.Event()
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(cp.cuda.get_elapsed_time(a, b))
    return statistics.median(ts)


def timing_table(cp, rng, msm_sizes, ntt_sizes):
    from gpu_msm.cuda import msm as cmsm, transform as cntt
    rows = []
    for name in ("G1", "G2"):
        c = cmsm.G1 if name == "G1" else cmsm.G2
        for n in msm_sizes:
            bases, _, _ = gen_bases_device(cp, name, n, rng)
            s = cp.asarray(rand_scalars(rng, n))
            ms = time_ms(cp, lambda: cmsm.msm_ints(c, bases, s))
            win = cmsm.window_bits(n)
            rows.append((f"msm {name}", n, win, ms))
            del bases
    for n in ntt_sizes:
        d = cp.asarray(rand_scalars(rng, n)).view(cp.uint32).reshape(n, 8)
        ms = time_ms(cp, lambda: cntt.ntt_mont(d))
        rows.append(("ntt", n, "", ms))
        ms = time_ms(cp, lambda: cntt.odd_coset_mont(d))
        rows.append(("odd_coset", n, "", ms))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prebuild", action="store_true")
    ap.add_argument("--nvrtc", default="libnvrtc.so.13")
    ap.add_argument("--arch", default="90")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--variants", default="", help="extra msm.cu tunings to prebuild, "
                    "e.g. 'ACC_CHUNK=32@G1;ACC_BLOCK=64,ACC_MINB=5@G2'")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--large", default="16,18,20", help="log2 sizes for the known-log MSM checks")
    ap.add_argument("--time", default="16,18,20", help="log2 sizes for the timing table")
    ap.add_argument("--mulbench", action="store_true", help="only the multiply variants (checks + rates)")
    args = ap.parse_args()
    if args.prebuild:
        prebuild(args.nvrtc, args.arch, args.jobs, args.variants)
        return 0

    os.environ["GPU_MSM_POISON"] = "1"
    import cupy as cp
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = np.random.default_rng(seed)
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    dev_name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    log(f"device {dev_name}, {props['multiProcessorCount']} SMs, CuPy {cp.__version__}, "
        f"seed {seed}, kernel cache {_build.cache_dir()}")
    t0 = time.time()
    for name, d in module_list():
        t = time.time()
        mod = _build.module(name, d)
        log(f"  module {name} {d}: {time.time() - t:.1f} s")
        del mod
    log(f"modules ready in {time.time() - t0:.1f} s")
    if args.mulbench:
        check_mul_variants(cp, rng)
        log(f"\n{'ALL CHECKS PASSED' if not FAILURES else f'{len(FAILURES)} FAILURES: ' + '; '.join(FAILURES)}")
        return 1 if FAILURES else 0

    sections = [lambda: check_fields(cp, rng), lambda: check_mul_variants(cp, rng), lambda: check_curves(cp, rng),
                lambda: check_msm_small(cp, rng, args.quick), lambda: check_ntt(cp, rng, args.quick)]
    large = [1 << int(x) for x in args.large.split(",") if x] if not args.quick else [1 << 12]
    sections.append(lambda: check_msm_large(cp, rng, large))
    for sec in sections:
        t = time.time()
        try:
            sec()
        except Exception as exc:  # report and go on: one call should tell us everything
            import traceback
            traceback.print_exc()
            check(False, f"exception {exc!r}")
        cp.cuda.Device().synchronize()
        log(f"  ({time.time() - t:.1f} s)")

    del os.environ["GPU_MSM_POISON"]  # timings without the poisoning fills
    tsizes = [1 << int(x) for x in args.time.split(",") if x]
    rows = timing_table(cp, rng, tsizes, [1 << 16, 1 << 20, 1 << 22, 1 << 24] if not args.quick else [1 << 12])
    log(f"\n{'op':<12}{'n':>10}{'c':>4}{'median ms':>12}   ({dev_name}, {time.strftime('%Y-%m-%d')})")
    for op, n, c, ms in rows:
        log(f"{op:<12}{'2^%d' % (n.bit_length() - 1):>10}{c!s:>4}{ms:>12.3f}")
    log(f"\n{'ALL CHECKS PASSED' if not FAILURES else f'{len(FAILURES)} FAILURES: ' + '; '.join(FAILURES)}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
