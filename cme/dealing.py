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
from prover.engines import get_engine
from prover.limbs import below, ints_to_limbs

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
    """One party's expanded shares: canonical (n, 4) arrays and ints."""
    w: np.ndarray
    triples: dict  # "1"/"2" -> (x, y, z)
    r: int
    s: int
    rs: int


def _seeded(seed, m, n, with_corrected: bool, device: bool = False):
    """Everything party i expands from its seed; ``with_corrected`` for i ≥ 1; ``device``:
    the vectors are generated on the CUDA device (same values)."""
    out = {f"{c}{t}": expand(seed, f"{c}{t}", n, device) for t in TRIPLES for c in "xy"}
    if with_corrected:
        out["w"] = expand(seed, "w", m, device)
        for t in TRIPLES:
            out[f"z{t}"] = expand(seed, f"z{t}", n, device)
        for k in ("r", "s", "rs"):
            out[k] = expand_scalar(seed, k)
    return out


@dataclass
class Predeal:
    """Everything of a dealing that does not depend on the witness: the seeds, party 0's
    triple and blinding corrections, and Σ_{i≥1} wᵢ.  A client may make one ahead of the
    job (the offline phase) and finish it with ``deal_with`` once the witness is known.
    Secret: kept in memory only, and used for one job only."""
    n_parties: int
    n_vars: int
    domain_size: int
    seeds: list
    w_others: np.ndarray = field(repr=False)
    z1: np.ndarray = field(repr=False)
    z2: np.ndarray = field(repr=False)
    r: int = field(repr=False)
    s: int = field(repr=False)
    rs: int = field(repr=False)
    used: bool = False


def predeal(n_parties: int, n_vars: int, domain_size: int, r: int | None = None, s: int | None = None,
            engine: str | None = None, rng=None) -> Predeal:
    """The witness-independent part of :func:`deal` (same arguments, less the witness)."""
    if n_parties < 2:
        raise ValueError(f"additive sharing needs at least 2 parties, got {n_parties}")
    eng = get_engine(engine)
    m, n = n_vars, domain_size
    token = secrets.token_bytes if rng is None else rng.randbytes
    randbelow = secrets.randbelow if rng is None else rng.randrange
    r = randbelow(R) if r is None else r % R
    s = randbelow(R) if s is None else s % R
    seeds = [token(SEED_BYTES) for _ in range(n_parties)]
    on_device = getattr(eng, "on_device", False)  # expand where the engine keeps vectors
    views = [_seeded(seed, m, n, i > 0, on_device) for i, seed in enumerate(seeds)]

    def total(key, views):
        acc = eng.vector(views[0][key])
        for v in views[1:]:
            acc = eng.add_vec(acc, eng.vector(v[key]))
        return acc

    def residual(value, key):
        return eng.to_wire(eng.sub_vec(value, total(key, views[1:])))

    zs = {t: residual(eng.mul_vec(total(f"x{t}", views), total(f"y{t}", views)), f"z{t}") for t in TRIPLES}

    def residual_scalar(value, key):
        return (value - sum(v[key] for v in views[1:])) % R

    return Predeal(n_parties, m, n, seeds, w_others=eng.to_wire(total("w", views[1:])), z1=zs["1"], z2=zs["2"],
                   r=residual_scalar(r, "r"), s=residual_scalar(s, "s"), rs=residual_scalar(r * s % R, "rs"))


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
    corr = Corrections(w=eng.to_wire(eng.sub_vec(eng.vector(w_arr), eng.vector(pre.w_others))),
                       z1=pre.z1, z2=pre.z2, r=pre.r, s=pre.s, rs=pre.rs)
    return [PartyMaterial(i, pre.n_parties, pre.n_vars, pre.domain_size, pre.seeds[i], corr if i == 0 else None)
            for i in range(pre.n_parties)]


def deal(witness, n_parties: int, domain_size: int, r: int | None = None, s: int | None = None,
         engine: str | None = None, rng=None) -> list[PartyMaterial]:
    """Fresh shares of ``witness`` (ints or a canonical array) for ``n_parties``; r and s
    random unless given (tests).  ``engine`` does the vector arithmetic (see prover.engines).

    ``rng``: where seeds and r, s come from — None is ``secrets`` (what every real job
    uses); tests may pass a seeded ``random.Random`` to repeat a dealing exactly.
    """
    if n_parties < 2:
        raise ValueError(f"additive sharing needs at least 2 parties, got {n_parties}")
    return deal_with(predeal(n_parties, len(witness), domain_size, r, s, engine, rng), witness, engine)


