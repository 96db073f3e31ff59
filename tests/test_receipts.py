"""Work receipts: bundles from real daemons verify with the committee file alone, and one
changed byte anywhere in a bundle, the proof or the public inputs is caught."""

from __future__ import annotations

import base64
import dataclasses
import json
import random

import pytest

from cli_helpers import DATA, run_cli
from coordinator_free.client import Client
from coordinator_free.committee import load_committee
from coordinator_free.localnet import LocalNetwork
from coordinator_free.receipts import ReceiptError, verify_bundle, write_bundle
from prover.snarkjs_json import write_proof, write_public

THREE = DATA / "three_public"


@pytest.fixture(scope="module")
def net():
    with LocalNetwork(3) as n:
        yield n


@pytest.fixture(scope="module")
def bundle(net, tmp_path_factory):
    d = tmp_path_factory.mktemp("receipts")
    res = run_cli("prove", THREE / "circuit.zkey", THREE / "witness.wtns", d / "proof.json", d / "public.json",
                  "--committee", net.committee_path, "--receipts", d / "receipts.json")
    assert res.returncode == 0, res.stderr
    assert "receipts written to" in res.stderr and "3 node receipts" in res.stderr
    return d


def _files(d):
    return [(d / n).read_bytes() for n in ("receipts.json", "proof.json", "public.json")]


def test_a_bundle_verifies_with_the_committee_file_alone(net, bundle):
    res = run_cli("receipts", "verify", bundle / "receipts.json", bundle / "proof.json", bundle / "public.json",
                  "--committee", net.committee_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("OK: 3 node receipts for job") and "(additive)" in res.stdout
    body = json.loads((bundle / "receipts.json").read_text())["body"]
    receipts = [json.loads(base64.b64decode(r["receipt"])) for r in body["receipts"]]
    assert sorted(r["index"] for r in receipts) == [0, 1, 2]
    assert all(r["mode"] == "additive" and r["bytes_out"] > 0 and r["msm_sizes"]["h"] == r["domain_size"]
               for r in receipts)


def test_every_flipped_byte_is_caught(net, bundle, test_seed):
    rng = random.Random(test_seed)
    files = _files(bundle)
    committee = load_committee(net.committee_path)
    assert verify_bundle(*files, committee)
    for which, data in enumerate(files):
        # every byte of the proof and public files; a sample of the bundle's
        positions = range(len(data)) if which else rng.sample(range(len(data)), min(len(data), 600))
        for pos in positions:
            changed = bytearray(data)
            changed[pos] ^= rng.randrange(1, 256)
            args = list(files)
            args[which] = bytes(changed)
            with pytest.raises(ReceiptError):
                verify_bundle(*args, committee)


def test_the_cli_names_what_failed(net, bundle, tmp_path):
    raw, proof, public = _files(bundle)
    cases = {
        "proof": (raw, proof.replace(b"1", b"2", 1), public, "proof file: SHA-256"),
        "public": (raw, proof, public + b" ", "public file: SHA-256"),
        "bundle": (raw.replace(b'"excluded":[]', b'"excluded":[ ]'), proof, public, "canonical form"),
    }
    for name, (r, p, q, words) in cases.items():
        for f, data in (("r.json", r), ("p.json", p), ("q.json", q)):
            (tmp_path / f).write_bytes(data)
        res = run_cli("receipts", "verify", tmp_path / "r.json", tmp_path / "p.json", tmp_path / "q.json",
                      "--committee", net.committee_path)
        assert res.returncode == 1 and res.stdout.startswith("INVALID:") and words in res.stdout, (name, res.stdout)
    res = run_cli("receipts", "verify", tmp_path / "none.json", tmp_path / "p.json", tmp_path / "q.json",
                  "--committee", net.committee_path)
    assert res.returncode == 2 and "none.json" in res.stderr


def test_a_forged_or_foreign_receipt_is_named(net, bundle, tmp_path):
    raw, proof, public = _files(bundle)
    committee = load_committee(net.committee_path)
    # a committee without this client: the client's signature is not trusted
    with pytest.raises(ReceiptError, match="is not a client of this committee"):
        verify_bundle(raw, proof, public, dataclasses.replace(committee, trusted_clients=[], client_cert=None))
    # a committee without node2: its receipt is named
    others = [m for m in committee.nodes if m.name != "node2"]
    with pytest.raises(ReceiptError, match=r"receipts\[\d\] \(node2\): .* is not a node or spare"):
        verify_bundle(raw, proof, public, dataclasses.replace(committee, nodes=others))
    # the client re-signs a bundle whose receipt it altered: the node's signature catches it
    doc = json.loads(raw)
    body = doc["body"]
    r = json.loads(base64.b64decode(body["receipts"][1]["receipt"]))
    r["bytes_out"] += 1
    forged = [(e["node"], e["fingerprint"], base64.b64decode(e["receipt"]), base64.b64decode(e["signature"]))
              for e in body["receipts"]]
    forged[1] = (*forged[1][:2], json.dumps(r, sort_keys=True, separators=(",", ":")).encode(), forged[1][3])
    (tmp_path / "proof.json").write_bytes(proof)
    (tmp_path / "public.json").write_bytes(public)
    write_bundle(tmp_path / "forged.json", identity=committee.client_identity(), job_id=bytes.fromhex(body["job"]),
                 circuit=body["circuit"], mode=body["mode"], receipts=forged, excluded=[],
                 proof_path=tmp_path / "proof.json", public_path=tmp_path / "public.json")
    with pytest.raises(ReceiptError, match=rf"receipts\[1\] \({forged[1][0]}\): the node's signature does not verify"):
        verify_bundle((tmp_path / "forged.json").read_bytes(), proof, public, committee)


def test_receipts_need_a_committee(tmp_path):
    res = run_cli("prove", THREE / "circuit.zkey", THREE / "witness.wtns", tmp_path / "p.json", tmp_path / "q.json",
                  "--local", "3", "--receipts", tmp_path / "r.json")
    assert res.returncode == 2 and "--committee" in res.stderr and not (tmp_path / "r.json").exists()


def test_threshold_bundle_names_the_node_left_out(tmp_path):
    """Four nodes, t = 1: node2 returns a wrong MSM (node3 and node4 stall, so it is among
    the first three outputs); the proof comes from the others, node2 gets no receipt and is
    named, and the bundle verifies."""
    stall = ["--fault", "start:stall"]
    with LocalNetwork(4, threshold=1, node_args={"node2": ["--misbehave", "wrong-msm"], "node3": stall,
                                                 "node4": stall}) as net:
        with Client(net.committee, deadline_s=60) as client:
            proof, public, summary = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
        write_proof(tmp_path / "p.json", proof.pi_a, proof.pi_b, proof.pi_c)
        write_public(tmp_path / "q.json", public)
        write_bundle(tmp_path / "r.json", identity=net.committee.client_identity(), job_id=summary.job_id,
                     circuit=summary.circuit, mode=summary.mode, receipts=summary.receipts,
                     excluded=summary.excluded, proof_path=tmp_path / "p.json", public_path=tmp_path / "q.json")
        res = run_cli("receipts", "verify", tmp_path / "r.json", tmp_path / "p.json", tmp_path / "q.json",
                      "--committee", net.committee_path)
    assert summary.blamed == ["node2"]
    assert sorted(n for n, *_ in summary.receipts) == ["node1", "node3", "node4"]
    assert res.returncode == 0 and "(threshold t=1)" in res.stdout, res.stdout + res.stderr
    assert "no receipt: node2 (its output was off" in res.stdout
