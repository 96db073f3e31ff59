"""Time the CUDA MSM for G1 and G2 at 2^16 .. 2^24 on the visible GPU.

    python bench/gpu_msm.py [--sizes 16,18,20,22,24] [--curves G1,G2] [--reps 10]
                            [--windows 15,16,17] [--out bench/results/gpu_msm.json]

Bases are generated on the device with known discrete logs ((a + i·d)·G, see
bench/gpu_check.py), scalars are fresh uniform random values each size, and every timed
configuration's answer is checked against (Σ s_i·(a + i·d))·G.  Time per MSM: median of
--reps runs after two warm-ups, CUDA events around the device pipeline with the bases
resident and the scalars already on the device (the prover's steady state), including the
host's Horner combination of the window sums; "gpu ms" is the device pipeline alone;
"e2e" adds the scalars' host-to-device copy (median of 3).
Floor: accumulation adds (windows × n) plus ~2 full adds (≈ 4 mixed) per bucket, at the
rate GPU_NOTES.md estimates for a naive 8×32-bit CIOS multiply (≈ 39 G mul/s on an
H100/H200): 3.9 G mixed adds/s for G1 (≈ 10 mul each), ≈ 1.4 G/s for G2 (≈ 28 Fq mul).
Writes JSON and a PNG plot beside it; prints a table last.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RATE = {"G1": 3.9e9, "G2": 1.4e9}  # mixed adds / s, GPU_NOTES.md floor model


def floor_ms(curve: str, n: int, c: int) -> float:
    nwin = -(-255 // c)
    return (nwin * n + 4 * nwin * (1 << (c - 1))) / RATE[curve] * 1e3


def _windows(spec: str, logn: int) -> list[int]:
    if "=" not in spec:
        return [int(x) for x in spec.split(",") if x]
    for part in spec.split(";"):
        size, _, ws = part.partition("=")
        if int(size) == logn:
            return [int(x) for x in ws.split(",") if x]
    return []


def _diff(t: dict, base: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in t.items() if base.get(k) != v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="16,18,20,22,24")
    ap.add_argument("--curves", default="G1,G2")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--windows", default="", help="window sizes to sweep (default: the engine's choice): "
                    "'15,16,17' for every size, or per size '20=15,16;24=17,18'")
    ap.add_argument("--tune", default="", help="compile-time variants to try, e.g. 'ACC_CHUNK=32;ACC_MINB=5,ACC_BLOCK=64' "
                    "(';' between variants; each must be in the kernel cache or compiles here)")
    ap.add_argument("--strategies", default="xyzz", help="accumulation strategies to time, e.g. "
                    "'xyzz,affine-1,affine-2' (gpu_msm.cuda.msm.STRATEGIES)")
    ap.add_argument("--segment", type=int, default=None, help="log2 of the buckets per integrate thread")
    ap.add_argument("--no-e2e", dest="e2e", action="store_false", help="skip the host-to-device e2e timing")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "gpu_msm.json"))
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    import cupy as cp
    import gpu_check as gk
    from gpu_msm.cuda import msm as cmsm
    from prover import bn254

    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = np.random.default_rng(seed)
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    dev = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{dev}, seed {seed}, {stamp}, tuning {cmsm.TUNING} {cmsm.TUNING_CURVE}, "
          f"segment 2^{cmsm.INTEGRATE_LOG_SEGMENT}", flush=True)
    if args.segment:
        cmsm.INTEGRATE_LOG_SEGMENT = args.segment
    base_tuning = {cn: dict(t) for cn, t in cmsm.TUNING_CURVE.items()}
    base_defs = {"G1": cmsm.defines(cmsm.G1), "G2": cmsm.defines(cmsm.G2)}
    variants = [dict(kv.split("=") for kv in v.split(",")) for v in args.tune.split(";") if v] or [{}]
    rows = []
    for curve_name in args.curves.split(","):
        c = cmsm.G1 if curve_name == "G1" else cmsm.G2
        curve = bn254.G1 if curve_name == "G1" else bn254.G2
        for logn in [int(x) for x in args.sizes.split(",")]:
            n = 1 << logn
            t0 = time.time()
            bases, a, d = gk.gen_bases_device(cp, curve_name, n, rng)
            gen_s = time.time() - t0
            for variant in variants:  # every variant on the same bases, fresh scalars each
                cmsm.TUNING_CURVE[curve_name] = {**base_tuning[curve_name],
                                                 **{k: int(x) for k, x in variant.items()}}
                s_host = gk.rand_scalars(rng, n)
                s_dev = cp.asarray(s_host)
                expect = curve.mul(curve.generator, gk.sum_s_log(s_host, a, d, xp=cp))
                windows = _windows(args.windows, logn) or [cmsm.window_bits(n)]
                for win, strat in ((w, st) for w in windows for st in args.strategies.split(",")):
                    ms = gk.time_ms(cp, lambda: cmsm.msm_ints(c, bases, s_dev, win, strat), reps=args.reps)
                    gpu_ms = gk.time_ms(cp, lambda: cmsm.msm_device(c, bases, s_dev, win, strategy=strat),
                                        reps=args.reps)
                    got = cmsm.msm_ints(c, bases, s_dev, win, strat)
                    ok = got == expect
                    nwin = -(-255 // win)
                    fl = floor_ms(curve_name, n, win)
                    row = dict(curve=curve_name, log2n=logn, n=n, window=win, strategy=strat, windows=nwin,
                               ms=ms, gpu_ms=gpu_ms,
                               tuning=cmsm.defines(c), segment=1 << cmsm.INTEGRATE_LOG_SEGMENT,
                               adds_per_s=nwin * n / (ms * 1e-3), floor_ms=fl, ratio=ms / fl, ok=ok,
                               gen_s=gen_s, device=dev, date=stamp)
                    marks: list = []
                    cmsm.msm_device(c, bases, s_dev, win, marks=marks, strategy=strat)
                    row["stages"] = {k: round(v, 3) for k, v in cmsm.stage_times(marks).items()}
                    wins = cmsm.msm_device(c, bases, s_dev, win, strategy=strat)[0].get()
                    t = time.perf_counter()
                    cmsm.finish(c, wins, win)
                    row["host_ms"] = (time.perf_counter() - t) * 1e3  # the Horner alone
                    if win == windows[0] and strat == args.strategies.split(",")[0] and args.e2e:
                        e2e = []
                        for _ in range(3):
                            t = time.perf_counter()
                            cmsm.msm(c, bases, s_host, win)
                            e2e.append((time.perf_counter() - t) * 1e3)
                        row["e2e_ms"] = sorted(e2e)[1]
                    rows.append(row)
                    print(f"  {curve_name} 2^{logn} c={win} {strat} {variant or ''}: "
                          f"{ms:.2f} ms  ok={ok}", flush=True)
                    if not ok:
                        print(f"    MISMATCH seed {seed}: got {got} want {expect}", flush=True)
                del s_dev
            del bases
            cp.get_default_memory_pool().free_all_blocks()
        cmsm.TUNING_CURVE[curve_name] = base_tuning[curve_name]

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"device": dev, "date": stamp, "seed": seed,
                               "tuning": {cn: cmsm.defines(cc) for cn, cc in (("G1", cmsm.G1), ("G2", cmsm.G2))},
                               "command": " ".join(["python", "bench/gpu_msm.py"] + sys.argv[1:]),
                               "rows": rows}, indent=1))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for cn in sorted({r["curve"] for r in rows}):
            best = {}
            for r in rows:
                if r["curve"] == cn and (r["n"] not in best or r["ms"] < best[r["n"]]["ms"]):
                    best[r["n"]] = r
            xs = sorted(best)
            ax.plot(xs, [best[x]["ms"] for x in xs], "o-", label=f"{cn} measured")
            ax.plot(xs, [best[x]["floor_ms"] for x in xs], "--", label=f"{cn} floor estimate")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("MSM size n")
        ax.set_ylabel("ms per MSM")
        ax.set_title(f"coprove CUDA MSM, {dev}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out.with_suffix(".png"), dpi=120)
    except ImportError:
        pass

    print("\nstages (ms, one run):")
    for r in rows:
        print(f"  {r['curve']} 2^{r['log2n']} c={r['window']} {r['strategy']} "
              f"{_diff(r['tuning'], base_defs[r['curve']])}: " + ", ".join(f"{k} {v}" for k, v in r["stages"].items())
              + f", host {r['host_ms']:.2f}")
    print(f"\n{'curve':<6}{'n':>6}{'c':>4}{'ms':>10}{'gpu ms':>9}{'e2e ms':>9}{'Gadd/s':>8}{'floor':>8}{'x floor':>8}  ok  strategy variant"
          f"   ({dev}, {stamp})")
    for r in rows:
        print(f"{r['curve']:<6}{'2^%d' % r['log2n']:>6}{r['window']:>4}{r['ms']:>10.2f}{r['gpu_ms']:>9.2f}"
              f"{r.get('e2e_ms', float('nan')):>9.1f}{r['adds_per_s'] / 1e9:>8.2f}{r['floor_ms']:>8.2f}"
              f"{r['ratio']:>8.2f}  {r['ok']!s:<5} {r['strategy']} {_diff(r['tuning'], base_defs[r['curve']])}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
