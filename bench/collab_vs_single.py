"""Collaborative (N parties in one process) vs single-party proving, same engine.

    python bench/collab_vs_single.py --sizes 10 12 14 --parties 3 --ptau path/to/pot14+.ptau

Same mul-chain circuits as bench/single_vs_snarkjs.py. For each size: the single-party
prover's time (with the same py_ecc check of the proof the collaborative client makes), the N-party job's time (all parties' work runs in one process, so the
sum of their compute is what is timed; on separate machines they would overlap),
each party's CPU time (its thread's, so waits for the GIL are not counted), the client's upload and the bytes each party sent.
``--threshold T`` also runs threshold mode (degree-T Shamir shares, the parties one after
another, nothing between them) and reports its slowest party against the single party.
Writes bench/results/collab_vs_single.{json,png}.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds gpu_msm.py (the engine bench): the repository root must come first
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import circuit_builder as cb  # noqa: E402
from plotting import line_chart  # noqa: E402

from cme.local_run import prove_local  # noqa: E402
from cme.threshold_run import prove_local_threshold  # noqa: E402
from prover.plain import prove_single  # noqa: E402
from prover.snarkjs_json import vkey_object_from_zkey  # noqa: E402
from prover.verify import verify  # noqa: E402
from prover.wtns import read_wtns  # noqa: E402
from prover.zkey import read_zkey  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 12, 14])
    ap.add_argument("--parties", type=int, default=3)
    ap.add_argument("--ptau", type=Path, default=cb.PTAU)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--engine", default="cpu", choices=["reference", "cpu", "cuda"])
    ap.add_argument("--threshold", type=int, default=None, metavar="T",
                    help="also run threshold mode (degree-T Shamir shares) with the same parties")
    args = ap.parse_args(argv)

    tools = cb.install_npm_tools()
    rng = random.Random(20261121)
    rows = []
    for k in args.sizes:
        c = cb.build_circuit(tools, f"bench_mul_chain_2e{k}", "mul_chain", [(1 << k) - 2],
                             {"x": rng.randrange(2, cb.BN254_R)}, ptau=args.ptau)
        zkey, wtns = read_zkey(c.zkey), read_wtns(c.wtns)
        _ = (zkey.coeffs, zkey.a, zkey.b1, zkey.b2, zkey.c, zkey.h)  # load once, outside the timings
        r, s = rng.randrange(cb.BN254_R), rng.randrange(cb.BN254_R)
        prove_single(zkey, wtns, r, s, args.engine)  # warm the engine (JIT, device residency)
        vk = vkey_object_from_zkey(zkey)
        t0 = time.perf_counter()
        single, public = prove_single(zkey, wtns, r, s, args.engine)
        # the collaborative client always checks its proof; so does the single side here
        assert verify(vk, public, (single.pi_a, single.pi_b, single.pi_c))
        t_single = time.perf_counter() - t0
        t0 = time.perf_counter()
        collab, _, report = prove_local(zkey, wtns, args.parties, r, s, engine=args.engine)
        t_collab = time.perf_counter() - t0
        assert collab == single, f"2^{k}: collaborative proof differs from the single-party one"
        threshold = None
        if args.threshold is not None:
            t0 = time.perf_counter()
            shamir, _, t_report = prove_local_threshold(zkey, wtns, args.parties, args.threshold, r, s,
                                                        engine=args.engine)
            t_threshold = time.perf_counter() - t0
            assert shamir == single, f"2^{k}: threshold proof differs from the single-party one"
            party_s = [sum(v for key, v in st.items() if "." not in key) for st in t_report.party_timings.values()]
            threshold = {"seconds": t_threshold, "ratio": t_threshold / t_single,
                         "max_party_stage_s": max(party_s), "upload_bytes": t_report.upload_bytes}
        per_party = dict(report.party_cpu)
        sent = {i: st["bytes_sent"] for i, st in report.party_stats.items()}
        row = {
            "log2_domain": k, "n_vars": zkey.n_vars, "parties": args.parties,
            "single_s": t_single, "collab_s": t_collab, "ratio": t_collab / t_single,
            "party_compute_s": per_party, "max_party_compute_s": max(per_party.values()),
            "upload_bytes": report.upload_bytes, "bytes_sent_per_party": sent, "threshold": threshold,
        }
        rows.append(row)
        print(f"2^{k}: single {t_single:.2f}s  {args.parties}-party {t_collab:.2f}s (x{row['ratio']:.2f}); "
              f"slowest party CPU {row['max_party_compute_s']:.2f}s; upload {report.upload_bytes} B; "
              f"sent per party {sorted(sent.values())}", flush=True)
        if threshold is not None:
            print(f"      threshold t={args.threshold}: {threshold['seconds']:.2f}s (x{threshold['ratio']:.2f}); "
                  f"slowest party's stages {threshold['max_party_stage_s']:.2f}s; upload {threshold['upload_bytes']} B; "
                  "no transport between parties", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "collab_vs_single.json").write_text(json.dumps({
        "bench": "collab_vs_single", "date": time.strftime("%Y-%m-%d"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "engine": args.engine, "rows": rows}, indent=1) + "\n")
    _plot(rows, args.out / "collab_vs_single.png")
    print(f"\n| domain | single (s) | {args.parties}-party, one process (s) | ratio | slowest party's CPU time (s) "
          "| client upload (bytes) | sent per party (bytes) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| 2^{r['log2_domain']} | {r['single_s']:.2f} | {r['collab_s']:.2f} | {r['ratio']:.2f} | "
              f"{r['max_party_compute_s']:.2f} | {r['upload_bytes']} | {max(r['bytes_sent_per_party'].values())} |")
    if args.threshold is not None:
        print(f"\n| domain | single (s) | threshold t={args.threshold}, {args.parties} parties, one process (s) | ratio "
              "| slowest party's stages (s) | slowest party / single | client upload (bytes) |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            t = r["threshold"]
            print(f"| 2^{r['log2_domain']} | {r['single_s']:.2f} | {t['seconds']:.2f} | {t['ratio']:.2f} | "
                  f"{t['max_party_stage_s']:.2f} | {t['max_party_stage_s'] / r['single_s']:.2f} | {t['upload_bytes']} |")


def _plot(rows, path):
    ks = [r["log2_domain"] for r in rows]
    line_chart(path, ks, [("single party", [r["single_s"] for r in rows], "o-"),
                          (f"{rows[0]['parties']} parties, one process", [r["collab_s"] for r in rows], "s-"),
                          ("slowest party's CPU time", [r["max_party_compute_s"] for r in rows], "^--")],
               "log2(domain size)", "seconds")


if __name__ == "__main__":
    main()