def upload_bytes(materials: list[PartyMaterial]) -> int:
    return sum(p.nbytes() for p in materials)


def expand_material(p: PartyMaterial, engine: str | None = None) -> Shares:
    """Party side: the shares this party's material stands for; on an engine that keeps
    vectors on a device, they are expanded there."""
    on_device = getattr(get_engine(engine), "on_device", False)
    v = _seeded(p.seed, p.n_vars, p.domain_size, p.index > 0, on_device)
    if p.index == 0:
        c = p.corrections
        if c is None:
            raise ValueError("party 0's material lacks its corrections")
        v["w"], v["z1"], v["z2"] = c.w.copy(), c.z1.copy(), c.z2.copy()
        v["r"], v["s"], v["rs"] = c.r, c.s, c.rs
    return Shares(
        w=v["w"],
        triples={t: (v[f"x{t}"], v[f"y{t}"], v[f"z{t}"]) for t in TRIPLES},
        r=v["r"], s=v["s"], rs=v["rs"],
    )


# ---------------------------------------------------------------- wire form of a party's material

_MAT_HEADER = b"CMEM"
_MAT_FIELDS = 5  # index, n_parties, n_vars, domain_size, has_corrections


def material_to_bytes(p: PartyMaterial) -> bytes:
    head = _MAT_HEADER + b"".join(
        int(v).to_bytes(4, "little")
        for v in (p.index, p.n_parties, p.n_vars, p.domain_size, p.corrections is not None)
    )
    body = p.seed
    if p.corrections is not None:
        c = p.corrections
        body += b"".join(np.ascontiguousarray(a, dtype="<u8").tobytes() for a in (c.w, c.z1, c.z2))
        body += b"".join(v.to_bytes(N8, "little") for v in (c.r, c.s, c.rs))
    return head + body


def material_size(index: int, n_vars: int, domain_size: int) -> int:
    """Exact byte length of :func:`material_to_bytes` for this party, so a node can
    refuse an oversized or short upload before buffering it."""
    size = len(_MAT_HEADER) + 4 * _MAT_FIELDS + SEED_BYTES
    if index == 0:
        size += N8 * (n_vars + 2 * domain_size + 3)
    return size


def material_from_bytes(raw: bytes, *, index: int, n_parties: int, n_vars: int, domain_size: int) -> PartyMaterial:
    """Parse and check material against what the job manifest and circuit say."""
    want = material_size(index, n_vars, domain_size)
    if len(raw) != want:
        raise ValueError(f"share material is {len(raw)} bytes, expected {want} for party {index}")
    if raw[:4] != _MAT_HEADER:
        raise ValueError("share material has a bad header")
    fields = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "little") for i in range(_MAT_FIELDS)]
    if fields[:4] != [index, n_parties, n_vars, domain_size] or fields[4] != (index == 0):
        raise ValueError(f"share material is for party {fields[0]} of {fields[1]} "
                         f"(nVars {fields[2]}, domain {fields[3]}), not what the manifest says")
    off = 4 + 4 * _MAT_FIELDS
    seed = bytes(raw[off:off + SEED_BYTES])
    off += SEED_BYTES
    corrections = None
    if index == 0:
        arrays = []
        for n in (n_vars, domain_size, domain_size):
            arr = np.frombuffer(raw[off:off + N8 * n], dtype="<u8").astype(np.uint64).reshape(n, 4)
            arrays.append(arr)
            off += N8 * n
        r, s, rs = (int.from_bytes(raw[off + N8 * i:off + N8 * (i + 1)], "little") for i in range(3))
        for name, arr in zip(("w", "z1", "z2"), arrays):
            if not below(arr, R).all():
                raise ValueError(f"share material: a value of {name} is not below r")
        if max(r, s, rs) >= R:
            raise ValueError("share material: a blinding share is not below r")
        corrections = Corrections(*arrays, r, s, rs)
    return PartyMaterial(index, n_parties, n_vars, domain_size, seed, corrections)
