"""Threshold mode's arithmetic: Shamir shares of the witness and their recombination.

Party k (index k, evaluation point αₖ = k + 1) holds f(αₖ) for each witness value v, f a
random polynomial of degree t with f(0) = v.  Seed compression: parties 0..t−1 expand
their share from a 32-byte seed; f is then fixed by those t values and f(0) = v, and
parties t..N−1 are sent f(αₖ) = λₖ₀·v + Σⱼ λₖⱼ·f(αⱼ) explicitly.  Upload ≈ (N − t)
witnesses, no triples.  Any t shares are uniform whatever the witness; t + 1 determine it.

Every step of the prover is linear in the witness except the two products, which are
local and double the degree: a party's bare MSMs are evaluations of a polynomial of
degree 2t whose value at 0 is the witness's, so the client recombines any 2t + 1 of
them with the Lagrange coefficients of that set at 0.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import numpy as np

from cme.prg import SEED_BYTES, expand
from gpu_msm.constants import FR_MODULUS
from prover.bn254 import G1, G2
from prover.engines import get_engine
from prover.groth16 import BareParts
from prover.limbs import ints_to_limbs

R = FR_MODULUS
_LABEL = "shamir-w"


def alpha(index: int) -> int:
    """Party ``index``'s evaluation point (never 0: f(0) is the secret)."""
    return index + 1


def check_threshold(n_parties: int, threshold: int) -> None:
    if type(threshold) is not int or threshold < 1:
        raise ValueError(f"threshold {threshold!r}: at least 1 (privacy against that many colluding parties)")
    if 2 * threshold + 1 > n_parties:
        raise ValueError(f"threshold {threshold} needs at least {2 * threshold + 1} parties "
                         f"(2·threshold + 1), got {n_parties}")


def lagrange_at(xs: list[int], x: int) -> list[int]:
    """The coefficients λᵢ with p(x) = Σ λᵢ·p(xsᵢ) for every p of degree < len(xs)."""
    out = []
    for i, xi in enumerate(xs):
        num = den = 1
        for j, xj in enumerate(xs):
            if j != i:
                num = num * (x - xj) % R
                den = den * (xi - xj) % R
        out.append(num * pow(den, -1, R) % R)
    return out


@dataclass
class ShamirMaterial:
    """What the client sends party ``index`` (never to disk): a seed, or the share itself."""
    index: int
    n_parties: int
    threshold: int
    n_vars: int
    seed: bytes | None = None
    share: np.ndarray | None = field(default=None, repr=False)

    def nbytes(self) -> int:
        return len(self.seed) if self.seed is not None else self.share.nbytes

    def wipe(self) -> None:
        if self.share is not None:
            self.share.fill(0)
            self.share = None


def deal_shamir(witness, n_parties: int, threshold: int, engine: str | None = None,
                rng=None) -> list[ShamirMaterial]:
    """Fresh degree-``threshold`` Shamir shares of ``witness`` (ints or a canonical array)."""
    check_threshold(n_parties, threshold)
    w = witness if isinstance(witness, np.ndarray) else ints_to_limbs(witness)
    m = len(w)
    eng = get_engine(engine)
    token = secrets.token_bytes if rng is None else rng.randbytes
    seeds = [token(SEED_BYTES) for _ in range(threshold)]
    # expanded where the engine keeps vectors: on a GPU, 2^20 values in ~1 ms instead of
    # ~40 ms of host ChaCha and an upload
    seeded = [eng.vector(expand(seed, _LABEL, m, eng.on_device)) for seed in seeds]
    v = eng.vector(w)
    xs = [0] + [alpha(j) for j in range(threshold)]
    out = [ShamirMaterial(j, n_parties, threshold, m, seed=seeds[j]) for j in range(threshold)]
    for k in range(threshold, n_parties):
        lam = lagrange_at(xs, alpha(k))
        acc = eng.scale_vec(v, lam[0])
        for j, share in enumerate(seeded):
            acc = eng.add_vec(acc, eng.scale_vec(share, lam[j + 1]))
        out.append(ShamirMaterial(k, n_parties, threshold, m, share=eng.to_wire(acc)))
    return out


def share_of(material: ShamirMaterial, device: bool = False):
    """Party side: its share of the witness, a canonical (m, 4) array (a seeded share is
    expanded on the CUDA device where ``device``: the same values, as a CuPy array)."""
    if material.seed is not None:
        return expand(material.seed, _LABEL, material.n_vars, device)
    if material.share is None or material.share.shape != (material.n_vars, 4):
        raise ValueError(f"party {material.index}'s material holds no share of {material.n_vars} values")
    return material.share.copy()


def _scaled(p: BareParts, k: int) -> BareParts:
    """k·p, through −((r − k)·p) where that multiplier is the shorter: consecutive
    evaluation points give coefficients like −3 (a 2-bit multiply, not a 254-bit one)."""
    k %= FR_MODULUS
    if k > FR_MODULUS // 2:
        q = _scaled(p, FR_MODULUS - k)
        return BareParts(G1.neg(q.a), G1.neg(q.b1), G2.neg(q.b2), G1.neg(q.c))
    return BareParts(G1.mul(p.a, k), G1.mul(p.b1, k), G2.mul(p.b2, k), G1.mul(p.c, k))


def interpolate(parts: dict, subset, x: int) -> BareParts:
    """The bare parts' polynomial, through the outputs of ``subset``, evaluated at ``x``
    (0: the witness's own bare parts)."""
    subset = list(subset)
    acc = None
    for lam, k in zip(lagrange_at([alpha(k) for k in subset], x), subset):
        term = _scaled(parts[k], lam)
        acc = term if acc is None else acc + term
    return acc
