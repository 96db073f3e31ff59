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

from prover import ntt
from prover.bn254 import FR_MODULUS, G1, G2, g1_from_array, g2_from_array
from prover.groth16 import groth16_prove
from prover.limbs import limbs_to_ints
from prover.msm import msm_pippenger
from prover.wtns import check_witness_for

log = logging.getLogger("coprove.prover")
R = FR_MODULUS
_CURVES = {"g1": G1, "g2": G2}


@dataclass(frozen=True)
class Proof:
    pi_a: tuple
    pi_b: tuple
    pi_c: tuple


def _public_point(group, p):
    """Reference point from a canonical array or an already-reference point."""
    if isinstance(p, np.ndarray):
        return (g1_from_array if group == "g1" else g2_from_array)(p.reshape((1,) + p.shape))[0]
    return p


class PlainOps:
    """One party holding every value in the clear; vectors are lists of ints."""

    def __init__(self, witness: list[int], r: int, s: int):
        self._w = witness
        self._r, self._s = r % R, s % R
        self.timings: dict[str, float] = {}

    def _timed(self, stage, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0
        return out

    def witness(self):
        return self._w

    def blinding(self):
        return self._r, self._s, self._r * self._s % R

    def sparse_matvec(self, matrix, coeffs, v, rows):
        def run():
            out = [0] * rows
            sel = coeffs.matrix == matrix
            values = limbs_to_ints(coeffs.value[sel])
            for c, sig, val in zip(coeffs.constraint[sel].tolist(), coeffs.signal[sel].tolist(), values):
                out[c] += val * v[sig]
            return [x % R for x in out]
        return self._timed("matvec", run)

    def odd_coset(self, v):
        return self._timed("ntt", ntt.odd_coset, v)

    def sub_vec(self, a, b):
        return [(x - y) % R for x, y in zip(a, b, strict=True)]

    def tail(self, v, start):
        return v[start:]

    def msm(self, group, bases, v):
        def run():
            points = (g1_from_array if group == "g1" else g2_from_array)(bases)
            return msm_pippenger(_CURVES[group], points, v)
        return self._timed(f"msm_{group}", run)

    def scalar_mul(self, group, k, p):
        return _CURVES[group].mul(_public_point(group, p), k)

    def add(self, group, a, b):
        return _CURVES[group].add(a, b)

    def sub(self, group, a, b):
        return _CURVES[group].sub(a, b)

    def add_public(self, group, a, p):
        return _CURVES[group].add(a, _public_point(group, p))

    def multiply_and_open(self, pairs, points):
        products = [[x * y % R for x, y in zip(a, b, strict=True)] for a, b in pairs]
        return products, [p for _, p in points]

    def output(self, pi_a, pi_b, pi_c):
        return Proof(pi_a, pi_b, pi_c)


def witness_ints(zkey, wtns) -> list[int]:
    """The witness as ints, after checking it belongs to this zkey."""
    check_witness_for(wtns, zkey.n_vars, zkey.path)
    return limbs_to_ints(wtns.values)


def public_signals(zkey, w: list[int]) -> list[int]:
    return w[1:zkey.n_public + 1]


def prove_single(zkey, wtns, r: int | None = None, s: int | None = None):
    """Single-party Groth16 proof: ``(Proof, public_signals)``; r, s random unless given."""
    w = witness_ints(zkey, wtns)
    if r is None:
        r = secrets.randbelow(R)
    if s is None:
        s = secrets.randbelow(R)
    ops = PlainOps(w, r, s)
    t0 = time.perf_counter()
    proof = groth16_prove(zkey, ops)
    total = time.perf_counter() - t0
    log.info(
        "proof curve=bn128 backend=reference constraints_domain=%d vars=%d total=%.3fs %s",
        zkey.domain_size, zkey.n_vars, total,
        " ".join(f"{k}={v:.3f}s" for k, v in sorted(ops.timings.items())),
    )
    return proof, public_signals(zkey, w)
