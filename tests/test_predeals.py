"""Material dealt ahead: why it is used once (a reused triple leaks), the node's store
(bindings, one use, expiry, limits), and jobs over real daemons that send only the
witness correction."""

from __future__ import annotations

import random
import secrets
import time

import grpc
import numpy as np
import pytest

from cli_helpers import DATA
from cme.dealing import Corrections, PartyMaterial, deal_with, expand_material, predeal
from cme.material import material_buffers
from coordinator_free import ahead as ahead_mod
from coordinator_free import identity as ident
from coordinator_free.ahead import AheadDealer
from coordinator_free.client import Client
from coordinator_free.localnet import LocalNetwork
from coordinator_free.mesh import SERVER_NAME
from coordinator_free.predeals import Entry, PredealError, PredealStore
from gpu_msm.constants import FR_MODULUS
from prover.engines import get_engine
from prover.limbs import ints_to_limbs
from prover.snarkjs_json import read_vkey
from prover.verify import verify_py_ecc
from prover.wtns import read_wtns
from prover.zkey import read_zkey
from protos import coprove_pb2 as pb
from protos import coprove_pb2_grpc as rpc

CHAIN = DATA / "mul_chain_2e10"


def _opened_masks(pre, witness, a):
    """d = a − x as the parties open it, x the dealt triple's (Σ of the parties' shares)."""
    eng = get_engine("cpu")
    x = None
    for p in deal_with(pre, witness, "cpu"):
        xi = eng.vector(expand_material(p, "cpu").x)
        x = xi if x is None else eng.add_vec(x, xi)
    return eng.to_wire(eng.sub_vec(eng.vector(a), x))


def test_a_triple_used_twice_leaks_the_difference(test_seed):
    """Two jobs opening d = a − x with one x: d1 − d2 = a1 − a2, the vectors the masks were
    to hide.  With a fresh triple per job the difference is unrelated to them.  So a
    dealing is consumed by its job, and a node refuses a second use (below)."""
    rng = random.Random(test_seed)
    m, n = 20, 16
    eng = get_engine("cpu")

    def rand_vec(k):
        return ints_to_limbs([rng.randrange(FR_MODULUS) for _ in range(k)])

    w1, w2, a1, a2 = rand_vec(m), rand_vec(m), rand_vec(n), rand_vec(n)
    pre = predeal(3, m, n, "cpu", rng)
    d1 = _opened_masks(pre, w1, a1)
    with pytest.raises(ValueError, match="already used"):
        deal_with(pre, w2, "cpu")
    pre.used = False  # what a node that accepted a second use would amount to
    d2 = _opened_masks(pre, w2, a2)
    diff = lambda u, v: eng.to_wire(eng.sub_vec(eng.vector(u), eng.vector(v)))  # noqa: E731
    assert np.array_equal(diff(d1, d2), diff(a1, a2))
    fresh = _opened_masks(predeal(3, m, n, "cpu", rng), w2, a2)
    assert not np.array_equal(diff(d1, fresh), diff(a1, a2))


def _entry(store_id=None, *, client="c", circuit="z" * 64, parties=("p0", "p1"), index=0, expires=None,
           nbytes=100):
    pm = PartyMaterial(index, 2, 4, 4, bytes(32), Corrections(z1=np.ones((4, 4), dtype=np.uint64)))
    return Entry(store_id or secrets.token_bytes(16), client, circuit, parties, index,
                 time.time() + 60 if expires is None else expires, pm, nbytes)


def test_store_uses_each_entry_once_and_checks_its_binding():
    store = PredealStore()
    e = _entry()
    store.put(e)
    z1 = e.material.corrections.z1
    kw = dict(client="c", circuit="z" * 64, parties=("p0", "p1"), index=0)
    got = store.take(e.predeal_id, job_id=b"\x01" * 16, **kw)
    assert got.corrections.z1 is z1 and len(store) == 0
    with pytest.raises(PredealError, match="already used by job 010101010101: each is used once"):
        store.take(e.predeal_id, job_id=b"\x02" * 16, **kw)
    with pytest.raises(PredealError, match="dealt before"):
        store.put(_entry(e.predeal_id))
    with pytest.raises(PredealError, match="never dealt"):
        store.take(secrets.token_bytes(16), job_id=bytes(16), **kw)
    # another client's entry: refused, and left for its owner
    other = _entry(client="someone else")
    store.put(other)
    with pytest.raises(PredealError, match="dealt by another client"):
        store.take(other.predeal_id, job_id=bytes(16), **kw)
    assert len(store) == 1
    # the owner asking for the wrong job shape: refused, and the entry deleted
    for wrong, words in ((dict(circuit="y" * 64), "is for circuit zzzz"),
                         (dict(parties=("p1", "p0")), "another committee"),
                         (dict(index=1), "another committee")):
        e = _entry()
        store.put(e)
        with pytest.raises(PredealError, match=words):
            store.take(e.predeal_id, job_id=bytes(16), **{**kw, **wrong})
        assert e.material is None  # wiped
        with pytest.raises(PredealError, match="and is deleted"):
            store.take(e.predeal_id, job_id=bytes(16), **kw)


def test_store_expiry_and_limits():
    store = PredealStore(max_entries=2, max_bytes=250)
    late = _entry(expires=time.time() - 1)
    store.put(late)
    with pytest.raises(PredealError, match="has expired; it is deleted"):
        store.take(late.predeal_id, job_id=bytes(16), client="c", circuit="z" * 64, parties=("p0", "p1"), index=0)
    soon = _entry(expires=time.time() + 0.05)
    store.put(soon)
    store.put(_entry())
    with pytest.raises(PredealError, match="2 entries dealt ahead are held, the limit"):
        store.put(_entry())
    time.sleep(0.1)
    assert store.sweep() == 1 and len(store) == 1 and soon.material is None
    with pytest.raises(PredealError, match="exceed the limit of 250"):
        store.put(_entry(nbytes=200))


