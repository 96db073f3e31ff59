"""snarkjs Groth16 proving key (``.zkey``, version 1) reader.

Sections, after snarkjs ``src/zkey_utils.js`` / ``zkey_new.js`` (checked against the
fixtures in tests/data, see tests/data/README.md):

 1. protocol: u32 (1 = groth16, 2 = plonk, 10 = fflonk)
 2. header: u32 n8q, q, u32 n8r, r, u32 nVars, u32 nPublic, u32 domainSize, then the
    points alpha1, beta1 (G1), beta2, gamma2 (G2), delta1 (G1), delta2 (G2)
 3. IC: nPublic+1 G1            4. coefficients: u32 k, k × (u32 matrix, u32 constraint,
 5. A: nVars G1                    u32 signal, 32-byte value)
 6. B1: nVars G1                7. B2: nVars G2
 8. C: nVars-nPublic-1 G1       9. H: domainSize G1
10. contributions (MPC transcript; not needed to prove, ignored)

Fq coordinates are stored in Montgomery form (x·2^256 mod q), G2 as x.c0, x.c1, y.c0,
y.c1, infinity as (0, 0).  Coefficient values are stored as c·R² mod r (R = 2^256): one
factor R because snarkjs keeps Fr in Montgomery form, and another so that a single
Montgomery product with a plain (non-Montgomery) witness value yields a Montgomery
result.  Everything is converted to canonical form once, when first used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import gpu_msm
from prover.binfile import BinFile, Reader, check_below, read_binfile, read_modulus
from prover.bn254 import (FQ_MODULUS, FR_MODULUS, G1, G2, MONT, g1_from_array, g1_to_array,
                          g2_to_array)
from prover.limbs import N8, mul_mod_array

# The engine's vectorised conversion when it is importable (numba), else the reference;
# tests compare the two on the fixtures.
if gpu_msm.cpu_engine_available():
    fq_rows_from_mont, fr_rows_from_mont = gpu_msm.fq_from_montgomery, gpu_msm.fr_from_montgomery
else:  # pragma: no cover - numba is a dependency; kept for a bare numpy install
    fq_rows_from_mont = fr_rows_from_mont = None


def from_montgomery_q(raw: np.ndarray) -> np.ndarray:
    """Fq coordinates x·R -> x, any shape with a trailing limb axis of 4."""
    if fq_rows_from_mont is None:
        return mul_mod_array(raw, _RINV_Q, FQ_MODULUS)
    rows = np.ascontiguousarray(raw, dtype=np.uint64).reshape(-1, 4)
    return fq_rows_from_mont(rows).reshape(raw.shape)


def from_montgomery2_r(raw: np.ndarray) -> np.ndarray:
    """Section-4 coefficients c·R² mod r -> c (two Montgomery reductions)."""
    if fr_rows_from_mont is None:
        return mul_mod_array(raw, _R2INV_R, FR_MODULUS)
    rows = np.ascontiguousarray(raw, dtype=np.uint64).reshape(-1, 4)
    return fr_rows_from_mont(fr_rows_from_mont(rows)).reshape(raw.shape)

PROTOCOLS = {1: "groth16", 2: "plonk", 10: "fflonk"}
SECTION_NAMES = {
    1: "protocol", 2: "Groth16 header", 3: "IC points", 4: "coefficients",
    5: "A points", 6: "B1 points", 7: "B2 points", 8: "C points", 9: "H points",
    10: "contributions",
}
_RINV_Q = pow(MONT, -1, FQ_MODULUS)
_R2INV_R = pow(MONT * MONT, -1, FR_MODULUS)

_COEFF_DTYPE = np.dtype([("matrix", "<u4"), ("constraint", "<u4"), ("signal", "<u4"),
                         ("value", "<u8", (4,))])
assert _COEFF_DTYPE.itemsize == 12 + N8


@dataclass
class Coefficients:
    """Sparse A and B of the QAP on the evaluation domain (snarkjs adds, after the
    circuit's constraints, one A-row per public signal and one for the constant)."""
    matrix: np.ndarray      # (k,) uint32: 0 = A, 1 = B
    constraint: np.ndarray  # (k,) uint32: row, < domain size
    signal: np.ndarray      # (k,) uint32: witness index, < nVars
    value: np.ndarray       # (k, 4) uint64, canonical Fr

    def __len__(self) -> int:
        return int(self.matrix.shape[0])


class ZKey:
    """A parsed Groth16 zkey.  Header values are read eagerly; point and coefficient
    sections are memory-mapped and converted on first access (``cached_property``), so
    e.g. exporting a verification key never touches the H points."""

    def __init__(self, bf: BinFile):
        self._bf = bf
        self.path = bf.path
        self._read_protocol()
        self._read_header()
        self._check_section_sizes()
        self.ic = self._points(3, self.n_public + 1, g2=False)
        self._check_on_curve(3, self.ic, "IC point")

    # -- eager parts ---------------------------------------------------------------------

    def _read_protocol(self):
        bf = self._bf
        rd = Reader(bf, 1)
        pid = rd.u32("protocol id")
        rd.expect_end()
        if pid != 1:
            name = PROTOCOLS.get(pid, f"unknown protocol id {pid}")
            raise bf.error(1, f"zkey is for {name}, not groth16 (protocol id {pid})")

    def _read_header(self):
        bf = self._bf
        rd = Reader(bf, 2)
        read_modulus(bf, rd, FQ_MODULUS, "base field modulus q")
        read_modulus(bf, rd, FR_MODULUS, "scalar field modulus r")
        self.n_vars = rd.u32("nVars")
        self.n_public = rd.u32("nPublic")
        self.domain_size = rd.u32("domainSize")
        n = self.domain_size
        if n == 0 or n & (n - 1):
            raise bf.error(2, f"domainSize {n} is not a power of two")
        if self.n_public + 1 > self.n_vars:
            raise bf.error(2, f"nPublic {self.n_public} needs at least {self.n_public + 1} "
                              f"variables, nVars is {self.n_vars}")

        def coords(name, k):
            v = [rd.bigint(N8, name) for _ in range(k)]
            if max(v) >= FQ_MODULUS:
                raise bf.error(2, f"{name}: coordinate not below q")
            return [x * _RINV_Q % FQ_MODULUS for x in v]

        def g1(name):
            v = coords(name, 2)
            return self._header_point(G1, name, None if v == [0, 0] else tuple(v))

        def g2(name):
            v = coords(name, 4)
            p = ((v[0], v[1]), (v[2], v[3]))
            return self._header_point(G2, name, None if v == [0, 0, 0, 0] else p)

        # order as written by snarkjs zkey_new.js (not as zkey_utils.js's comment says)
        self.alpha1_point = g1("alpha1")
        self.beta1_point = g1("beta1")
        self.beta2_point = g2("beta2")
        self.gamma2_point = g2("gamma2")
        self.delta1_point = g1("delta1")
        self.delta2_point = g2("delta2")
        rd.expect_end()

        self.alpha1, self.beta1, self.delta1 = (
            g1_to_array([p])[0] for p in (self.alpha1_point, self.beta1_point, self.delta1_point))
        self.beta2, self.gamma2, self.delta2 = (
            g2_to_array([p])[0] for p in (self.beta2_point, self.gamma2_point, self.delta2_point))

    def _header_point(self, curve, name, p):
        if not curve.is_on_curve(p):
            raise self._bf.error(2, f"{name} is not on the BN254 {curve.name} curve")
        # G1 has cofactor 1; G2's twist does not, and the check is ms for three points
        if curve is G2 and not curve.in_subgroup(p):
            raise self._bf.error(2, f"{name} is not in the order-r subgroup of G2")
        if p is None:
            raise self._bf.error(2, f"{name} is the point at infinity")
        return p

    def _check_section_sizes(self):
        """All sizes up front (cheap), so a damaged file fails at load, not mid-proof."""
        bf, m, l, n = self._bf, self.n_vars, self.n_public, self.domain_size
        g1, g2 = 2 * N8, 4 * N8
        bf.expect_size(3, (l + 1) * g1, f"{l + 1} points")
        rd = Reader(bf, 4)
        self._n_coeffs = rd.u32("number of coefficients")
        bf.expect_size(4, 4 + self._n_coeffs * _COEFF_DTYPE.itemsize,
                       f"{self._n_coeffs} coefficients")
        bf.expect_size(5, m * g1, f"{m} points")
        bf.expect_size(6, m * g1, f"{m} points")
        bf.expect_size(7, m * g2, f"{m} points")
        bf.expect_size(8, (m - l - 1) * g1, f"{m - l - 1} points")
        bf.expect_size(9, n * g1, f"{n} points")

    def _check_on_curve(self, sid, arr, what):
        for i, p in enumerate(g1_from_array(arr)):
            if not G1.is_on_curve(p):
                raise self._bf.error(sid, f"{what} #{i} is not on the BN254 G1 curve")

    # -- lazy parts ------------------------------------------------------------------------
    #
    # Bulk point sections are range-checked (vectorised, cheap) but not checked to be on
    # the curve: in Python that costs seconds per 2^16 points, and a wrong point can only
    # produce a proof that fails the client's verification, never a false accept.

    def _points(self, sid: int, count: int, g2: bool) -> np.ndarray:
        per, shape, what = (4, (2, 2), "G2 points") if g2 else (2, (2,), "G1 points")
        raw = self._bf.limbs(sid, count, per, shape, what)
        check_below(self._bf, sid, raw, FQ_MODULUS, "coordinate of point")
        return from_montgomery_q(raw)

    @cached_property
    def coeffs(self) -> Coefficients:
        bf = self._bf
        off, _ = bf.section(4)
        rec = np.frombuffer(bf.buf, dtype=_COEFF_DTYPE, count=self._n_coeffs, offset=off + 4)
        matrix, row, sig = rec["matrix"], rec["constraint"], rec["signal"]
        checks = (
            (matrix, matrix > 1, "matrix {} is not 0 (A) or 1 (B)"),
            (row, row >= self.domain_size, f"constraint {{}} >= domainSize {self.domain_size}"),
            (sig, sig >= self.n_vars, f"signal {{}} >= nVars {self.n_vars}"),
        )
        for col, bad, msg in checks:
            idx = np.flatnonzero(bad)
            if idx.size:
                i = int(idx[0])
                raise bf.error(4, f"entry #{i}: " + msg.format(int(col[i])))
        values = np.ascontiguousarray(rec["value"])
        check_below(bf, 4, values, FR_MODULUS, "entry value")
        return Coefficients(
            matrix=matrix.astype(np.uint32), constraint=row.astype(np.uint32),
            signal=sig.astype(np.uint32),
            value=from_montgomery2_r(values),
        )

    @cached_property
    def a(self) -> np.ndarray:
        return self._points(5, self.n_vars, g2=False)

    @cached_property
    def b1(self) -> np.ndarray:
        return self._points(6, self.n_vars, g2=False)

    @cached_property
    def b2(self) -> np.ndarray:
        return self._points(7, self.n_vars, g2=True)

    @cached_property
    def c(self) -> np.ndarray:
        return self._points(8, self.n_vars - self.n_public - 1, g2=False)

    @cached_property
    def h(self) -> np.ndarray:
        return self._points(9, self.domain_size, g2=False)

    @cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of the whole file: the key's content address."""
        h = hashlib.sha256()
        buf = memoryview(self._bf.buf)
        step = 1 << 24
        for i in range(0, self._bf.size, step):
            h.update(buf[i:i + step])
        return h.hexdigest()

    def __repr__(self) -> str:
        return (f"ZKey({self.path!r}, n_vars={self.n_vars}, n_public={self.n_public}, "
                f"domain_size={self.domain_size})")


def read_zkey(path) -> ZKey:
    """Open and validate a snarkjs Groth16 ``.zkey`` (raises FormatError)."""
    bf = read_binfile(path, b"zkey", (1,), names=SECTION_NAMES)
    for sid in range(1, 10):
        bf.section(sid)  # presence (and uniqueness) of every section we use
    return ZKey(bf)
