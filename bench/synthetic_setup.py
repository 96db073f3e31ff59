"""A test-only Groth16 setup (the toxic waste is known here) for a mul-chain circuit of
domain 2^k, written as a snarkjs ``.zkey`` with its witness, for benchmarks at sizes
snarkjs cannot set up on this project's machines (no powers of tau that large, no node on
the GPU machine).

    python bench/synthetic_setup.py --log-n 20 --out DIR [--backend cpu|cuda] [--seed S]

writes DIR/circuit.zkey, witness.wtns, input.json, public.json and verification_key.json
(the latter with our exporter, i.e. what ``coprove export-vkey`` and
``snarkjs zkey export verificationkey`` write).  ``make_setup`` does the same from Python.
Proofs for this key verify with ``snarkjs groth16 verify``; the key itself proves
nothing to anyone who did not make it, since whoever runs this knows τ, α, β, γ, δ.

The circuit is what circom makes of tests/circuits/mul_chain.circom with N = 2^k − 2
(same wire order, constraints, signs, coefficient section and witness; the tests compare
them with the 2^10 fixture): wires [1, out, x, s_0 … s_{N−2}], out = s_{N−1}, and

    constraint 0:        (−x)·x          = 1 − s_0        s_0 = x² + 1
    constraint i odd:    (−s_{i−1})·x    = −s_i           s_i = s_{i−1}·x
    constraint i even:   (−s_{i−1})·s_{i−1} = i − s_i     s_i = s_{i−1}² + i

nPublic = 1 (out), so with snarkjs's one extra A-row per public signal and the constant
(rows N and N+1) the domain is exactly n = 2^k and nVars = n.

The setup, with L_i the Lagrange basis of the domain (ω = 5^((r−1)/n)) and
u_j, v_j, w_j = Σ_rows A|B|C[row][j]·L_row(τ) (A with the public rows):

    A section  u_j·G1         B1: v_j·G1     B2: v_j·G2        (every wire)
    C section  (β·u_j + α·v_j + w_j)/δ · G1                     (j > nPublic)
    IC         (β·u_j + α·v_j + w_j)/γ · G1                     (j ≤ nPublic)
    H section  L'_{2i+1}(τ)/δ · G1,  L' the Lagrange basis of the 2n domain

H: the prover sums h_i·H_i with h_i = (A·B − C)(x_i) on the odd coset x_i = ω_2n·ω^i =
ω_2n^(2i+1), without dividing by Z.  A·B − C has degree < 2n and vanishes on the even
points of the 2n domain, so its interpolation there gives
(A·B − C)(τ) = Σ_i h_i·L'_{2i+1}(τ) = H(τ)·Z(τ): the H section must hold
L'_{2i+1}(τ)/δ = (τ^2n − 1)·x_i / (2n·(τ − x_i)·δ), which is what snarkjs's zkey new
takes from the powers of tau (the odd Lagrange points of the 2n domain) and its
contributions divide by δ.  Equivalently Lc_i(τ)·Z(τ)/(−2δ), Lc_i the Lagrange basis on
the odd coset, since Z(x_i) = x_i^n − 1 = −2.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# the repository root first: run as a script, sys.path[0] is bench/, whose gpu_msm.py
# would shadow the gpu_msm package
ROOT = Path(__file__).resolve().parent.parent
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

import gpu_msm  # noqa: E402
from gpu_msm.cpu.convert import fq_rows_to_mont, fr_rows_from_mont, fr_rows_to_mont  # noqa: E402
from gpu_msm.cpu.fields import FR_ONE, FR_P, FR_PINV, fr_add, fr_inv, fr_mul, fr_sub, fr_to_mont  # noqa: E402
from gpu_msm.cpu.mont import ZERO64, limbs, mont_pow  # noqa: E402
from gpu_msm.cpu.serial import serialized  # noqa: E402
from gpu_msm.cpu.vec import _put, _row  # noqa: E402  (the row helpers of the vector kernels)
from prover.bn254 import (FQ_MODULUS, FR_MODULUS, G1, G2, MONT, g1_to_array,  # noqa: E402
                          g2_to_array)
from prover.limbs import N8, ints_to_limbs, limbs_to_ints  # noqa: E402
from prover.ntt import root_of_unity  # noqa: E402

R = FR_MODULUS
N_PUBLIC = 1
MAX_LOG_N = 27  # the H section needs the 2n-th roots of unity; r − 1 has 2^28

# The backend's Montgomery conversions, and the kernels below, under the backend's lock:
# numba's parallel regions must not run concurrently (gpu_msm/cpu/serial.py).
fq_to_mont_rows = serialized(fq_rows_to_mont)
fr_from_mont_rows = serialized(fr_rows_from_mont)
fr_to_mont_rows = serialized(fr_rows_to_mont)


# ---------------------------------------------------------------- Fr kernels (Montgomery)

@njit(parallel=True, cache=True, nogil=True)
def _lagrange_kernel(n, start, step, tau, scale, chunk):
    """scale·x_i/(τ − x_i) for x_i = start·step^i, i < n: one inversion per chunk."""
    out = np.empty((n, 4), np.uint64)
    n_chunks = (n + chunk - 1) // chunk
    for c in prange(n_chunks):
        lo = c * chunk
        m = min(n, lo + chunk) - lo
        xs = np.empty((m, 4), np.uint64)
        prefix = np.empty((m, 4), np.uint64)
        x = fr_mul(start, mont_pow(step, (np.uint64(lo), ZERO64, ZERO64, ZERO64), FR_ONE,
                                   FR_P, FR_PINV))
        prod = FR_ONE
        for j in range(m):
            _put(xs, j, x)
            _put(prefix, j, prod)
            prod = fr_mul(prod, fr_sub(tau, x))
            x = fr_mul(x, step)
        inv = fr_inv(prod)
        for j in range(m - 1, -1, -1):
            x = _row(xs, j)
            _put(out, lo + j, fr_mul(fr_mul(scale, x), fr_mul(inv, _row(prefix, j))))
            inv = fr_mul(inv, fr_sub(tau, x))
    return out


@njit(cache=True, nogil=True)
def _wire_sums_kernel(n_vars, rows, wires, coeffs, lag):
    """Σ coeff·lag[row] per wire over sparse (row, wire, coeff) entries."""
    out = np.zeros((n_vars, 4), np.uint64)
    for e in range(rows.shape[0]):
        j = wires[e]
        _put(out, j, fr_add(_row(out, j), fr_mul(_row(coeffs, e), _row(lag, rows[e]))))
    return out


@njit(parallel=True, cache=True, nogil=True)
def _combine_kernel(u, v, w, beta, alpha, k):
    """(β·u_j + α·v_j + w_j)·k."""
    out = np.empty_like(u)
    for i in prange(u.shape[0]):
        t = fr_add(fr_add(fr_mul(beta, _row(u, i)), fr_mul(alpha, _row(v, i))), _row(w, i))
        _put(out, i, fr_mul(t, k))
    return out


@njit(cache=True, nogil=True)
def _chain_kernel(x, n_constraints):
    """The mul-chain witness [1, out, x, s_0 … s_{N−2}] (Montgomery)."""
    w = np.zeros((n_constraints + 2, 4), np.uint64)
    _put(w, 0, FR_ONE)
    _put(w, 2, x)
    s = fr_add(fr_mul(x, x), FR_ONE)
    for i in range(1, n_constraints):
        _put(w, 2 + i, s)  # s_{i−1} is wire 3 + (i − 1)
        if i & 1:
            s = fr_mul(s, x)
        else:
            s = fr_add(fr_mul(s, s), fr_to_mont((np.uint64(i), ZERO64, ZERO64, ZERO64)))
    _put(w, 1, s)
    return w


lagrange_values = serialized(_lagrange_kernel)
wire_sums = serialized(_wire_sums_kernel)
combine = serialized(_combine_kernel)
chain_witness = serialized(_chain_kernel)


def mont(v: int) -> tuple:
    """A Python int as a Montgomery-form Fr limb tuple, for the kernels."""
    return limbs(v % R * MONT % R)


# ---------------------------------------------------------------- the circuit

@dataclass
class Sparse:
    """Entries (row, wire, coefficient) of one R1CS matrix; coefficients canonical (k, 4)."""
    row: np.ndarray
    wire: np.ndarray
    coeff: np.ndarray


def _const_limbs(values) -> np.ndarray:
    """Small non-negative ints (< 2^64) as canonical (k, 4) limbs, vectorised."""
    out = np.zeros((len(values), 4), np.uint64)
    out[:, 0] = values
    return out


def _minus_one(k: int) -> np.ndarray:
    return np.tile(ints_to_limbs([R - 1]), (k, 1))


@dataclass
class MulChain:
    """The R1CS of MulChain(N) as circom writes it (A·w × B·w = C·w)."""
    n_constraints: int
    a: Sparse
    b: Sparse
    c: Sparse

    @property
    def n_vars(self) -> int:
        return self.n_constraints + 2

    @property
    def domain_size(self) -> int:
        return self.n_constraints + N_PUBLIC + 1

    @classmethod
    def for_domain(cls, log_n: int) -> "MulChain":
        n = 1 << log_n
        N = n - 2
        i = np.arange(N, dtype=np.int64)
        # A: −x in row 0, −s_{i−1} (wire 2 + i) in row i
        a_wire = np.where(i == 0, 2, 2 + i)
        # B: x in row 0 and the odd rows, s_{i−1} in the even rows
        b_wire = np.where((i == 0) | (i & 1 == 1), 2, 2 + i)
        # C: −s_i (wire 3 + i; out, wire 1, for the last) and the constant i (1 for row 0)
        c_wire = np.where(i == N - 1, 1, 3 + i)
        const_rows = i[(i % 2 == 0)]
        const_vals = np.where(const_rows == 0, 1, const_rows)
        a = Sparse(i.astype(np.uint32), a_wire.astype(np.uint32), _minus_one(N))
        b = Sparse(i.astype(np.uint32), b_wire.astype(np.uint32), _const_limbs(np.ones(N, np.uint64)))
        # circom lists the constant first within a row (wire order)
        c_row = np.concatenate([const_rows, i])
        c_wire_all = np.concatenate([np.zeros(len(const_rows), np.int64), c_wire])
        c_coeff = np.concatenate([_const_limbs(const_vals.astype(np.uint64)), _minus_one(N)])
        order = np.lexsort((c_wire_all, c_row))
        c = Sparse(c_row[order].astype(np.uint32), c_wire_all[order].astype(np.uint32), c_coeff[order])
        return cls(N, a, b, c)

    def qap_a(self) -> Sparse:
        """A with snarkjs's extra rows: A[N + s][s] = 1 for s = 0 … nPublic."""
        s = np.arange(N_PUBLIC + 1, dtype=np.uint32)
        return Sparse(np.concatenate([self.a.row, self.n_constraints + s]),
                      np.concatenate([self.a.wire, s]),
                      np.concatenate([self.a.coeff, _const_limbs(np.ones(len(s), np.uint64))]))

    def witness(self, x: int) -> np.ndarray:
        """Canonical (nVars, 4) witness for private input x."""
        return fr_from_mont_rows(chain_witness(mont(x), self.n_constraints))


