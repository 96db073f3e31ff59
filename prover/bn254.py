"""BN254 (snarkjs's "bn128") reference arithmetic on Python ints.

The obviously-right twin of every fast path: fields Fr, Fq, Fq2 and the groups G1
(over Fq) and G2 (over Fq2, the D-type twist y^2 = x^3 + 3/(9+u)), in affine and
Jacobian coordinates.  Affine points are tuples ``(x, y)``; the point at infinity is
``None`` here and ``(0, 0)`` in files and arrays, as in snarkjs.  Fq2 elements are
tuples ``(c0, c1)`` meaning c0 + c1·u with u^2 = -1.
"""

from __future__ import annotations

import numpy as np

from prover.limbs import ints_to_limbs, limbs_to_ints

from gpu_msm.constants import FQ_MODULUS, FR_MODULUS, G2_B

# Montgomery factor used by snarkjs files: R = 2^256 (mod q for Fq, mod r for Fr)
MONT = 1 << 256

assert pow(2, FQ_MODULUS - 1, FQ_MODULUS) == 1
assert pow(5, FR_MODULUS - 1, FR_MODULUS) == 1

Q = FQ_MODULUS
B1 = 3  # G1: y^2 = x^3 + 3


# ---------------------------------------------------------------- Fq2

def f2_add(a, b):
    return ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)


def f2_sub(a, b):
    return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)


def f2_neg(a):
    return (-a[0] % Q, -a[1] % Q)


def f2_mul(a, b):
    a0, a1 = a
    b0, b1 = b
    t0 = a0 * b0
    t1 = a1 * b1
    return ((t0 - t1) % Q, ((a0 + a1) * (b0 + b1) - t0 - t1) % Q)


def f2_sqr(a):
    a0, a1 = a
    return ((a0 + a1) * (a0 - a1) % Q, 2 * a0 * a1 % Q)


def f2_scale(a, k):
    return (a[0] * k % Q, a[1] * k % Q)


def f2_inv(a):
    a0, a1 = a
    t = pow(a0 * a0 + a1 * a1, -1, Q)
    return (a0 * t % Q, -a1 * t % Q)


F2_ZERO = (0, 0)
F2_ONE = (1, 0)
# G2 twist coefficient b' = 3 / (9 + u)
B2 = f2_mul((3, 0), f2_inv((9, 1)))
assert B2 == G2_B


# ---------------------------------------------------------------- generic curve code
#
# The two groups share one implementation parametrised by field operations; G2 costs
# about four times G1 per operation, which is fine for a reference.

class _Field:
    def __init__(self, add, sub, mul, sqr, neg, inv, zero, one, is_zero):
        self.add, self.sub, self.mul, self.sqr = add, sub, mul, sqr
        self.neg, self.inv, self.zero, self.one, self.is_zero = neg, inv, zero, one, is_zero


FQ = _Field(
    add=lambda a, b: (a + b) % Q,
    sub=lambda a, b: (a - b) % Q,
    mul=lambda a, b: a * b % Q,
    sqr=lambda a: a * a % Q,
    neg=lambda a: -a % Q,
    inv=lambda a: pow(a, -1, Q),
    zero=0, one=1,
    is_zero=lambda a: a == 0,
)
FQ2 = _Field(
    add=f2_add, sub=f2_sub, mul=f2_mul, sqr=f2_sqr, neg=f2_neg, inv=f2_inv,
    zero=F2_ZERO, one=F2_ONE, is_zero=lambda a: a == (0, 0),
)


