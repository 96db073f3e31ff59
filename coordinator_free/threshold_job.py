"""The client's threshold-mode job over a committee: ``[sharing] scheme = "shamir"``.

Every node gets a Shamir share, proves on it alone and hands back its bare MSMs; the
client never waits for the slowest: it offers each output to the session as it
arrives, and once 2t + 1 outputs give a proof that verifies it cancels the nodes still
working.  A node that fails, hangs or lies costs nothing while 2t + 1 honest outputs
arrive; one whose output disagrees with the proof is named.  A node unreachable when
the job is handed out is replaced by a spare before the dealing; after that, nothing is
dealt again.
"""

from __future__ import annotations

import queue
import threading
import time

import grpc

from cme.assembly import JobFailed
from cme.session import ThresholdSession
from cme.shamir_material import shamir_buffers
from coordinator_free.node_errors import NodeFailed, rpc_why
from coordinator_free.receipts import collect_receipt
from coordinator_free import wire
from protos import coprove_pb2 as pb

QUEUE_SLACK_S = 10.0  # past the job's deadline plus the FetchResult grace, stop waiting
STRAGGLER_GRACE_S = 2.0  # the least a node gets to answer once most others have


def prove_threshold(client, zkey, zkey_path, w, vkey, summary):
    """The checked proof; ``summary`` gets steps, per-node figures, ``missing`` and
    ``blamed`` (node names).  Raises JobFailed when fewer than 2t + 1 usable outputs came."""
    t = client.committee.sharing.threshold
    summary.steps, summary.node_steps, summary.bytes_sent = {}, {}, {}
    t0 = time.perf_counter()
    members = _reachable(client, zkey, zkey_path, 2 * t + 1, summary)
    t1 = time.perf_counter()
    summary.steps["upload"] = t1 - t0

    session = ThresholdSession(zkey, w, len(members), t, blinding=client._fixed_blinding, vkey=vkey)
    summary.upload_bytes = session.upload_bytes
    t_deal = time.perf_counter()
    summary.steps["deal"] = t_deal - t1
    job_id = session.job_id
    deadline_ms = int((time.time() + client.deadline_s) * 1000)
    parties = wire.manifest_parties(members)
    client.progress("submit", f"job {job_id.hex()[:12]}: Shamir shares (threshold {t}) to {len(members)} "
                              f"nodes; any {2 * t + 1} honest outputs give the proof")
    arrived: queue.Queue = queue.Queue()

    def work(i, node):
        try:
            client._submit(node, job_id, zkey.sha256, i, parties, deadline_ms,
                           shamir_buffers(session.materials[i]), threshold=t)
            session.materials[i].wipe()  # sent: the client keeps no share it does not need
            try:
                res = client._stub(node).FetchResult(pb.JobRef(job_id=job_id), timeout=client.deadline_s + 3)
            except grpc.RpcError as e:
                raise NodeFailed(node, "job", rpc_why(e)) from None
            arrived.put((i, res, None))
        except NodeFailed as e:
            arrived.put((i, None, e))
        except Exception as e:  # noqa: BLE001 (any failure is this node's, reported as such)
            arrived.put((i, None, NodeFailed(node, "job", str(e))))

    for i, n in enumerate(members):
        # daemon threads: a hung node's call must not hold the client's process open
        threading.Thread(target=work, args=(i, n), daemon=True, name=f"threshold-{n.name}").start()

    pending, missing = set(range(len(members))), []
    proof = None
    summary.job_id, summary.mode, summary.receipts, summary.excluded = job_id, f"threshold t={t}", [], []
    results = {}
    end = time.monotonic() + client.deadline_s + QUEUE_SLACK_S
    try:
        while proof is None and pending:
            try:
                i, res, err = arrived.get(timeout=max(0.1, end - time.monotonic()))
            except queue.Empty:
                break
            pending.discard(i)
            if err is not None:
                missing.append(i)
                summary.failures.append(str(err))
                client.progress("node failed", f"{err}; {len(pending)} nodes still working")
                continue
            n = members[i]
            results[i] = res
            summary.node_steps[n.name] = dict(res.step_seconds)
            summary.bytes_sent[n.name] = res.bytes_sent
            summary.steps.setdefault("first output", time.perf_counter() - t_deal)
            t_offer = time.perf_counter()
            proof = session.offer(i, res.output)
            summary.steps["assembly"] = summary.steps.get("assembly", 0.0) + time.perf_counter() - t_offer
        if proof is None:
            raise session.failure(missing + sorted(pending))
    finally:
        session.forget()
        for i in sorted(pending):
            client._cancel_soon(members[i], job_id)
    summary.steps["nodes"] = time.perf_counter() - t_deal - summary.steps.get("assembly", 0.0)
    summary.missing = [members[i].name for i in sorted(missing + sorted(pending))]
    summary.blamed = [members[i].name for i in session.blamed]
    # receipts: every node whose output agrees with the proof; the others are named
    for i, n in enumerate(members):
        if i in session.blamed:
            summary.excluded.append((n.name, n.fingerprint, "its output was off and left out of the proof"))
        elif i in results:
            collect_receipt(summary, n, results[i])
        else:
            summary.excluded.append((n.name, n.fingerprint, "no output used (it failed, or was cancelled "
                                                            "once the proof verified)"))
    for name in summary.blamed:
        client.progress("blame", f"node {name}: its output is off (malformed, or disagrees with the "
                                 f"proof's polynomial); left out of the proof")
    if pending:
        client.progress("cancel", f"a proof verified; cancelled {len(pending)} nodes still working: "
                                  + ", ".join(members[i].name for i in sorted(pending)))
    return proof


