"""The prover daemon: ``coprove node``.  Thin gRPC servicers over the registry, the
job table and cme's party code; no math here.

Who may call what (the caller's certificate fingerprint, from mutual TLS):
- the client RPCs (circuits, jobs, results): the committee file's trusted clients;
  a job's result, status and cancellation: only the client that submitted it;
- ``PeerSend``: only the party the job manifest names for that sender index.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from cme.material import MaterialError, MaterialStream
from cme.shamir import check_threshold
from cme.shamir_material import ShamirStream
from coordinator_free import __version__
from coordinator_free import identity as ident
from coordinator_free import signing, wire
from coordinator_free.faults import FaultPlan
from coordinator_free.jobs import (BLAMED_PARTY_KEY, CANCELLED, DONE, FAILED, LATE_GRACE, RUNNING, Job,
                                   JobError, PartyInfo)
from coordinator_free.mesh import PART_BYTES, PeerChannels
from coordinator_free.metrics import NodeMetrics
from coordinator_free.node_work import JobWork, job_log
from coordinator_free.predeals import Entry, PredealError, PredealStore
from coordinator_free.registry import CircuitRegistry, UploadError
from gpu_msm.backend import selected_device
from protos import coprove_pb2 as pb
from protos import coprove_pb2_grpc as rpc

log = logging.getLogger("coprove.node")
SERVICE_NAME = "coprove.v1.Node"
MAX_MESSAGE_BYTES = 8 << 20  # a circuit chunk or a peer part, with room to spare
UPLOAD_CHUNK_BYTES = 4 << 20
JOB_ID_BYTES = 16
UPLOAD_LOCK_SECONDS = 10.0


@dataclass
class NodeConfig:
    identity: object
    data_dir: Path
    trusted: dict  # fingerprint -> certificate PEM (nodes, spares, clients)
    clients: set  # fingerprints allowed to use the client RPCs
    max_jobs: int = 32
    max_job_seconds: float = 3600.0
    max_circuit_bytes: int = 8 << 30
    ended_job_seconds: float = 300.0  # results kept this long for late fetches
    misbehave: str | None = None  # test hook: cme.misbehave mode
    fault: str | None = None  # test hook: coordinator_free.faults STEP:ACTION


class NodeService(rpc.NodeServicer):
    def __init__(self, cfg: NodeConfig, metrics: NodeMetrics | None = None):
        self.cfg = cfg
        self.metrics = metrics or NodeMetrics()
        self.registry = CircuitRegistry(cfg.data_dir, cfg.max_circuit_bytes)
        self.channels = PeerChannels(cfg.identity, cfg.trusted)
        self.signer = signing.Signer(cfg.identity.key_pem)
        self.verifier = signing.Verifier(cfg.trusted)
        self.jobs: dict[bytes, Job] = {}
        self.submitter: dict[bytes, str] = {}
        self.threads: dict[bytes, threading.Thread] = {}
        self._lock = threading.Lock()
        self.closing = False
        self.faults = FaultPlan(cfg.fault)
        self.predeals = PredealStore()
        self.work = JobWork(cfg, self.metrics, self.channels, self.signer, self.faults)

    # authentication ---------------------------------------------------------
    def _client(self, context) -> str:
        fp = ident.peer_fingerprint(context)
        if fp is None or fp not in self.cfg.clients:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          f"certificate {fp} is not a trusted client of this node")
        return fp

    def _job(self, job_id: bytes, context, owner: str | None = None) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown job {job_id.hex()[:64]}")
        if owner is not None and self.submitter.get(job_id) != owner:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "job was submitted by another client")
        return job

    # circuits -----------------------------------------------------------------
    def _state(self, sha: str) -> pb.CircuitState:
        if self.registry.present(sha):
            z = self.registry.get(sha)
            return pb.CircuitState(sha256=sha, present=True, n_vars=z.n_vars, n_public=z.n_public,
                                   domain_size=z.domain_size)
        return pb.CircuitState(sha256=sha, present=False, bytes_received=self.registry.bytes_received(sha))

    def HasCircuit(self, request, context):
        self._client(context)
        try:
            return self._state(CircuitRegistry.check_sha(request.sha256))
        except UploadError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))

    def UploadCircuit(self, request_iterator, context):
        self._client(context)
        sha = total = None
        lock = None
        try:
            for chunk in request_iterator:
                if sha is None:
                    sha, total = CircuitRegistry.check_sha(chunk.sha256), chunk.total_size
                    if self.registry.present(sha):
                        return self._state(sha)  # idempotent: already have it
                    lock = self.registry.upload_lock(sha)
                    # another call may be finishing this circuit (or be a cancelled one still
                    # winding down): wait for it briefly rather than refuse at once
                    wait = min(UPLOAD_LOCK_SECONDS, context.time_remaining() or UPLOAD_LOCK_SECONDS)
                    if not lock.acquire(timeout=max(0.0, wait)):
                        lock = None
                        context.abort(grpc.StatusCode.ABORTED, f"circuit {sha[:12]} is being uploaded by another call")
                    if self.registry.present(sha):
                        return self._state(sha)
                elif chunk.sha256 != sha or chunk.total_size != total:
                    raise UploadError("a chunk names another circuit or size than the first chunk")
                self.registry.append(sha, total, chunk.offset, chunk.data)
                self.metrics.uploads.inc(len(chunk.data))
                self.faults.at("upload")
            if sha is None:
                raise UploadError("empty upload")
            if self.registry.bytes_received(sha) == total:
                self.registry.finish(sha, total)
            return self._state(sha)
        except UploadError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"circuit upload: {e}")
        finally:
            if lock is not None and lock.locked():
                lock.release()

    # jobs -----------------------------------------------------------------------
    def SubmitJob(self, request_iterator, context):
        client = self._client(context)
        if self.closing:
            context.abort(grpc.StatusCode.UNAVAILABLE, "node is shutting down")
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "manifest":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a job starts with its manifest")
        m = first.manifest
        self.faults.at("submit")
        zkey, parties = self._check_manifest(m, context)
        if m.threshold:
            if m.predeal_id:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              "job manifest: a threshold job draws on no material dealt ahead")
            stream = ShamirStream(index=m.party_index, n_parties=m.n_parties, threshold=m.threshold,
                                  n_vars=zkey.n_vars)
        elif m.predeal_id:
            try:
                ahead = self.predeals.take(bytes(m.predeal_id), client=client, circuit=m.circuit_sha256,
                                           parties=tuple(p.fingerprint for p in parties),
                                           index=m.party_index, job_id=bytes(m.job_id))
            except PredealError as e:
                # the key tells the client to deal this job whole, whatever the text says
                context.set_trailing_metadata(((wire.REFUSED_KEY, wire.REFUSED_PREDEAL),))
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))
            stream = MaterialStream(index=m.party_index, n_parties=m.n_parties, n_vars=zkey.n_vars,
                                    domain_size=zkey.domain_size, part="job", ahead=ahead)
        else:
            stream = MaterialStream(index=m.party_index, n_parties=m.n_parties, n_vars=zkey.n_vars,
                                    domain_size=zkey.domain_size)
        if m.material_size != stream.size:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"manifest announces {m.material_size} bytes of material, expected {stream.size}")
        # The job starts once the header and seed are in; the
        # correction vectors land in their arrays as they arrive, and the job waits for
        # one only where it needs it.  Until the stream is whole the job is provisional:
        # if the stream breaks off or turns out malformed, it is failed and forgotten.
        job = None
        whole = False
        why = "the client's material stream broke off"
        try:
            if stream.material is not None:  # all but the witness correction was dealt ahead
                job = self._start_job(m, zkey, parties, stream.material, client, context)
                job.material_bytes = stream.size
                job.on_end(lambda state, error: stream.fail(f"job {state}: {error}"))
            for part in request_iterator:
                if part.WhichOneof("part") != "material":
                    why = "a second manifest in one job submission"
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, why)
                try:
                    # a view of gRPC's buffer (wire.parse_job_part): copied once, into its array
                    stream.feed(part.material)
                except MaterialError as e:
                    why = str(e)
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, why)
                if job is None and stream.material is not None:
                    job = self._start_job(m, zkey, parties, stream.material, client, context)
                    job.material_bytes = stream.size
                    # cancelled, failed or past its deadline while the client still streams
                    # (or stalls): the party must not wait on the rest of its material
                    job.on_end(lambda state, error: stream.fail(f"job {state}: {error}"))
            try:
                stream.close()
            except MaterialError as e:
                why = str(e)
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, why)
            whole = True
        finally:
            if not whole:
                stream.fail(why)
                if job is not None:
                    self._drop_job(job, why)
        return pb.JobAccepted(job_id=job.job_id)

    def Predeal(self, request_iterator, context):
        """Material dealt ahead for one future job: checked like a job's, held in memory."""
        client = self._client(context)
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "manifest":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "material dealt ahead starts with its manifest")
        m = first.manifest
        if len(m.predeal_id) != JOB_ID_BYTES:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"predeal id must be {JOB_ID_BYTES} bytes")
        # the same checks as a job's manifest (committee, this node's place, the circuit);
        # the expiry stands in for the deadline
        as_job = pb.JobManifest(job_id=m.predeal_id, circuit_sha256=m.circuit_sha256, n_parties=m.n_parties,
                                party_index=m.party_index, parties=m.parties, deadline_unix_ms=m.expires_unix_ms)
        zkey, parties = self._check_manifest(as_job, context)
        stream = MaterialStream(index=m.party_index, n_parties=m.n_parties, n_vars=zkey.n_vars,
                                domain_size=zkey.domain_size, part="ahead")
        if m.material_size != stream.size:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"predeal manifest announces {m.material_size} bytes of material, expected {stream.size}")
        whole = False
        try:
            for part in request_iterator:
                if part.WhichOneof("part") != "material":
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a second manifest in one predeal")
                try:
                    stream.feed(part.material)
                except MaterialError as e:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
            try:
                stream.close()
            except MaterialError as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
            whole = True
        finally:
            if not whole:
                stream.fail("the predeal stream broke off")
        material = stream.material
        c = material.corrections
        for key, vec in (c.vectors() if c is not None else {}).items():
            setattr(c, key, vec.take())
        entry = Entry(bytes(m.predeal_id), client, m.circuit_sha256, tuple(p.fingerprint for p in parties),
                      m.party_index, m.expires_unix_ms / 1000.0, material, nbytes=stream.size)
        try:
            self.predeals.put(entry)
        except PredealError as e:
            entry.wipe()
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e))
        log.info("predeal=%s party=%d held until %.0fs from now (%d bytes)", entry.predeal_id.hex()[:12],
                 entry.index, entry.expires - time.time(), entry.nbytes)
        return pb.PredealAccepted(predeal_id=entry.predeal_id)

    def _start_job(self, m, zkey, parties, material, client, context) -> Job:
        seconds_left = (m.deadline_unix_ms / 1000.0) - time.time()
        job = Job(bytes(m.job_id), m.circuit_sha256, m.party_index, parties,
                  time.monotonic() + seconds_left, threshold=m.threshold,
                  max_buffered=0 if m.threshold else _buffer_limit(zkey.domain_size, m.n_parties))
        job.verify = self.verify_for(job)
        with self._lock:
            if job.job_id in self.jobs:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"job {job.job_id.hex()} exists")
            running = sum(1 for j in self.jobs.values() if j.state == RUNNING)
            if running >= self.cfg.max_jobs:
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"{running} jobs running, the limit")
            self.jobs[job.job_id] = job
            self.submitter[job.job_id] = client
            th = threading.Thread(target=self.work.run, args=(job, zkey, material), daemon=True,
                                  name=f"job-{job.job_id.hex()[:8]}")
            self.threads[job.job_id] = th
        self.metrics.running.inc()
        mode = f"threshold={m.threshold}" if m.threshold else "additive"
        self._log(job, "accepted", f"circuit={m.circuit_sha256[:12]} parties={m.n_parties} {mode} "
                                   f"deadline_in={seconds_left:.1f}s")
        th.start()
        return job

    def verify_for(self, job: Job):
        """The job's check of a peer message's signature: by the committee certificate of
        the party the manifest names as its sender."""
        def verify(sender: int, seq: int, payload, sig: bytes, hashes=None) -> bool:
            digest = (signing.payload_hash(payload) if hashes is None
                      else signing.digest_of_blocks(len(payload), hashes))
            return self.verifier.check(job.parties[sender].fingerprint,
                                       signing.statement(job.job_id, sender, job.index, seq, digest), sig)
        return verify

    def _drop_job(self, job: Job, why: str) -> None:
        """A job whose material never arrived whole: failed, and gone from the table (it
        was never accepted; its id may be used again)."""
        job.finish(FAILED, f"share material: {why}")
        with self._lock:
            if self.jobs.get(job.job_id) is job:
                del self.jobs[job.job_id]
                self.submitter.pop(job.job_id, None)
                self.threads.pop(job.job_id, None)
        self._log(job, "dropped", f"its material did not arrive whole: {why}", logging.WARNING)

    def _check_manifest(self, m, context):
        # messages quote caller-chosen names: capped so that the status still fits a reply
        bad = lambda msg: context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"job manifest: {msg}"[:2000])  # noqa: E731
        if len(m.job_id) != JOB_ID_BYTES:
            bad(f"job id must be {JOB_ID_BYTES} bytes")
        try:
            present = self.registry.present(m.circuit_sha256)
        except UploadError as e:  # not a circuit id at all
            bad(str(e))
        if not present:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          f"circuit {m.circuit_sha256[:12]} is not on this node; upload it first")
        if m.n_parties < 2 or len(m.parties) != m.n_parties:
            bad(f"{len(m.parties)} parties listed for n_parties = {m.n_parties} (at least 2)")
        if m.party_index >= m.n_parties:
            bad(f"party index {m.party_index} out of range")
        if m.threshold:
            try:
                check_threshold(m.n_parties, m.threshold)
            except ValueError as e:
                bad(str(e))
        parties = []
        for i, p in enumerate(m.parties):
            if p.index != i:
                bad(f"parties must be listed in index order (entry {i} says {p.index})")
            if not self.channels.knows(p.fingerprint) and i != m.party_index:
                bad(f"party {i} ({p.name}): certificate {p.fingerprint} is not in this node's committee file")
            parties.append(PartyInfo(i, p.name, p.address, p.fingerprint))
        if m.parties[m.party_index].fingerprint != self.cfg.identity.fingerprint:
            bad(f"party {m.party_index} is {m.parties[m.party_index].fingerprint}, not this node")
        if len({p.fingerprint for p in parties}) != len(parties):
            bad("a node appears twice in one job")
        left = m.deadline_unix_ms / 1000.0 - time.time()
        if not 0 < left <= self.cfg.max_job_seconds:
            bad(f"deadline {left:.1f}s away; allowed: (0, {self.cfg.max_job_seconds:g}]")
        return self.registry.get(m.circuit_sha256), parties

    def _log(self, job, step, detail, level=logging.INFO):
        job_log(job, step, detail, level)

    def FetchResult(self, request, context):
        job = self._job(request.job_id, context, self._client(context))
        wait = job.remaining() + LATE_GRACE
        if context.time_remaining() is not None:
            wait = min(wait, context.time_remaining())
        if not job.done.wait(wait):
            if job.remaining() <= 0 and job.finish(FAILED, "deadline passed"):
                self.metrics.jobs.labels("deadline").inc()
            elif job.state == RUNNING:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "job still running")
        if job.state != DONE:
            if job.blamed is not None:
                context.set_trailing_metadata(((BLAMED_PARTY_KEY, str(job.blamed)),))
            context.abort(grpc.StatusCode.ABORTED, f"job {job.state}: {job.error}")
        return pb.JobResult(job_id=job.job_id, output=job.output, step_seconds=job.steps,
                            bytes_sent=job.bytes_sent, bytes_received=job.bytes_received,
                            receipt=job.receipt[0], receipt_signature=job.receipt[1])

    def JobStatus(self, request, context):
        job = self._job(request.job_id, context, self._client(context))
        return _job_state(job)

    def CancelJob(self, request, context):
        job = self._job(request.job_id, context, self._client(context))
        if job.finish(CANCELLED, "cancelled by the client"):
            self.metrics.jobs.labels("cancelled").inc()
            self._log(job, "cancelled", "by the client")
        return _job_state(job)

    def JobTranscript(self, request, context):
        job = self._job(request.job_id, context, self._client(context))
        if job.state == RUNNING:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "job still running")
        return pb.Transcript(job_id=job.job_id, received=[
            pb.Received(sender=s, seq=q, payload=p, signature=g) for s, q, p, g in job.transcript])

    # peers ----------------------------------------------------------------------
    def PeerSend(self, request, context):
        job = self.jobs.get(request.job_id)
        if job is None:
            # the client may not have reached this node yet: the sender retries
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown job {request.job_id.hex()[:64]}")
        fp = ident.peer_fingerprint(context)
        if job.threshold:
            self.metrics.refused_peer_parts.inc()
            context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          f"job {job.job_id.hex()[:12]} is a threshold job: its parties exchange nothing")
        if not request.sender < job.n_parties or job.parties[request.sender].fingerprint != fp:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          f"certificate {fp} is not party {request.sender} of this job")
        if len(request.data) > PART_BYTES:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"part larger than {PART_BYTES} bytes")
        try:
            # hashed here, in this call's thread and outside the job's lock: parts of one
            # message hash in parallel as they arrive (the signature check needs the digest)
            job.deliver(request.sender, request.seq, request.part, request.n_parts, request.data,
                        request.signature, signing.block_hashes(request.data) if job.verify is not None else None)
        except JobError as e:
            job.finish(FAILED, f"{job.parties[request.sender].label()}: {e}", request.sender)
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))
        return pb.PeerAck()

    # housekeeping -----------------------------------------------------------------
    def sweep(self):
        """Fail jobs past their deadline; forget ended ones after a while (bounded memory);
        delete expired material dealt ahead."""
        self.predeals.sweep()
        now = time.monotonic()
        with self._lock:
            for jid, job in list(self.jobs.items()):
                if job.state == RUNNING and job.remaining() + LATE_GRACE <= 0:
                    if job.finish(FAILED, "deadline passed"):
                        self.metrics.jobs.labels("deadline").inc()
                if job.ended_at is not None and now - job.ended_at > self.cfg.ended_job_seconds:
                    del self.jobs[jid]
                    self.submitter.pop(jid, None)
                    self.threads.pop(jid, None)

    def shutdown(self, grace: float):
        self.closing = True
        self.predeals.clear()
        for job in list(self.jobs.values()):
            if job.finish(FAILED, "node is shutting down"):
                self.metrics.jobs.labels("shutdown").inc()
        for th in list(self.threads.values()):
            th.join(grace)
        self.channels.close()


