"""Threshold mode on real daemons (loopback, pinned mutual TLS): proofs that snarkjs and
py_ecc accept, nodes that exchange nothing (counted on the wire), and one job surviving a
crashed, a hung and a lying node."""

from __future__ import annotations

import dataclasses
import secrets
import time

import grpc
import pytest

import circuit_builder as cb
from cli_helpers import DATA, run_cli
from cme.shamir import deal_shamir
from cme.shamir_material import shamir_buffers
from coordinator_free import identity as ident
from coordinator_free.client import Client
from coordinator_free.committee import Sharing
from coordinator_free.localnet import LocalNetwork
from coordinator_free.mesh import SERVER_NAME
from gpu_msm.constants import FR_MODULUS
from prover.plain import prove_single
from prover.snarkjs_json import read_proof, read_public, read_vkey, write_proof, write_public
from prover.verify import verify_py_ecc
from prover.wtns import read_wtns
from prover.zkey import read_zkey
from protos import coprove_pb2 as pb
from protos import coprove_pb2_grpc as rpc
from tcp_proxy import Proxy

THREE = DATA / "three_public"
CHAIN = DATA / "mul_chain_2e10"
SHAPES = [(3, 1), (4, 1), (5, 2)]


@pytest.fixture(scope="module")
def net():
    with LocalNetwork(5, threshold=2) as n:
        yield n


def _committee(net, n: int, t: int | None):
    """The network's first n nodes, in threshold mode t (None: additive).  The nodes take
    either mode; only the client's committee says which it deals."""
    sharing = Sharing() if t is None else Sharing("shamir", t)
    return dataclasses.replace(net.committee, nodes=list(net.committee.nodes[:n]), sharing=sharing)


def _both_verifiers(npm_tools, vkey_path, proof, public, tmp_path) -> None:
    pp, pubp = tmp_path / "proof.json", tmp_path / "public.json"
    write_proof(pp, proof.pi_a, proof.pi_b, proof.pi_c)
    write_public(pubp, public)
    assert cb.snarkjs_verify(npm_tools, vkey_path, pubp, pp)
    assert verify_py_ecc(read_vkey(vkey_path), public, (proof.pi_a, proof.pi_b, proof.pi_c))


@pytest.mark.slow
@pytest.mark.parametrize("n,t", SHAPES)
@pytest.mark.parametrize("fixture", [THREE, CHAIN], ids=["three_public", "mul_chain_2e10"])
def test_threshold_network_proofs_pass_snarkjs_and_py_ecc(net, fixture, n, t, npm_tools, tmp_path):
    r, s = secrets.randbelow(FR_MODULUS), secrets.randbelow(FR_MODULUS)
    with Client(_committee(net, n, t), fixed_blinding=(r, s)) as client:
        proof, public, summary = client.prove(fixture / "circuit.zkey", fixture / "witness.wtns")
    zkey, wtns = read_zkey(fixture / "circuit.zkey"), read_wtns(fixture / "witness.wtns")
    assert proof == prove_single(zkey, wtns, r, s, "reference")[0]
    _both_verifiers(npm_tools, fixture / "verification_key.json", proof, public, tmp_path)
    assert summary.blamed == [] and set(summary.bytes_sent.values()) == {0}
    # upload: the circuit aside, N − t witnesses and t seeds
    assert summary.upload_bytes == (n - t) * zkey.n_vars * 32 + t * 32


@pytest.mark.slow
@pytest.mark.parametrize("n,t", SHAPES)
def test_threshold_network_fresh_circuits(net, fresh_circuits, n, t, npm_tools, tmp_path):
    with Client(_committee(net, n, t)) as client:
        for name, c in fresh_circuits.items():
            proof, public, _ = client.prove(c.zkey, c.wtns)
            _both_verifiers(npm_tools, c.vkey, proof, public, tmp_path)


def test_cli_prove_committee_in_threshold_mode(net, npm_tools, tmp_path):
    pp, pubp = tmp_path / "proof.json", tmp_path / "public.json"
    res = run_cli("prove", str(CHAIN / "circuit.zkey"), str(CHAIN / "witness.wtns"), str(pp), str(pubp),
                  "--committee", str(net.committee_path))
    assert res.returncode == 0, res.stderr
    assert "threshold mode, t = 2, nothing sent between nodes" in res.stderr
    assert cb.snarkjs_verify(npm_tools, CHAIN / "verification_key.json", pubp, pp)
    res = run_cli("prove", str(CHAIN / "circuit.zkey"), str(CHAIN / "witness.wtns"), str(pp), str(pubp),
                  "--committee", str(net.committee_path), "--threshold", "1")
    assert res.returncode == 2 and "[sharing]" in res.stderr


