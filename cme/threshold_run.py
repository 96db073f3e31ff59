"""Threshold mode with N parties in one process: ``coprove prove … --local N --threshold T``.

Each party runs the single-party prover on its Shamir share and hands its bare MSMs to
the client; no party sends anything to another.  ``faults`` makes chosen parties crash
(no output) or lie (a wrong MSM), so tests can show a job surviving both.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from cme import messages as M
from cme.misbehave import wrong_msm
from cme.session import ThresholdSession
from cme.shamir import share_of
from prover.engines import get_engine
from prover.groth16 import groth16_bare
from prover.plain import PlainOps
from prover.wtns import check_witness_for

log = logging.getLogger("coprove.cme")
FAULTS = ("crash", "wrong-msm")


@dataclass
class ThresholdReport:
    n_parties: int
    threshold: int
    upload_bytes: int
    party_timings: dict = field(default_factory=dict)  # index -> stage seconds
    outputs: int = 0
    missing: list = field(default_factory=list)  # parties that gave no output
    blamed: list = field(default_factory=list)  # parties whose output was unusable or off
    seconds: float = 0.0


def run_party(zkey, material, engine: str | None = None):
    """One party's whole job: its share, the single-party routine, its bare MSMs."""
    ops = PlainOps(share_of(material, get_engine(engine).on_device), engine)
    return groth16_bare(zkey, ops), ops.timings


def prove_local_threshold(zkey, wtns, n_parties: int, threshold: int, r: int | None = None,
                          s: int | None = None, engine: str | None = None, faults: dict | None = None):
    """``(Proof, public, ThresholdReport)``; the proof is checked before it is returned.
    ``faults``: party -> "crash" or "wrong-msm"."""
    for who, what in (faults or {}).items():
        if what not in FAULTS:
            raise ValueError(f"party {who}: unknown fault {what!r}; one of {', '.join(FAULTS)}")
    t0 = time.perf_counter()
    check_witness_for(wtns, zkey.n_vars, zkey.path)
    blinding = (r, s) if r is not None and s is not None else None
    session = ThresholdSession(zkey, wtns.values, n_parties, threshold, blinding=blinding, engine=engine)
    report = ThresholdReport(n_parties, threshold, session.upload_bytes)
    outputs = {}
    for material in session.materials:
        i = material.index
        fault = (faults or {}).get(i)
        if fault == "crash":
            continue
        bare, report.party_timings[i] = run_party(zkey, material, engine)
        points = (bare.a, bare.b1, bare.b2, bare.c)
        if fault == "wrong-msm":
            points = wrong_msm(points)
        outputs[i] = M.encode(M.Message(M.OUTPUT, session.job_id, i, points=points))
    report.outputs = len(outputs)
    report.missing = [i for i in range(n_parties) if i not in outputs]
    proof = session.finish(outputs)
    report.blamed = session.blamed
    report.seconds = time.perf_counter() - t0
    log.info("threshold job parties=%d t=%d upload=%dB total=%.3fs blamed=%s", n_parties, threshold,
             report.upload_bytes, report.seconds, report.blamed)
    return proof, session.public, report
