"""What splitting an MSM over device slots costs, and gains: one slot against several.

    python bench/gpu_slots.py [--slots 0;0,0;0,0,0,0] [--sizes 16,20,22] [--curves G1,G2]
                              [--reps 7] [--prove 20] [--out bench/results/gpu_slots.json]

On a one-GPU machine the slots repeat device 0 (``0,0``: two slots sharing it), so the
figures are the split's overhead (more launches, one range each, the host's Horner over
all slots' windows); on a multi-GPU host (``0,1,2,3``) they are the speed-up.  Per size
and curve: bases fixed-base multiples of the generator made on the device, fresh uniform
scalars on the device, every configuration's point checked equal to the one-slot point
(itself checked against the CPU reference by the GPU tests), median of --reps after a
warm-up.  ``--prove 20``: also the single-party prover on the synthetic 2^20 mul chain
(bench/e2e.py's cached circuit) with each slot list, proofs checked by the pairing.
Writes JSON; prints a table last.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the packages: bench/gpu_msm.py is a script


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _scalars(rng, n):
    s = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    s[:, 3] &= np.uint64((1 << 61) - 1)
    return s


def bench_msm(curves, sizes, slot_lists, reps) -> list[dict]:
    import cupy as cp
    import gpu_msm.cuda as gc
    from prover import bn254

    rows = []
    rng = np.random.default_rng(20261207)
    for curve in curves:
        group = curve.lower()
        gen = (bn254.g1_to_array([bn254.G1.generator])[0] if group == "g1"
               else bn254.g2_to_array([bn254.G2.generator])[0])
        fixed = gc.fixed_base_g1 if group == "g1" else gc.fixed_base_g2
        for log_n in sizes:
            n = 1 << log_n
            bases = fixed(gen, _scalars(rng, n))
            s = gc.to_device(_scalars(rng, n))
            want = None
            for slots in slot_lists:
                if len(slots) == 1:
                    with cp.cuda.Device(slots[0]):
                        handle = gc.upload_bases(bases)
                    run = lambda: (gc.msm_g1 if group == "g1" else gc.msm_g2)(handle, s)  # noqa: E731
                else:
                    handle = gc.upload_split(bases, slots)
                    run = lambda: gc.split_msm(group, handle, s)  # noqa: E731
                got = run()  # warm-up, and the check
                if want is None:
                    want = got
                ok = bool(np.array_equal(got, want))
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    run()
                    times.append(time.perf_counter() - t0)
                ms = statistics.median(times) * 1e3
                rows.append({"curve": curve, "log_n": log_n, "slots": ",".join(map(str, slots)), "ms": ms,
                             "all_ms": [t * 1e3 for t in times], "ok": ok})
                log(f"{curve} 2^{log_n} slots {slots}: {ms:.2f} ms {'ok' if ok else 'WRONG'}")
                del handle
            cp.get_default_memory_pool().free_all_blocks()
    return rows


def bench_prove(log_n: int, slot_lists, reps: int, cache: Path) -> list[dict]:
    import gpu_msm
    from e2e import bench_single, circuit

    paths = circuit(log_n, cache, "cuda")
    rows = []
    for slots in slot_lists:
        gpu_msm.select_devices(slots)
        r = bench_single(paths, "cuda", reps)  # verifies its first proof
        rows.append({"log_n": log_n, "slots": ",".join(map(str, slots)), "seconds": r["seconds"],
                     "all": r["all"], "msm_stages": {k: v for k, v in r["stages"].items() if "msm" in k}})
        log(f"prove 2^{log_n} slots {slots}: {r['seconds']:.3f} s {r['stages']}")
    gpu_msm.select_device(None)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slots", default="0;0,0;0,0,0,0", help="slot lists separated by ';' (the first is the baseline)")
    ap.add_argument("--sizes", default="16,20,22")
    ap.add_argument("--curves", default="G1,G2")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--prove", type=int, default=None, metavar="LOG_N",
                    help="also time the single-party prover at this size with each slot list")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "coprove" / "bench"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "gpu_slots.json"))
    args = ap.parse_args()

    import cupy as cp
    import gpu_msm
    slot_lists = [gpu_msm.parse_gpu_list(x) for x in args.slots.split(";")]
    for slots in slot_lists:
        gpu_msm.select_devices(slots)  # checks the devices exist
    gpu_msm.select_device(None)
    name = cp.cuda.runtime.getDeviceProperties(0)["name"]
    device = f"{cp.cuda.runtime.getDeviceCount()}x {name.decode() if isinstance(name, bytes) else name}"
    msm_rows = bench_msm(args.curves.split(","), [int(x) for x in args.sizes.split(",")], slot_lists, args.reps)
    prove_rows = bench_prove(args.prove, slot_lists, args.reps, Path(args.cache)) if args.prove else []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"device": device, "msm": msm_rows, "prove": prove_rows}, indent=1))
    log(f"-> {out}")

    base = {(r["curve"], r["log_n"]): r["ms"] for r in msm_rows if r["slots"] == ",".join(map(str, slot_lists[0]))}
    print(f"\n{device}; MSM ms (median of {args.reps}), scalars on the device; ratio against slots {slot_lists[0]}")
    print(f"{'curve':<6}{'n':>6}  {'slots':<12}{'ms':>9}{'ratio':>8}  ok")
    for r in msm_rows:
        ratio = r["ms"] / base[(r["curve"], r["log_n"])]
        print(f"{r['curve']:<6}{'2^' + str(r['log_n']):>6}  {r['slots']:<12}{r['ms']:>9.2f}{ratio:>8.2f}  "
              f"{'yes' if r['ok'] else 'NO'}")
    if prove_rows:
        b = prove_rows[0]["seconds"]
        print(f"\nsingle-party prover 2^{args.prove}, seconds (median of {args.reps}; proofs verified)")
        for r in prove_rows:
            print(f"  slots {r['slots']:<12}{r['seconds']:>8.3f}  ratio {r['seconds'] / b:.2f}")
    return 0 if all(r["ok"] for r in msm_rows) else 1


if __name__ == "__main__":
    sys.exit(main())
