"""Real daemons on loopback with real mutual TLS: proofs, refusals, failures, concurrency."""

from __future__ import annotations

import hashlib
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

import circuit_builder as cb
from cli_helpers import DATA, run_cli
from cme.local_run import prove_local
from coordinator_free import __version__
from coordinator_free import identity as ident
from coordinator_free.client import Client, NodeFailed
from coordinator_free.localnet import LocalNetwork
from coordinator_free.mesh import SERVER_NAME
from prover.bn254 import FR_MODULUS
from prover.plain import prove_single
from prover.snarkjs_json import read_proof, read_public, read_vkey, write_proof, write_public
from prover.verify import verify
from prover.wtns import read_wtns
from prover.zkey import read_zkey
from protos import coprove_pb2 as pb
from protos import coprove_pb2_grpc as rpc

ROOT = Path(__file__).resolve().parent.parent
THREE = DATA / "three_public"
CHAIN = DATA / "mul_chain_2e10"


def test_generated_stubs_are_current(tmp_path):
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{ROOT}", f"--python_out={tmp_path}",
                    f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", str(ROOT / "protos" / "coprove.proto")],
                   check=True)
    for name in ("coprove_pb2.py", "coprove_pb2.pyi", "coprove_pb2_grpc.py"):
        fresh = (tmp_path / "protos" / name).read_text()
        assert fresh == (ROOT / "protos" / name).read_text(), (
            f"protos/{name} is stale: regenerate with python -m grpc_tools.protoc -I. --python_out=. "
            "--pyi_out=. --grpc_python_out=. protos/coprove.proto")


@pytest.fixture(scope="module")
def net():
    with LocalNetwork(3, extra_args=["--metrics", "127.0.0.1:0"]) as n:
        yield n


def _check(proof, public, vkey_path):
    return verify(read_vkey(vkey_path), public, (proof.pi_a, proof.pi_b, proof.pi_c))


def _stub(net, name, identity=None, cert=None):
    node = net.committee.member(name)
    identity = identity or net.committee.client_identity()
    ch = grpc.secure_channel(node.address, ident.channel_credentials(identity, cert or node.cert_pem),
                             options=ident.channel_options(SERVER_NAME))
    return ch, rpc.NodeStub(ch)


@pytest.mark.slow
@pytest.mark.parametrize("fixture", [THREE, CHAIN], ids=["three_public", "mul_chain_2e10"])
def test_network_proof_passes_snarkjs(net, fixture, npm_tools, tmp_path):
    with Client(net.committee) as client:
        proof, public, summary = client.prove(fixture / "circuit.zkey", fixture / "witness.wtns")
    pp, pubp = tmp_path / "proof.json", tmp_path / "public.json"
    write_proof(pp, proof.pi_a, proof.pi_b, proof.pi_c)
    write_public(pubp, public)
    assert cb.snarkjs_verify(npm_tools, fixture / "verification_key.json", pubp, pp)
    assert summary.attempts == 1 and set(summary.node_steps) == {"node1", "node2", "node3"}


@pytest.mark.parametrize("fixture", [THREE, CHAIN], ids=["three_public", "mul_chain_2e10"])
def test_network_local_and_snarkjs_agree_for_the_same_r_s(net, fixture):
    """One protocol, two drivers: the committee's proof, --local's and snarkjs's fixed-r,s
    proof (the fixture, made by snarkjs with r = 12345, s = 67890) are the same points, and
    so is the single-party prover's."""
    r, s = 12345, 67890
    expected = read_proof(fixture / "proof_r12345_s67890.json")
    with Client(net.committee, fixed_blinding=(r, s)) as client:
        network, public, _ = client.prove(fixture / "circuit.zkey", fixture / "witness.wtns")
    zkey, wtns = read_zkey(fixture / "circuit.zkey"), read_wtns(fixture / "witness.wtns")
    local, local_public, _ = prove_local(zkey, wtns, 3, r, s, engine="cpu")
    single, single_public = prove_single(zkey, wtns, r, s, engine="cpu")
    assert public == local_public == single_public == read_public(fixture / "public.json")
    for proof in (network, local, single):
        assert (proof.pi_a, proof.pi_b, proof.pi_c) == tuple(expected)


