"""N parties and the client in one process (threads over the in-memory transport).

``coprove prove … --local N`` and the tests use this; the network runs the same
party code over gRPC.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from cme.assembly import JobFailed, decode_outputs
from cme.party import run_party
from cme.session import ClientSession
from cme.transport import CLIENT, InMemoryHub, PeerError, Recorder
from prover.limbs import ints_to_limbs
from prover.wtns import check_witness_for

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


def run_parties(session: ClientSession, wrap=None, timeout: float = 120.0, engine: str | None = None):
    """Run the session's parties as threads and gather their raw outputs:
    ``(outputs, JobReport)``, unchecked.

    ``wrap(index, transport)`` may replace a party's or the client's (index −1)
    transport, which is how tests record views and tamper with messages.
    """
    t0 = time.perf_counter()
    n_parties, job_id = session.n_parties, session.job_id
    report = JobReport(n_parties, session.upload_bytes)
    report.job_id, report.materials = job_id, session.materials
    hub = InMemoryHub(n_parties, timeout)
    wrap = wrap or (lambda i, t: t)
    endpoints = {i: Recorder(wrap(i, hub.endpoint(i)), received=report.received.setdefault(i, []))
                 for i in range(n_parties)}
    client = wrap(CLIENT, hub.endpoint(CLIENT))
    failures: list[tuple[float, int, BaseException]] = []
    ops_by_party = {}

    def party(i, material):
        try:
            ops_by_party[i], report.party_cpu[i] = _run_party_timed(session.zkey, material, endpoints[i],
                                                                    job_id, engine)
        except BaseException as e:  # reported to the client, which fails the job
            failures.append((time.perf_counter(), i, e))
            hub.abort(f"party {i} failed: {e}")

    threads = [threading.Thread(target=party, args=(i, m), name=f"party-{i}", daemon=True)
               for i, m in enumerate(session.materials)]
    for th in threads:
        th.start()
    try:
        for i in range(n_parties):
            report.raw_outputs[i] = client.recv(i)
    except PeerError as e:
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
    return dict(report.raw_outputs), report


def run_job(zkey, w, n_parties: int, wrap=None, timeout: float = 120.0, engine: str | None = None):
    """Deal ``w`` (ints or a canonical array), run the parties, decode their outputs:
    ``(party -> BareParts, JobReport)``, unchecked and with the dealt material kept in the
    report (for tests of the parties' views and of the audit)."""
    w_arr = w if isinstance(w, np.ndarray) else ints_to_limbs(w)
    session = ClientSession(zkey, w_arr, n_parties, engine=engine)
    raw, report = run_parties(session, wrap, timeout, engine)
    return decode_outputs(raw, session.job_id), report


def prove_local(zkey, wtns, n_parties: int, r: int | None = None, s: int | None = None,
                wrap=None, timeout: float = 120.0, engine: str | None = None):
    """Collaborative proof with ``n_parties`` threads: ``(Proof, public, JobReport)``.

    The proof is checked before it is returned; a failed job raises ``JobFailed``.
    r and s are fresh unless both are given (tests comparing with snarkjs).
    """
    t0 = time.perf_counter()
    check_witness_for(wtns, zkey.n_vars, zkey.path)
    blinding = (r, s) if r is not None and s is not None else None
    session = ClientSession(zkey, wtns.values, n_parties, blinding=blinding, engine=engine)
    raw, report = run_parties(session, wrap, timeout, engine)
    try:
        proof = session.finish(raw, lambda: report.received)
    finally:
        report.forget_secrets()
    report.seconds = time.perf_counter() - t0
    log.info("job parties=%d upload=%dB total=%.3fs", n_parties, report.upload_bytes, report.seconds)
    return proof, session.public, report