def test_nodes_exchange_nothing_counted_on_the_wire():
    """Every node sits behind a proxy that counts the connections made to it: in a
    threshold job only the client dials a node.  The same count on an additive job (the
    control) sees the peers dial each other, so the count can fail."""
    proxies = {}

    def advertise(name, address):
        proxies[name] = Proxy(address)
        return proxies[name].address

    with LocalNetwork(3, advertise=advertise, threshold=1) as net:
        try:
            before = {k: p.accepted for k, p in proxies.items()}
            with Client(net.committee) as client:
                proof, public, summary = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
            assert verify_py_ecc(read_vkey(THREE / "verification_key.json"), public,
                                 (proof.pi_a, proof.pi_b, proof.pi_c))
            assert {k: p.accepted - before[k] for k, p in proxies.items()} == {k: 1 for k in proxies}
            before = {k: p.accepted for k, p in proxies.items()}
            with Client(dataclasses.replace(net.committee, sharing=Sharing())) as client:
                client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
            assert all(p.accepted - before[k] >= 3 for k, p in proxies.items())  # the client and two peers
        finally:
            for p in proxies.values():
                p.close()


def _five(node_args):
    return LocalNetwork(5, threshold=1, node_args=node_args)


# Two honest nodes stall 5 s at the start, so the lying node's output is among the first
# three to arrive: the first recombination fails and the client must find the lie.
_STALLED = {"node4": ["--fault", "start:stall"], "node5": ["--fault", "start:stall"]}


@pytest.mark.slow
def test_a_crashed_and_a_lying_node_are_survived_in_one_job(npm_tools, tmp_path):
    with _five({"node1": ["--fault", "start:crash"], "node2": ["--misbehave", "wrong-msm"], **_STALLED}) as net:
        with Client(net.committee, deadline_s=60) as client:
            proof, public, summary = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
        _both_verifiers(npm_tools, THREE / "verification_key.json", proof, public, tmp_path)
        assert summary.attempts == 1  # no re-deal
        assert summary.blamed == ["node2"] and summary.missing == ["node1"]
        assert any("node1" in f for f in summary.failures)


@pytest.mark.slow
def test_a_hung_and_a_lying_node_are_survived_and_the_hung_one_is_not_waited_for(npm_tools, tmp_path):
    with _five({"node1": ["--fault", "start:hang"], "node2": ["--misbehave", "wrong-msm"], **_STALLED}) as net:
        t0 = time.monotonic()
        with Client(net.committee, deadline_s=120) as client:
            proof, public, summary = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
        assert time.monotonic() - t0 < 60  # the hung node holds up neither the proof nor close()
        _both_verifiers(npm_tools, THREE / "verification_key.json", proof, public, tmp_path)
        assert summary.blamed == ["node2"] and summary.missing == ["node1"]


def test_a_spare_stands_in_for_a_node_unreachable_at_submission():
    with LocalNetwork(3, n_spares=1, threshold=1) as net:
        net.kill("node2")
        net.procs["node2"].wait(10)
        with Client(net.committee) as client:
            proof, public, summary = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
        assert verify_py_ecc(read_vkey(THREE / "verification_key.json"), public,
                             (proof.pi_a, proof.pi_b, proof.pi_c))
        assert set(summary.node_steps) == {"node1", "node3", "node4"}
        assert any("node2" in f and "upload" in f for f in summary.failures)


def test_a_node_hung_before_the_job_is_not_waited_for():
    """A node that answers nothing when the job is handed out (SIGSTOP) holds up the job
    only for a short grace once the others have answered, not for the call's timeout; a
    spare stands in."""
    import signal
    with LocalNetwork(3, n_spares=1, threshold=1) as net:
        with Client(net.committee) as client:
            client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")  # the circuit is everywhere
        net.kill("node2", signal.SIGSTOP)
        t0 = time.monotonic()
        with Client(net.committee, rpc_seconds=30) as client:
            proof, public, summary = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
        assert time.monotonic() - t0 < 15
        assert verify_py_ecc(read_vkey(THREE / "verification_key.json"), public,
                             (proof.pi_a, proof.pi_b, proof.pi_c))
        assert set(summary.node_steps) == {"node1", "node3", "node4"}
        assert any("node2" in f and "no answer within" in f for f in summary.failures), summary.failures


