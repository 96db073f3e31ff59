"""bench/e2e.py end to end at a tiny size on the CPU engine: synthetic key, single-party
proof, a 3-node network on loopback, throughput with jobs in flight, JSON and proof out.
The GPU figures come from the same script (bench/RESULTS.md); this keeps it working."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    thr = res["threshold"]  # --mode both is the default: threshold t=1 on its own three nodes
    assert set(thr["node_steps"]) == {"node1", "node2", "node3"} and set(thr["bytes_sent"].values()) == {0}
    assert all("exchange" not in steps and "msm_g1" in steps for steps in thr["node_steps"].values())
    # the additive client deals ahead (the bench's clients do): its job sends one witness,
    # the threshold job (N − t) = 2 witnesses and a seed
    assert thr["mode"] == "threshold t=1" and thr["upload_bytes"] == 2 * net["upload_bytes"] + 32
    assert "2^6" in r.stdout and "threshold t=1" in r.stdout and "additive" in r.stdout
    vkey = read_vkey(keep / "verification_key_2e6.json")
    verdict = verify(vkey, read_public(keep / "public_2e6.json"), read_proof(keep / "proof_2e6.json"))
    assert verdict, verdict.reason


def _e2e():
    # e2e.py puts bench/ on sys.path for its own run, where bench/gpu_msm.py would shadow
    # the gpu_msm package for the rest of this session
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("bench_e2e", ROOT / "bench" / "e2e.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path[:] = saved
    return mod


e2e = _e2e()

# the shape bench_network and bench_single write, with the step names a 2^6 run reports
NODE_STEPS = ["material", "expand", "matvec", "ntt", "exchange", "exchange.send opened",
              "exchange.wait opened", "exchange.send shares", "exchange.wait shares", "exchange.sum",
              "exchange.encode", "exchange.msms", "exchange.decode", "msm_g1", "msm_g2", "msm_wait"]


def _result(log_n=6, latency=0.072, single_seconds=0.020):
    steps = {"upload": 0.003, "deal": 0.001, "submit": 0.008, "nodes": 0.056, "assembly": 0.003}
    return {"log_n": log_n,
            "single": {"seconds": single_seconds,
                       "stages": {"matvec": 0.0004, "ntt": 0.0005, "msm_g1": 0.005, "msm_g2": 0.002,
                                  "msm_wait": 0.0}},
            "network": {"latency": latency, "steps": steps,
                        "node_steps": {f"node{i}": {k: 0.001 * (i + j) for j, k in enumerate(NODE_STEPS)}
                                       for i in (1, 2, 3)}}}


def test_every_step_gets_its_own_colour():
    results = [_result(6), _result(8)]
    colours = e2e.step_colours(results)
    drawn = {name for r in results for _, segs, _ in e2e.critical_paths(r) for name, _ in segs}
    drawn |= {k for r in results for st in r["network"]["node_steps"].values() for k in st}
    assert drawn <= set(colours)
    assert len(set(colours.values())) == len(colours)
    # the bug this guards: the client's steps and the node steps are more than a
    # 10-colour cycle holds
    assert len(colours) > 10
    assert colours["msm_g2"] != colours["client assembly"] and colours["msm_wait"] != colours["client deal"]


def test_colours_stay_distinct_beyond_the_palette():
    r = _result()
    r["network"]["node_steps"]["node1"].update({f"extra{i}": 0.001 for i in range(2 * len(e2e.PALETTE))})
    colours = e2e.step_colours([r])
    assert len(colours) > len(e2e.PALETTE)
    assert len(set(colours.values())) == len(colours)


@pytest.mark.parametrize("latency", [0.080, 0.060])  # longer than the steps, and shorter
def test_critical_path_is_the_clients_steps_in_order(latency):
    r = _result(latency=latency)
    bars = dict((label, (segs, measured)) for label, segs, measured in e2e.critical_paths(r))
    segs, measured = bars["additive"]
    steps = r["network"]["steps"]
    assert measured == latency
    named = [(n, v) for n, v in segs if n != e2e.UNATTRIBUTED]
    assert named == [(e2e.client_segment(k), v) for k, v in steps.items()]
    total = sum(v for _, v in segs)
    assert total == pytest.approx(max(latency, sum(steps.values())))
    # no node step is stacked on the client's path: they overlap, and would overstate it
    assert not {n for n, _ in segs} & set(NODE_STEPS)
    segs, measured = bars["single"]
    assert sum(v for _, v in segs) == pytest.approx(max(measured, sum(r["single"]["stages"].values())))


def test_threshold_bar_does_not_stack_the_first_output_inside_the_wait():
    r = _result()
    r["threshold"] = {"latency": 0.05, "steps": {"upload": 0.003, "deal": 0.001, "first output": 0.02,
                                                 "assembly": 0.004, "nodes": 0.03},
                      "node_steps": {"node1": {"matvec": 0.001, "msm_g1": 0.01}}}
    bars = {label: segs for label, segs, _ in e2e.critical_paths(r)}
    assert [label for label, _, _ in e2e.critical_paths(r)] == ["single", "additive", "threshold"]
    named = dict(bars["threshold"])
    assert "client first output" not in named and named["client waits on nodes"] == 0.03
    assert e2e.node_work(r["threshold"]) == pytest.approx(0.011)


def test_node_substeps_follow_their_step():
    order = e2e.step_order(NODE_STEPS + ["zeta", "zeta.part"])
    assert sorted(order) == sorted(NODE_STEPS + ["zeta", "zeta.part"])
    i = order.index("exchange")
    assert all(n.startswith("exchange.") for n in order[i + 1:i + 9])
    assert order[-2:] == ["zeta", "zeta.part"]


def test_chart_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    failed = {"log_n": 10, "single": _result()["single"], "network_error": "RuntimeError: x"}
    e2e.chart(tmp_path / "e2e.png", [_result(6), failed])
    assert (tmp_path / "e2e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
