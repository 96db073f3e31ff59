"""bench/single_vs_rapidsnark.py at a size the committed 2^12 ptau covers, with snarkjs's
own prover standing in for rapidsnark (same command line: ZKEY WTNS PROOF PUBLIC), so
that neither the big ptau nor a rapidsnark build is needed."""
from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

import circuit_builder as cb
from prover.snarkjs_json import read_proof, read_public, read_vkey
from prover.verify import verify

BENCH = Path(__file__).resolve().parent.parent / "bench" / "single_vs_rapidsnark.py"
REPS = 2


def _peer(path: Path, npm_tools: cb.NpmTools, tamper: bool = False) -> Path:
    """A stand-in peer: `snarkjs groth16 prove`, or (TAMPER) one whose proof has pi_a and pi_c swapped."""
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, subprocess, sys\n"
        f"subprocess.run([{npm_tools.node!r}, {str(npm_tools.snarkjs)!r}, 'groth16', 'prove', *sys.argv[1:]],"
        " check=True, capture_output=True)\n"
        + ("p = json.load(open(sys.argv[3]))\n"
           "p['pi_a'], p['pi_c'] = p['pi_c'], p['pi_a']\n"
           "json.dump(p, open(sys.argv[3], 'w'))\n" if tamper else ""))
    path.chmod(0o755)
    return path


def _bench(tmp_path: Path, peer: Path, reps: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH), "--circuits", "mul_chain_2e10", "--ptau", str(cb.PTAU),
         "--rapidsnark", str(peer), "--reps", str(reps), "--out", str(tmp_path / "out.json"), *extra],
        capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_bench_times_both_and_our_proof_verifies(tmp_path, npm_tools):
    # this checkout standing in for an earlier one: --before runs it from its folder
    res = _bench(tmp_path, _peer(tmp_path / "peer", npm_tools), REPS, "--before", str(BENCH.parent.parent))
    assert res.returncode == 0, res.stdout + res.stderr
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["ptau_power"] == 12 and result["reps"] == REPS
    [row] = result["rows"]
    assert (row["circuit"], row["constraints"], row["public"], row["domain"]) == ("mul_chain_2e10", 1022, 1, 1024)

    ours, theirs = row["ours"], row["rapidsnark"]
    for side in (ours, theirs):
        assert len(side["runs_s"]) == REPS and all(t > 0 for t in side["runs_s"])
        assert side["median_s"] == statistics.median(side["runs_s"])
    assert row["ratio"] == pytest.approx(ours["median_s"] / theirs["median_s"])
    # coprove's own split fits inside the wall time measured around its process
    assert len(ours["split"]) == REPS
    for split, wall in zip(ours["split"], ours["runs_s"]):
        assert set(split) == {"read_s", "prove_s", "check_s"}
        assert 0 < split["prove_s"] and sum(split.values()) <= wall
    # warm-up + timed runs, each side
    assert {side: len(files) for side, files in row["proofs_verified"].items()} == \
        {"ours": REPS + 1, "before": REPS + 1, "rapidsnark": REPS + 1}
    assert len(row["before"]["runs_s"]) == REPS
    assert len(row["warm"]["runs_s"]) == REPS and row["warm"]["median_s"] == statistics.median(row["warm"]["runs_s"])
    assert row["warm_ratio"] == pytest.approx(row["warm"]["median_s"] / theirs["median_s"])
    assert row["after_over_before"] == pytest.approx(ours["median_s"] / row["before"]["median_s"])
    assert "after/before" in res.stdout

    # independently of the bench's snarkjs check: our last proof, with our verifier
    proof, public = map(Path, row["proofs_verified"]["ours"][-1])
    vkey = read_vkey(Path(row["zkey"]).with_name("verification_key.json"))
    assert verify(vkey, read_public(public), read_proof(proof))

    lines = res.stdout.rstrip().splitlines()
    assert any(line.startswith("| mul_chain_2e10 | 1022 | 2^10 | ") for line in lines), res.stdout
    assert lines[-1].startswith("| mul_chain_2e10 | ") and lines[-1].endswith(
        f"| {row['after_over_before']:.2f} |"), res.stdout
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "out.png").stat().st_size > 0


@pytest.mark.slow
def test_bench_fails_on_a_peer_proof_that_does_not_verify(tmp_path, npm_tools):
    res = _bench(tmp_path, _peer(tmp_path / "bad_peer", npm_tools, tamper=True), 1)
    assert res.returncode != 0
    assert "rapidsnark's proof" in res.stderr and "fails snarkjs groth16 verify" in res.stderr
    assert not (tmp_path / "out.json").exists()


@pytest.mark.slow
def test_default_ptau_is_made_once_and_prepared(tmp_path, npm_tools):
    """The bench's default ptau (cb.make_ptau), at a power small enough for seconds."""
    path = cb.make_ptau(npm_tools, 6, cache=tmp_path)
    assert cb.ptau_power(path) == 6
    with open(path, "rb") as fh:
        assert {12, 13, 14, 15} <= set(cb._read_sections(fh, b"ptau"))  # prepare phase2's sections
    mtime = path.stat().st_mtime_ns
    assert cb.make_ptau(npm_tools, 6, cache=tmp_path) == path and path.stat().st_mtime_ns == mtime
    c = cb.build_circuit(npm_tools, "ptau6_mul_chain", "mul_chain", (30,), {"x": 5}, cache=tmp_path, ptau=path)
    assert c.domain_size == 32 and c.verify()


def test_peer_lookup(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("single_vs_rapidsnark", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.delenv("RAPIDSNARK", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bench.find_peer(None) is None
    prover = tmp_path / "prover"
    prover.write_text("#!/bin/sh\n")
    prover.chmod(0o755)
    assert bench.find_peer(None) == str(prover)
    monkeypatch.setenv("RAPIDSNARK", "/bin/true")
    assert bench.find_peer(None) == "/bin/true"
    with pytest.raises(SystemExit, match="not an executable"):
        bench.find_peer(str(tmp_path / "missing"))
