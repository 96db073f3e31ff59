"""Groth16 verification: py_ecc (prover.verify.verify_py_ecc) against the numba pairing
check (verify_fast), on a committed fixture proof.

    python bench/verify_speed.py [--fixture three_public] [--repeat 5]

Each time is the median of --repeat calls after one warm-up call (which also loads or
compiles the kernels), wall clock, and beside it the process's CPU time: on a machine
that something else is using, wall time grows while CPU time stays near the work done.
Also times the parts of the fast path (4-pair pairing_check, the G2 subgroup test, the
IC linear combination, the GT value with either hard part of the final exponentiation)
and the first verify in a fresh process with the numba cache already filled.  Prints the
load average before and after and the share of the machine's CPU that other processes
took meanwhile (/proc/stat), then a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover.bn254 import G1, g1_to_array, g2_to_array  # noqa: E402
from prover.limbs import ints_to_limbs  # noqa: E402
from prover.snarkjs_json import read_proof, read_public, read_vkey  # noqa: E402
from prover.verify import verify_fast, verify_py_ecc  # noqa: E402

DATA = ROOT / "tests" / "data"


def _ticks():
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = f[3] + f[4]
    return sum(f) - idle, sum(f)


def _timed(fn, repeat):
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _fresh_process_first_call(fixture: str) -> float:
    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from prover.snarkjs_json import read_proof, read_public, read_vkey\n"
        "from prover.verify import verify\n"
        "d = %r\n"
        "vk, pub, pf = read_vkey(d + '/verification_key.json'), read_public(d + '/public.json'), "
        "read_proof(d + '/proof.json')\n"
        "t = time.perf_counter(); ok = verify(vk, pub, pf); print(time.perf_counter() - t, bool(ok))\n"
    ) % (str(ROOT), str(DATA / fixture))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    secs, ok = out.stdout.split()
    assert ok == "True"
    return float(secs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture", default="three_public")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    d = DATA / args.fixture
    vk, public = read_vkey(d / "verification_key.json"), read_public(d / "public.json")
    proof = read_proof(d / "proof.json")
    assert verify_fast(vk, public, proof) and verify_py_ecc(vk, public, proof)

    from gpu_msm.cpu import pairing as pr
    pi_a, pi_b, pi_c = proof
    g1 = g1_to_array([G1.neg(pi_a), vk.alpha1, vk.ic[0], pi_c])
    g2 = g2_to_array([pi_b, vk.beta2, vk.gamma2, vk.delta2])
    ic, scalars = g1_to_array(vk.ic), ints_to_limbs([1, *public])
    b_arr = g2_to_array([pi_b])

    load0, ticks0, own0 = os.getloadavg(), _ticks(), time.process_time()
    rows = [
        ("verify_py_ecc", lambda: verify_py_ecc(vk, public, proof)),
        ("verify_fast", lambda: verify_fast(vk, public, proof)),
        ("  pairing_check, 4 pairs", lambda: pr.pairing_check(g1, g2)),
        ("  g2_in_subgroup(πB)", lambda: pr.g2_in_subgroup(b_arr)),
        (f"  g1_lincomb, {len(vk.ic)} terms", lambda: pr.g1_lincomb(ic, scalars)),
        ("  pairing_gt, 4 pairs, chain hard part", lambda: pr.pairing_gt(g1, g2, "chain")),
        ("  pairing_gt, 4 pairs, plain hard part", lambda: pr.pairing_gt(g1, g2, "plain")),
    ]
    results = {}
    for name, fn in rows:
        results[name] = _timed(fn, args.repeat)
        print(f"{name:<40} wall {results[name][0] * 1e3:9.3f} ms   CPU {results[name][1] * 1e3:9.3f} ms",
              flush=True)
    own = time.process_time() - own0
    ticks1, load1 = _ticks(), os.getloadavg()
    first = _fresh_process_first_call(args.fixture)

    others = None
    if ticks0 and ticks1 and ticks1[1] > ticks0[1]:
        tick = os.sysconf("SC_CLK_TCK")
        busy = (ticks1[0] - ticks0[0]) / tick - own
        others = max(0.0, busy / ((ticks1[1] - ticks0[1]) / tick))
    ratio = results["verify_py_ecc"][0] / results["verify_fast"][0]
    print(f"\nload average before {load0[0]:.2f}, after {load1[0]:.2f}; other processes took "
          + (f"{100 * others:.0f} %" if others is not None else "?") + " of the machine's CPU")
    print(f"first verify in a fresh process (numba cache filled): {first * 1e3:.0f} ms")
    print(f"speed-up (wall): {ratio:.0f}x\n")
    print(f"| {args.fixture}, median of {args.repeat} | wall (ms) | CPU (ms) |")
    print("| --- | --- | --- |")
    for name, (w, c) in results.items():
        print(f"| {name.strip()} | {w * 1e3:.2f} | {c * 1e3:.2f} |")


if __name__ == "__main__":
    main()
