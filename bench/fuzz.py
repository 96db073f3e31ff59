"""Long fuzz run: every target of tests/test_fuzz.py for a time budget.

    python bench/fuzz.py --minutes 8                  # all targets, budget shared out
    python bench/fuzz.py --minutes 2 --only zkey,json_vkey,rpc_SubmitJob

The targets and properties are the test suite's (tests/test_fuzz.py); this only runs
them longer, unseeded (hypothesis profile "long"), in batches until each target's share
of the budget is spent.  The gRPC targets share one LocalNetwork(2); after them the node
is checked as in the suite (alive, proves a real job, no job past its deadline, threads
and RSS near the baseline), with its /proc figures sampled after every target.
Prints cases per target and writes them, with failures and node figures, to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("HYPOTHESIS_PROFILE", "long")

import test_fuzz as tf  # noqa: E402

# relative share of the budget; a CLI case is a subprocess (~1 s), so it gets less
WEIGHTS = {"cli_prove": 0.5}
BATCH = {"cli_prove": 5}


def run_for(t, ctx, seconds: float) -> dict:
    """Batches of fresh random examples until ``seconds`` are spent or one fails."""
    start, before = time.monotonic(), tf.CASES[t.name]
    failure = None
    batch = BATCH.get(t.name, 50 if t.needs_node else 200)
    while time.monotonic() - start < seconds:
        try:
            tf.run_target(t, ctx, examples=batch)
        except Exception as e:  # noqa: BLE001 - a failing property is a result, not a crash
            failure = "".join(traceback.format_exception_only(type(e), e))[-4000:]
            break
    spent = time.monotonic() - start
    cases = tf.CASES[t.name] - before
    return {"cases": cases, "seconds": round(spent, 1), "per_second": round(cases / spent, 1) if spent else 0,
            "failure": failure}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, required=True, help="total budget, shared by the targets")
    ap.add_argument("--only", help="comma-separated target names (default: all)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "fuzz.json"))
    args = ap.parse_args(argv)

    names = list(tf.TARGETS) if not args.only else args.only.split(",")
    unknown = [n for n in names if n not in tf.TARGETS]
    if unknown:
        ap.error(f"unknown targets {unknown}; known: {', '.join(tf.TARGETS)}")
    total = args.minutes * 60
    weight = {n: WEIGHTS.get(n, 1.0) for n in names}
    share = {n: total * w / sum(weight.values()) for n, w in weight.items()}
    results: dict = {}
    t0 = time.monotonic()

    local = [n for n in names if not tf.TARGETS[n].needs_node]
    remote = [n for n in names if tf.TARGETS[n].needs_node]
    with tempfile.TemporaryDirectory(prefix="coprove-fuzz-") as work:
        for n in local:
            results[n] = run_for(tf.TARGETS[n], Path(work), share[n])
            _line(n, results[n])
    node_figures = None
    if remote:
        samples = []
        with tf.node_under_fuzz() as node:
            samples.append({"after": "baseline", **node.stats()})
            for n in remote:
                results[n] = run_for(tf.TARGETS[n], node, share[n])
                samples.append({"after": n, **node.stats()})
                _line(n, results[n])
            try:
                node_figures = tf.check_node_survived(node, node.baseline)
            except AssertionError as e:
                node_figures = {**tf.REPORT.get("node", {}), "failure": str(e)[:4000]}
            node_figures["samples"] = samples
        _node_lines(node_figures)

    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
                   f"{platform.python_version()}, {platform.platform()}",
        "command": "python bench/fuzz.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "minutes": args.minutes, "wall_seconds": round(time.monotonic() - t0, 1),
        "targets": results, "node": node_figures,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    failed = [n for n, r in results.items() if r["failure"]] + (["node"] if node_figures and "failure" in node_figures
                                                                  else [])
    print(f"{sum(r['cases'] for r in results.values())} cases in {report['wall_seconds']} s; "
          f"failures: {', '.join(failed) or 'none'}; written to {args.out}")
    return 1 if failed else 0


def _line(name, r):
    print(f"{name:<22} {r['cases']:>8} cases {r['seconds']:>7.1f} s {r['per_second']:>8.1f}/s"
          + (f"  FAILED: {r['failure'].splitlines()[0][:150]}" if r["failure"] else ""), flush=True)


def _node_lines(f):
    for n in f["baseline"]:
        b, a = f["baseline"][n], f["after"][n]
        print(f"{n}: threads {b['Threads']} -> {a['Threads']}, RSS {b['VmRSS'] >> 10} -> {a['VmRSS'] >> 10} MiB "
              f"(peak {a['VmHWM'] >> 10} MiB), fds {b['fds']} -> {a['fds']}")
    print(f"jobs accepted {f['jobs_accepted']}: {f['job_states']}; stuck past deadline: {len(f['stuck'])}; "
          f"real job proved: {f['proved']}")


if __name__ == "__main__":
    sys.exit(main())