# ---------------------------------------------------------------- zkey writing

_COEFF_DTYPE = np.dtype([("matrix", "<u4"), ("constraint", "<u4"), ("signal", "<u4"),
                         ("value", "<u8", (4,))])


def coefficient_section(chain: MulChain) -> bytes:
    """Section 4 as snarkjs's zkey new writes it: per constraint its A then its B entries,
    then the public rows; values c·R² mod r."""
    qa = chain.qap_a()
    n_a = len(qa.row)
    matrix = np.concatenate([np.zeros(n_a, np.uint32), np.ones(len(chain.b.row), np.uint32)])
    row = np.concatenate([qa.row, chain.b.row])
    # stable: within a row, A before B and each in the given order
    order = np.lexsort((matrix, row))
    rec = np.empty(len(row), _COEFF_DTYPE)
    rec["matrix"] = matrix[order]
    rec["constraint"] = row[order]
    rec["signal"] = np.concatenate([qa.wire, chain.b.wire])[order]
    values = np.concatenate([qa.coeff, chain.b.coeff])[order]
    rec["value"] = fr_to_mont_rows(fr_to_mont_rows(np.ascontiguousarray(values)))
    return struct.pack("<I", len(rec)) + rec.tobytes()


def _fq_mont_bytes(points: np.ndarray) -> bytes | memoryview:
    flat = np.ascontiguousarray(points, dtype=np.uint64).reshape(-1, 4)
    return memoryview(np.ascontiguousarray(fq_to_mont_rows(flat), dtype="<u8")).cast("B")


