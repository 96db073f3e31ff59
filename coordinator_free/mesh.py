"""The peer mesh of a job: cme's ``Transport`` over gRPC with pinned mutual TLS.

A node dials each peer at the manifest's address and trusts exactly the certificate
whose fingerprint the manifest names (taken from this node's committee file), so a
share never reaches anyone else.  Messages go in parts of at most ``PART_BYTES``;
a send is retried while the peer is unreachable or has not yet been handed the job
by the client, but never past the job's deadline.
"""

from __future__ import annotations

import threading
import time

import grpc

from cme.transport import CLIENT, PeerError
from coordinator_free import identity as ident
from coordinator_free import signing, wire
from protos import coprove_pb2 as pb
from protos import coprove_pb2_grpc as rpc

# 4 MiB parts, up to PIPELINE of them in flight per message: one call per part in lock
# step was slow, and other part sizes and depths land within the noise of these: what a
# part costs is its copies, not its calls (figures: bench/RESULTS.md, "Measurements moved
# from code comments")
PART_BYTES = 4 << 20
PIPELINE = 8
# a peer that stays unreachable this long fails the job, even if the deadline is later
UNREACHABLE_SECONDS = 15.0
_RETRY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND)
# every node certificate carries this DNS name; trust comes from pinning the certificate
SERVER_NAME = "coprove-node"


class PeerChannels:
    """One channel per (address, certificate), shared by all jobs of this node."""

    def __init__(self, identity, certs_by_fingerprint: dict[str, bytes]):
        self._identity = identity
        self._certs = certs_by_fingerprint
        self._channels: dict = {}
        self._lock = threading.Lock()

    def knows(self, fingerprint: str) -> bool:
        return fingerprint in self._certs

    def _channel(self, party) -> grpc.Channel:
        key = (party.address, party.fingerprint)
        with self._lock:
            ch = self._channels.get(key)
            if ch is None:
                creds = ident.channel_credentials(self._identity, self._certs[party.fingerprint])
                ch = grpc.secure_channel(party.address, creds, options=ident.channel_options(SERVER_NAME))
                self._channels[key] = ch
            return ch

    def stub(self, party) -> rpc.NodeStub:
        return rpc.NodeStub(self._channel(party))

    def peer_send(self, party) -> grpc.UnaryUnaryMultiCallable:
        """PeerSend taking a part already in wire form (:func:`wire.peer_chunk`)."""
        return self._channel(party).unary_unary(
            "/coprove.v1.Node/PeerSend", request_serializer=None,
            response_deserializer=pb.PeerAck.FromString, _registered_method=True)

    def close(self):
        with self._lock:
            for ch in self._channels.values():
                ch.close()
            self._channels.clear()


class GrpcTransport:
    """``cme.transport.Transport`` for one party of one job on this node."""

    def __init__(self, job, channels: PeerChannels, signer: signing.Signer | None = None,
                 bad_signatures: bool = False):
        """``signer``: this node's key; every message to a peer carries its signature
        (a node's receivers refuse unsigned ones).  ``bad_signatures``: a test hook
        (``--misbehave bad-signature``) signing the wrong statement."""
        self._job = job
        self._channels = channels
        self._signer = signer
        self._bad_signatures = bad_signatures
        self._seq = {p.index: 0 for p in job.parties}
        self._by_index = {p.index: p for p in job.parties}
        self._stats = {"bytes_sent": 0, "bytes_received": 0, "messages_sent": 0, "messages_received": 0}
        self._lock = threading.Lock()

    @property
    def index(self) -> int:
        return self._job.index

    def send(self, to: int, payload: bytes) -> None:
        if to == CLIENT:
            # round 2: held for the client's FetchResult, never pushed anywhere
            self._job.output = bytes(payload)
            return
        party = self._by_index.get(to)
        if party is None or to == self.index:
            raise PeerError(to, "no such peer in this job")
        seq = self._seq[to]
        self._seq[to] += 1
        n_parts = max(1, -(-len(payload) // PART_BYTES))
        stub = self._channels.peer_send(party)
        view = memoryview(payload)
        hasher = signing.BlockHasher(view) if self._signer is not None else None
        in_flight = []
        for part in range(n_parts):
            signature = b""
            if hasher is not None:
                # hashed as it goes out, while the earlier parts are in flight; the last
                # part carries the signature over the whole payload's digest
                hasher.through((part + 1) * PART_BYTES)
                if part == n_parts - 1:
                    signed_seq = seq + 1 if self._bad_signatures else seq
                    signature = self._signer.sign(signing.statement(self._job.job_id, self.index, to, signed_seq,
                                                                    hasher.digest()))
            chunk = wire.peer_chunk(self._job.job_id, self.index, seq, part, n_parts,
                                    view[part * PART_BYTES:(part + 1) * PART_BYTES], signature)
            if part == 0:
                # the first part alone: it waits out a peer that has not got the job yet
                self._send_part(party, stub, chunk)
                continue
            in_flight.append((chunk, stub.future(chunk, timeout=self._part_timeout())))
            if len(in_flight) >= PIPELINE:
                self._settle(party, stub, in_flight.pop(0))
        for item in in_flight:
            self._settle(party, stub, item)
        with self._lock:  # a party sends to its peers from several threads
            self._stats["bytes_sent"] += len(payload)
            self._stats["messages_sent"] += 1
            self._job.bytes_sent += len(payload)

    def _part_timeout(self) -> float:
        return max(0.1, min(self._job.work_remaining(), 30.0))

    def _settle(self, party, stub, item):
        """Wait for a pipelined part; one that failed goes through the retrying path."""
        chunk, fut = item
        try:
            fut.result()
        except grpc.RpcError:
            self._send_part(party, stub, chunk)

    def _send_part(self, party, stub, chunk):
        give_up = time.monotonic() + min(self._job.work_remaining(), UNREACHABLE_SECONDS)
        delay = 0.05
        while True:
            timeout = self._part_timeout()
            try:
                stub(chunk, timeout=timeout)
                return
            except grpc.RpcError as e:
                code = e.code()
                if code in _RETRY and time.monotonic() + delay < give_up and self._job.state == "running":
                    time.sleep(delay)
                    delay = min(1.0, delay * 2)
                    continue
                what = {grpc.StatusCode.UNAVAILABLE: "unreachable",
                        grpc.StatusCode.DEADLINE_EXCEEDED: "did not answer in time"}.get(
                            code, f"refused the message ({code.name})")
                raise PeerError(party.index, f"{party.label()} {what}: {e.details()}") from None

    def recv(self, frm: int) -> bytes:
        party = self._by_index.get(frm)
        if party is None or frm == self.index:
            raise PeerError(frm, "no such peer in this job")
        try:
            payload = self._job.recv(frm)
        except TimeoutError as e:
            raise PeerError(frm, f"{party.label()} {e}") from None
        self._stats["bytes_received"] += len(payload)
        self._stats["messages_received"] += 1
        return payload

    def stats(self) -> dict:
        return dict(self._stats)

    def misreport(self, frm: int, received: bytes, claimed: bytes) -> None:
        """Test hook (``--misbehave frame``): the job's transcript shows ``claimed`` where
        ``received`` arrived from ``frm``, its sender's signature left as it came."""
        t = self._job.transcript
        for k, (sender, seq, payload, sig) in enumerate(t):
            if sender == frm and payload == received:
                t[k] = (sender, seq, claimed, sig)
                return