@pytest.mark.slow
def test_network_fresh_circuits(net, fresh_circuits, tmp_path):
    with Client(net.committee) as client:
        for name, c in fresh_circuits.items():
            proof, public, _ = client.prove(c.zkey, c.wtns)
            pp, pubp = tmp_path / f"{name}.json", tmp_path / f"{name}_public.json"
            write_proof(pp, proof.pi_a, proof.pi_b, proof.pi_c)
            write_public(pubp, public)
            assert c.verify(pp, pubp), name


@pytest.mark.slow
def test_cli_prove_committee(net, npm_tools, tmp_path):
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    res = run_cli("prove", THREE / "circuit.zkey", THREE / "witness.wtns", proof, public,
                  "--committee", net.committee_path)
    assert res.returncode == 0, res.stderr
    for step in ("upload", "submit", "local work", "assembly"):
        assert step in res.stderr
    assert cb.snarkjs_verify(npm_tools, THREE / "verification_key.json", public, proof)


def test_five_concurrent_jobs_all_verify(net):
    with Client(net.committee) as client:
        client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")  # upload once, outside the race
        with ThreadPoolExecutor(6) as pool:
            futs = [pool.submit(client.prove, THREE / "circuit.zkey", THREE / "witness.wtns") for _ in range(5)]
            futs.append(pool.submit(client.prove, CHAIN / "circuit.zkey", CHAIN / "witness.wtns"))
            results = [f.result(timeout=300) for f in futs]
    for i, (proof, public, _) in enumerate(results):
        assert _check(proof, public, (CHAIN if i == 5 else THREE) / "verification_key.json")