class Curve:
    """Short Weierstrass y^2 = x^3 + b over a field; Jacobian (X, Y, Z), infinity has Z = 0."""

    def __init__(self, name, field, b, generator):
        self.name, self.F, self.b, self.generator = name, field, b, generator

    # affine helpers ---------------------------------------------------------
    def is_on_curve(self, p) -> bool:
        if p is None:
            return True
        F = self.F
        x, y = p
        return F.sqr(y) == F.add(F.mul(F.sqr(x), x), self.b)

    def neg(self, p):
        return None if p is None else (p[0], self.F.neg(p[1]))

    # Jacobian ---------------------------------------------------------------
    def to_jac(self, p):
        F = self.F
        return (F.one, F.one, F.zero) if p is None else (p[0], p[1], F.one)

    def to_affine(self, j):
        F = self.F
        X, Y, Z = j
        if F.is_zero(Z):
            return None
        zi = F.inv(Z)
        zi2 = F.sqr(zi)
        return (F.mul(X, zi2), F.mul(Y, F.mul(zi2, zi)))

    def jdouble(self, j):
        F = self.F
        X, Y, Z = j
        if F.is_zero(Z) or F.is_zero(Y):
            return (F.one, F.one, F.zero)
        # dbl-2009-l (a = 0)
        A = F.sqr(X)
        B = F.sqr(Y)
        C = F.sqr(B)
        D = F.sub(F.sqr(F.add(X, B)), F.add(A, C))
        D = F.add(D, D)
        E = F.add(F.add(A, A), A)
        X3 = F.sub(F.sqr(E), F.add(D, D))
        C8 = F.add(C, C)
        C8 = F.add(C8, C8)
        C8 = F.add(C8, C8)
        Y3 = F.sub(F.mul(E, F.sub(D, X3)), C8)
        Z3 = F.mul(Y, Z)
        return (X3, Y3, F.add(Z3, Z3))

    def jadd(self, j1, j2):
        F = self.F
        X1, Y1, Z1 = j1
        X2, Y2, Z2 = j2
        if F.is_zero(Z1):
            return j2
        if F.is_zero(Z2):
            return j1
        Z1Z1 = F.sqr(Z1)
        Z2Z2 = F.sqr(Z2)
        U1 = F.mul(X1, Z2Z2)
        U2 = F.mul(X2, Z1Z1)
        S1 = F.mul(Y1, F.mul(Z2, Z2Z2))
        S2 = F.mul(Y2, F.mul(Z1, Z1Z1))
        H = F.sub(U2, U1)
        Rr = F.sub(S2, S1)
        if F.is_zero(H):
            if F.is_zero(Rr):
                return self.jdouble(j1)
            return (F.one, F.one, F.zero)
        HH = F.sqr(H)
        HHH = F.mul(H, HH)
        V = F.mul(U1, HH)
        X3 = F.sub(F.sub(F.sqr(Rr), HHH), F.add(V, V))
        Y3 = F.sub(F.mul(Rr, F.sub(V, X3)), F.mul(S1, HHH))
        Z3 = F.mul(F.mul(Z1, Z2), H)
        return (X3, Y3, Z3)

    def jadd_affine(self, j1, p):
        """Mixed addition: Jacobian + affine (not infinity)."""
        F = self.F
        X1, Y1, Z1 = j1
        if F.is_zero(Z1):
            return (p[0], p[1], F.one)
        x2, y2 = p
        Z1Z1 = F.sqr(Z1)
        U2 = F.mul(x2, Z1Z1)
        S2 = F.mul(y2, F.mul(Z1, Z1Z1))
        H = F.sub(U2, X1)
        Rr = F.sub(S2, Y1)
        if F.is_zero(H):
            if F.is_zero(Rr):
                return self.jdouble(j1)
            return (F.one, F.one, F.zero)
        HH = F.sqr(H)
        HHH = F.mul(H, HH)
        V = F.mul(X1, HH)
        X3 = F.sub(F.sub(F.sqr(Rr), HHH), F.add(V, V))
        Y3 = F.sub(F.mul(Rr, F.sub(V, X3)), F.mul(Y1, HHH))
        return (X3, Y3, F.mul(Z1, H))

    # affine group law (through Jacobian; clear rather than fast) -------------
    def add(self, p1, p2):
        return self.to_affine(self.jadd(self.to_jac(p1), self.to_jac(p2)))

    def sub(self, p1, p2):
        return self.add(p1, self.neg(p2))

    def mul(self, p, k: int):
        """Scalar multiplication by double-and-add on the scalar reduced mod r."""
        k %= FR_MODULUS
        acc = self.to_jac(None)
        if p is None or k == 0:
            return None
        for bit in bin(k)[2:]:
            acc = self.jdouble(acc)
            if bit == "1":
                acc = self.jadd_affine(acc, p)
        return self.to_affine(acc)

    def in_subgroup(self, p) -> bool:
        """[r]P = O, by plain double-and-add on the unreduced order."""
        if p is None:
            return True
        acc = self.to_jac(None)
        for bit in bin(FR_MODULUS)[2:]:
            acc = self.jdouble(acc)
            if bit == "1":
                acc = self.jadd_affine(acc, p)
        return self.F.is_zero(acc[2])


