"""The client's audit of a job whose proof failed its check: who deviated?

The parties' computation is deterministic given the material the client dealt, so the
client can replay the whole job in-process and know every message each party should
have sent.  It compares, stage by stage in protocol order (round-1 shares, round-1
openings, outputs), what the receivers report having received against the replay; the
first stage with a mismatch names its sender.  Earlier stages first, because an honest
party's later messages legitimately change once it has received a bad one.

A receiver could lie about what it received and so frame an honest sender: on the
network every peer message carries its sender's signature (``coordinator_free.signing``),
and the client checks the signatures of every reported message before this audit runs,
naming a receiver that reports one its sender did not sign.  In-process (``--local``)
the parties hold no keys and report what they received themselves; they are the client's
own threads, so there is no one to frame.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from cme import messages as M
from cme.party import run_party
from cme.transport import InMemoryHub, Recorder

STAGES = (M.ROUND1_SHARES, M.ROUND1_OPENED, M.OUTPUT)


def replay_job(zkey, materials, job_id: bytes, timeout: float = 600.0, engine: str | None = None) -> dict:
    """Run the parties on exactly this material and job id: ``(sender, receiver) ->
    [payloads]``, what an honest run sends (the client's audit compares against it)."""
    n = len(materials)
    hub = InMemoryHub(n, timeout)
    sent: dict = {}
    errors = []

    def party(i):
        try:
            run_party(zkey, materials[i], Recorder(hub.endpoint(i), sent=sent), job_id, engine)
        except BaseException as e:  # an honest replay cannot fail; report if it does
            errors.append(e)
            hub.abort(str(e))

    threads = [threading.Thread(target=party, args=(i,), daemon=True) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout)
    if errors:
        raise RuntimeError(f"replay of the job failed: {errors[0]}")
    return sent


class AuditResult:
    def __init__(self, culprits: list[int], stage: int | None, detail: str):
        self.culprits, self.stage, self.detail = culprits, stage, detail

    def __repr__(self):
        return f"AuditResult({self.culprits}, {self.detail!r})"


def audit(zkey, materials, job_id: bytes, received: dict, outputs: dict, engine: str | None = None) -> AuditResult:
    """``received``: receiver -> [(sender, payload)] as the receivers report them;
    ``outputs``: party -> the raw OUTPUT payload the client got from it."""
    expected = replay_job(zkey, materials, job_id, engine=engine)  # (sender, receiver) -> [payloads]
    got = defaultdict(list)
    for receiver, msgs in received.items():
        for sender, payload in msgs:
            got[(sender, receiver)].append(payload)
    for party, payload in outputs.items():
        got[(party, M.CLIENT_INDEX)].append(payload)

    for stage in STAGES:
        bad = set()
        for (sender, receiver), want in expected.items():
            want_stage = [p for p in want if p[4] == stage]
            have_stage = [p for p in got.get((sender, receiver), []) if len(p) > 4 and p[4] == stage]
            if have_stage != want_stage and (have_stage or stage == M.OUTPUT):
                bad.add(sender)
        if bad:
            names = ", ".join(f"party {i}" for i in sorted(bad))
            return AuditResult(sorted(bad), stage, f"{names} sent a message ({M.KIND_NAMES[stage]}) "
                                                   "that does not match the replay of the dealt shares")
    return AuditResult([], None, "every message matches the replay: the witness does not satisfy the circuit")
