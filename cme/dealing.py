"""The client's dealing of additive shares, and each party's expansion of what it got.

w = Σ wᵢ, and likewise for a Beaver triple (x, y, z1 = x∘y) of length n for the product
on the domain, for z2 = odd_coset(x)∘odd_coset(y) (the triple of the product on the odd
coset is the odd-coset image of the first: each party transforms its own x and y shares,
so round 1 opens one pair of masked vectors, not two).  Every party i gets a fresh
32-byte seed and expands from it every share it is not sent.
Three vectors cannot all be seed-expanded, since the shares must add up: w (to the
witness) and z1, z2 (to x∘y).  Each of them goes explicitly, as a correction, to one
party — w to party 0, z1 to party 1, z2 to party 2 (mod N) — so the three largest
uploads travel to three nodes side by side instead of one after the other.  Upload ≈
(m + 2n) field elements plus 32 bytes per party, whatever N is.  The blinding r, s is
not dealt: the client keeps it and completes the proof (``prover.groth16``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import numpy as np

from cme.incoming import IncomingVector
from cme.prg import SEED_BYTES, expand
from prover.engines import get_engine
from prover.limbs import ints_to_limbs

N8 = 32


CORRECTED = ("w", "z1", "z2")  # the explicitly sent vectors, in wire order


def owner(key: str, n_parties: int) -> int:
    """The party that is sent ``key``'s share explicitly."""
    return CORRECTED.index(key) % n_parties


@dataclass
class Corrections:
    """One party's explicit shares (canonical arrays); None = not this party's."""
    w: np.ndarray | None = None
    z1: np.ndarray | None = None
    z2: np.ndarray | None = None

    def vectors(self) -> dict:
        return {k: getattr(self, k) for k in CORRECTED if getattr(self, k) is not None}

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.vectors().values())

    def wipe(self) -> None:
        for arr in self.vectors().values():
            if isinstance(arr, np.ndarray):  # an IncomingVector zeroes itself if it fails
                arr.fill(0)


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
    """One party's expanded shares: canonical (n, 4) arrays (CuPy where expanded on a
    device).  The coset triple's x and y shares are odd_coset(x), odd_coset(y).
    w, z1 and z2 may be ``material.IncomingVector``s still arriving from the client."""
    w: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z1: np.ndarray
    z2: np.ndarray


def _seeded(seed, m, n, index: int, n_parties: int, device: bool = False):
    """Everything party ``index`` expands from its seed: the vectors it is not sent;
    ``device``: generated on the CUDA device (same values)."""
    out = {k: expand(seed, k, n, device) for k in ("x1", "y1")}
    for key in CORRECTED:
        if owner(key, n_parties) != index:
            out[key] = expand(seed, key, m if key == "w" else n, device)
    return out


@dataclass
class Predeal:
    """Everything of a dealing that does not depend on the witness: the seeds, the triple
    corrections, and Σ_{i≥1} wᵢ.  A client may make one ahead of the job
    (the offline phase) and finish it with ``deal_with`` once the witness is known.
    Secret: kept in memory only, and used for one job only."""
    n_parties: int
    n_vars: int
    domain_size: int
    seeds: list
    w_others: np.ndarray = field(repr=False)
    z: dict = field(repr=False)  # "z1"/"z2" -> the owner's correction
    used: bool = False


def predeal(n_parties: int, n_vars: int, domain_size: int, engine: str | None = None,
            rng=None) -> Predeal:
    """The witness-independent part of :func:`deal` (same arguments, less the witness)."""
    if n_parties < 2:
        raise ValueError(f"additive sharing needs at least 2 parties, got {n_parties}")
    eng = get_engine(engine)
    m, n = n_vars, domain_size
    token = secrets.token_bytes if rng is None else rng.randbytes
    seeds = [token(SEED_BYTES) for _ in range(n_parties)]
    on_device = eng.on_device  # expand where the engine keeps vectors
    views = [_seeded(seed, m, n, i, n_parties, on_device) for i, seed in enumerate(seeds)]

    def total(key, parties):
        acc = None
        for i in parties:
            v = eng.vector(views[i][key])
            acc = v if acc is None else eng.add_vec(acc, v)
        return acc

    def others(key):
        return [i for i in range(n_parties) if i != owner(key, n_parties)]

    everyone = range(n_parties)
    x, y = total("x1", everyone), total("y1", everyone)
    products = {"z1": eng.mul_vec(x, y), "z2": eng.mul_vec(eng.odd_coset(x), eng.odd_coset(y))}
    z = {k: eng.to_wire(eng.sub_vec(v, total(k, others(k)))) for k, v in products.items()}

    return Predeal(n_parties, m, n, seeds, w_others=eng.to_wire(total("w", others("w"))), z=z)


def deal_with(pre: Predeal, witness, engine: str | None = None) -> list[PartyMaterial]:
    """Finish a predealt dealing for ``witness`` (ints or a canonical array): party 0's
    witness share is w − Σ_{i≥1} wᵢ.  A Predeal is consumed: reusing one would give two
    jobs correlated shares."""
    if pre.used:
        raise ValueError("this predealt material was already used for a job")
    w_arr = witness if isinstance(witness, np.ndarray) else ints_to_limbs(witness)
    if len(w_arr) != pre.n_vars:
        raise ValueError(f"witness has {len(w_arr)} values, the predealt material is for {pre.n_vars}")
    pre.used = True
    eng = get_engine(engine)
    explicit = {"w": eng.to_wire(eng.sub_vec(eng.vector(w_arr), eng.vector(pre.w_others))), **pre.z}
    out = []
    for i in range(pre.n_parties):
        mine = {k: v for k, v in explicit.items() if owner(k, pre.n_parties) == i}
        corr = Corrections(**mine) if mine else None
        out.append(PartyMaterial(i, pre.n_parties, pre.n_vars, pre.domain_size, pre.seeds[i], corr))
    return out


def deal(witness, n_parties: int, domain_size: int, engine: str | None = None,
         rng=None) -> list[PartyMaterial]:
    """Fresh shares of ``witness`` (ints or a canonical array) for ``n_parties``.
    ``engine`` does the vector arithmetic (see prover.engines).

    ``rng``: where the seeds come from — None is ``secrets`` (what every real job uses);
    tests may pass a seeded ``random.Random`` to repeat a dealing exactly.
    """
    if n_parties < 2:
        raise ValueError(f"additive sharing needs at least 2 parties, got {n_parties}")
    return deal_with(predeal(n_parties, len(witness), domain_size, engine, rng), witness, engine)


def upload_bytes(materials: list[PartyMaterial]) -> int:
    return sum(p.nbytes() for p in materials)


def expand_material(p: PartyMaterial, engine: str | None = None) -> Shares:
    """Party side: the shares this party's material stands for; on an engine that keeps
    vectors on a device, they are expanded there.  A correction still arriving
    (``material.IncomingVector``) is passed on as it is, for the party to wait on where
    it first needs it."""
    on_device = get_engine(engine).on_device
    v = _seeded(p.seed, p.n_vars, p.domain_size, p.index, p.n_parties, on_device)
    c = p.corrections
    for key in CORRECTED:
        if owner(key, p.n_parties) == p.index:
            arr = getattr(c, key) if c is not None else None
            if arr is None:
                raise ValueError(f"party {p.index}'s material lacks its {key} correction")
            v[key] = arr if isinstance(arr, IncomingVector) else arr.copy()
    return Shares(w=v["w"], x=v["x1"], y=v["y1"], z1=v["z1"], z2=v["z2"])
