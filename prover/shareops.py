"""The share-operations protocol the Groth16 routine is written against.

Notation: ``[x]`` is x as this party holds it.  For ``PlainOps`` (one party) a
shared value is the value itself; for the additive scheme in ``cme`` it is one
summand.  Every method says whether it touches the network; all others are local
and must be linear in the shares, so each party applies them to its own summand.

Vectors and points are opaque to the routine: each implementation picks its own
representation (Python ints for the reference, device arrays for the engine).  Public
inputs to these methods (bases, the sparse matrix) are canonical numpy arrays, as the
readers return them.  Nothing here sees r or s: the routine ends at the bare MSMs, and
whoever holds the blinding completes the proof (``groth16.complete_proof``).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np

Group = str  # "g1" or "g2"
Vec = Any  # [v], a shared Fr vector
Point = Any  # [P], a shared group element


class ShareOps(Protocol):
    def witness(self) -> Vec:
        """[w], the full witness (index 0 is the constant 1).  Local."""

    def sparse_matvec(self, matrix: int, coeffs, v: Vec, rows: int) -> Vec:
        """[M·v] for M = A (matrix 0) or B (1) of the zkey's coefficient section.  Local."""

    def odd_coset(self, v: Vec) -> Vec:
        """[evaluations on the odd coset] of the polynomial with domain evaluations [v].  Local."""

    def sub_vec(self, a: Vec, b: Vec) -> Vec:
        """[a − b].  Local."""

    def tail(self, v: Vec, start: int) -> Vec:
        """[v[start:]].  Local."""

    def msm(self, group: Group, bases: np.ndarray, v: Vec) -> Point:
        """[Σ v_i·B_i] for public bases.  Local (the engine's MSM on this party's scalars)."""

    def msm_later(self, group: Group, bases: np.ndarray, v: Vec) -> Callable[[], Point]:
        """``msm``, started now and returned as a function giving [Σ v_i·B_i]: an engine
        with a device runs it while the caller goes on (the round-1 exchange).  Local."""

    def add(self, group: Group, a: Point, b: Point) -> Point:
        """[A + B].  Local."""

    def multiply(self, a: Vec, b: Vec, meanwhile: Callable[[], None]) -> tuple[Vec, Vec]:
        """([a∘b], [odd_coset(a)∘odd_coset(b)]).  ``meanwhile`` is called once, after the
        masked vectors are on their way: the MSMs it starts then run during the exchange.

        Network: the one all-to-all exchange of round 1.  The products use one dealt
        Beaver triple (x, y, x∘y) and its odd-coset image (odd_coset(x), odd_coset(y),
        their product): the coset product's masked inputs are the odd-coset transforms of
        the domain product's, so only a − x and b − y are opened, and no point is.
        """

    def output(self, parts) -> Any:
        """Hand this party's bare MSMs (``groth16.BareParts``) to whoever completes the
        proof: the client (round 2) for shared parties; for one party, returned as they are.
        """
