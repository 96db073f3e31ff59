"""Single-party prover (``coprove prove --single``) against ``snarkjs groth16 prove``.

Both run on this machine, on the same mul-chain circuits (domain exactly 2^k), built
with npm snarkjs + circom2 by the test suite's circuit builder (cached). Times are
wall clock of the whole command, start-up included, median of the runs; the
in-process stage split of our prover comes from its own timers.

    python bench/single_vs_snarkjs.py --sizes 10 12 14 16 --engine cpu --ptau path/to/pot16.ptau

The committed test ptau covers domains up to 2^12; larger sizes need a prepared ptau
of at least that power (``snarkjs powersoftau new bn128 K …``, ``contribute``,
``prepare phase2``). Writes bench/results/single_vs_snarkjs.{json,png}.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds gpu_msm.py (the engine bench): the repository root must come first
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import circuit_builder as cb  # noqa: E402
from plotting import line_chart  # noqa: E402

from prover.plain import PlainOps, witness_ints  # noqa: E402
from prover.groth16 import complete_proof, groth16_bare  # noqa: E402
from prover.wtns import read_wtns  # noqa: E402
from prover.zkey import read_zkey  # noqa: E402


def wall(cmd) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)
    return time.perf_counter() - t0


def stage_times(zkey_path, wtns_path, engine) -> dict:
    t0 = time.perf_counter()
    zkey, wtns = read_zkey(zkey_path), read_wtns(wtns_path)
    w = witness_ints(zkey, wtns)
    # touch every section so reading and Montgomery conversion are timed here
    _ = (zkey.coeffs, zkey.a, zkey.b1, zkey.b2, zkey.c, zkey.h)
    read = time.perf_counter() - t0
    ops = PlainOps(wtns.values, engine)

    def prove():
        complete_proof(zkey, groth16_bare(zkey, ops), random.randrange(1, cb.BN254_R),
                       random.randrange(1, cb.BN254_R))

    prove()  # warm: JIT caches and device residency, as in a long-running node
    ops.timings.clear()
    t1 = time.perf_counter()
    prove()
    return {"read_and_convert": read, "prove": time.perf_counter() - t1, **ops.timings}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 12, 14], help="log2 of the domain")
    ap.add_argument("--ptau", type=Path, default=cb.PTAU)
    ap.add_argument("--runs", type=int, default=3, help="runs per command (2 above 2^12)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--engine", default="reference", choices=["reference", "cpu", "cuda"])
    args = ap.parse_args(argv)

    tools = cb.install_npm_tools()
    rng = random.Random(20261121)
    rows = []
    for k in args.sizes:
        n_constraints = (1 << k) - 2  # + 1 public + 1 constant = 2^k
        c = cb.build_circuit(tools, f"bench_mul_chain_2e{k}", "mul_chain", [n_constraints],
                             {"x": rng.randrange(2, cb.BN254_R)}, ptau=args.ptau)
        assert c.domain_size == 1 << k, (c.domain_size, k)
        runs = args.runs if k <= 12 else max(1, args.runs - 1)
        tmp = c.run_dir / "bench"
        tmp.mkdir(exist_ok=True)
        snark = [wall([tools.node, tools.snarkjs, "groth16", "prove", c.zkey, c.wtns, tmp / "s_proof.json",
                       tmp / "s_public.json"]) for _ in range(runs)]
        ours = [wall([sys.executable, "-m", "coordinator_free.cli", "prove", c.zkey, c.wtns,
                      tmp / "c_proof.json", tmp / "c_public.json", "--single", "--no-check",
                      "--engine", args.engine])
                for _ in range(runs)]
        if not cb.snarkjs_verify(tools, c.vkey, tmp / "c_public.json", tmp / "c_proof.json"):
            raise SystemExit(f"2^{k}: our proof does not pass snarkjs groth16 verify")
        stages = stage_times(c.zkey, c.wtns, args.engine)
        row = {
            "log2_domain": k, "constraints": c.n_constraints, "vars": c.n_vars,
            "snarkjs_s": statistics.median(snark), "coprove_single_s": statistics.median(ours),
            "runs": runs, "snarkjs_all": snark, "coprove_all": ours, "coprove_stages_s": stages,
        }
        row["ratio"] = row["coprove_single_s"] / row["snarkjs_s"]
        rows.append(row)
        print(f"2^{k}: snarkjs {row['snarkjs_s']:.2f}s  coprove --single {row['coprove_single_s']:.2f}s "
              f"(x{row['ratio']:.1f})  stages " + " ".join(f"{a}={b:.2f}" for a, b in stages.items()),
              flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "bench": "single_vs_snarkjs", "date": time.strftime("%Y-%m-%d"),
        "machine": {"platform": platform.platform(), "cpus": _cpus(), "python": platform.python_version()},
        "snarkjs": tools.snarkjs_version, "engine": args.engine, "rows": rows,
    }
    (args.out / f"single_vs_snarkjs_{args.engine}.json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(rows, args.out / f"single_vs_snarkjs_{args.engine}.png")

    print(f"\n| domain | constraints | snarkjs groth16 prove (s) | coprove --single --engine {args.engine} (s) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| 2^{r['log2_domain']} | {r['constraints']} | {r['snarkjs_s']:.2f} | "
              f"{r['coprove_single_s']:.2f} | {r['ratio']:.1f} |")


def _cpus():
    import os
    return os.cpu_count()


def _plot(rows, path):
    ks = [r["log2_domain"] for r in rows]
    line_chart(path, ks, [("snarkjs groth16 prove", [r["snarkjs_s"] for r in rows], "o-"),
                          ("coprove prove --single", [r["coprove_single_s"] for r in rows], "s-")],
               "log2(domain size)", "wall time (s)", "Single-party Groth16 on this machine")


if __name__ == "__main__":
    main()
