"""The client library: ``Client(committee, identity).prove(zkey_path, wtns_path)``.

It uploads the zkey only where a node lacks it (resuming partial uploads), deals
fresh shares with ``cme``, submits each node its manifest and material over mTLS,
gathers the nodes' bare MSMs, completes the proof with its own r and s and verifies it
(``cme.session``, as ``--local`` does).  A node that fails
fails the attempt at once (the others are told to cancel); if the committee lists
spares, the client re-deals fresh shares to a committee with a spare in the failed
node's place.  Shares are never reused and never written anywhere.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import grpc

from cme.assembly import JobFailed
from cme.dealing import predeal
from coordinator_free.ahead import AheadDealer
from cme.material import material_buffers
from cme.session import ClientSession
from coordinator_free import identity as ident
from coordinator_free import signing, wire
from coordinator_free.jobs import BLAMED_PARTY_KEY
from coordinator_free.mesh import SERVER_NAME
from coordinator_free.node_errors import NodeFailed
from coordinator_free.receipts import collect_receipt
from coordinator_free.node_errors import rpc_why as _why
from coordinator_free.threshold_job import prove_threshold
from prover.limbs import limbs_to_ints
from prover.snarkjs_json import vkey_object_from_zkey
from prover.wtns import check_witness_for, read_wtns
from prover.zkey import read_zkey
from protos import coprove_pb2 as pb
from protos import coprove_pb2_grpc as rpc

log = logging.getLogger("coprove.client")
# upload and share-material parts: fewer, larger messages stream faster, up to this size
# (bench/grpc_throughput.py; figures: bench/RESULTS.md, "Measurements moved from code comments")
CHUNK = 4 << 20
# the longest the triple corrections wait for the witness correction to go out first: an
# ordering preference, never a reason for a job to stall
SUBMIT_ORDER_WAIT = 5.0
RPC_SECONDS = 30.0
CANCEL_TIMEOUT_S = 5.0  # per CancelJob call to a node of a failed job
THRESHOLD_CANCEL_WAIT_S = 1.0  # what close() waits for a threshold job's cancellations


class NoValidProof(RuntimeError):
    pass


class _AheadRefused(RuntimeError):
    """A node would not take the material dealt ahead that a job named (expired, or gone
    with a restart): not the node's fault; the job is dealt again, whole."""


@dataclass
class ProveSummary:
    attempts: int = 0
    steps: dict = field(default_factory=dict)  # client step -> seconds (last attempt)
    node_steps: dict = field(default_factory=dict)  # node name -> {step: seconds}
    bytes_sent: dict = field(default_factory=dict)  # node name -> bytes to peers
    upload_bytes: int = 0
    failures: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # threshold mode: nodes whose output never came
    blamed: list = field(default_factory=list)  # threshold mode: nodes whose output was off
    job_id: bytes = b""
    circuit: str = ""
    mode: str = "additive"
    receipts: list = field(default_factory=list)  # (node name, fingerprint, receipt, signature)
    excluded: list = field(default_factory=list)  # (node name, fingerprint, why): no receipt


