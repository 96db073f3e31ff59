"""``PlainOps``: the share operations with one party, i.e. the single-party prover.

Shares are values and opening returns its input, so ``groth16_prove`` run on
``PlainOps`` is an ordinary Groth16 prover: the oracle and baseline for the
collaborative one.  Everything here is the pure-Python reference arithmetic.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

import numpy as np

from prover.bn254 import FR_MODULUS
from prover.groth16 import groth16_prove
from prover.limbs import limbs_to_ints
from prover.local_ops import CURVES, LocalOps, public_point
from prover.wtns import check_witness_for

log = logging.getLogger("coprove.prover")
R = FR_MODULUS


@dataclass(frozen=True)
class Proof:
    pi_a: tuple
    pi_b: tuple
    pi_c: tuple


class PlainOps(LocalOps):
    """One party holding every value in the clear: opening is the identity."""

    def __init__(self, witness, r: int, s: int, engine: str | None = None):
        """``witness``: canonical (m, 4) array (or, for the reference engine, ints)."""
        super().__init__(engine)
        self._w = self.from_wire(witness) if isinstance(witness, np.ndarray) else witness
        self._r, self._s = r % R, s % R

    def witness(self):
        return self._w

    def blinding(self):
        return self._r, self._s, self._r * self._s % R

    def add_public(self, group, a, p):
        return CURVES[group].add(a, public_point(group, p))

    def multiply_and_open(self, a, b, points):
        return [self.mul_vec(a, b), self.mul_vec(self.odd_coset(a), self.odd_coset(b))], [p for _, p in points()]

    def output(self, pi_a, pi_b, pi_c):
        return Proof(pi_a, pi_b, pi_c)


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
    if r is None:
        r = secrets.randbelow(R)
    if s is None:
        s = secrets.randbelow(R)
    ops = PlainOps(wtns.values, r, s, engine)
    t0 = time.perf_counter()
    proof = groth16_prove(zkey, ops)
    total = time.perf_counter() - t0
    log.info(
        "proof curve=bn128 backend=%s constraints_domain=%d vars=%d total=%.3fs %s",
        ops.engine, zkey.domain_size, zkey.n_vars, total,
        " ".join(f"{k}={v:.3f}s" for k, v in sorted(ops.timings.items())),
    )
    return proof, public_signals(zkey, w)
