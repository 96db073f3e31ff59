// Short Weierstrass curves y^2 = x^3 + b (a = 0) over F (Fq for G1, Fq2 for G2).
// Affine inputs, XYZZ accumulators (x = X/ZZ, y = Y/ZZZ, ZZ^3 = ZZZ^2); infinity is
// ZZ = ZZZ = 0 in XYZZ and (0, 0) in affine (snarkjs's convention; not on the curve
// since b != 0).  Formulas from the Explicit-Formulas Database, "xyzz" shortw a = 0:
// madd-2008-s, mdbl-2008-s-1, add-2008-s, dbl-2008-s-1.  Every special case (P = Q,
// P = -Q, infinity on either side) is handled: buckets of equal points are allowed.
#pragma once
#include "field.cuh"

template <class F> struct __align__(16) Affine {
    F x, y;
};
template <class F> struct __align__(16) Xyzz {
    F X, Y, ZZ, ZZZ;
};

template <class F> __device__ __forceinline__ F f_zero();
template <> __device__ __forceinline__ Fq f_zero<Fq>() { return fp_zero<FqP>(); }
template <> __device__ __forceinline__ Fq2 f_zero<Fq2>() { return {fp_zero<FqP>(), fp_zero<FqP>()}; }
template <class F> __device__ __forceinline__ F f_one();
template <> __device__ __forceinline__ Fq f_one<Fq>() { return fp_one<FqP>(); }
template <> __device__ __forceinline__ Fq2 f_one<Fq2>() { return {fp_one<FqP>(), fp_zero<FqP>()}; }

template <class F> __device__ __forceinline__ Xyzz<F> xyzz_inf() {
    const F z = f_zero<F>();
    return {z, z, z, z};
}
template <class F> __device__ __forceinline__ bool is_inf(const Xyzz<F>& p) { return is_zero(p.ZZ); }
template <class F> __device__ __forceinline__ bool is_inf(const Affine<F>& p) { return is_zero(p.x) && is_zero(p.y); }

// 2*(x, y), affine input (mdbl-2008-s-1); y != 0 on a prime-order curve.
template <class F> __device__ __noinline__ Xyzz<F> xyzz_dbl_affine(const Affine<F>& p) {
    const F U = dbl(p.y);
    const F V = sqr(U);
    const F W = mul(U, V);
    const F S = mul(p.x, V);
    const F xx = sqr(p.x);
    const F M = add(dbl(xx), xx);
    const F X3 = sub(sqr(M), dbl(S));
    const F Y3 = sub(mul(M, sub(S, X3)), mul(W, p.y));
    return {X3, Y3, V, W};
}

// 2*P (dbl-2008-s-1)
template <class F> __device__ __forceinline__ Xyzz<F> xyzz_dbl(const Xyzz<F>& p) {
    if (is_inf(p)) return p;
    const F U = dbl(p.Y);
    const F V = sqr(U);
    const F W = mul(U, V);
    const F S = mul(p.X, V);
    const F xx = sqr(p.X);
    const F M = add(dbl(xx), xx);
    const F X3 = sub(sqr(M), dbl(S));
    const F Y3 = sub(mul(M, sub(S, X3)), mul(W, p.Y));
    return {X3, Y3, mul(V, p.ZZ), mul(W, p.ZZZ)};
}

// the rare doubling inside an addition, kept out of line to keep the adds small
template <class F> __device__ __noinline__ Xyzz<F> xyzz_dbl_rare(const Xyzz<F>& p) { return xyzz_dbl(p); }

// P + Q with Q affine and not infinity (madd-2008-s)
template <class F> __device__ __forceinline__ Xyzz<F> xyzz_add_affine(const Xyzz<F>& p, const Affine<F>& q) {
    if (is_inf(p)) {
        const F one = f_one<F>();
        return {q.x, q.y, one, one};
    }
    const F P = sub(mul(q.x, p.ZZ), p.X);
    const F R = sub(mul(q.y, p.ZZZ), p.Y);
    if (is_zero(P)) {
        if (is_zero(R)) return xyzz_dbl_affine(q);
        return xyzz_inf<F>();
    }
    const F PP = sqr(P);
    const F PPP = mul(P, PP);
    const F Q = mul(p.X, PP);
    const F X3 = sub(sub(sqr(R), PPP), dbl(Q));
    const F Y3 = sub(mul(R, sub(Q, X3)), mul(p.Y, PPP));
    return {X3, Y3, mul(p.ZZ, PP), mul(p.ZZZ, PPP)};
}

