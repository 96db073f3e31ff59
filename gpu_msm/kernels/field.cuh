// BN254 prime fields on 8 x 32-bit limbs, Montgomery form (R = 2^256), values always
// fully reduced (< p).  Fq and Fr share one template; Fq2 = Fq[u]/(u^2 + 1).
//
// Multiplication is plain CIOS with PTX carry chains (mad.lo.cc / madc.hi.cc): a lo pass
// and a hi pass per limb of b, then one reduction step.  With p < 2^254 the running
// value stays below 2^288, so nine limbs suffice and no carry leaves the top one.
#pragma once
#include "bn254_constants.cuh"

typedef unsigned int u32;
typedef unsigned long long u64;

// ---------------------------------------------------------------- PTX carry primitives
// Separate asm statements chained through the carry flag, as sppark does; volatile keeps
// their order, and nothing between two links of a chain touches the flag.
__device__ __forceinline__ u32 add_cc(u32 a, u32 b) { u32 r; asm volatile("add.cc.u32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b)); return r; }
__device__ __forceinline__ u32 addc_cc(u32 a, u32 b) { u32 r; asm volatile("addc.cc.u32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b)); return r; }
__device__ __forceinline__ u32 addc(u32 a, u32 b) { u32 r; asm volatile("addc.u32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b)); return r; }
__device__ __forceinline__ u32 sub_cc(u32 a, u32 b) { u32 r; asm volatile("sub.cc.u32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b)); return r; }
__device__ __forceinline__ u32 subc_cc(u32 a, u32 b) { u32 r; asm volatile("subc.cc.u32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b)); return r; }
__device__ __forceinline__ u32 subc(u32 a, u32 b) { u32 r; asm volatile("subc.u32 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b)); return r; }
__device__ __forceinline__ u32 mad_lo_cc(u32 a, u32 b, u32 c) { u32 r; asm volatile("mad.lo.cc.u32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c)); return r; }
__device__ __forceinline__ u32 madc_lo_cc(u32 a, u32 b, u32 c) { u32 r; asm volatile("madc.lo.cc.u32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c)); return r; }
__device__ __forceinline__ u32 mad_hi_cc(u32 a, u32 b, u32 c) { u32 r; asm volatile("mad.hi.cc.u32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c)); return r; }
__device__ __forceinline__ u32 madc_hi_cc(u32 a, u32 b, u32 c) { u32 r; asm volatile("madc.hi.cc.u32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c)); return r; }
__device__ __forceinline__ u32 madc_hi(u32 a, u32 b, u32 c) { u32 r; asm volatile("madc.hi.u32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c)); return r; }

// ---------------------------------------------------------------- field parameters
struct FqP {
    static __device__ __forceinline__ u32 mod(int i) { return FQ_MOD[i]; }
    static __device__ __forceinline__ u32 r2(int i) { return FQ_R2[i]; }
    static __device__ __forceinline__ u32 one(int i) { return FQ_ONE[i]; }
    static __device__ __forceinline__ u32 mod_m2(int i) { return FQ_MOD_M2[i]; }
    static __device__ __forceinline__ u32 inv32() { return FQ_INV32; }
};
struct FrP {
    static __device__ __forceinline__ u32 mod(int i) { return FR_MOD[i]; }
    static __device__ __forceinline__ u32 r2(int i) { return FR_R2[i]; }
    static __device__ __forceinline__ u32 one(int i) { return FR_ONE[i]; }
    static __device__ __forceinline__ u32 mod_m2(int i) { return FR_MOD_M2[i]; }
    static __device__ __forceinline__ u32 inv32() { return FR_INV32; }
};

template <class P>
struct __align__(16) Fp {
    u32 v[8];
};
typedef Fp<FqP> Fq;
typedef Fp<FrP> Fr;

template <class P> __device__ __forceinline__ Fp<P> fp_zero() {
    Fp<P> r;
#pragma unroll
    for (int i = 0; i < 8; i++) r.v[i] = 0;
    return r;
}
template <class P> __device__ __forceinline__ Fp<P> fp_one() {
    Fp<P> r;
#pragma unroll
    for (int i = 0; i < 8; i++) r.v[i] = P::one(i);
    return r;
}
template <class P> __device__ __forceinline__ bool is_zero(const Fp<P>& a) {
    u32 acc = a.v[0];
#pragma unroll
    for (int i = 1; i < 8; i++) acc |= a.v[i];
    return acc == 0;
}
template <class P> __device__ __forceinline__ bool eq(const Fp<P>& a, const Fp<P>& b) {
    u32 acc = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) acc |= a.v[i] ^ b.v[i];
    return acc == 0;
}

// t (< 2p, 8 limbs) -> t mod p
template <class P> __device__ __forceinline__ Fp<P> reduce_once(const u32 t[8]) {
    u32 u[8];
    u[0] = sub_cc(t[0], P::mod(0));
#pragma unroll
    for (int i = 1; i < 8; i++) u[i] = subc_cc(t[i], P::mod(i));
    u32 borrow = subc(0u, 0u);  // 0xffffffff when t < p
    Fp<P> r;
#pragma unroll
    for (int i = 0; i < 8; i++) r.v[i] = borrow ? t[i] : u[i];
    return r;
}

template <class P> __device__ __forceinline__ Fp<P> add(const Fp<P>& a, const Fp<P>& b) {
    u32 t[8];
    t[0] = add_cc(a.v[0], b.v[0]);
#pragma unroll
    for (int i = 1; i < 7; i++) t[i] = addc_cc(a.v[i], b.v[i]);
    t[7] = addc(a.v[7], b.v[7]);  // a + b < 2p < 2^255: no carry out
    return reduce_once<P>(t);
}
template <class P> __device__ __forceinline__ Fp<P> sub(const Fp<P>& a, const Fp<P>& b) {
    u32 t[8];
    t[0] = sub_cc(a.v[0], b.v[0]);
#pragma unroll
    for (int i = 1; i < 8; i++) t[i] = subc_cc(a.v[i], b.v[i]);
    u32 mask = subc(0u, 0u);  // 0xffffffff when a < b: add p back
    Fp<P> r;
    r.v[0] = add_cc(t[0], P::mod(0) & mask);
#pragma unroll
    for (int i = 1; i < 7; i++) r.v[i] = addc_cc(t[i], P::mod(i) & mask);
    r.v[7] = addc(t[7], P::mod(7) & mask);
    return r;
}
template <class P> __device__ __forceinline__ Fp<P> dbl(const Fp<P>& a) { return add(a, a); }
template <class P> __device__ __forceinline__ Fp<P> neg(const Fp<P>& a) { return sub(fp_zero<P>(), a); }

template <class P> __device__ __forceinline__ Fp<P> mul(const Fp<P>& a, const Fp<P>& b) {
    u32 t[9];
#pragma unroll
    for (int j = 0; j < 9; j++) t[j] = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const u32 bi = b.v[i];
        // t += a * b_i   (t8 is 0 here)
        t[0] = mad_lo_cc(a.v[0], bi, t[0]);
#pragma unroll
        for (int j = 1; j < 8; j++) t[j] = madc_lo_cc(a.v[j], bi, t[j]);
        t[8] = addc(0u, 0u);
        t[1] = mad_hi_cc(a.v[0], bi, t[1]);
#pragma unroll
        for (int j = 1; j < 7; j++) t[j + 1] = madc_hi_cc(a.v[j], bi, t[j + 1]);
        t[8] = madc_hi(a.v[7], bi, t[8]);
        // t += m * p, m chosen so that the low limb vanishes; then shift one limb
        const u32 m = t[0] * P::inv32();
        t[0] = mad_lo_cc(m, P::mod(0), t[0]);
#pragma unroll
        for (int j = 1; j < 8; j++) t[j] = madc_lo_cc(m, P::mod(j), t[j]);
        t[8] = addc(t[8], 0u);
        t[1] = mad_hi_cc(m, P::mod(0), t[1]);
#pragma unroll
        for (int j = 1; j < 7; j++) t[j + 1] = madc_hi_cc(m, P::mod(j), t[j + 1]);
        t[8] = madc_hi(m, P::mod(7), t[8]);
#pragma unroll
        for (int j = 0; j < 8; j++) t[j] = t[j + 1];
        t[8] = 0;
    }
    return reduce_once<P>(t);
}
template <class P> __device__ __forceinline__ Fp<P> sqr(const Fp<P>& a) { return mul(a, a); }

template <class P> __device__ __forceinline__ Fp<P> to_mont(const Fp<P>& a) {
    Fp<P> r2;
#pragma unroll
    for (int i = 0; i < 8; i++) r2.v[i] = P::r2(i);
    return mul(a, r2);
}
template <class P> __device__ __forceinline__ Fp<P> from_mont(const Fp<P>& a) {
    Fp<P> one = fp_zero<P>();
    one.v[0] = 1;
    return mul(a, one);
}

// a^(p-2); a = 0 gives 0.  Not on any hot path (bench base generation, NTT constants).
template <class P> __device__ __noinline__ Fp<P> inv(const Fp<P>& a) {
    Fp<P> r = fp_one<P>();
    for (int i = 7; i >= 0; i--) {
        const u32 e = P::mod_m2(i);
        for (int b = 31; b >= 0; b--) {
            r = sqr(r);
            if ((e >> b) & 1) r = mul(r, a);
        }
    }
    return r;
}

// ---------------------------------------------------------------- Fq2 = c0 + c1 u, u^2 = -1
struct __align__(16) Fq2 {
    Fq c0, c1;
};
__device__ __forceinline__ bool is_zero(const Fq2& a) { return is_zero(a.c0) && is_zero(a.c1); }
__device__ __forceinline__ bool eq(const Fq2& a, const Fq2& b) { return eq(a.c0, b.c0) && eq(a.c1, b.c1); }
__device__ __forceinline__ Fq2 add(const Fq2& a, const Fq2& b) { return {add(a.c0, b.c0), add(a.c1, b.c1)}; }
__device__ __forceinline__ Fq2 sub(const Fq2& a, const Fq2& b) { return {sub(a.c0, b.c0), sub(a.c1, b.c1)}; }
__device__ __forceinline__ Fq2 dbl(const Fq2& a) { return {dbl(a.c0), dbl(a.c1)}; }
__device__ __forceinline__ Fq2 neg(const Fq2& a) { return {neg(a.c0), neg(a.c1)}; }
__device__ __forceinline__ Fq2 mul(const Fq2& a, const Fq2& b) {
    const Fq t0 = mul(a.c0, b.c0);
    const Fq t1 = mul(a.c1, b.c1);
    const Fq t2 = mul(add(a.c0, a.c1), add(b.c0, b.c1));
    return {sub(t0, t1), sub(sub(t2, t0), t1)};
}
__device__ __forceinline__ Fq2 sqr(const Fq2& a) {
    const Fq t = mul(a.c0, a.c1);
    return {mul(add(a.c0, a.c1), sub(a.c0, a.c1)), dbl(t)};
}
__device__ __forceinline__ Fq2 inv(const Fq2& a) {
    const Fq t = inv(add(sqr(a.c0), sqr(a.c1)));
    return {mul(a.c0, t), neg(mul(a.c1, t))};
}