def test_unpinned_client_is_refused(net, tmp_path):
    stranger = ident.generate_identity(tmp_path, "stranger")
    ch, stub = _stub(net, "node1", identity=stranger)
    with pytest.raises(grpc.RpcError) as e:
        stub.HasCircuit(pb.CircuitRef(sha256="0" * 64), timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    ch.close()


def test_plaintext_is_refused(net):
    ch = grpc.insecure_channel(net.addresses["node1"])
    with pytest.raises(grpc.RpcError) as e:
        rpc.NodeStub(ch).HasCircuit(pb.CircuitRef(sha256="0" * 64), timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    ch.close()


def test_client_refuses_an_impostor_node(net, tmp_path):
    # the client pins node2's certificate but dials node1: the handshake must fail
    ch, stub = _stub(net, "node1", cert=net.committee.member("node2").cert_pem)
    with pytest.raises(grpc.RpcError) as e:
        stub.HasCircuit(pb.CircuitRef(sha256="0" * 64), timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    ch.close()


def test_node_certificate_cannot_use_client_calls_or_impersonate_peers(net):
    # node2's own identity is pinned by node1 (as a peer) but is not a trusted client
    node2 = ident.load_identity(net.keys / "node2.key", net.keys / "node2.crt")
    ch, stub = _stub(net, "node1", identity=node2)
    with pytest.raises(grpc.RpcError) as e:
        stub.HasCircuit(pb.CircuitRef(sha256="0" * 64), timeout=10)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as e:
        stub.PeerSend(pb.PeerChunk(job_id=bytes(16), sender=0, n_parts=1, data=b"x"), timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    ch.close()


def test_bad_requests_get_clear_errors_and_the_node_keeps_serving(net):
    ch, stub = _stub(net, "node1")
    bad = [
        (lambda: stub.HasCircuit(pb.CircuitRef(sha256="xyz"), timeout=10), grpc.StatusCode.INVALID_ARGUMENT, "SHA-256"),
        (lambda: stub.FetchResult(pb.JobRef(job_id=secrets.token_bytes(16)), timeout=10),
         grpc.StatusCode.NOT_FOUND, "unknown job"),
        (lambda: stub.SubmitJob(iter([pb.JobPart(material=b"x")]), timeout=10),
         grpc.StatusCode.INVALID_ARGUMENT, "manifest"),
        (lambda: stub.SubmitJob(iter([pb.JobPart(manifest=pb.JobManifest(
            job_id=bytes(16), circuit_sha256="a" * 64, n_parties=3))]), timeout=10),
         grpc.StatusCode.FAILED_PRECONDITION, "upload it first"),
    ]
    # a garbage "zkey" whose hash is right: refused by the zkey reader, nothing stored
    junk = secrets.token_bytes(5000)
    sha = hashlib.sha256(junk).hexdigest()
    bad.append((lambda: stub.UploadCircuit(iter([pb.CircuitChunk(sha256=sha, total_size=len(junk), data=junk)]),
                                           timeout=10), grpc.StatusCode.INVALID_ARGUMENT, "zkey"))
    for call, code, words in bad:
        with pytest.raises(grpc.RpcError) as e:
            call()
        assert e.value.code() == code and words in e.value.details(), (code, e.value.details())
    assert not stub.HasCircuit(pb.CircuitRef(sha256=sha), timeout=10).present
    ch.close()
    with Client(net.committee) as client:
        proof, public, _ = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    assert _check(proof, public, THREE / "verification_key.json")


def test_wrong_material_size_is_refused(net):
    with Client(net.committee) as client:
        client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")  # circuit uploaded
    from prover.zkey import read_zkey
    sha = read_zkey(THREE / "circuit.zkey").sha256
    ch, stub = _stub(net, "node1")
    me = net.committee.member("node1")
    parties = [pb.Party(index=i, name=m.name, address=m.address, fingerprint=m.fingerprint)
               for i, m in enumerate(net.committee.nodes)]
    manifest = pb.JobManifest(job_id=secrets.token_bytes(16), circuit_sha256=sha, n_parties=3, party_index=0,
                              parties=parties, deadline_unix_ms=int((time.time() + 60) * 1000), material_size=10)
    with pytest.raises(grpc.RpcError) as e:
        stub.SubmitJob(iter([pb.JobPart(manifest=manifest)]), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "material" in e.value.details()
    assert me.fingerprint == parties[0].fingerprint
    ch.close()


def test_upload_resumes_from_a_partial_file():
    with LocalNetwork(2) as net:
        zkey = CHAIN / "circuit.zkey"
        data = zkey.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        ch, stub = _stub(net, "node2")
        assert not stub.HasCircuit(pb.CircuitRef(sha256=sha), timeout=10).present
        half = len(data) // 2
        state = stub.UploadCircuit(iter([pb.CircuitChunk(sha256=sha, total_size=len(data), data=data[:half])]),
                                   timeout=10)
        assert not state.present and state.bytes_received == half
        # a chunk at the wrong offset is refused, and says where to resume
        with pytest.raises(grpc.RpcError) as e:
            stub.UploadCircuit(iter([pb.CircuitChunk(sha256=sha, total_size=len(data), offset=0, data=data[:10])]),
                               timeout=10)
        assert f"resume from {half}" in e.value.details()
        ch.close()
        lines = []
        with Client(net.committee, progress=lambda step, detail: lines.append(detail)) as client:
            proof, public, _ = client.prove(zkey, CHAIN / "witness.wtns")
        assert any(f"node2: sending {len(data) - half} bytes" in line for line in lines), lines
        assert any(f"node1: sending {len(data)} bytes" in line for line in lines), lines
        assert _check(proof, public, CHAIN / "verification_key.json")


def test_metrics_and_job_logs(net):
    with Client(net.committee) as client:
        client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    line = next(l for l in net.logs["node1"] if "listening on" in l)
    assert f"(coprove {__version__}, engine cpu)" in line, line
    port = int(re.search(r"metrics on port (\d+)", line).group(1))
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    assert f'coprove_build_info{{version="{__version__}"}} 1.0' in text, text[:2000]
    assert re.search(r'coprove_jobs_total\{outcome="done"\} [1-9]', text), text[:2000]
    assert "coprove_step_seconds_bucket" in text and "coprove_peer_bytes_sent_total" in text
    steps = [l for l in net.logs["node1"] if re.search(r"job=[0-9a-f]{12} party=\d step=", l)]
    assert any("step=msm_g1" in l for l in steps) and any("step=done" in l for l in steps)


def _kill_when_working(net, name, delay):
    def progress(step, detail):
        if step == "local work":
            threading.Timer(delay, net.kill, args=(name,)).start()
    return progress


def test_killing_a_node_mid_job_fails_fast_naming_it():
    # node2 stalls in round 1 (a slow node): the kill surely lands while the job runs
    with LocalNetwork(3, node_args={"node2": ["--fault", "exchange:stall"]}) as net:
        t0 = time.monotonic()
        with Client(net.committee, deadline_s=600, progress=_kill_when_working(net, "node2", 0.5)) as client:
            with pytest.raises(NodeFailed) as e:
                client.prove(CHAIN / "circuit.zkey", CHAIN / "witness.wtns")
        assert e.value.node.name == "node2", str(e.value)
        assert time.monotonic() - t0 < 30, "the client must fail well before the 600 s deadline"


def test_killed_node_is_replaced_by_a_spare():
    with LocalNetwork(3, n_spares=1, node_args={"node2": ["--fault", "exchange:stall"]}) as net:
        steps = []

        def progress(step, detail):
            steps.append((step, detail))
            if step == "local work" and len([s for s in steps if s[0] == "local work"]) == 1:
                threading.Timer(0.5, net.kill, args=("node2",)).start()

        with Client(net.committee, progress=progress) as client:
            proof, public, summary = client.prove(CHAIN / "circuit.zkey", CHAIN / "witness.wtns")
        assert summary.attempts == 2 and "node2" in summary.failures[0]
        assert any(s == "re-deal" and "node4" in d for s, d in steps)
        assert set(summary.node_steps) == {"node1", "node3", "node4"}
        assert _check(proof, public, CHAIN / "verification_key.json")


def test_sigterm_stops_a_node_cleanly():
    with LocalNetwork(2) as net:
        p = net.procs["node1"]
        net.kill("node1", sig=15)
        assert p.wait(20) == 0


def test_health_service_reports_serving(net):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    ch, _ = _stub(net, "node1")
    for service in ("", "coprove.v1.Node"):
        reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    ch.close()


def test_registry_keeps_a_bounded_number_of_circuits_loaded(tmp_path):
    import shutil

    from coordinator_free.registry import CircuitRegistry, file_sha256
    reg = CircuitRegistry(tmp_path, max_bytes=1 << 30, max_loaded=2)
    shas = []
    for i in range(4):
        # distinct files, same valid key: readers ignore bytes past the last section
        data = (THREE / "circuit.zkey").read_bytes() + bytes([i])
        sha = hashlib.sha256(data).hexdigest()
        reg.append(sha, len(data), 0, data)
        reg.finish(sha, len(data))
        shas.append(sha)
        assert reg.get(sha).n_public == 3
    assert list(reg._loaded) == shas[-2:]
    assert reg.get(shas[0]).n_public == 3  # reloaded from disk on demand
    assert list(reg._loaded) == [shas[3], shas[0]]


def _manual_job(net, fixture):
    """A job dealt here and submitted stub by stub: (zkey, vkey, public, materials, job id,
    manifest maker)."""
    from cme.dealing import deal
    from prover.plain import public_signals, witness_ints
    from prover.wtns import read_wtns
    from prover.zkey import read_zkey
    zkey = read_zkey(fixture / "circuit.zkey")
    w = witness_ints(zkey, read_wtns(fixture / "witness.wtns"))
    materials = deal(w, 3, zkey.domain_size)
    job_id = secrets.token_bytes(16)
    parties = [pb.Party(index=i, name=m.name, address=m.address, fingerprint=m.fingerprint)
               for i, m in enumerate(net.committee.nodes)]

    def manifest(i, size):
        return pb.JobPart(manifest=pb.JobManifest(
            job_id=job_id, circuit_sha256=zkey.sha256, n_parties=3, party_index=i, parties=parties,
            deadline_unix_ms=int((time.time() + 60) * 1000), material_size=size))
    return zkey, public_signals(zkey, w), materials, job_id, manifest


def test_job_starts_before_its_material_is_whole(net):
    """Each node starts its job on the header and seed: while the correction vectors are
    held back, the job is running; released, it proves."""
    from cme.assembly import combine_additive, decode_outputs, finish
    from cme.material import material_buffers
    with Client(net.committee) as client:
        client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")  # circuit uploaded
    zkey, public, materials, job_id, manifest = _manual_job(net, THREE)
    release = threading.Event()
    stubs = [_stub(net, m.name) for m in net.committee.nodes]

    def parts(i):
        prefix, *vectors = material_buffers(materials[i])
        yield manifest(i, len(prefix) + sum(len(v) for v in vectors))
        yield pb.JobPart(material=bytes(prefix))
        assert release.wait(30)
        for v in vectors:
            yield pb.JobPart(material=bytes(v))

    with ThreadPoolExecutor(3) as pool:
        submits = [pool.submit(stub.SubmitJob, parts(i), timeout=60) for i, (_, stub) in enumerate(stubs)]
        deadline = time.monotonic() + 20
        states = {}
        while time.monotonic() < deadline and len(states) < 3:
            for i, (_, stub) in enumerate(stubs):
                try:
                    reply = stub.JobStatus(pb.JobRef(job_id=job_id), timeout=5)
                    assert reply.node_version == __version__
                    states[i] = reply.state
                except grpc.RpcError as e:
                    assert e.code() == grpc.StatusCode.NOT_FOUND
            time.sleep(0.02)
        assert states == {0: "running", 1: "running", 2: "running"}, "jobs wait for their whole material"
        assert not any(f.done() for f in submits)
        release.set()
        for f in submits:
            assert f.result().job_id == job_id
        results = [stub.FetchResult(pb.JobRef(job_id=job_id), timeout=60) for _, stub in stubs]
    bare = combine_additive(decode_outputs({i: r.output for i, r in enumerate(results)}, job_id))
    r, s = secrets.randbelow(FR_MODULUS), secrets.randbelow(FR_MODULUS)
    proof = finish(zkey, read_vkey(THREE / "verification_key.json"), public, bare, r, s)
    assert _check(proof, public, THREE / "verification_key.json")
    assert results[0].step_seconds["material"] > 0  # party 0 started, then waited for w
    for ch, _ in stubs:
        ch.close()


def test_material_cut_after_the_start_leaves_no_job_and_the_node_serves(net):
    from cme.material import material_buffers
    with Client(net.committee) as client:
        client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    zkey, public, materials, job_id, manifest = _manual_job(net, THREE)
    ch, stub = _stub(net, "node2")
    prefix, *vectors = material_buffers(materials[1])
    size = len(prefix) + sum(len(v) for v in vectors)
    short = [manifest(1, size), pb.JobPart(material=bytes(prefix)), pb.JobPart(material=bytes(vectors[0][:64]))]
    with pytest.raises(grpc.RpcError) as e:
        stub.SubmitJob(iter(short), timeout=30)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"is {len(prefix) + 64} bytes, expected {size} for party 1" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        stub.JobStatus(pb.JobRef(job_id=job_id), timeout=5)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    bad = bytearray(bytes(vectors[0]))
    bad[:32] = (2**256 - 1).to_bytes(32, "little")
    with pytest.raises(grpc.RpcError) as e:
        stub.SubmitJob(iter([manifest(1, size), pb.JobPart(material=bytes(prefix)), pb.JobPart(material=bytes(bad))]),
                       timeout=30)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "a value of z1 is not below r" in e.value.details()
    ch.close()
    with Client(net.committee) as client:
        proof, public, _ = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    assert _check(proof, public, THREE / "verification_key.json")


def test_cancelling_a_job_wakes_a_party_waiting_for_its_material(net):
    """Party 0 starts on its material's first piece and waits for its witness
    correction; the client cancels while holding the stream open: the party stops
    waiting at once (its thread ends), not when the stream ends."""
    from cme.material import material_buffers
    with Client(net.committee) as client:
        client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    zkey, public, materials, job_id, manifest = _manual_job(net, THREE)
    ch, stub = _stub(net, "node1")
    prefix, *vectors = material_buffers(materials[0])
    release = threading.Event()

    def parts():
        yield manifest(0, len(prefix) + sum(len(v) for v in vectors))
        yield pb.JobPart(material=bytes(prefix))
        release.wait(30)  # then end short

    with ThreadPoolExecutor(1) as pool:
        submit = pool.submit(stub.SubmitJob, parts(), timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if stub.JobStatus(pb.JobRef(job_id=job_id), timeout=5).state == "running":
                    break
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND
            time.sleep(0.02)
        assert stub.CancelJob(pb.JobRef(job_id=job_id), timeout=5).state == "cancelled"
        want = "the w correction never arrived: job cancelled: cancelled by the client"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(want in line for line in net.logs["node1"]):
            time.sleep(0.05)
        assert any(want in line for line in net.logs["node1"]), "the party still waits for its material"
        assert not submit.done()
        release.set()
        with pytest.raises(grpc.RpcError) as e:
            submit.result()
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    ch.close()