@pytest.fixture(scope="module")
def net():
    with LocalNetwork(3) as n:
        yield n


def test_dealt_ahead_jobs_send_only_the_witness_correction(net):
    zkey = read_zkey(CHAIN / "circuit.zkey")
    vkey = read_vkey(CHAIN / "verification_key.json")
    with Client(net.committee, deal_ahead=True) as client:
        sizes = []
        for _ in range(3):
            proof, public, summary = client.prove(CHAIN / "circuit.zkey", CHAIN / "witness.wtns")
            assert verify_py_ecc(vkey, public, (proof.pi_a, proof.pi_b, proof.pi_c))
            sizes.append(summary.upload_bytes)
    # the first job deals everything; from the second on, only party 0's witness correction
    assert sizes[0] > zkey.n_vars * 32 + 2 * zkey.domain_size * 32
    assert sizes[1:] == [zkey.n_vars * 32] * 2


def _stub(net, name):
    node = net.committee.member(name)
    ch = grpc.secure_channel(node.address, ident.channel_credentials(net.committee.client_identity(),
                                                                     node.cert_pem),
                             options=ident.channel_options(SERVER_NAME))
    return ch, rpc.NodeStub(ch)


def _submit(stub, net, zkey, material, predeal_id, members=None):
    members = members or net.committee.nodes
    parties = [pb.Party(index=i, name=m.name, address=m.address, fingerprint=m.fingerprint)
               for i, m in enumerate(members)]
    pieces = material_buffers(material, "job")
    job_id = secrets.token_bytes(16)
    parts = [pb.JobPart(manifest=pb.JobManifest(
        job_id=job_id, circuit_sha256=zkey.sha256, n_parties=len(members), party_index=material.index,
        parties=parties, deadline_unix_ms=int((time.time() + 30) * 1000),
        material_size=sum(len(p) for p in pieces), predeal_id=predeal_id))]
    parts += [pb.JobPart(material=bytes(p)) for p in pieces]
    stub.SubmitJob(iter(parts), timeout=30)
    return job_id


def test_a_job_naming_expired_material_is_dealt_again_whole(net, monkeypatch):
    """The nodes forget material dealt ahead when it expires (or they restart): the job
    that named it is dealt again, whole, and proves; no node is blamed."""
    monkeypatch.setattr(ahead_mod, "AHEAD_SECONDS", 1.0)
    # the client trusts its pieces long past their expiry: only the nodes' refusal stops it
    monkeypatch.setattr(ahead_mod, "EXPIRY_MARGIN", -100.0)
    vkey = read_vkey(CHAIN / "verification_key.json")
    with Client(net.committee, deal_ahead=True) as client:
        client.prove(CHAIN / "circuit.zkey", CHAIN / "witness.wtns")  # places the next job's pieces
        time.sleep(2.5)  # past their expiry and a sweep of the nodes' janitors
        proof, public, summary = client.prove(CHAIN / "circuit.zkey", CHAIN / "witness.wtns")
    assert verify_py_ecc(vkey, public, (proof.pi_a, proof.pi_b, proof.pi_c))
    assert summary.attempts == 1 and any("has expired" in f for f in summary.failures)
    assert summary.upload_bytes > read_zkey(CHAIN / "circuit.zkey").n_vars * 32  # sent whole


def test_a_node_refuses_a_second_use_and_expired_material(net, monkeypatch):
    zkey = read_zkey(CHAIN / "circuit.zkey")
    w = read_wtns(CHAIN / "witness.wtns").values
    with Client(net.committee) as client:
        client.prove(CHAIN / "circuit.zkey", CHAIN / "witness.wtns")  # the circuit is on every node
        placed = AheadDealer(client)._deal_and_place(list(net.committee.nodes), zkey)
        assert placed.ids is not None
        materials = deal_with(placed.pre, w)
        ch, stub = _stub(net, "node2")
        job_id = _submit(stub, net, zkey, materials[1], placed.ids[1])
        stub.CancelJob(pb.JobRef(job_id=job_id), timeout=10)  # the job's peers never got theirs
        with pytest.raises(grpc.RpcError) as e:
            _submit(stub, net, zkey, materials[1], placed.ids[1])
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"already used by job {job_id.hex()[:12]}" in e.value.details()
        # party 0's piece named for party 1's place: another binding, refused and deleted
        with pytest.raises(grpc.RpcError) as e:
            _submit(stub, net, zkey, materials[1], placed.ids[0])
        assert "no material" in e.value.details() or "another committee" in e.value.details()

        monkeypatch.setattr(ahead_mod, "AHEAD_SECONDS", 0.5)
        placed = AheadDealer(client)._deal_and_place(list(net.committee.nodes), zkey)
        time.sleep(2.5)  # past the expiry and a sweep of the node's janitor
        materials = deal_with(placed.pre, w)
        with pytest.raises(grpc.RpcError) as e:
            _submit(stub, net, zkey, materials[1], placed.ids[1])
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "expired" in e.value.details()
        ch.close()
    monkeypatch.undo()
    # the node still serves, and a client dealing ahead still proves
    with Client(net.committee, deal_ahead=True) as client:
        for _ in range(2):
            proof, public, _ = client.prove(CHAIN / "circuit.zkey", CHAIN / "witness.wtns")
            assert verify_py_ecc(read_vkey(CHAIN / "verification_key.json"), public,
                                 (proof.pi_a, proof.pi_b, proof.pi_c))