def _reachable(client, zkey, zkey_path, needed: int, summary) -> list:
    """The committee's nodes, each holding the circuit; a node that cannot be reached (or
    take the circuit) is replaced by the next spare, or left out if none is left."""
    members = list(client.committee.nodes)
    spares = list(client.committee.spares)
    todo = list(range(len(members)))
    while todo:
        done = queue.Queue()
        for i in todo:
            def check(i=i, node=members[i]):
                try:
                    client._ensure_circuit(node, zkey, zkey_path)
                    done.put((i, None))
                except NodeFailed as e:
                    done.put((i, e))
            threading.Thread(target=check, daemon=True).start()
        # a node slower than the others by far (a hung one: it answers only at the call's
        # timeout) is not waited for: once the others have answered, it gets as long again
        # as they took, at least STRAGGLER_GRACE_S, then counts as unreachable
        t0, waiting, result = time.monotonic(), set(todo), {}
        answered_at = None
        while waiting:
            limit = None if answered_at is None or len(waiting) > len(todo) // 2 else \
                max(STRAGGLER_GRACE_S, answered_at - t0) - (time.monotonic() - answered_at)
            try:
                i, err = done.get(timeout=None if limit is None else max(0.0, limit))
            except queue.Empty:
                for i in waiting:
                    result[i] = NodeFailed(members[i], "upload", f"no answer within {time.monotonic() - t0:.1f} s, "
                                                                  "while the other nodes had answered")
                break
            waiting.discard(i)
            result[i] = err
            answered_at = time.monotonic()
        retry = []
        for i in todo:
            err = result[i]
            if err is None:
                continue
            summary.failures.append(str(err))
            if spares:
                spare = spares.pop(0)
                client.progress("spare", f"{err}; spare {spare.name} stands in for {members[i].name}")
                members[i] = spare
                retry.append(i)
            else:
                client.progress("unreachable", f"{err}; no spare left: the job goes on without it")
                members[i] = None
        todo = retry
    members = [m for m in members if m is not None]
    if len(members) < needed:
        raise JobFailed(f"{len(members)} nodes reachable; threshold {client.committee.sharing.threshold} "
                        f"needs {needed}: {'; '.join(summary.failures)}")
    return members
