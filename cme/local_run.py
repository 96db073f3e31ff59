"""N parties and the client in one process (threads over the in-memory transport).

``coprove prove … --local N`` and the tests use this; the network runs the same
party code over gRPC.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

from cme import messages as M
from cme.assembly import JobFailed, assemble
from cme.audit import audit
from cme.dealing import deal, upload_bytes
from cme.party import run_party
from cme.transport import CLIENT, InMemoryHub, PeerError, Recorder
from prover.plain import public_signals, witness_ints
from prover.snarkjs_json import vkey_object_from_zkey

log = logging.getLogger("coprove.cme")


@dataclass
class JobReport:
    n_parties: int
    upload_bytes: int
    party_stats: dict = field(default_factory=dict)  # index -> transport stats
    party_timings: dict = field(default_factory=dict)  # index -> stage seconds (wall)
    party_cpu: dict = field(default_factory=dict)  # index -> CPU seconds of the party's thread
    # kept only for the audit of a failed proof, dropped once the job is settled
    job_id: bytes = b""
    materials: list = field(default_factory=list, repr=False)
    received: dict = field(default_factory=dict, repr=False)  # receiver -> [(sender, payload)]
    raw_outputs: dict = field(default_factory=dict, repr=False)

    def forget_secrets(self):
        self.materials, self.received, self.raw_outputs = [], {}, {}
    seconds: float = 0.0


def _run_party_timed(zkey, material, transport, job_id, engine):
    # thread CPU time: in one process the parties' wall clocks include waits for the GIL
    t0 = time.thread_time()
    ops = run_party(zkey, material, transport, job_id, engine)
    return ops, time.thread_time() - t0


def run_job(zkey, w, n_parties: int, r: int | None = None, s: int | None = None,
            wrap=None, timeout: float = 120.0, engine: str | None = None):
    """Deal, run the parties, gather their outputs: ``(outputs, JobReport)``, unchecked.

    ``wrap(index, transport)`` may replace a party's or the client's (index −1)
    transport, which is how tests record views and tamper with messages.
    """
    t0 = time.perf_counter()
    materials = deal(w, n_parties, zkey.domain_size, r, s, engine)
    report = JobReport(n_parties, upload_bytes(materials))
    job_id = secrets.token_bytes(M.JOB_ID_BYTES)
    report.job_id, report.materials = job_id, materials
    hub = InMemoryHub(n_parties, timeout)
    wrap = wrap or (lambda i, t: t)
    endpoints = {i: Recorder(wrap(i, hub.endpoint(i)), received=report.received.setdefault(i, []))
                 for i in range(n_parties)}
    client = wrap(CLIENT, hub.endpoint(CLIENT))
    failures: list[tuple[float, int, BaseException]] = []
    ops_by_party = {}

    def party(i, material):
        try:
            ops_by_party[i], report.party_cpu[i] = _run_party_timed(zkey, material, endpoints[i], job_id, engine)
        except BaseException as e:  # reported to the client, which fails the job
            failures.append((time.perf_counter(), i, e))
            hub.abort(f"party {i} failed: {e}")

    threads = [threading.Thread(target=party, args=(i, materials[i]), name=f"party-{i}", daemon=True)
               for i in range(n_parties)]
    for th in threads:
        th.start()
    outputs = {}
    try:
        for i in range(n_parties):
            raw = client.recv(i)
            report.raw_outputs[i] = raw
            outputs[i] = M.decode(raw, peer=i, job_id=job_id, kind=M.OUTPUT).points
    except (PeerError, M.MessageError) as e:
        hub.abort(str(e))
        for th in threads:
            th.join(timeout)
        if failures:
            _, who, err = min(failures, key=lambda f: f[0])
            raise JobFailed(f"party {who} failed: {err}", who) from err
        raise JobFailed(str(e), getattr(e, "peer", None)) from e
    for th in threads:
        th.join(timeout)
    for i, ops in ops_by_party.items():
        report.party_stats[i] = endpoints[i].stats()
        report.party_timings[i] = dict(ops.timings)
    report.seconds = time.perf_counter() - t0
    return outputs, report


def prove_local(zkey, wtns, n_parties: int, r: int | None = None, s: int | None = None,
                wrap=None, timeout: float = 120.0, engine: str | None = None):
    """Collaborative proof with ``n_parties`` threads: ``(Proof, public, JobReport)``.

    The proof is checked before it is returned; a failed job raises ``JobFailed``.
    """
    t0 = time.perf_counter()
    public = public_signals(zkey, witness_ints(zkey, wtns))
    outputs, report = run_job(zkey, wtns.values, n_parties, r, s, wrap, timeout, engine)
    try:
        proof = assemble(vkey_object_from_zkey(zkey), public, outputs)
    except JobFailed as e:
        if e.party is not None:
            raise
        found = audit(zkey, report.materials, report.job_id, report.received, report.raw_outputs, engine)
        raise JobFailed(f"{e}; audit: {found.detail}", found.culprits[0] if found.culprits else None) from None
    finally:
        report.forget_secrets()
    report.seconds = time.perf_counter() - t0
    log.info("job parties=%d upload=%dB total=%.3fs", n_parties, report.upload_bytes, report.seconds)
    return proof, public, report