class BulkParsers(grpc.ServerInterceptor):
    """The requests that carry bulk data parsed by :mod:`coordinator_free.wire`: their bytes
    arrive as views of gRPC's buffer instead of the two or three copies the protobuf
    runtime makes (:func:`wire.parse_peer_chunk`, :func:`wire.parse_job_part`)."""

    PARSERS = {"/coprove.v1.Node/PeerSend": wire.parse_peer_chunk,
               "/coprove.v1.Node/SubmitJob": wire.parse_job_part}

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        parse = self.PARSERS.get(handler_call_details.method)
        if handler is None or parse is None:
            return handler
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(handler.stream_unary, request_deserializer=parse,
                                                        response_serializer=handler.response_serializer)
        return grpc.unary_unary_rpc_method_handler(handler.unary_unary, request_deserializer=parse,
                                                   response_serializer=handler.response_serializer)


def _job_state(job: Job) -> pb.JobState:
    state = pb.JobState(job_id=job.job_id, state=job.state, error=job.error, node_version=__version__)
    if job.blamed is not None:
        state.blamed_party = job.blamed
    return state


@contextmanager
def serve(cfg: NodeConfig, listen: str, metrics: NodeMetrics | None = None):
    """Run a node; yields (service, bound port).  Tests bind port 0."""
    service = NodeService(cfg, metrics)
    allowed = {fp: fp for fp in cfg.trusted}
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="rpc"),
        interceptors=[ident.PinnedPeerInterceptor(allowed), BulkParsers()],
        options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                 ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)],
        maximum_concurrent_rpcs=256,
    )
    rpc.add_NodeServicer_to_server(service, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    creds = ident.server_credentials(cfg.identity, list(cfg.trusted.values()))
    port = server.add_secure_port(listen, creds)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    server.start()
    health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    stop = threading.Event()

    def janitor():
        while not stop.wait(1.0):
            service.sweep()

    threading.Thread(target=janitor, daemon=True, name="janitor").start()
    try:
        yield service, port
    finally:
        stop.set()
        health_servicer.enter_graceful_shutdown()
        service.shutdown(grace=5.0)
        server.stop(grace=5.0).wait()


def _buffer_limit(domain_size: int, n_parties: int) -> int:
    """What a job may hold of its peers' messages: twice round 1's honest traffic (each
    peer sends this party its share of our chunk of the 2n masked values, then its own
    opened chunk: 2·(N−1)·2n/N field elements), plus 64 MiB for headers."""
    chunk = -(-2 * domain_size // n_parties)
    return 2 * 2 * (n_parties - 1) * chunk * 32 + (64 << 20)


def run_node(args) -> int:
    """``coprove node``: parse-free entry, given the CLI's arguments."""
    from coordinator_free.committee import load_committee

    identity = ident.load_identity(args.key, args.cert)
    committee = load_committee(args.committee)
    trusted = {m.fingerprint: m.cert_pem for m in (*committee.nodes, *committee.spares, *committee.trusted_clients)}
    clients = {m.fingerprint for m in committee.trusted_clients}
    if not clients:
        raise ValueError(f"{args.committee}: lists no [[trusted_client]]; no client could submit jobs")
    engine = selected_device()  # chosen by the CLI (--gpu, --gpus, --cpu)
    cfg = NodeConfig(identity=identity, data_dir=Path(args.data_dir), trusted=trusted, clients=clients,
                     max_jobs=args.max_jobs, misbehave=args.misbehave, fault=args.fault)
    if args.misbehave:
        log.warning("started with --misbehave %s: this node deliberately deviates (test hook)", args.misbehave)
    metrics = NodeMetrics()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    with serve(cfg, args.listen, metrics) as (_, port):
        host = args.listen.rpartition(":")[0]
        extra = ""
        if args.metrics:
            extra = f" metrics on port {metrics.serve(args.metrics)}"
        print(f"coprove node {identity.name} (coprove {__version__}, engine {engine}) listening on {host}:{port} fingerprint {identity.fingerprint}{extra}",
              flush=True)
        stopping.wait()
        log.info("shutting down: failing running jobs, finishing calls")
    return 0