def write_zkey(path, chain: MulChain, vk_points: dict, ic, a, b1, b2, c, h) -> None:
    n = chain.domain_size
    header = b"".join([
        struct.pack("<I", N8), FQ_MODULUS.to_bytes(N8, "little"),
        struct.pack("<I", N8), R.to_bytes(N8, "little"),
        struct.pack("<III", chain.n_vars, N_PUBLIC, n),
    ] + [bytes(_fq_mont_bytes(vk_points[name]))
         for name in ("alpha1", "beta1", "beta2", "gamma2", "delta1", "delta2")])
    # contributions: the circuit hash (zeros: nobody checks a transcript of this key)
    # and no contributions
    contributions = bytes(64) + struct.pack("<I", 0)
    sections = [(1, struct.pack("<I", 1)), (2, header), (3, _fq_mont_bytes(ic)),
                (4, coefficient_section(chain)), (5, _fq_mont_bytes(a)), (6, _fq_mont_bytes(b1)),
                (7, _fq_mont_bytes(b2)), (8, _fq_mont_bytes(c)), (9, _fq_mont_bytes(h)),
                (10, contributions)]
    with open(os.fspath(path), "wb") as fh:
        fh.write(b"zkey" + struct.pack("<II", 1, len(sections)))
        for sid, payload in sections:
            fh.write(struct.pack("<IQ", sid, len(payload)))
            fh.write(payload)


