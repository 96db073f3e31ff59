"""A deviating node: the client never returns an invalid proof, names the node, and
(with a spare) re-deals without it.  Cross-job and replayed messages are refused."""

from __future__ import annotations

import pytest

from cli_helpers import DATA
from cme.assembly import JobFailed
from cme.local_run import prove_local
from cme.misbehave import MODES, Misbehaving
from coordinator_free.client import Client, NodeFailed
from coordinator_free.localnet import LocalNetwork
from prover.snarkjs_json import read_vkey
from prover.verify import verify
from prover.wtns import read_wtns
from prover.zkey import read_zkey

THREE = DATA / "three_public"
# caught by the final check, named by the audit ("frame": a receiver corrupting what it
# got and reporting the corrupted message; named by the senders' signatures)
AUDITED = ["flip-share", "wrong-opening", "wrong-msm", "frame"]
REFUSED = ["replay", "wrong-job-id", "bad-signature"]  # refused by the receiving node, which names the sender


# in-process parties hold no keys and report what they received themselves: a framing
# party is only caught on the network, where messages are signed
@pytest.mark.parametrize("mode", [m for m in AUDITED if m != "frame"])
@pytest.mark.parametrize("cheater", [0, 1, 2])
def test_in_process_audit_names_the_cheater(mode, cheater):
    zkey, wtns = read_zkey(THREE / "circuit.zkey"), read_wtns(THREE / "witness.wtns")
    with pytest.raises(JobFailed) as e:
        prove_local(zkey, wtns, 3, wrap=lambda i, t: Misbehaving(t, mode) if i == cheater else t)
    assert e.value.party == cheater, str(e.value)
    assert f"party {cheater} sent" in str(e.value)


def test_audit_of_an_honest_job_blames_nobody():
    from cme.audit import audit
    from cme.local_run import run_job
    from prover.plain import witness_ints
    zkey, wtns = read_zkey(THREE / "circuit.zkey"), read_wtns(THREE / "witness.wtns")
    outputs, report = run_job(zkey, witness_ints(zkey, wtns), 3)
    found = audit(zkey, report.materials, report.job_id, report.received, report.raw_outputs)
    assert found.culprits == [] and "every message matches" in found.detail


def test_every_mode_is_tested():
    assert sorted(AUDITED + REFUSED) == sorted(MODES)


@pytest.mark.parametrize("mode", AUDITED + REFUSED)
def test_network_cheater_is_named_and_replaced_by_a_spare(mode):
    with LocalNetwork(3, n_spares=1, node_args={"node2": ["--misbehave", mode]}) as net:
        with Client(net.committee) as client:
            if mode == "replay":
                # the first job gives node2 a message to replay; it fails over to the spare
                client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
            proof, public, summary = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
        assert summary.attempts == 2, summary.failures
        assert "node2" in summary.failures[0], summary.failures
        assert set(summary.node_steps) == {"node1", "node3", "node4"}
        assert verify(read_vkey(THREE / "verification_key.json"), public, (proof.pi_a, proof.pi_b, proof.pi_c))
        if mode in REFUSED:
            refusing = [l for n in ("node1", "node3") for l in net.logs[n] if "step=failed" in l]
            assert any("party 1" in l for l in refusing), refusing  # node2 is party 1


def test_network_cheater_without_spare_fails_naming_it():
    with LocalNetwork(3, node_args={"node3": ["--misbehave", "wrong-msm"]}) as net:
        with Client(net.committee) as client:
            with pytest.raises(NodeFailed) as e:
                client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    assert e.value.node.name == "node3" and e.value.step == "audit", str(e.value)


def test_a_framing_receiver_is_named_and_its_victim_is_not():
    """node2 corrupts the round-1 shares it got from a peer, computes on them and reports the
    corrupted message as received: unsigned, the audit would blame that peer; the peer's
    signature shows the message is node2's own."""
    with LocalNetwork(3, node_args={"node2": ["--misbehave", "frame"]}) as net:
        with Client(net.committee) as client:
            with pytest.raises(NodeFailed) as e:
                client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    assert e.value.node.name == "node2" and e.value.step == "audit", str(e.value)
    assert "its sender did not sign: it misreports what it received" in str(e.value)
