"""The CPU engine (gpu_msm.cpu, numba): MSM for G1 and G2, NTT, and the JIT compile time.

    python bench/cpu_msm.py [--sizes 10 12 14 16] [--ntt 16] [--reference 12] [--repeat 5]
                            [--sweep] [--out bench/results/cpu_msm.json]

Kernels compile into a fresh numba cache directory first (gpu_msm.cpu.warmup), so
"compile" is the cold JIT time a new installation pays once; "cache load" is the first
call of a later process that finds them cached (measured in a subprocess).  Every other time is the median of
--repeat calls after one warm-up call, wall clock, on the machine's default numba thread
count.  Bases are (a + i·d)·G for random a, d, so every MSM answer is checked against
(Σ s_i·(a + i·d))·G; scalars are uniform below r.  The pure-Python reference
(prover.msm.msm_pippenger) runs once per curve at 2^--reference on the same inputs and
must agree.  --sweep also times every window size near the engine's choice (what the
cost model in gpu_msm/cpu/msm.py was fitted to).  Writes JSON and a PNG plot; prints a
markdown table last.  The load average is recorded before and after, and beside each
wall time the CPU time of all the process's threads: on a machine that something else
is using, wall time grows while CPU time stays near the work done; and the share of the
machine's CPU that other processes took while the timings ran (from /proc/stat).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Before numba is imported: compile into an empty cache so the JIT time is the cold one.
if "--warm-cache" not in sys.argv:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="coprove-numba-")

import numpy as np  # noqa: E402

from gpu_msm.constants import FR_MODULUS as R  # noqa: E402
from prover import bn254  # noqa: E402
from prover.limbs import ints_to_limbs  # noqa: E402

Q = bn254.FQ_MODULUS
CURVES = {
    "G1": (bn254.G1, bn254.g1_to_array, bn254.g1_from_array, "msm_g1"),
    "G2": (bn254.G2, bn254.g2_to_array, bn254.g2_from_array, "msm_g2"),
}


# ---------------------------------------------------------------- inputs

def _walk_g1(p, step, n):
    """p, p + step, p + 2·step, … in affine Python ints (one inversion per point)."""
    out = [p]
    x, y = p
    sx, sy = step
    for _ in range(n - 1):
        lam = (sy - y) * pow(sx - x, -1, Q) % Q
        x3 = (lam * lam - x - sx) % Q
        x, y = x3, (lam * (x - x3) - y) % Q
        out.append((x, y))
    return out


def _walk_g2(p, step, n):
    f = bn254
    out = [p]
    x, y = p
    sx, sy = step
    for _ in range(n - 1):
        lam = f.f2_mul(f.f2_sub(sy, y), f.f2_inv(f.f2_sub(sx, x)))
        x3 = f.f2_sub(f.f2_sub(f.f2_sqr(lam), x), sx)
        x, y = x3, f.f2_sub(f.f2_mul(lam, f.f2_sub(x, x3)), y)
        out.append((x, y))
    return out


def make_inputs(curve_name: str, n: int):
    """(points, bases array, scalars, scalars array, expected point)."""
    curve, to_array, _, _ = CURVES[curve_name]
    a, d = secrets.randbelow(R - 1) + 1, secrets.randbelow(R - 1) + 1
    start, step = curve.mul(curve.generator, a), curve.mul(curve.generator, d)
    walk = _walk_g1 if curve_name == "G1" else _walk_g2
    points = walk(start, step, n)
    scalars = [secrets.randbelow(R) for _ in range(n)]
    log = sum(s * (a + i * d) for i, s in enumerate(scalars)) % R
    return points, to_array(points), scalars, ints_to_limbs(scalars), curve.mul(curve.generator, log)


def timed(fn, *args, repeat: int) -> tuple[float, list[float], object, float]:
    """(median wall s, wall runs, last output, median CPU s of all threads)."""
    out = fn(*args)  # warm-up
    runs, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn(*args)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(runs), runs, out, statistics.median(cpu)


# ---------------------------------------------------------------- JIT

_PROBE = "import json; from gpu_msm.cpu.warmup import warm_up; print(json.dumps(warm_up()))"


# ---------------------------------------------------------------- main

def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine, from /proc/stat (None elsewhere)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def others_share(before, after, own_cpu_s: float) -> float | None:
    """Fraction of the machine's CPU that other processes used between two _cpu_ticks."""
    if before is None or after is None or after[1] == before[1]:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    busy = (after[0] - before[0]) / tick
    return max(0.0, busy - own_cpu_s) / ((after[1] - before[1]) / tick)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(),
            "numba_threads": numba.get_num_threads(), "python": platform.python_version(),
            "numba": numba.__version__, "numpy": np.__version__, "platform": platform.platform()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 12, 14, 16], help="log2 n")
    ap.add_argument("--ntt", type=int, default=16, help="log2 of the NTT size")
    ap.add_argument("--reference", type=int, default=12,
                    help="log2 n for the pure-Python reference (0: skip)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sweep", action="store_true", help="also time window sizes c−3 .. c+3")
    ap.add_argument("--warm-cache", action="store_true",
                    help="use the normal numba cache (compile figures are then cache loads)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cpu_msm.json")
    args = ap.parse_args(argv)
    import numba

    import gpu_msm.cpu as cpu
    from gpu_msm.cpu import msm as cpu_msm
    from gpu_msm.cpu.warmup import warm_up
    from prover.msm import msm_pippenger

    load_before = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = "python bench/cpu_msm.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"{stamp}; {command.strip()}", flush=True)

    compile_s = warm_up()
    probe = subprocess.run([sys.executable, "-c", _PROBE], env=os.environ, cwd=ROOT,
                           capture_output=True, text=True, check=True)
    cache_load_s = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"compile (cold) {compile_s}\ncache load {cache_load_s}", flush=True)

    rows, sweeps, reference = [], [], {}
    ticks0, own0 = _cpu_ticks(), time.process_time()
    for name in ("G1", "G2"):
        curve, _, from_array, fn = CURVES[name]
        msm = getattr(cpu, fn)
        for logn in args.sizes:
            n = 1 << logn
            points, bases, scalars, scalar_arr, expected = make_inputs(name, n)
            median, runs, out, cpu_s = timed(msm, bases, scalar_arr, repeat=args.repeat)
            assert from_array(out[None])[0] == expected, f"{name} 2^{logn}: wrong MSM"
            c = cpu_msm.window_bits(n)
            rows.append({"curve": name, "log_n": logn, "window": c, "median_s": median,
                         "runs_s": runs, "cpu_s": cpu_s})
            print(f"{name} 2^{logn}: {median * 1e3:8.1f} ms, CPU {cpu_s * 1e3:8.1f} ms "
                  f"(window {c})", flush=True)
            if args.sweep:
                for cc in range(max(2, c - 3), min(cpu_msm.MAX_WINDOW, c + 3) + 1):
                    m, _, out, m_cpu = timed(lambda b, s: msm(b, s, cc), bases, scalar_arr,
                                             repeat=max(1, args.repeat // 2))
                    assert from_array(out[None])[0] == expected
                    sweeps.append({"curve": name, "log_n": logn, "window": cc, "median_s": m,
                                   "cpu_s": m_cpu})
                    print(f"    window {cc:2d}: {m * 1e3:8.1f} ms, CPU {m_cpu * 1e3:8.1f} ms",
                          flush=True)
            if logn == args.reference:
                t0 = time.perf_counter()
                ref = msm_pippenger(curve, points, scalars)
                ref_s = time.perf_counter() - t0
                assert ref == expected, f"{name} 2^{logn}: reference disagrees"
                reference[name] = {"log_n": logn, "reference_s": ref_s, "engine_s": median,
                                   "ratio": ref_s / median}
                print(f"{name} 2^{logn}: reference {ref_s:.2f} s, {ref_s / median:.0f}× slower",
                      flush=True)

    n = 1 << args.ntt
    values = ints_to_limbs([secrets.randbelow(R) for _ in range(n)])
    ntt_rows = []
    for fn in ("ntt", "intt", "odd_coset"):
        median, runs, _, cpu_s = timed(getattr(cpu, fn), values, repeat=args.repeat)
        ntt_rows.append({"op": fn, "log_n": args.ntt, "median_s": median, "runs_s": runs,
                         "cpu_s": cpu_s})
        print(f"{fn} 2^{args.ntt}: {median * 1e3:.1f} ms", flush=True)
    assert np.array_equal(cpu.intt(cpu.ntt(values)), values)
    others = others_share(ticks0, _cpu_ticks(), time.process_time() - own0)
    if others is not None:
        print(f"other processes used {others:.0%} of the machine's CPU while this ran", flush=True)

    result = {"date": stamp, "command": command.strip(), "machine": machine(),
              "threading_layer": numba.threading_layer(),
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "others_cpu_share": others,
              "compile_s": compile_s, "cache_load_s": cache_load_s, "msm": rows,
              "window_sweep": sweeps, "reference": reference, "ntt": ntt_rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))
    print_table(result)
    if "--warm-cache" not in sys.argv:
        shutil.rmtree(os.environ["NUMBA_CACHE_DIR"], ignore_errors=True)
    return 0


def plot(result: dict, path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot (pip install '.[bench]')")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("G1", "G2"):
        pts = [(r["log_n"], r["median_s"]) for r in result["msm"] if r["curve"] == name]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"MSM {name}")
    ax.set_yscale("log")
    ax.set_xlabel("log2 n")
    ax.set_ylabel("seconds (median)")
    ax.set_title(f"gpu_msm.cpu on {result['machine']['cpu']} ({result['machine']['cores']} cores)",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def print_table(result: dict) -> None:
    if result.get("others_cpu_share") is not None:
        print(f"\nOther processes used {result['others_cpu_share']:.0%} of the machine's CPU "
              "during the timings.")
    print("\n| MSM | n | window | median wall (ms) | CPU, all threads (ms) |")
    print("| --- | --- | --- | --- | --- |")
    for r in result["msm"]:
        print(f"| {r['curve']} | 2^{r['log_n']} | {r['window']} | {r['median_s'] * 1e3:.1f} | "
              f"{r['cpu_s'] * 1e3:.1f} |")
    print("\n| NTT | n | median wall (ms) | CPU, all threads (ms) |\n| --- | --- | --- | --- |")
    for r in result["ntt"]:
        print(f"| {r['op']} | 2^{r['log_n']} | {r['median_s'] * 1e3:.1f} | {r['cpu_s'] * 1e3:.1f} |")
    if result["reference"]:
        print("\n| reference at | curve | prover.msm.msm_pippenger (s) | gpu_msm.cpu (s) | ratio |")
        print("| --- | --- | --- | --- | --- |")
        for name, r in result["reference"].items():
            print(f"| 2^{r['log_n']} | {name} | {r['reference_s']:.2f} | {r['engine_s']:.4f} | "
                  f"{r['ratio']:.0f}× |")
    print("\n| JIT | compile, cold (s) | cache load (s) |\n| --- | --- | --- |")
    for k, v in result["compile_s"].items():
        print(f"| {k} | {v:.1f} | {result['cache_load_s'][k]:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