# ---------------------------------------------------------------- the setup

@dataclass
class SetupPaths:
    zkey: Path
    wtns: Path
    input: Path
    public: Path
    vkey: Path
    timings: dict = field(default_factory=dict)


class _Stages:
    def __init__(self, log_n: int, quiet: bool):
        self.log_n, self.quiet = log_n, quiet
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()
        self._t0 = self._t

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self._t
        self._t = now
        if not self.quiet:
            print(f"[synthetic 2^{self.log_n}] {name:<14} {self.timings[name]:7.3f} s",
                  file=sys.stderr, flush=True)

    def total(self) -> float:
        return time.perf_counter() - self._t0


def _draw(rng, avoid_roots_of: int) -> dict:
    """τ, α, β, γ, δ nonzero; τ off the 2n domain (so τ^2n ≠ 1: no L_i(τ) has a pole)."""
    while True:
        tau = rng.randrange(2, R)
        if pow(tau, avoid_roots_of, R) != 1:
            break
    return {"tau": tau, **{k: rng.randrange(1, R) for k in ("alpha", "beta", "gamma", "delta")}}


def make_setup(log_n: int, out_dir, backend: str | None = None, seed: int | None = None,
               x: int | None = None, quiet: bool = False) -> SetupPaths:
    """Write the key, witness and JSON files of a 2^log_n mul chain into out_dir.

    ``backend``: where the point multiplications run (gpu_msm: None = best available);
    ``seed``: reproducible τ, α, β, γ, δ and x (else from the OS); ``x``: the private
    input, overriding the seeded one.  The Fr work runs on the CPU engine either way.
    """
    from prover.snarkjs_json import vkey_from_zkey, write_public, write_vkey
    from prover.wtns import write_wtns
    from prover.zkey import read_zkey

    if not 2 <= log_n <= MAX_LOG_N:
        raise ValueError(f"log_n {log_n}: the mul chain needs 2 ≤ log_n ≤ {MAX_LOG_N}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = SetupPaths(zkey=out / "circuit.zkey", wtns=out / "witness.wtns",
                       input=out / "input.json", public=out / "public.json",
                       vkey=out / "verification_key.json")
    st = _Stages(log_n, quiet)
    rng = random.Random(seed) if seed is not None else secrets.SystemRandom()
    n = 1 << log_n
    tw = _draw(rng, 2 * n)
    if x is None:
        x = rng.randrange(R)
    tau, alpha, beta, gamma, delta = (tw[k] for k in ("tau", "alpha", "beta", "gamma", "delta"))

    chain = MulChain.for_domain(log_n)
    witness = chain.witness(x)
    write_wtns(paths.wtns, witness)
    public = limbs_to_ints(witness[1:N_PUBLIC + 1])
    with open(paths.input, "w", encoding="utf-8") as fh:
        json.dump({"x": str(x % R)}, fh, indent=1)
    write_public(paths.public, public)
    st.done("witness")

    # Lagrange values: L_i(τ) = (τ^n − 1)/n · ω^i/(τ − ω^i), and the H scalars
    # (τ^2n − 1)/(2n·δ) · x_i/(τ − x_i) on the odd coset x_i = ω_2n·ω^i
    omega, g = root_of_unity(n), root_of_unity(2 * n)
    chunk = 1 << 12
    lag = lagrange_values(n, mont(1), mont(omega), mont(tau),
                          mont((pow(tau, n, R) - 1) * pow(n, -1, R)), chunk)
    h_scalars = fr_from_mont_rows(lagrange_values(
        n, mont(g), mont(omega), mont(tau),
        mont((pow(tau, 2 * n, R) - 1) * pow(2 * n * delta, -1, R)), chunk))
    st.done("lagrange")

    qa = chain.qap_a()
    u, v, w = (wire_sums(chain.n_vars, m.row, m.wire, fr_to_mont_rows(m.coeff), lag)
               for m in (qa, chain.b, chain.c))
    ic_scalars = fr_from_mont_rows(combine(u[:N_PUBLIC + 1], v[:N_PUBLIC + 1], w[:N_PUBLIC + 1],
                                           mont(beta), mont(alpha), mont(pow(gamma, -1, R))))
    c_scalars = fr_from_mont_rows(combine(u[N_PUBLIC + 1:], v[N_PUBLIC + 1:], w[N_PUBLIC + 1:],
                                          mont(beta), mont(alpha), mont(pow(delta, -1, R))))
    u, v = fr_from_mont_rows(u), fr_from_mont_rows(v)
    st.done("wire scalars")

    g1 = g1_to_array([G1.generator])[0]
    g2 = g2_to_array([G2.generator])[0]
    vk_points = {
        "alpha1": g1_to_array([G1.mul(G1.generator, alpha)]),
        "beta1": g1_to_array([G1.mul(G1.generator, beta)]),
        "beta2": g2_to_array([G2.mul(G2.generator, beta)]),
        "gamma2": g2_to_array([G2.mul(G2.generator, gamma)]),
        "delta1": g1_to_array([G1.mul(G1.generator, delta)]),
        "delta2": g2_to_array([G2.mul(G2.generator, delta)]),
    }
    ic = gpu_msm.fixed_base_g1(g1, ic_scalars, backend)
    st.done("vk points")
    a_pts = gpu_msm.fixed_base_g1(g1, u, backend)
    st.done("A points")
    b1_pts = gpu_msm.fixed_base_g1(g1, v, backend)
    st.done("B1 points")
    b2_pts = gpu_msm.fixed_base_g2(g2, v, backend)
    st.done("B2 points")
    c_pts = gpu_msm.fixed_base_g1(g1, c_scalars, backend)
    st.done("C points")
    h_pts = gpu_msm.fixed_base_g1(g1, h_scalars, backend)
    st.done("H points")

    write_zkey(paths.zkey, chain, vk_points, ic, a_pts, b1_pts, b2_pts, c_pts, h_pts)
    st.done("write zkey")
    # our exporter, i.e. `coprove export-vkey`; reading the key back also checks its header
    write_vkey(paths.vkey, vkey_from_zkey(read_zkey(paths.zkey)))
    st.done("vkey")
    paths.timings = dict(st.timings, total=st.total())
    if not quiet:
        print(f"[synthetic 2^{log_n}] total          {paths.timings['total']:7.3f} s "
              f"(backend {backend or 'best available'}) -> {out}", file=sys.stderr, flush=True)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log-n", type=int, required=True, help="domain size 2^LOG_N")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--backend", choices=["cpu", "cuda"], default=None,
                    help="point multiplications on this gpu_msm backend (default: best available)")
    ap.add_argument("--seed", type=int, default=None, help="reproducible toxic waste and input")
    args = ap.parse_args(argv)
    make_setup(args.log_n, args.out, backend=args.backend, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
