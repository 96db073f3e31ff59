"""The share-operations protocol the Groth16 routine is written against.

Notation: ``[x]`` is x as this party holds it.  For ``PlainOps`` (one party) a
shared value is the value itself; for the additive scheme in ``cme`` it is one
summand.  Every method says whether it touches the network; all others are local
and must be linear in the shares, so each party applies them to its own summand.

Vectors, scalars and points are opaque to the routine: each implementation picks
its own representation (Python ints for the reference, device arrays for the
engine).  Public inputs to these methods (bases, public points, the sparse matrix)
are canonical numpy arrays or reference points, as the readers return them.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

import numpy as np

Group = str  # "g1" or "g2"
Vec = Any  # [v], a shared Fr vector
Scalar = Any  # [k], a shared Fr element
Point = Any  # [P], a shared group element
PublicPoint = Any  # P, a reference affine point known to every party


class ShareOps(Protocol):
    def witness(self) -> Vec:
        """[w], the full witness (index 0 is the constant 1).  Local."""

    def blinding(self) -> tuple[Scalar, Scalar, Scalar]:
        """([r], [s], [r·s]), the Groth16 blinding scalars.  Local (dealt beforehand)."""

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

    def scalar_mul(self, group: Group, k: Scalar, p: PublicPoint) -> Point:
        """[k·P] for a public point P.  Local."""

    def add(self, group: Group, a: Point, b: Point) -> Point:
        """[A + B].  Local."""

    def sub(self, group: Group, a: Point, b: Point) -> Point:
        """[A − B].  Local."""

    def add_public(self, group: Group, a: Point, p: PublicPoint) -> Point:
        """[A + P] for a public P (exactly one party adds it).  Local."""

    def multiply_and_open(
        self, a: Vec, b: Vec, points: Callable[[], Sequence[tuple[Group, Point]]]
    ) -> tuple[list[Vec], list[PublicPoint]]:
        """([a∘b, odd_coset(a)∘odd_coset(b)], and the opened value of each point that
        ``points()`` returns).  ``points`` is called once, after the masked vectors are on
        their way: the MSMs that make those points then run during the exchange.

        Network: the one all-to-all exchange of round 1.  The products use one dealt
        Beaver triple (x, y, x∘y) and its odd-coset image (odd_coset(x), odd_coset(y),
        their product): the coset product's masked inputs are the odd-coset transforms of
        the domain product's, so only a − x and b − y are opened.  A point is opened only
        when it is already masked (πA by r·δ1, B1 by s·δ1), so openings reveal nothing
        beyond the proof.
        """

    def output(self, pi_a: PublicPoint, pi_b: Point, pi_c: Point) -> Any:
        """Hand the proof elements to whoever assembles the proof.

        Network for shared parties (round 2: [πB] and [πC] to the client); for one
        party it returns the finished proof.
        """
