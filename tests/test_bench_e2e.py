"""bench/e2e.py end to end at a tiny size on the CPU engine: synthetic key, single-party
proof, a 3-node network on loopback, throughput with jobs in flight, JSON and proof out.
The GPU figures come from the same script (bench/RESULTS.md); this keeps it working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prover.snarkjs_json import read_proof, read_public, read_vkey
from prover.verify import verify

ROOT = Path(__file__).resolve().parent.parent


def test_e2e_bench_runs_and_its_proof_verifies(tmp_path):
    out = tmp_path / "e2e.json"
    keep = tmp_path / "proofs"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "e2e.py"), "--sizes", "6", "--engine", "cpu",
                        "--reps", "1", "--jobs", "2", "--inflight", "2", "--cache", str(tmp_path / "cache"),
                        "--out", str(out), "--keep-proof", str(keep)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(out.read_text())
    (res,) = doc["results"]
    assert res["log_n"] == 6 and res["single"]["seconds"] > 0
    net = res["network"]
    assert set(net["node_steps"]) == {"node1", "node2", "node3"}
    assert all("exchange" in steps and "msm_g1" in steps for steps in net["node_steps"].values())
    assert net["throughput"]["jobs"] == 2 and net["throughput"]["proofs_per_minute"] > 0
    assert "2^6" in r.stdout
    vkey = read_vkey(keep / "verification_key_2e6.json")
    verdict = verify(vkey, read_public(keep / "public_2e6.json"), read_proof(keep / "proof_2e6.json"))
    assert verdict, verdict.reason
