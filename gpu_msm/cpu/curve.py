"""Short Weierstrass arithmetic (a = 0) generic over Fq and Fq2: one code for G1 and G2.

Affine points are ``(x, y)`` with (0, 0) for infinity, as in snarkjs (no point of either
curve has x = y = 0).  Extended Jacobian "XYZZ" points ``(X, Y, ZZ, ZZZ)`` stand for
(X/ZZ, Y/ZZZ) with ZZ³ = ZZZ²; ZZ = 0 is infinity.  XYZZ over Jacobian because here a
squaring costs a full product: mixed add 8M+2S against 7M+4S, add 12M+2S against 11M+5S
(formulas: Bernstein–Lange EFD, shortw/xyzz: madd-2008-s, add-2008-s, dbl-2008-s-1).
"""

from __future__ import annotations

from numba import njit

from gpu_msm.cpu.fields import f_add, f_eq, f_inv, f_is_zero, f_mul, f_one, f_sqr, f_sub, f_zero


@njit(cache=True)
def affine_is_inf(p):
    return f_is_zero(p[0]) and f_is_zero(p[1])


@njit(cache=True)
def affine_neg(p):
    return (p[0], f_sub(f_zero(p[1]), p[1]))


@njit(cache=True)
def xyzz_inf(like):
    z = f_zero(like)
    return (z, z, z, z)


@njit(cache=True)
def xyzz_is_inf(p):
    return f_is_zero(p[2])


@njit(cache=True)
def xyzz_from_affine(p):
    if affine_is_inf(p):
        return xyzz_inf(p[0])
    one = f_one(p[0])
    return (p[0], p[1], one, one)


@njit(cache=True)
def xyzz_double_affine(p):
    x, y = p
    u = f_add(y, y)
    v = f_sqr(u)
    w = f_mul(u, v)
    s = f_mul(x, v)
    xx = f_sqr(x)
    m = f_add(f_add(xx, xx), xx)
    x3 = f_sub(f_sqr(m), f_add(s, s))
    y3 = f_sub(f_mul(m, f_sub(s, x3)), f_mul(w, y))
    return (x3, y3, v, w)


@njit(cache=True)
def xyzz_double(p):
    X, Y, ZZ, ZZZ = p
    if f_is_zero(ZZ):
        return p
    u = f_add(Y, Y)
    v = f_sqr(u)
    w = f_mul(u, v)
    s = f_mul(X, v)
    xx = f_sqr(X)
    m = f_add(f_add(xx, xx), xx)
    x3 = f_sub(f_sqr(m), f_add(s, s))
    y3 = f_sub(f_mul(m, f_sub(s, x3)), f_mul(w, Y))
    return (x3, y3, f_mul(v, ZZ), f_mul(w, ZZZ))


@njit(cache=True)
def xyzz_add_affine(p, q):
    """p (XYZZ) + q (affine, may be infinity)."""
    if affine_is_inf(q):
        return p
    X1, Y1, ZZ1, ZZZ1 = p
    if f_is_zero(ZZ1):
        return xyzz_from_affine(q)
    x2, y2 = q
    P = f_sub(f_mul(x2, ZZ1), X1)
    R = f_sub(f_mul(y2, ZZZ1), Y1)
    if f_is_zero(P):
        if f_is_zero(R):
            return xyzz_double_affine(q)
        return xyzz_inf(x2)
    PP = f_sqr(P)
    PPP = f_mul(P, PP)
    Q = f_mul(X1, PP)
    x3 = f_sub(f_sub(f_sqr(R), PPP), f_add(Q, Q))
    y3 = f_sub(f_mul(R, f_sub(Q, x3)), f_mul(Y1, PPP))
    return (x3, y3, f_mul(ZZ1, PP), f_mul(ZZZ1, PPP))


@njit(cache=True)
def xyzz_add(p, q):
    X1, Y1, ZZ1, ZZZ1 = p
    X2, Y2, ZZ2, ZZZ2 = q
    if f_is_zero(ZZ1):
        return q
    if f_is_zero(ZZ2):
        return p
    U1 = f_mul(X1, ZZ2)
    S1 = f_mul(Y1, ZZZ2)
    P = f_sub(f_mul(X2, ZZ1), U1)
    R = f_sub(f_mul(Y2, ZZZ1), S1)
    if f_is_zero(P):
        if f_is_zero(R):
            return xyzz_double(p)
        return xyzz_inf(X1)
    PP = f_sqr(P)
    PPP = f_mul(P, PP)
    Q = f_mul(U1, PP)
    x3 = f_sub(f_sub(f_sqr(R), PPP), f_add(Q, Q))
    y3 = f_sub(f_mul(R, f_sub(Q, x3)), f_mul(S1, PPP))
    return (x3, y3, f_mul(f_mul(ZZ1, ZZ2), PP), f_mul(f_mul(ZZZ1, ZZZ2), PPP))


@njit(cache=True)
def xyzz_to_affine(p):
    X, Y, ZZ, ZZZ = p
    if f_is_zero(ZZ):
        z = f_zero(X)
        return (z, z)
    t = f_inv(f_mul(ZZ, ZZZ))  # one inversion for both: 1/ZZ = ZZZ·t, 1/ZZZ = ZZ·t
    return (f_mul(X, f_mul(ZZZ, t)), f_mul(Y, f_mul(ZZ, t)))


@njit(cache=True)
def affine_add_parts(p, q):
    """(numerator, denominator, kind) of the slope of p + q for a batched inversion.

    kind 0: chord, 1: tangent (p = q), 2: result is q (p infinite), 3: result is p
    (q infinite), 4: result is infinity (q = −p, or p = q of order 2).  Kinds 2–4 use
    denominator 1 so that a zero never enters the batch product.
    """
    one = f_one(p[0])
    if affine_is_inf(p):
        return one, one, 2
    if affine_is_inf(q):
        return one, one, 3
    if f_eq(p[0], q[0]):
        if f_eq(p[1], q[1]) and not f_is_zero(p[1]):
            xx = f_sqr(p[0])
            return f_add(f_add(xx, xx), xx), f_add(p[1], p[1]), 1
        return one, one, 4
    return f_sub(q[1], p[1]), f_sub(q[0], p[0]), 0


@njit(cache=True)
def affine_add_finish(p, q, lam, kind):
    """p + q given its slope λ and the kind from affine_add_parts."""
    if kind == 2:
        return q
    if kind == 3:
        return p
    if kind == 4:
        z = f_zero(p[0])
        return (z, z)
    x3 = f_sub(f_sub(f_sqr(lam), p[0]), q[0])
    return (x3, f_sub(f_mul(lam, f_sub(p[0], x3)), p[1]))
