"""One party's steps of a job: the Groth16 routine on its expanded material, over a transport.

``--local`` (``cme.local_run``) and the audit's replay (``cme.audit``) run it; the network
node (``coordinator_free.node``) still inlines its own copy around its job bookkeeping.
"""

from __future__ import annotations

from cme.additive_ops import AdditiveOps
from cme.dealing import expand_material
from prover.groth16 import groth16_prove


def run_party(zkey, material, transport, job_id: bytes, engine: str | None = None) -> AdditiveOps:
    ops = AdditiveOps(expand_material(material, engine), transport, material.n_parties, job_id, engine)
    groth16_prove(zkey, ops)
    return ops
