"""BN254 pairing-product check: optimal ate Miller loops and one final exponentiation.

    pairing_check(g1, g2) -> bool     Π e(g1[i], g2[i]) == 1
    pairing_gt(g1, g2, hard)          the product itself, as tower coefficients
    g2_in_subgroup(g2) -> bool array  [r]Q == O for each point
    g1_lincomb(bases, scalars)        Σ scalars[i]·bases[i] by double-and-add

Arrays in and out are canonical, as in the rest of the backend: G1 ``(k, 2, 4)``, G2
``(k, 2, 2, 4)``, affine, (0, 0) for infinity.  Inside, elements are Montgomery limb
tuples (gpu_msm/cpu/fields.py) and the extension fields are nested tuples:

    Fq2  = Fq[u]/(u² + 1)          (c0, c1)
    Fq6  = Fq2[v]/(v³ − ξ), ξ = 9+u (a0, a1, a2)      a0 + a1·v + a2·v²
    Fq12 = Fq6[w]/(w² − v)          (b0, b1)          b0 + b1·w

This is the tower of ffjavascript (snarkjs) and of the BN254 literature; py_ecc's
optimized_bn128 uses the flat Fq[w]/(w¹² − 18w⁶ + 82) with the same w (its twist sends
u to w⁶ − 9), so v^i·w^j is its w^(2i+j) and tests can compare coefficient by coefficient.

G2 is the D-type twist y² = x³ + b', b' = 3/ξ, embedded by (x, y) -> (x·w², y·w³).
Miller loop: loop count 6x+2 (x = 4965661367192848881) in non-adjacent form, T in
homogeneous projective coordinates so no step inverts; each line is scaled by a factor
in Fq2 (killed by the final exponentiation) to the sparse shape l0 + l1·w + l2·v·w, and
all pairs share one accumulator, so f is squared once per bit, not once per pair.
Final exponentiation: easy part f^((q⁶−1)(q²+1)) by conjugation, one inversion and a
Frobenius; hard part either the multiple 2x(6x²+3x+1)·(q⁴−q²+1)/r of Fuentes-Castañeda,
Knapp and Rodríguez-Henríquez ("Faster hashing to G2", SAC 2011: three exponentiations
by x and Frobenius maps), or plain square-and-multiply by (q⁴−q²+1)/r.  The first is
what pairing_check uses (2x(6x²+3x+1) is prime to r, so "== 1" means the same); the
second gives exactly py_ecc's pairing value, and the first snarkjs's vk_alphabeta_12.

The kernels are serial and release the GIL; unlike the MSMs they start no parallel
region, so they take no backend lock (gpu_msm/cpu/serial.py) and never wait behind an
MSM running in another thread.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gpu_msm.constants import FQ_MODULUS, FR_MODULUS, G2_B
from gpu_msm.cpu import mont
from gpu_msm.cpu.convert import check_below
from gpu_msm.cpu.curve import xyzz_add, xyzz_add_affine, xyzz_double, xyzz_inf, xyzz_is_inf, \
    xyzz_to_affine
from gpu_msm.cpu.fields import (FQ_ONE, FQ_P, fq2_inv, fq2_mul, fq2_sqr, fq_add, fq_from_mont,
                                fq_inv, fq_mul, fq_sub, fq_to_mont)
from gpu_msm.cpu.layout import load, store
from gpu_msm.cpu.wide import adc

BN_X = 4965661367192848881
ATE_LOOP = 6 * BN_X + 2
_Q = FQ_MODULUS
_R = FR_MODULUS
HARD_EXPONENT = (_Q ** 4 - _Q ** 2 + 1) // _R
assert HARD_EXPONENT * _R == _Q ** 4 - _Q ** 2 + 1
# The chain below computes f^(λ0 + λ1·q + λ2·q² + λ3·q³); this is the identity it rests on.
CHAIN_MULTIPLE = 2 * BN_X * (6 * BN_X * BN_X + 3 * BN_X + 1)
assert ((1 + 6 * BN_X + 12 * BN_X ** 2 + 12 * BN_X ** 3)
        + (4 * BN_X + 6 * BN_X ** 2 + 12 * BN_X ** 3) * _Q
        + (6 * BN_X + 6 * BN_X ** 2 + 12 * BN_X ** 3) * _Q ** 2
        + (-1 + 4 * BN_X + 6 * BN_X ** 2 + 12 * BN_X ** 3) * _Q ** 3) \
    == CHAIN_MULTIPLE * HARD_EXPONENT
assert CHAIN_MULTIPLE % _R != 0


def _naf(n: int) -> np.ndarray:
    """Non-adjacent form, least significant digit first."""
    digits = []
    while n:
        d = 2 - (n & 3) if n & 1 else 0
        digits.append(d)
        n = (n - d) >> 1
    return np.array(digits, dtype=np.int8)


def _bits(n: int) -> np.ndarray:
    return np.array([(n >> i) & 1 for i in range(n.bit_length())], dtype=np.uint8)


# 66 digits, 22 non-zero (the binary expansion has 37 ones): fewer addition steps
ATE_NAF = _naf(ATE_LOOP)
X_NAF = _naf(BN_X)  # 63 digits, 24 non-zero
HARD_BITS = _bits(HARD_EXPONENT)
R_BITS = _bits(_R)

# ---------------------------------------------------------------- constants (Python ints)


def _f2mul(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % _Q, (a[0] * b[1] + a[1] * b[0]) % _Q)


def _f2pow(a, e):
    acc = (1, 0)
    for bit in bin(e)[2:]:
        acc = _f2mul(acc, acc)
        if bit == "1":
            acc = _f2mul(acc, a)
    return acc


def _mont_fq(v: int):
    return mont.limbs(v * (1 << 256) % _Q)


def _mont_fq2(a):
    return (_mont_fq(a[0]), _mont_fq(a[1]))


_XI = (9, 1)


def _frob(n: int) -> tuple:
    # powers of one ξ^((q^n − 1)/6), not six exponentiations: it runs at every start-up
    # (figures: bench/RESULTS.md, "Measurements moved from code comments")
    g = _f2pow(_XI, (_Q ** n - 1) // 6)
    out, acc = [], (1, 0)
    for _ in range(6):
        out.append(_mont_fq2(acc))
        acc = _f2mul(acc, g)
    return tuple(out)


# (c·w^k)^(q^n) = c^(q^n)·w^k·ξ^(k(q^n − 1)/6): FROB[n][k] = ξ^(k(q^n − 1)/6), n = 1, 2, 3
FROB1, FROB2, FROB3 = _frob(1), _frob(2), _frob(3)
TWIST_B3 = _mont_fq2((3 * G2_B[0] % _Q, 3 * G2_B[1] % _Q))  # 3b' (doubling step)
G2_B_MONT = _mont_fq2(G2_B)
G1_B_MONT = _mont_fq(3)
FQ2_ZERO = (mont.ZERO, mont.ZERO)
FQ2_ONE = (FQ_ONE, mont.ZERO)

# ---------------------------------------------------------------- Fq, Fq2 helpers


@njit(cache=True, inline="always")
def fq_neg(a):
    return fq_sub(mont.ZERO, a)


@njit(cache=True, inline="always")
def fq_half(a):
    # a/2 = (a + q)/2 when a is odd; q < 2^254 so a + q fits four words
    if a[0] & np.uint64(1):
        s0, c = adc(a[0], FQ_P[0], mont.ZERO64)
        s1, c = adc(a[1], FQ_P[1], c)
        s2, c = adc(a[2], FQ_P[2], c)
        s3, c = adc(a[3], FQ_P[3], c)
    else:
        s0, s1, s2, s3 = a
    one = np.uint64(1)
    s63 = np.uint64(63)
    return ((s0 >> one) | (s1 << s63), (s1 >> one) | (s2 << s63), (s2 >> one) | (s3 << s63),
            s3 >> one)


@njit(cache=True, inline="always")
def f2_add(a, b):
    return (fq_add(a[0], b[0]), fq_add(a[1], b[1]))


@njit(cache=True, inline="always")
def f2_sub(a, b):
    return (fq_sub(a[0], b[0]), fq_sub(a[1], b[1]))


@njit(cache=True, inline="always")
def f2_neg(a):
    return (fq_neg(a[0]), fq_neg(a[1]))


@njit(cache=True, inline="always")
def f2_dbl(a):
    return (fq_add(a[0], a[0]), fq_add(a[1], a[1]))


@njit(cache=True, inline="always")
def f2_half(a):
    return (fq_half(a[0]), fq_half(a[1]))


@njit(cache=True, inline="always")
def f2_conj(a):
    return (a[0], fq_neg(a[1]))


@njit(cache=True, inline="always")
def f2_scale(a, s):
    """Fq2 times Fq."""
    return (fq_mul(a[0], s), fq_mul(a[1], s))


@njit(cache=True, inline="always")
def f2_mul_xi(a):
    # (a0 + a1·u)(9 + u) = (9a0 − a1) + (a0 + 9a1)·u, 9a as 8a + a by doublings
    t0 = fq_add(a[0], a[0])
    t0 = fq_add(t0, t0)
    t0 = fq_add(fq_add(t0, t0), a[0])
    t1 = fq_add(a[1], a[1])
    t1 = fq_add(t1, t1)
    t1 = fq_add(fq_add(t1, t1), a[1])
    return (fq_sub(t0, a[1]), fq_add(a[0], t1))


@njit(cache=True, inline="always")
def f2_eq(a, b):
    return mont.equal(a[0], b[0]) and mont.equal(a[1], b[1])


@njit(cache=True, inline="always")
def f2_is_zero(a):
    return mont.is_zero(a[0]) and mont.is_zero(a[1])


# ---------------------------------------------------------------- Fq6


@njit(cache=True)
def fq6_add(a, b):
    return (f2_add(a[0], b[0]), f2_add(a[1], b[1]), f2_add(a[2], b[2]))


@njit(cache=True)
def fq6_sub(a, b):
    return (f2_sub(a[0], b[0]), f2_sub(a[1], b[1]), f2_sub(a[2], b[2]))


@njit(cache=True)
def fq6_neg(a):
    return (f2_neg(a[0]), f2_neg(a[1]), f2_neg(a[2]))


@njit(cache=True)
def fq6_mul_v(a):
    return (f2_mul_xi(a[2]), a[0], a[1])


@njit(cache=True)
def fq6_mul(a, b):
    # Karatsuba over the three coefficients: six Fq2 products instead of nine
    t0 = fq2_mul(a[0], b[0])
    t1 = fq2_mul(a[1], b[1])
    t2 = fq2_mul(a[2], b[2])
    m12 = fq2_mul(f2_add(a[1], a[2]), f2_add(b[1], b[2]))
    m01 = fq2_mul(f2_add(a[0], a[1]), f2_add(b[0], b[1]))
    m02 = fq2_mul(f2_add(a[0], a[2]), f2_add(b[0], b[2]))
    c0 = f2_add(t0, f2_mul_xi(f2_sub(f2_sub(m12, t1), t2)))
    c1 = f2_add(f2_sub(f2_sub(m01, t0), t1), f2_mul_xi(t2))
    c2 = f2_add(f2_sub(f2_sub(m02, t0), t2), t1)
    return (c0, c1, c2)


@njit(cache=True)
def fq6_sqr(a):
    # Chung–Hasan SQR2: (a0 + a1 v + a2 v²)² from a0², 2a0a1, (a0 − a1 + a2)², 2a1a2, a2²
    s0 = fq2_sqr(a[0])
    s1 = f2_dbl(fq2_mul(a[0], a[1]))
    s2 = fq2_sqr(f2_add(f2_sub(a[0], a[1]), a[2]))
    s3 = f2_dbl(fq2_mul(a[1], a[2]))
    s4 = fq2_sqr(a[2])
    return (f2_add(s0, f2_mul_xi(s3)), f2_add(s1, f2_mul_xi(s4)),
            f2_sub(f2_add(f2_add(s1, s2), s3), f2_add(s0, s4)))


@njit(cache=True)
def fq6_mul_01(a, b0, b1):
    """a·(b0 + b1·v): five Fq2 products."""
    t0 = fq2_mul(a[0], b0)
    t1 = fq2_mul(a[1], b1)
    m01 = fq2_mul(f2_add(a[0], a[1]), f2_add(b0, b1))
    c0 = f2_add(t0, f2_mul_xi(fq2_mul(a[2], b1)))
    c1 = f2_sub(f2_sub(m01, t0), t1)
    c2 = f2_add(t1, fq2_mul(a[2], b0))
    return (c0, c1, c2)


@njit(cache=True)
def fq6_scale(a, b):
    """a·b for b in Fq2."""
    return (fq2_mul(a[0], b), fq2_mul(a[1], b), fq2_mul(a[2], b))


@njit(cache=True)
def fq6_inv(a):
    # adjugate over Fq2: a·(A + B v + C v²) = F, a scalar in Fq2
    a0, a1, a2 = a
    A = f2_sub(fq2_sqr(a0), f2_mul_xi(fq2_mul(a1, a2)))
    B = f2_sub(f2_mul_xi(fq2_sqr(a2)), fq2_mul(a0, a1))
    C = f2_sub(fq2_sqr(a1), fq2_mul(a0, a2))
    F = f2_add(fq2_mul(a0, A), f2_mul_xi(f2_add(fq2_mul(a2, B), fq2_mul(a1, C))))
    t = fq2_inv(F)
    return (fq2_mul(A, t), fq2_mul(B, t), fq2_mul(C, t))


# ---------------------------------------------------------------- Fq12


@njit(cache=True)
def fq12_one():
    z = FQ2_ZERO
    return ((FQ2_ONE, z, z), (z, z, z))


@njit(cache=True)
def fq12_is_one(a):
    return (f2_eq(a[0][0], FQ2_ONE) and f2_is_zero(a[0][1]) and f2_is_zero(a[0][2])
            and f2_is_zero(a[1][0]) and f2_is_zero(a[1][1]) and f2_is_zero(a[1][2]))


@njit(cache=True)
def fq12_mul(a, b):
    t0 = fq6_mul(a[0], b[0])
    t1 = fq6_mul(a[1], b[1])
    m = fq6_mul(fq6_add(a[0], a[1]), fq6_add(b[0], b[1]))
    return (fq6_add(t0, fq6_mul_v(t1)), fq6_sub(fq6_sub(m, t0), t1))


@njit(cache=True)
def fq12_sqr(a):
    # complex squaring: (a0 + a1 w)² = (a0 + a1)(a0 + v a1) − t − v t + 2t·w, t = a0a1
    t = fq6_mul(a[0], a[1])
    m = fq6_mul(fq6_add(a[0], a[1]), fq6_add(a[0], fq6_mul_v(a[1])))
    return (fq6_sub(fq6_sub(m, t), fq6_mul_v(t)), fq6_add(t, t))


@njit(cache=True)
def fq12_conj(a):
    """a^(q⁶): w -> −w.  The inverse, for a in the cyclotomic subgroup."""
    return (a[0], fq6_neg(a[1]))


@njit(cache=True)
def fq12_inv(a):
    t = fq6_inv(fq6_sub(fq6_sqr(a[0]), fq6_mul_v(fq6_sqr(a[1]))))
    return (fq6_mul(a[0], t), fq6_neg(fq6_mul(a[1], t)))


@njit(cache=True)
def _frob_parts(a, g, conj):
    # coefficient of v^i w^j sits at w^(2i+j): b0[i] at k = 2i, b1[i] at k = 2i + 1
    b0, b1 = a
    if conj:
        b0 = (f2_conj(b0[0]), f2_conj(b0[1]), f2_conj(b0[2]))
        b1 = (f2_conj(b1[0]), f2_conj(b1[1]), f2_conj(b1[2]))
    return ((b0[0], fq2_mul(b0[1], g[2]), fq2_mul(b0[2], g[4])),
            (fq2_mul(b1[0], g[1]), fq2_mul(b1[1], g[3]), fq2_mul(b1[2], g[5])))


@njit(cache=True)
def fq12_frob1(a):
    return _frob_parts(a, FROB1, True)


@njit(cache=True)
def fq12_frob2(a):
    return _frob_parts(a, FROB2, False)


@njit(cache=True)
def fq12_frob3(a):
    return _frob_parts(a, FROB3, True)


@njit(cache=True)
def fq12_mul_line(f, l0, l1, l2):
    """f·(l0 + l1·w + l2·v·w): thirteen Fq2 products instead of eighteen."""
    t0 = fq6_scale(f[0], l0)
    t1 = fq6_mul_01(f[1], l1, l2)
    m = fq6_mul_01(fq6_add(f[0], f[1]), f2_add(l0, l1), l2)
    return (fq6_add(t0, fq6_mul_v(t1)), fq6_sub(fq6_sub(m, t0), t1))


# ---------------------------------------------------------------- Miller loop


@njit(cache=True)
def _double_step(T, xp_neg, yp):
    """2T and the tangent at T evaluated at P, scaled by 2YZ (homogeneous T = (X, Y, Z)).

    Tangent: yP − λ·xP·w + (λx − y)·v·w with λ = 3x²/2y; times 2YZ, using the curve
    equation Y²Z = X³ + b'Z³: 2YZ·yP − 3X²·xP·w + (Y² − 3b'Z²)·v·w.
    """
    X, Y, Z = T
    B = fq2_sqr(Y)
    C = fq2_sqr(Z)
    E = fq2_mul(TWIST_B3, C)
    F = f2_add(f2_dbl(E), E)
    H = f2_sub(fq2_sqr(f2_add(Y, Z)), f2_add(B, C))  # 2YZ
    XX = fq2_sqr(X)
    X3 = fq2_mul(f2_half(fq2_mul(X, Y)), f2_sub(B, F))
    G = f2_half(f2_add(B, F))
    EE = fq2_sqr(E)
    Y3 = f2_sub(fq2_sqr(G), f2_add(f2_dbl(EE), EE))
    Z3 = fq2_mul(B, H)
    l0 = f2_scale(H, yp)
    l1 = f2_scale(f2_add(f2_dbl(XX), XX), xp_neg)
    l2 = f2_sub(B, E)
    return (X3, Y3, Z3), l0, l1, l2


@njit(cache=True)
def _add_step(T, q, xp_neg, yp):
    """T + Q (Q affine, Q ≠ ±T) and the chord through them at P, scaled by λ = X − xQ·Z."""
    X, Y, Z = T
    xq, yq = q
    theta = f2_sub(Y, fq2_mul(yq, Z))
    lam = f2_sub(X, fq2_mul(xq, Z))
    C = fq2_sqr(theta)
    D = fq2_sqr(lam)
    E = fq2_mul(lam, D)
    F = fq2_mul(Z, C)
    G = fq2_mul(X, D)
    H = f2_sub(f2_add(E, F), f2_dbl(G))
    X3 = fq2_mul(lam, H)
    Y3 = f2_sub(fq2_mul(theta, f2_sub(G, H)), fq2_mul(E, Y))
    Z3 = fq2_mul(Z, E)
    l0 = f2_scale(lam, yp)
    l1 = f2_scale(theta, xp_neg)
    l2 = f2_sub(fq2_mul(theta, xq), fq2_mul(lam, yq))
    return (X3, Y3, Z3), l0, l1, l2


@njit(cache=True)
def _load_t(ts, i):
    return (load(ts, i, 0), load(ts, i, 1), load(ts, i, 2))


@njit(cache=True)
def _store_t(ts, i, t):
    store(ts, i, 0, t[0])
    store(ts, i, 1, t[1])
    store(ts, i, 2, t[2])


@njit(cache=True)
def miller_product(pm, qm):
    """Π f_{6x+2,Q_i}(P_i) times the two Frobenius lines, for Montgomery affine pairs
    with neither point infinite; the same value up to factors the final exponentiation
    kills."""
    n = pm.shape[0]
    ts = np.empty((n, 3, 2, 4), np.uint64)
    for i in range(n):
        q = load(qm, i, 0), load(qm, i, 1)
        _store_t(ts, i, (q[0], q[1], FQ2_ONE))
    f = fq12_one()
    for d in range(ATE_NAF.shape[0] - 2, -1, -1):
        f = fq12_sqr(f)
        for i in range(n):
            xn, yp = fq_neg(load(pm, i, 0)), load(pm, i, 1)
            t, l0, l1, l2 = _double_step(_load_t(ts, i), xn, yp)
            f = fq12_mul_line(f, l0, l1, l2)
            digit = ATE_NAF[d]
            if digit != 0:
                q = load(qm, i, 0), load(qm, i, 1)
                if digit < 0:
                    q = (q[0], f2_neg(q[1]))
                t, l0, l1, l2 = _add_step(t, q, xn, yp)
                f = fq12_mul_line(f, l0, l1, l2)
            _store_t(ts, i, t)
    for i in range(n):
        xn, yp = fq_neg(load(pm, i, 0)), load(pm, i, 1)
        xq, yq = load(qm, i, 0), load(qm, i, 1)
        # π(Q) on the twist: the q-power of (x w², y w³) is (x̄·ξ^((q−1)/3) w², ȳ·ξ^((q−1)/2) w³)
        q1 = (fq2_mul(f2_conj(xq), FROB1[2]), fq2_mul(f2_conj(yq), FROB1[3]))
        nq2 = (fq2_mul(xq, FROB2[2]), f2_neg(fq2_mul(yq, FROB2[3])))
        t, l0, l1, l2 = _add_step(_load_t(ts, i), q1, xn, yp)
        f = fq12_mul_line(f, l0, l1, l2)
        t, l0, l1, l2 = _add_step(t, nq2, xn, yp)
        f = fq12_mul_line(f, l0, l1, l2)
    return f


# ---------------------------------------------------------------- final exponentiation


@njit(cache=True)
def final_exp_easy(f):
    """f^((q⁶ − 1)(q² + 1)): the result lies in the cyclotomic subgroup."""
    f = fq12_mul(fq12_conj(f), fq12_inv(f))
    return fq12_mul(fq12_frob2(f), f)


@njit(cache=True)
def _cyc_pow_x(f):
    """f^x for f in the cyclotomic subgroup (inverse = conjugate, so NAF digits are free)."""
    fi = fq12_conj(f)
    acc = f  # top digit is 1
    for d in range(X_NAF.shape[0] - 2, -1, -1):
        acc = fq12_sqr(acc)
        if X_NAF[d] > 0:
            acc = fq12_mul(acc, f)
        elif X_NAF[d] < 0:
            acc = fq12_mul(acc, fi)
    return acc


@njit(cache=True)
def final_exp_hard_chain(f):
    """f^(2x(6x²+3x+1)·(q⁴ − q² + 1)/r) for f in the cyclotomic subgroup: with
    λ0 = 1 + 6x + 12x² + 12x³, λ1 = 4x + 6x² + 12x³, λ2 = 6x + 6x² + 12x³,
    λ3 = −1 + 4x + 6x² + 12x³ (the assertion at the top checks the identity),
    the result is f^λ0 · (f^λ1)^q · (f^λ2)^(q²) · (f^λ3)^(q³)."""
    fx = _cyc_pow_x(f)
    f2x = fq12_sqr(fx)
    f4x = fq12_sqr(f2x)
    f6x = fq12_mul(f4x, f2x)
    f6x2 = _cyc_pow_x(f6x)
    f12x2 = fq12_sqr(f6x2)
    f12x3 = _cyc_pow_x(f12x2)
    a = fq12_mul(fq12_mul(f12x3, f6x2), f6x)     # f^λ2
    b = fq12_mul(a, fq12_conj(f2x))               # f^λ1
    e0 = fq12_mul(fq12_mul(a, f6x2), f)           # f^λ0
    e3 = fq12_mul(b, fq12_conj(f))                # f^λ3
    return fq12_mul(fq12_mul(e0, fq12_frob1(b)), fq12_mul(fq12_frob2(a), fq12_frob3(e3)))


@njit(cache=True)
def final_exp_hard_plain(f):
    """f^((q⁴ − q² + 1)/r) by square-and-multiply (761 bits)."""
    acc = f
    for i in range(HARD_BITS.shape[0] - 2, -1, -1):
        acc = fq12_sqr(acc)
        if HARD_BITS[i]:
            acc = fq12_mul(acc, f)
    return acc


# ---------------------------------------------------------------- boundary


@njit(cache=True)
def _fq_at(arr, i, k):
    return fq_to_mont(load(arr, i, k))


@njit(cache=True, nogil=True)
def _prepare(g1, g2):
    """Montgomery copies of the pairs with neither point infinite, and the index of the
    first point off its curve (−1 if none; G1 index i, G2 index k + i)."""
    k = g1.shape[0]
    pm = np.empty((k, 2, 4), np.uint64)
    qm = np.empty((k, 2, 2, 4), np.uint64)
    n = 0
    for i in range(k):
        px, py = _fq_at(g1, i, 0), _fq_at(g1, i, 1)
        x0, x1 = load(g2, i, 0)
        y0, y1 = load(g2, i, 1)
        qx = (fq_to_mont(x0), fq_to_mont(x1))
        qy = (fq_to_mont(y0), fq_to_mont(y1))
        p_inf = mont.is_zero(px) and mont.is_zero(py)
        q_inf = f2_is_zero(qx) and f2_is_zero(qy)
        if not p_inf and not mont.equal(fq_mul(py, py),
                                        fq_add(fq_mul(fq_mul(px, px), px), G1_B_MONT)):
            return pm[:0], qm[:0], i
        if not q_inf and not f2_eq(fq2_sqr(qy), f2_add(fq2_mul(fq2_sqr(qx), qx), G2_B_MONT)):
            return pm[:0], qm[:0], k + i
        if p_inf or q_inf:
            continue
        store(pm, n, 0, px)
        store(pm, n, 1, py)
        store(qm, n, 0, qx)
        store(qm, n, 1, qy)
        n += 1
    return pm[:n], qm[:n], -1


@njit(cache=True, nogil=True)
def _check_kernel(pm, qm):
    f = final_exp_hard_chain(final_exp_easy(miller_product(pm, qm)))
    return fq12_is_one(f)


@njit(cache=True, nogil=True)
def _gt_kernel(pm, qm, chain):
    f = final_exp_easy(miller_product(pm, qm))
    f = final_exp_hard_chain(f) if chain else final_exp_hard_plain(f)
    out = np.empty((2, 3, 2, 4), np.uint64)
    for j in range(2):
        for i in range(3):
            for c in range(2):
                v = fq_from_mont(f[j][i][c])
                for limb in range(4):
                    out[j, i, c, limb] = v[limb]
    return out


def _pairs(g1, g2):
    g1 = np.ascontiguousarray(g1, dtype=np.uint64)
    g2 = np.ascontiguousarray(g2, dtype=np.uint64)
    if g1.ndim != 3 or g1.shape[1:] != (2, 4):
        raise ValueError(f"g1: shape {g1.shape}, expected (k, 2, 4)")
    if g2.ndim != 4 or g2.shape[1:] != (2, 2, 4) or g2.shape[0] != g1.shape[0]:
        raise ValueError(f"g2: shape {g2.shape}, expected ({g1.shape[0]}, 2, 2, 4)")
    check_below(g1.reshape(-1, 4), "q", "g1")
    check_below(g2.reshape(-1, 4), "q", "g2")
    pm, qm, bad = _prepare(g1, g2)
    if bad >= 0:
        k = g1.shape[0]
        group, i = ("g1", bad) if bad < k else ("g2", bad - k)
        raise ValueError(f"{group}[{i}] is not on the curve")
    return pm, qm


def pairing_check(g1, g2) -> bool:
    """Π e(g1[i], g2[i]) == 1 in GT, one final exponentiation for the whole product.

    g1: (k, 2, 4), g2: (k, 2, 2, 4) canonical affine; a pair with an infinite point
    contributes 1.  Points must lie on their curves (ValueError otherwise); G2 points
    must also lie in the order-r subgroup for the answer to mean anything, which is
    the caller's to check (g2_in_subgroup).
    """
    pm, qm = _pairs(g1, g2)
    return bool(_check_kernel(pm, qm))


def pairing_gt(g1, g2, hard: str = "plain") -> np.ndarray:
    """The product Π e(g1[i], g2[i]) itself: (2, 3, 2, 4) canonical, ``[j, i, c]`` the
    u^c part of the coefficient of v^i·w^j.  ``hard="plain"`` raises to (q¹²−1)/r, as
    py_ecc does; ``"chain"`` to 2x(6x²+3x+1) times that, as pairing_check and snarkjs
    (vk_alphabeta_12) do."""
    if hard not in ("plain", "chain"):
        raise ValueError(f"hard={hard!r}: use 'plain' or 'chain'")
    pm, qm = _pairs(g1, g2)
    return _gt_kernel(pm, qm, hard == "chain")


# ---------------------------------------------------------------- group helpers


@njit(cache=True, nogil=True)
def _subgroup_kernel(g2):
    k = g2.shape[0]
    out = np.empty(k, np.bool_)
    for i in range(k):
        x0, x1 = load(g2, i, 0)
        y0, y1 = load(g2, i, 1)
        q = ((fq_to_mont(x0), fq_to_mont(x1)), (fq_to_mont(y0), fq_to_mont(y1)))
        acc = xyzz_inf(q[0])
        for b in range(R_BITS.shape[0] - 1, -1, -1):
            acc = xyzz_double(acc)
            if R_BITS[b]:
                acc = xyzz_add_affine(acc, q)
        out[i] = xyzz_is_inf(acc)
    return out


def g2_in_subgroup(g2) -> np.ndarray:
    """[r]Q == O for each point of a canonical (k, 2, 2, 4) array, by double-and-add on
    r itself (no endomorphism shortcut: the plain definition; its time: bench/RESULTS.md,
    "Measurements moved from code comments").
    Infinity is in the subgroup.  Points are assumed on the curve."""
    g2 = np.ascontiguousarray(g2, dtype=np.uint64)
    if g2.ndim != 4 or g2.shape[1:] != (2, 2, 4):
        raise ValueError(f"g2: shape {g2.shape}, expected (k, 2, 2, 4)")
    check_below(g2.reshape(-1, 4), "q", "g2")
    return _subgroup_kernel(g2)


@njit(cache=True, nogil=True)
def _lincomb_kernel(bases, scalars):
    zero = mont.ZERO
    total = xyzz_inf(zero)
    for i in range(bases.shape[0]):
        p = (_fq_at(bases, i, 0), _fq_at(bases, i, 1))
        acc = xyzz_inf(zero)
        for b in range(255, -1, -1):
            acc = xyzz_double(acc)
            if (scalars[i, b >> 6] >> np.uint64(b & 63)) & np.uint64(1):
                acc = xyzz_add_affine(acc, p)
        total = xyzz_add(total, acc)
    x, y = xyzz_to_affine(total)
    x, y = fq_from_mont(x), fq_from_mont(y)
    out = np.empty((2, 4), np.uint64)
    for limb in range(4):
        out[0, limb] = x[limb]
        out[1, limb] = y[limb]
    return out


def g1_lincomb(bases, scalars) -> np.ndarray:
    """Σ scalars[i]·bases[i] in G1 by plain double-and-add (for a handful of terms, where
    an MSM's setup costs more than it saves): (n, 2, 4) canonical affine points on the
    curve and (n, 4) scalars (any 256-bit values) -> (2, 4) canonical affine."""
    bases = np.ascontiguousarray(bases, dtype=np.uint64)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if bases.ndim != 3 or bases.shape[1:] != (2, 4):
        raise ValueError(f"bases: shape {bases.shape}, expected (n, 2, 4)")
    if scalars.ndim != 2 or scalars.shape != (bases.shape[0], 4):
        raise ValueError(f"scalars: shape {scalars.shape}, expected ({bases.shape[0]}, 4)")
    check_below(bases.reshape(-1, 4), "q", "bases")
    return _lincomb_kernel(bases, scalars)
