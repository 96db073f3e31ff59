"""bench/grpc_throughput.py keeps working: a few MB over every path it measures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "grpc_throughput.py"


def test_grpc_throughput_bench_runs(tmp_path):
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, str(BENCH), "--mb", "3", "--submit-mb", "1", "--reps", "1",
                        "--part-mib", "0.5", "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = {row["what"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"grpc 1->1", "grpc 1<->1", "grpc 3 all", "grpc unsigned 1->1", "grpc unsigned 1<->1",
                         "grpc unsigned 3 all", "grpc submit 1 node", "grpc submit 3 nodes", "tls 1->1",
                         "tls 1<->1", "tls 3 all"}
    assert all(row["mb_per_s"] > 0 for row in rows.values())
    assert "grpc 3 all" in r.stdout
