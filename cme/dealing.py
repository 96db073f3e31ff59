"""The client's dealing of additive shares, and each party's expansion of what it got.

w = Σ wᵢ, and likewise for two Beaver triples (x, y, z = x∘y) of length n — one for
the product on the domain, one on the odd coset — and for r, s and r·s.  Every
party i gets a fresh 32-byte seed; party i ≥ 1 expands all its shares from it.
Party 0 expands only its x and y shares from its seed and gets the rest as explicit
corrections (w₀, z₀ of both triples, r₀, s₀, (rs)₀) chosen so the shares add up.
Upload ≈ (m + 2n + 3) field elements plus 32 bytes per party, whatever N is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import numpy as np

from cme.prg import SEED_BYTES, expand, expand_scalar
from gpu_msm.constants import FR_MODULUS
from prover.limbs import ints_to_limbs, limbs_to_ints

R = FR_MODULUS
N8 = 32
TRIPLES = ("1", "2")  # 1: domain product a_dom∘b_dom, 2: odd-coset product a_odd∘b_odd


@dataclass
class Corrections:
    """Party 0's explicit shares (canonical arrays and ints)."""
    w: np.ndarray
    z1: np.ndarray
    z2: np.ndarray
    r: int
    s: int
    rs: int

    def nbytes(self) -> int:
        return self.w.nbytes + self.z1.nbytes + self.z2.nbytes + 3 * N8


@dataclass
class PartyMaterial:
    """What the client sends party ``index`` (over mTLS in the network; never to disk)."""
    index: int
    n_parties: int
    n_vars: int
    domain_size: int
    seed: bytes
    corrections: Corrections | None = field(default=None, repr=False)

    def nbytes(self) -> int:
        return len(self.seed) + (self.corrections.nbytes() if self.corrections else 0)


@dataclass
class Shares:
    """One party's expanded shares: vectors as lists of ints mod r."""
    w: list
    triples: dict  # "1"/"2" -> (x, y, z)
    r: int
    s: int
    rs: int


def _vec(seed, label, n):
    return limbs_to_ints(expand(seed, label, n))


def _seeded(seed, m, n, with_corrected: bool):
    """Everything party i expands from its seed; ``with_corrected`` for i ≥ 1."""
    out = {f"{c}{t}": _vec(seed, f"{c}{t}", n) for t in TRIPLES for c in "xy"}
    if with_corrected:
        out["w"] = _vec(seed, "w", m)
        for t in TRIPLES:
            out[f"z{t}"] = _vec(seed, f"z{t}", n)
        for k in ("r", "s", "rs"):
            out[k] = expand_scalar(seed, k)
    return out


def deal(witness: list[int], n_parties: int, domain_size: int,
         r: int | None = None, s: int | None = None) -> list[PartyMaterial]:
    """Fresh shares of ``witness`` for ``n_parties``; r and s random unless given (tests)."""
    if n_parties < 2:
        raise ValueError(f"additive sharing needs at least 2 parties, got {n_parties}")
    m, n = len(witness), domain_size
    r = secrets.randbelow(R) if r is None else r % R
    s = secrets.randbelow(R) if s is None else s % R
    seeds = [secrets.token_bytes(SEED_BYTES) for _ in range(n_parties)]
    views = [_seeded(seed, m, n, i > 0) for i, seed in enumerate(seeds)]

    def residual(total, key):
        acc = list(total)
        for v in views[1:]:
            acc = [(a - b) % R for a, b in zip(acc, v[key])]
        return acc

    zs = {}
    for t in TRIPLES:
        x = [sum(v[f"x{t}"][j] for v in views) % R for j in range(n)]
        y = [sum(v[f"y{t}"][j] for v in views) % R for j in range(n)]
        zs[t] = residual([a * b % R for a, b in zip(x, y)], f"z{t}")

    def residual_scalar(total, key):
        return (total - sum(v[key] for v in views[1:])) % R

    corr = Corrections(
        w=ints_to_limbs(residual(witness, "w")),
        z1=ints_to_limbs(zs["1"]), z2=ints_to_limbs(zs["2"]),
        r=residual_scalar(r, "r"), s=residual_scalar(s, "s"), rs=residual_scalar(r * s % R, "rs"),
    )
    return [
        PartyMaterial(i, n_parties, m, n, seeds[i], corr if i == 0 else None)
        for i in range(n_parties)
    ]


def upload_bytes(materials: list[PartyMaterial]) -> int:
    return sum(p.nbytes() for p in materials)


def expand_material(p: PartyMaterial) -> Shares:
    """Party side: the shares this party's material stands for."""
    v = _seeded(p.seed, p.n_vars, p.domain_size, p.index > 0)
    if p.index == 0:
        c = p.corrections
        if c is None:
            raise ValueError("party 0's material lacks its corrections")
        v["w"], v["z1"], v["z2"] = limbs_to_ints(c.w), limbs_to_ints(c.z1), limbs_to_ints(c.z2)
        v["r"], v["s"], v["rs"] = c.r, c.s, c.rs
    return Shares(
        w=v["w"],
        triples={t: (v[f"x{t}"], v[f"y{t}"], v[f"z{t}"]) for t in TRIPLES},
        r=v["r"], s=v["s"], rs=v["rs"],
    )
