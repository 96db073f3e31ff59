"""Soak: many jobs on a 5-node CPU network on loopback, both modes, a random fault in most.

    python bench/soak.py --jobs 300 [--seed N] [--deadline 8] [--faults crash,hang,...]
                         [--out bench/results/soak.json]

Real ``coprove node`` processes with mutual TLS, each behind a TCP proxy the harness
controls.  Jobs alternate between the additive mode (three nodes, the other two as
spares) and the threshold mode (all five, t = 1).  Before each job a fault is drawn
(none in about one job of five):

- ``crash``: a node is SIGKILLed a moment into the job, and restarted after it;
- ``hang``: a node is SIGSTOPped a moment into the job, and continued after it;
- ``slow``: a node's link delays every chunk by 50 ms during the job;
- ``cut``: a node's link is cut a moment into the job, and restored after it;
- ``garbage``: a node is restarted with ``--misbehave flip-share`` for the job (it sends a
  corrupted round-1 message);
- ``wrong-msm``: a node is restarted with ``--misbehave wrong-msm`` for the job.

Every job must end in a proof that verifies, or in a failure whose message names a node
and a step; a failed job is retried once after the fault is undone, and the retry must
prove.  After every job each node's RSS and open file descriptors are read from /proc;
the figures report their first and last values since the node's last (re)start.  Prints a
table last and exits 1 if a job was lost (no proof after its retry) or a failure named no
node.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

FAULTS = ("none", "crash", "hang", "slow", "cut", "garbage", "wrong-msm")
WEIGHTS = (2, 2, 1, 1, 1, 1, 2)
WARM_JOBS = 5  # a node's figures after this many jobs since its (re)start are its baseline
FIXTURE = ROOT / "tests" / "data" / "three_public"
NAMED = re.compile(r"node node\d|party \d|parties \[|node\d")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def _proc_figures(pid: int) -> tuple[int, int]:
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


class Soak:
    def __init__(self, jobs: int, seed: int, deadline: float, faults=FAULTS):
        from coordinator_free.localnet import LocalNetwork
        from tcp_proxy import Proxy

        self.rng = random.Random(seed)
        self.jobs, self.deadline = jobs, deadline
        self.faults = [f for f in FAULTS if f in faults]
        self.weights = [w for f, w in zip(FAULTS, WEIGHTS) if f in faults]
        self.proxies = {}

        def advertise(name, address):
            self.proxies[name] = Proxy(address)
            return self.proxies[name].address

        self.net = LocalNetwork(5, advertise=advertise, start_timeout=120.0)
        self.records = []
        self.figures: dict = {}  # node -> {"start": (rss, fds), "last": (rss, fds), "max": ...}

    def __enter__(self):
        import dataclasses
        from coordinator_free.committee import Sharing

        self.net.start()
        c = self.net.committee
        nodes = list(c.nodes)
        self.committees = {
            "additive": dataclasses.replace(c, nodes=nodes[:3], spares=nodes[3:], sharing=Sharing()),
            "threshold": dataclasses.replace(c, nodes=nodes, spares=[], sharing=Sharing("shamir", 1)),
        }
        for name in self.net.names:
            self._reset_figures(name)
        return self

    def __exit__(self, *exc):
        self.net.stop()
        for p in self.proxies.values():
            p.close()

    def _reset_figures(self, name):
        f = _proc_figures(self.net.procs[name].pid)
        self.figures[name] = {"start": f, "warm": None, "last": f, "max_rss": f[0], "max_fds": f[1], "jobs": 0,
                              "restarts": self.figures.get(name, {}).get("restarts", -1) + 1}

    def _restart(self, name, args=()):
        proc = self.net.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(10)
        self.net.node_args[name] = list(args)
        self.net.start_node(name)
        self._reset_figures(name)

    def _prove(self, mode: str):
        from coordinator_free.client import Client
        with Client(self.committees[mode], deadline_s=self.deadline, rpc_seconds=4) as client:
            return client.prove(FIXTURE / "circuit.zkey", FIXTURE / "witness.wtns")

    def run(self) -> int:
        from cme.assembly import JobFailed
        from coordinator_free.client import NodeFailed
        from prover.snarkjs_json import read_vkey
        from prover.verify import verify

        vkey = read_vkey(FIXTURE / "verification_key.json")
        for k in range(self.jobs):
            mode = ("additive", "threshold")[k % 2]
            fault = self.rng.choices(self.faults, self.weights)[0]
            members = [m.name for m in self.committees[mode].nodes]
            victim = self.rng.choice(members)
            undo, fired = self._inject(fault, victim)
            t0 = time.monotonic()
            rec = {"job": k, "mode": mode, "fault": fault, "node": victim}
            try:
                proof, public, summary = self._prove(mode)
                rec["outcome"] = "proof" if verify(vkey, public, (proof.pi_a, proof.pi_b, proof.pi_c)) else "INVALID"
                rec["attempts"] = summary.attempts
                rec["detail"] = "; ".join(summary.failures)[:300]
            except (NodeFailed, JobFailed) as e:
                rec["outcome"], rec["detail"] = "failed", str(e)[:300]
                rec["named"] = bool(NAMED.search(str(e)))
            rec["seconds"] = round(time.monotonic() - t0, 3)
            rec["fault_struck"] = fired()  # a timed fault may come after a quick job ended
            undo()
            if rec["outcome"] == "failed":
                try:
                    proof, public, _ = self._prove(mode)
                    rec["retry"] = "proof" if verify(vkey, public, (proof.pi_a, proof.pi_b, proof.pi_c)) else "INVALID"
                except (NodeFailed, JobFailed) as e:
                    rec["retry"] = f"failed: {str(e)[:200]}"
            for name in self.net.names:
                rss, fds = _proc_figures(self.net.procs[name].pid)
                f = self.figures[name]
                f["last"] = (rss, fds)
                f["max_rss"], f["max_fds"] = max(f["max_rss"], rss), max(f["max_fds"], fds)
                f["jobs"] += 1
                if f["jobs"] == WARM_JOBS:  # caches and kernels loaded: what later jobs must not outgrow
                    f["warm"] = (rss, fds)
            self.records.append(rec)
            log(f"job {k:4d} {mode:9} {fault:9} {victim:6} -> {rec['outcome']}"
                + (f", retry {rec['retry']}" if "retry" in rec else "") + f" ({rec['seconds']:.1f}s)")
        return 0

    def _inject(self, fault: str, victim: str):
        """Start the fault; returns (what undoes it once the job has ended, whether it struck)."""
        always = lambda: True  # noqa: E731
        if fault in ("garbage", "wrong-msm"):
            self._restart(victim, ["--misbehave", "flip-share" if fault == "garbage" else "wrong-msm"])
            return (lambda: self._restart(victim)), always
        if fault == "slow":
            self.proxies[victim].delay = 0.05

            def undo_slow():
                self.proxies[victim].delay = 0.0
            return undo_slow, always
        if fault in ("crash", "hang", "cut"):
            pid = self.net.procs[victim].pid
            struck = threading.Event()
            act = {"crash": lambda: os.kill(pid, signal.SIGKILL),
                   "hang": lambda: os.kill(pid, signal.SIGSTOP),
                   "cut": self.proxies[victim].cut}[fault]

            def action():
                struck.set()
                act()
            timer = threading.Timer(self.rng.uniform(0.02, 0.15), action)
            timer.start()

            def undo():
                timer.cancel()
                timer.join()
                if fault == "cut":
                    self.proxies[victim].restore()
                elif fault == "hang":
                    os.kill(pid, signal.SIGCONT)
                elif struck.is_set():
                    self._restart(victim)
            return undo, struck.is_set
        return (lambda: None), (lambda: False)


def summarize(records, figures) -> dict:
    lost = [r for r in records if r["outcome"] != "proof" and r.get("retry") != "proof"]
    unnamed = [r for r in records if r["outcome"] == "failed" and not r.get("named")]
    by = Counter((r["fault"] if r["fault_struck"] or r["fault"] == "none" else f"{r['fault']} (after the job)",
                  r["outcome"]) for r in records)
    return {"jobs": len(records), "proofs_first_try": sum(r["outcome"] == "proof" for r in records),
            "failed_then_retried": sum(r["outcome"] == "failed" for r in records),
            "lost": len(lost), "unnamed_failures": len(unnamed),
            "by_fault": {f"{f}/{o}": n for (f, o), n in sorted(by.items())},
            "nodes": {n: {"rss_mb_warm_last_max": [round((f["warm"] or f["start"])[0] / 1e6, 1),
                                                   round(f["last"][0] / 1e6, 1), round(f["max_rss"] / 1e6, 1)],
                          "fds_warm_last_max": [(f["warm"] or f["start"])[1], f["last"][1], f["max_fds"]],
                          "jobs_since_start": f["jobs"], "restarts": f["restarts"]}
                      for n, f in sorted(figures.items())},
            "lost_jobs": lost, "unnamed": unnamed}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--deadline", type=float, default=8.0, help="seconds a job's nodes get")
    ap.add_argument("--faults", default=",".join(FAULTS),
                    help="the faults to draw from (default: all); e.g. none,hang,slow,cut keeps every "
                         "node process alive, to watch its memory and descriptors over many jobs")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = ap.parse_args(argv)
    faults = args.faults.split(",")
    if not faults or any(f not in FAULTS for f in faults):
        ap.error(f"--faults {args.faults}: each one of {', '.join(FAULTS)}")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    t0 = time.monotonic()
    with Soak(args.jobs, seed, args.deadline, faults) as soak:
        soak.run()
        result = summarize(soak.records, soak.figures)
    result.update(seed=seed, seconds=round(time.monotonic() - t0, 1), deadline=args.deadline,
                  when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**result, "records": soak.records}, indent=1) + "\n")
    print(f"\nsoak: {result['jobs']} jobs in {result['seconds']} s (seed {seed}, deadline {args.deadline} s)")
    print(f"  proof on the first try {result['proofs_first_try']}, failed then retried "
          f"{result['failed_then_retried']}, lost {result['lost']}, failures naming no node "
          f"{result['unnamed_failures']}")
    print("  " + ", ".join(f"{k} {v}" for k, v in result["by_fault"].items()))
    print(f"  {'node':6} {'RSS MB warm/last/max':>22} {'fds warm/last/max':>18} {'jobs since start':>17} "
          f"{'restarts':>9}   (warm: after {WARM_JOBS} jobs since its last start)")
    for n, f in result["nodes"].items():
        print(f"  {n:6} {'/'.join(map(str, f['rss_mb_warm_last_max'])):>22} "
              f"{'/'.join(map(str, f['fds_warm_last_max'])):>18} {f['jobs_since_start']:>17} {f['restarts']:>9}")
    return 1 if result["lost"] or result["unnamed_failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