def _stub(net, name):
    node = net.committee.member(name)
    ch = grpc.secure_channel(node.address, ident.channel_credentials(net.committee.client_identity(), node.cert_pem),
                             options=ident.channel_options(SERVER_NAME))
    return ch, rpc.NodeStub(ch)


def test_bad_threshold_submissions_are_refused_and_the_node_serves(net):
    with Client(_committee(net, 3, 1)) as client:
        client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")  # circuit uploaded
    zkey, wtns = read_zkey(THREE / "circuit.zkey"), read_wtns(THREE / "witness.wtns")
    materials = deal_shamir(wtns.values, 3, 1)
    parties = [pb.Party(index=i, name=m.name, address=m.address, fingerprint=m.fingerprint)
               for i, m in enumerate(net.committee.nodes[:3])]
    job_id = secrets.token_bytes(16)

    def manifest(size, threshold=1, n=3):
        return pb.JobPart(manifest=pb.JobManifest(
            job_id=job_id, circuit_sha256=zkey.sha256, n_parties=n, party_index=1, parties=parties[:n],
            deadline_unix_ms=int((time.time() + 60) * 1000), material_size=size, threshold=threshold))

    head, share = shamir_buffers(materials[1])
    size = len(head) + len(share)
    ch, stub = _stub(net, "node2")
    cases = [
        ([manifest(size, threshold=2)], "threshold 2 needs at least 5 parties"),
        ([manifest(size), pb.JobPart(material=bytes(head)), pb.JobPart(material=bytes(share[:64]))],
         f"is {len(head) + 64} bytes, expected {size} for party 1"),
        ([manifest(size), pb.JobPart(material=b"CMEM" + bytes(head[4:])), pb.JobPart(material=bytes(share))],
         "bad header"),
        ([manifest(size), pb.JobPart(material=bytes(head)), pb.JobPart(material=b"\xff" * 32 + bytes(share[32:]))],
         "element 0 is not below the field modulus"),
        ([manifest(size + 32)], f"expected {size}"),
    ]
    for parts, words in cases:
        with pytest.raises(grpc.RpcError) as e:
            stub.SubmitJob(iter(parts), timeout=30)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in e.value.details(), e.value.details()
    # a peer part sent to a threshold job is refused unread
    stub.SubmitJob(iter([manifest(size), pb.JobPart(material=bytes(head) + bytes(share))]), timeout=30)
    peer = net.committee.member("node1")
    peer_id = ident.load_identity(net.keys / "node1.key", net.keys / "node1.crt")
    pch = grpc.secure_channel(net.committee.member("node2").address,
                              ident.channel_credentials(peer_id, net.committee.member("node2").cert_pem),
                              options=ident.channel_options(SERVER_NAME))
    with pytest.raises(grpc.RpcError) as e:
        rpc.NodeStub(pch).PeerSend(pb.PeerChunk(job_id=job_id, sender=0, seq=0, part=0, n_parts=1, data=b"x"),
                                   timeout=10)
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "exchange nothing" in e.value.details()
    assert peer.fingerprint == peer_id.fingerprint
    res = stub.FetchResult(pb.JobRef(job_id=job_id), timeout=60)
    assert res.bytes_sent == 0 and res.bytes_received == 0 and res.output
    pch.close()
    ch.close()
    with Client(_committee(net, 3, 1)) as client:
        proof, public, _ = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    assert verify_py_ecc(read_vkey(THREE / "verification_key.json"), public, (proof.pi_a, proof.pi_b, proof.pi_c))


def test_demo_threshold_runs_the_mode_on_local_daemons(tmp_path):
    res = run_cli("demo", "--threshold", "1", "--nodes", "4", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    assert "starting 4 nodes" in res.stderr and "threshold mode, t = 1" in res.stderr
    assert "coprove verify: OK" in res.stderr
    vkey = read_vkey(DATA / "mul_chain_2e10" / "verification_key.json")
    assert verify_py_ecc(vkey, read_public(tmp_path / "public.json"), read_proof(tmp_path / "proof.json"))
    for args, words in ((("--threshold", "2", "--nodes", "4"), "needs at least 5 parties"),
                        (("--threshold", "0"), "at least 1"),
                        (("--single", "--threshold", "1"), "--single proves in this process")):
        res = run_cli("demo", *args, "--out", tmp_path)
        assert res.returncode == 2 and words in res.stderr and "Traceback" not in res.stderr, res.stderr