class Client:
    def __init__(self, committee, identity=None, deadline_s: float = 600.0, progress=None,
                 rpc_seconds: float = RPC_SECONDS, deal_ahead: bool = False,
                 fixed_blinding: tuple[int, int] | None = None):
        """``deal_ahead``: after each job, deal the witness-independent part of the next
        job (seeds and triples; ``cme.dealing.predeal``) in a background thread and place
        each node's piece at the node (``coordinator_free.ahead``), so the next job of the
        same shape sends only the witness correction: for a client that proves many times.

        ``fixed_blinding``: (r, s) for every proof instead of fresh ones, so that a proof
        can be compared with snarkjs's or ``--local``'s for the same r and s.  For tests
        only: two proofs with the same r and s tell apart more than the public inputs."""
        self.committee = committee
        self._fixed_blinding = fixed_blinding
        self._zkeys: dict = {}
        self._dealer = AheadDealer(self) if deal_ahead else None
        self.identity = identity or committee.client_identity()
        self.deadline_s = deadline_s
        # a node that does not answer a short call (upload chunk, submit) within this fails
        self.rpc_seconds = min(rpc_seconds, deadline_s)
        self.progress = progress or (lambda step, detail: None)
        self._channels = {}
        self._cancelling: list[threading.Thread] = []
        self._cancel_calls: list = []  # threshold mode's CancelJob futures

    def close(self):
        if self._dealer is not None:
            self._dealer.close()
        # cancellations of a failed job still in flight: closing their channels under them
        # left the other nodes working on it (and raised in the thread); each call has its
        # own 5 s deadline, so this waits at most that long
        for th in self._cancelling:
            th.join(CANCEL_TIMEOUT_S + 1)
        self._cancelling.clear()
        # a threshold job's slow nodes are told to stop, but a hung one must not hold up
        # the client: a short wait for the answers, then the channels close under them
        end = time.monotonic() + THRESHOLD_CANCEL_WAIT_S
        for fut in self._cancel_calls:
            try:
                fut.result(timeout=max(0.0, end - time.monotonic()))
            except Exception:  # noqa: BLE001 (gone, finished or slow: nothing to do)
                pass
        self._cancel_calls.clear()
        for ch in self._channels.values():
            ch.close()
        self._channels.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _channel(self, node) -> grpc.Channel:
        ch = self._channels.get(node.fingerprint)
        if ch is None:
            creds = ident.channel_credentials(self.identity, node.cert_pem)
            ch = grpc.secure_channel(node.address, creds, options=ident.channel_options(SERVER_NAME))
            self._channels[node.fingerprint] = ch
        return ch

    def _stub(self, node) -> rpc.NodeStub:
        return rpc.NodeStub(self._channel(node))

    # --------------------------------------------------------------------------------
    def prove(self, zkey_path, wtns_path):
        """``(proof, public_signals, ProveSummary)``; raises NodeFailed / NoValidProof."""
        zkey = self._zkey(zkey_path)
        wtns = read_wtns(wtns_path)
        check_witness_for(wtns, zkey.n_vars, zkey.path)
        w = wtns.values  # canonical limbs: dealing takes them as they are (no ints at 2^20)
        public = limbs_to_ints(w[1:zkey.n_public + 1])
        vkey = vkey_object_from_zkey(zkey)
        if self.committee.sharing.is_threshold:
            summary = ProveSummary(attempts=1, circuit=zkey.sha256)
            return prove_threshold(self, zkey, zkey_path, w, vkey, summary), public, summary
        members = list(self.committee.nodes)
        spares = list(self.committee.spares)
        summary = ProveSummary(circuit=zkey.sha256)
        while True:
            summary.attempts += 1
            try:
                try:
                    proof = self._attempt(zkey, zkey_path, w, public, vkey, members, summary)
                except _AheadRefused as e:
                    self.progress("deal ahead", f"{e}; dealing this job again, whole")
                    summary.failures.append(str(e))
                    proof = self._attempt(zkey, zkey_path, w, public, vkey, members, summary, use_ahead=False)
                return proof, public, summary
            except NodeFailed as e:
                summary.failures.append(str(e))
                if not spares:
                    raise
                spare = spares.pop(0)
                members = [spare if m is e.node else m for m in members]
                self.progress("re-deal", f"{e}; fresh shares to a committee with spare {spare.name} "
                                         f"in place of {e.node.name}")

    def _attempt(self, zkey, zkey_path, w, public, vkey, members, summary, use_ahead: bool = True):
        summary.steps, summary.node_steps, summary.bytes_sent = {}, {}, {}  # this attempt's only
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2 * len(members)) as pool:
            self._each(pool, members, "upload", lambda n: self._ensure_circuit(n, zkey, zkey_path))
            t1 = time.perf_counter()
            summary.steps["upload"] = t1 - t0

            ahead = self._dealer.take(members, zkey) if self._dealer is not None and use_ahead else None
            pre = ahead.pre if ahead is not None else predeal(len(members), len(w), zkey.domain_size)
            session = ClientSession(zkey, w, len(members), pre=pre, blinding=self._fixed_blinding, vkey=vkey)
            try:
                results = self._run(pool, session, zkey, members, summary, t1,
                                    ahead.ids if ahead is not None else None)
            except BaseException:
                session.forget()
                raise
        t2 = time.perf_counter()
        outputs = {}
        summary.job_id, summary.mode, summary.receipts, summary.excluded = session.job_id, "additive", [], []
        for i, n in enumerate(members):
            res = results[n.name]
            outputs[i] = res.output
            summary.node_steps[n.name] = dict(res.step_seconds)
            summary.bytes_sent[n.name] = res.bytes_sent
            collect_receipt(summary, n, res)
        self.progress("assembly", "summing the nodes' MSMs, completing and verifying the proof")
        try:
            proof = session.finish(outputs, lambda: self._transcripts(session.job_id, members))
        except JobFailed as e:
            if e.party is None:
                raise
            raise NodeFailed(members[e.party], e.step, str(e)) from None
        summary.steps["assembly"] = time.perf_counter() - t2
        return proof

    def _run(self, pool, session, zkey, members, summary, t1, ahead_ids=None):
        """Submit each node its material and collect the results: node name -> JobResult.
        ``ahead_ids``: per party, the piece of this dealing placed at its node ahead."""
        t_deal = time.perf_counter()
        summary.steps["deal"] = t_deal - t1
        job_id = session.job_id
        deadline_ms = int((time.time() + self.deadline_s) * 1000)
        parties = wire.manifest_parties(members)
        self.progress("submit", f"job {job_id.hex()[:12]} to {len(members)} nodes")
        part = "whole" if ahead_ids is None else "job"
        raw = {i: material_buffers(p, part) for i, p in enumerate(session.materials)}
        summary.upload_bytes = sum(len(b) for pieces in raw.values() for b in pieces)
        # Every node starts on its material's first piece; party 0 alone then waits for
        # the rest (the witness correction), so its vectors go first and the triple
        # corrections, needed only after the exchange, follow.
        witness_sent = threading.Event()
        try:
            self._each(pool, members, "submit",
                       lambda n: self._submit(n, job_id, zkey.sha256, members.index(n), parties,
                                              deadline_ms, raw[members.index(n)],
                                              after=None if members.index(n) == 0 else witness_sent,
                                              then=witness_sent if members.index(n) == 0 else None,
                                              predeal_id=b"" if ahead_ids is None else ahead_ids[members.index(n)]))
        except (NodeFailed, _AheadRefused):
            self._cancel_all(members, job_id)
            raise
        finally:
            witness_sent.set()
            raw.clear()
        t_submit = time.perf_counter()
        summary.steps["submit"] = t_submit - t_deal
        self.progress("local work", "nodes computing and exchanging round 1")
        try:
            results = self._each(pool, members, "job", lambda n: self._fetch(n, job_id, members))
        except NodeFailed:
            self._cancel_all(members, job_id)
            raise
        summary.steps["nodes"] = time.perf_counter() - t_submit
        return results

    def _cancel_all(self, members, job_id):
        """Tell every node to stop the job, without waiting on a node that may be gone."""
        for n in members:
            th = threading.Thread(target=self._cancel, args=(n, job_id), daemon=True)
            th.start()
            self._cancelling.append(th)

    def _zkey(self, path):
        """The key, read once per file version: its SHA-256 (the content address every job
        names) costs a pass over the file
        (figures: bench/RESULTS.md, 'Measurements moved from code comments')."""
        st = os.stat(path)
        key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
        zkey = self._zkeys.get(key)
        if zkey is None:
            zkey = read_zkey(path)
            zkey.sha256  # noqa: B018 (computed now, once)
            if len(self._zkeys) >= 4:
                self._zkeys.pop(next(iter(self._zkeys)))
            self._zkeys[key] = zkey
        return zkey

    def _transcripts(self, job_id, members) -> dict:
        """For the audit: what each node reports having received in the job."""
        self.progress("audit", "the proof failed its check: replaying the job to find who deviated")
        received = {}
        verifier = signing.Verifier({m.fingerprint: m.cert_pem for m in members})
        for i, n in enumerate(members):
            try:
                t = self._stub(n).JobTranscript(pb.JobRef(job_id=job_id), timeout=self.rpc_seconds)
            except grpc.RpcError as e:
                raise NodeFailed(n, "audit", f"cannot fetch its transcript: {_why(e)}") from None
            # every message carries its sender's signature: one the sender did not sign is
            # the reporting node's own invention (a receiver framing an honest sender)
            for r in t.received:
                if not (r.sender < len(members) and r.sender != i and verifier.check(
                        members[r.sender].fingerprint,
                        signing.statement(job_id, r.sender, i, r.seq, signing.payload_hash(r.payload)),
                        r.signature)):
                    raise NodeFailed(n, "audit", f"it reports a message {r.seq} from party {r.sender} that "
                                                 "its sender did not sign: it misreports what it received")
            received[i] = [(r.sender, r.payload) for r in t.received]
        return received

    def _each(self, pool, members, step, fn):
        """Run ``fn`` on every node; the first failure fails the step, naming the node."""
        futs = {pool.submit(fn, n): n for n in members}
        done, _ = wait(futs, return_when=FIRST_EXCEPTION)
        for f in done:
            if f.exception() is not None:
                err = f.exception()
                raise err if isinstance(err, (NodeFailed, _AheadRefused)) else NodeFailed(futs[f], step, str(err))
        wait(futs)
        return {futs[f].name: f.result() for f in futs}

    # per-node calls -------------------------------------------------------------------
    def _ensure_circuit(self, node, zkey, zkey_path):
        stub = self._stub(node)
        sha = zkey.sha256
        try:
            state = stub.HasCircuit(pb.CircuitRef(sha256=sha), timeout=self.rpc_seconds)
            if state.present:
                self.progress("upload", f"{node.name} has circuit {sha[:12]}")
                return
            total = zkey_path.stat().st_size if hasattr(zkey_path, "stat") else _size(zkey_path)
            start = state.bytes_received if state.bytes_received <= total else 0
            self.progress("upload", f"{node.name}: sending {total - start} bytes of circuit {sha[:12]}")

            def chunks():
                with open(zkey_path, "rb") as fh:
                    fh.seek(start)
                    off = start
                    # at least one chunk, even empty: a node holding every byte of an
                    # interrupted upload still needs the call to check and publish it
                    while True:
                        data = fh.read(min(CHUNK, total - off))
                        yield pb.CircuitChunk(sha256=sha, total_size=total, offset=off, data=data)
                        off += len(data)
                        if off >= total:
                            break

            state = stub.UploadCircuit(chunks(), timeout=max(self.rpc_seconds, total / 5e6))
            if not state.present:
                raise NodeFailed(node, "upload", "upload ended but the node does not have the circuit")
        except grpc.RpcError as e:
            raise NodeFailed(node, "upload", _why(e)) from None

    def _submit(self, node, job_id, sha, index, parties, deadline_ms, material: list,
                after: threading.Event | None = None, then: threading.Event | None = None,
                threshold: int = 0, predeal_id: bytes = b""):
        """``material``: its pieces (``cme.material.material_buffers``); the first, the
        header and seed, goes alone, so the node starts the job on
        it while the correction vectors follow: once ``after`` is set (waited for at most
        SUBMIT_ORDER_WAIT seconds), and ``then`` is set when they are handed to gRPC."""
        manifest = pb.JobManifest(job_id=job_id, circuit_sha256=sha, n_parties=len(parties),
                                  party_index=index, parties=parties, deadline_unix_ms=deadline_ms,
                                  material_size=sum(len(p) for p in material), threshold=threshold,
                                  predeal_id=predeal_id)

        def parts():  # in wire form: each material byte is copied once here, not four times
            try:
                yield pb.JobPart(manifest=manifest).SerializeToString()
                for k, piece in enumerate(material):
                    if k == 1 and after is not None:
                        after.wait(SUBMIT_ORDER_WAIT)
                    view = memoryview(piece)
                    for off in range(0, len(view), CHUNK):
                        yield wire.job_material(view[off:off + CHUNK])
            finally:
                if then is not None:
                    then.set()

        submit = self._channel(node).stream_unary(
            "/coprove.v1.Node/SubmitJob", request_serializer=None,
            response_deserializer=pb.JobAccepted.FromString, _registered_method=True)
        try:
            submit(parts(), timeout=self.rpc_seconds)
        except grpc.RpcError as e:
            if predeal_id and wire.refused_predeal(e):
                raise _AheadRefused(f"node {node.name}: {e.details()}") from None
            raise NodeFailed(node, "submit", _why(e)) from None

    def _fetch(self, node, job_id, members):
        try:
            # the node answers by the deadline plus its grace for a late cause; a silent node does not
            return self._stub(node).FetchResult(pb.JobRef(job_id=job_id), timeout=self.deadline_s + 3)
        except grpc.RpcError as e:
            detail = _why(e)
            if e.code() == grpc.StatusCode.ABORTED:
                # the node names the peer that let it down, as a field: blame that peer
                blamed = _blamed_party(e)
                if blamed is not None and blamed < len(members) and members[blamed] is not node:
                    raise NodeFailed(members[blamed], "job", f"reported by {node.name}: {detail}") from None
            raise NodeFailed(node, "job", detail) from None

    def _cancel_soon(self, node, job_id):
        """CancelJob without waiting for the answer (close() waits a little for it)."""
        try:
            fut = self._stub(node).CancelJob.future(pb.JobRef(job_id=job_id), timeout=CANCEL_TIMEOUT_S)
        except Exception:  # noqa: BLE001 (a channel already closed: nothing to cancel)
            return
        self._cancel_calls.append(fut)

    def _cancel(self, node, job_id):
        try:
            self._stub(node).CancelJob(pb.JobRef(job_id=job_id), timeout=CANCEL_TIMEOUT_S)
        except grpc.RpcError:
            pass  # a dead or finished node has nothing to cancel


def _blamed_party(e: grpc.RpcError) -> int | None:
    for key, value in e.trailing_metadata() or ():
        if key == BLAMED_PARTY_KEY and value.isdigit():
            return int(value)
    return None


def _size(path) -> int:
    import os
    return os.path.getsize(path)