// P + Q, both XYZZ (add-2008-s)
template <class F> __device__ __forceinline__ Xyzz<F> xyzz_add(const Xyzz<F>& p, const Xyzz<F>& q) {
    if (is_inf(p)) return q;
    if (is_inf(q)) return p;
    const F U1 = mul(p.X, q.ZZ);
    const F U2 = mul(q.X, p.ZZ);
    const F S1 = mul(p.Y, q.ZZZ);
    const F S2 = mul(q.Y, p.ZZZ);
    const F P = sub(U2, U1);
    const F R = sub(S2, S1);
    if (is_zero(P)) {
        if (is_zero(R)) return xyzz_dbl_rare(p);
        return xyzz_inf<F>();
    }
    const F PP = sqr(P);
    const F PPP = mul(P, PP);
    const F Q = mul(U1, PP);
    const F X3 = sub(sub(sqr(R), PPP), dbl(Q));
    const F Y3 = sub(mul(R, sub(Q, X3)), mul(S1, PPP));
    return {X3, Y3, mul(mul(p.ZZ, q.ZZ), PP), mul(mul(p.ZZZ, q.ZZZ), PPP)};
}

// out-of-line addition for the cold paths (fixups, reductions, small multiples): keeps
// compile time and code size down where throughput does not matter
template <class F> __device__ __noinline__ Xyzz<F> xyzz_add_ool(const Xyzz<F>& p, const Xyzz<F>& q) { return xyzz_add(p, q); }
template <class F> __device__ __noinline__ Xyzz<F> xyzz_dbl_ool(const Xyzz<F>& p) { return xyzz_dbl(p); }

// k*P for a small k > 0 (< 2^32), double-and-add from the top set bit
template <class F> __device__ __forceinline__ Xyzz<F> xyzz_mul_small(const Xyzz<F>& p, u32 k) {
    Xyzz<F> r = p;
    for (int b = 30 - __clz(k); b >= 0; b--) {
        r = xyzz_dbl(r);
        if ((k >> b) & 1) r = xyzz_add(r, p);
    }
    return r;
}

// x = X / ZZ, y = Y / ZZZ; infinity -> (0, 0).  One field inversion: off the hot path.
template <class F> __device__ __forceinline__ Affine<F> xyzz_to_affine(const Xyzz<F>& p) {
    if (is_inf(p)) return {f_zero<F>(), f_zero<F>()};
    const F u = inv(mul(p.ZZ, p.ZZZ));  // 1 / (ZZ ZZZ)
    return {mul(p.X, mul(u, p.ZZZ)), mul(p.Y, mul(u, p.ZZ))};
}

// warp shuffle of a whole XYZZ point, word by word
template <class F> __device__ __forceinline__ Xyzz<F> shfl_down(const Xyzz<F>& p, int delta) {
    Xyzz<F> r;
    const u32* s = reinterpret_cast<const u32*>(&p);
    u32* d = reinterpret_cast<u32*>(&r);
#pragma unroll
    for (int i = 0; i < (int)(sizeof(Xyzz<F>) / 4); i++) d[i] = __shfl_down_sync(0xffffffffu, s[i], delta);
    return r;
}

// The curve a kernel file is compiled for (CURVE_G2 = 0: G1 over Fq, 1: G2 over Fq2,
// prepended by gpu_msm/cuda) and the names its kernels use for it.
#ifndef CURVE_G2
#define CURVE_G2 0
#endif
#if CURVE_G2
typedef Fq2 F;
#else
typedef Fq F;
#endif
typedef Affine<F> Pt;
typedef Xyzz<F> Acc;
