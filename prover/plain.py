"""``PlainOps``: the share operations with one party, i.e. the single-party prover.

Shares are values and the exchange is a local product, so ``groth16_bare`` run on
``PlainOps`` gives the witness's bare MSMs, and ``complete_proof`` finishes them as the
client of a collaborative job does: the oracle and baseline for the collaborative prover.
"""

from __future__ import annotations

import logging
import secrets
import time

import numpy as np

from prover.bn254 import FR_MODULUS
from prover.groth16 import BareParts, Proof, complete_proof, groth16_bare
from prover.limbs import limbs_to_ints
from prover.local_ops import LocalOps
from prover.wtns import check_witness_for

__all__ = ["PlainOps", "Proof", "prove_single", "public_signals", "witness_ints"]

log = logging.getLogger("coprove.prover")
R = FR_MODULUS


class PlainOps(LocalOps):
    """One party holding every value in the clear: the products need no exchange."""

    def __init__(self, witness, engine: str | None = None):
        """``witness``: canonical (m, 4) array (or, for the reference engine, ints)."""
        super().__init__(engine)
        self._w = self.from_wire(witness) if isinstance(witness, np.ndarray) else witness

    def witness(self):
        return self._w

    def multiply(self, a, b, meanwhile):
        meanwhile()
        return self.mul_vec(a, b), self.mul_vec(self.odd_coset(a), self.odd_coset(b))

    def output(self, parts: BareParts) -> BareParts:
        return parts


def witness_ints(zkey, wtns) -> list[int]:
    """The witness as ints, after checking it belongs to this zkey."""
    check_witness_for(wtns, zkey.n_vars, zkey.path)
    return limbs_to_ints(wtns.values)


def public_signals(zkey, w: list[int]) -> list[int]:
    return w[1:zkey.n_public + 1]


def prove_single(zkey, wtns, r: int | None = None, s: int | None = None, engine: str | None = None):
    """Single-party Groth16 proof: ``(Proof, public_signals)``; r, s random unless given.

    ``engine``: "reference" (pure Python), "cpu", "cuda", or None for the best available.
    """
    w = witness_ints(zkey, wtns)
    r = secrets.randbelow(R) if r is None else r
    s = secrets.randbelow(R) if s is None else s
    ops = PlainOps(wtns.values, engine)
    t0 = time.perf_counter()
    bare = groth16_bare(zkey, ops)
    t1 = time.perf_counter()
    proof = complete_proof(zkey, bare, r, s)
    ops.timings["complete"] = time.perf_counter() - t1
    log.info(
        "proof curve=bn128 backend=%s constraints_domain=%d vars=%d total=%.3fs %s",
        ops.engine, zkey.domain_size, zkey.n_vars, time.perf_counter() - t0,
        " ".join(f"{k}={v:.3f}s" for k, v in sorted(ops.timings.items())),
    )
    return proof, public_signals(zkey, w)
