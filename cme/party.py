"""One party's steps of a job: the Groth16 routine on its expanded material, over a transport.

The one runner of the protocol's party side: the network node (``coordinator_free.node``),
``--local`` (``cme.local_run``) and the audit's replay (``cme.audit``) all call it, so a
change to the protocol is one edit and the in-process tests exercise the daemon's path.
"""

from __future__ import annotations

import time
from typing import Callable

from cme.additive_ops import AdditiveOps
from cme.dealing import expand_material
from prover.groth16 import groth16_bare


def run_party(zkey, material, transport, job_id: bytes, engine: str | None = None,
              expanded: Callable[[], None] | None = None) -> AdditiveOps:
    """Expand the dealt material into this party's shares, then prove over ``transport``.

    ``expanded`` runs once the shares exist (the node wipes the material's correction
    vectors there: the shares are all it keeps).  The ops' timings include "expand".
    """
    t0 = time.perf_counter()
    shares = expand_material(material, engine)
    expand_s = time.perf_counter() - t0
    if expanded is not None:
        expanded()
    ops = AdditiveOps(shares, transport, material.n_parties, job_id, engine)
    ops.timings["expand"] = expand_s
    groth16_bare(zkey, ops)
    return ops