G1 = Curve(
    "G1", FQ, B1, (1, 2),
)
G2 = Curve(
    "G2", FQ2, B2,
    (
        (10857046999023057135944570762232829481370756359578518086990519993285655852781,
         11559732032986387107991004021392285783925812861821192530917403151452391805634),
        (8495653923123431417604973247489272438418190587263600148770280649306958101930,
         4082367875863433681332203403145435568316851327593401208105741076214120093531),
    ),
)
assert G1.is_on_curve(G1.generator) and G2.is_on_curve(G2.generator)


# ---------------------------------------------------------------- arrays <-> points

def g1_from_array(arr: np.ndarray) -> list:
    """``(n, 2, 4)`` canonical affine -> list of points (None for (0, 0))."""
    v = limbs_to_ints(arr)
    return [None if v[i] == 0 and v[i + 1] == 0 else (v[i], v[i + 1]) for i in range(0, len(v), 2)]


def g1_to_array(points) -> np.ndarray:
    flat = []
    for p in points:
        flat.extend((0, 0) if p is None else p)
    return ints_to_limbs(flat).reshape(-1, 2, 4)


def g2_from_array(arr: np.ndarray) -> list:
    """``(n, 2, 2, 4)`` canonical affine, [x, y] each [c0, c1] -> list of points."""
    v = limbs_to_ints(arr)
    out = []
    for i in range(0, len(v), 4):
        x, y = (v[i], v[i + 1]), (v[i + 2], v[i + 3])
        out.append(None if x == (0, 0) and y == (0, 0) else (x, y))
    return out


def g2_to_array(points) -> np.ndarray:
    flat = []
    for p in points:
        flat.extend((0, 0, 0, 0) if p is None else (p[0][0], p[0][1], p[1][0], p[1][1]))
    return ints_to_limbs(flat).reshape(-1, 2, 2, 4)


# ---------------------------------------------------------------- py_ecc interop

def to_py_ecc_g1(p):
    from py_ecc.optimized_bn128 import FQ as PFQ
    if p is None:
        return (PFQ.one(), PFQ.one(), PFQ.zero())
    return (PFQ(p[0]), PFQ(p[1]), PFQ.one())


def to_py_ecc_g2(p):
    from py_ecc.optimized_bn128 import FQ2 as PFQ2
    if p is None:
        return (PFQ2.one(), PFQ2.one(), PFQ2.zero())
    return (PFQ2(list(p[0])), PFQ2(list(p[1])), PFQ2.one())


def from_py_ecc_g1(pt):
    from py_ecc.optimized_bn128 import normalize, is_inf
    if is_inf(pt):
        return None
    x, y = normalize(pt)
    return (int(x), int(y))


def from_py_ecc_g2(pt):
    from py_ecc.optimized_bn128 import normalize, is_inf
    if is_inf(pt):
        return None
    x, y = normalize(pt)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))
