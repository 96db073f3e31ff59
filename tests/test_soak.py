"""bench/soak.py's 40-job version: a 5-node CPU network, both modes, a random fault in most
jobs; no job is lost and every failure names a node (the 300-job figures: bench/RESULTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "soak.py"


def test_soak_40_jobs_loses_none(tmp_path, test_seed):
    out = tmp_path / "soak.json"
    r = subprocess.run([sys.executable, str(BENCH), "--jobs", "40", "--seed", str(test_seed), "--out", str(out)],
                       capture_output=True, text=True, timeout=900)
    doc = json.loads(out.read_text())
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert doc["jobs"] == 40 and doc["lost"] == 0 and doc["unnamed_failures"] == 0
    struck = [rec for rec in doc["records"] if rec["fault"] != "none" and rec["fault_struck"]]
    assert len(struck) >= 10, "most jobs must meet a fault"  # ~4 in 5 draw one; a few strike after the job
    for rec in doc["records"]:
        assert rec["outcome"] == "proof" or rec.get("retry") == "proof", rec
