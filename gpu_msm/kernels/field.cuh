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

template <class P> __device__ __forceinline__ Fp<P> mul_ptx(const Fp<P>& a, const Fp<P>& b) {
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

// The same product with 64-bit partial products (IMAD.WIDE.U32: lo and hi in one
// instruction) and the carries as the top halves: no carry flags.  CIOS rows as above.
template <class P> __device__ __forceinline__ Fp<P> mul_wide(const Fp<P>& a, const Fp<P>& b) {
    u32 t[10];
#pragma unroll
    for (int j = 0; j < 10; j++) t[j] = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const u32 bi = b.v[i];
        u32 c = 0;
#pragma unroll
        for (int j = 0; j < 8; j++) {  // a_j b_i + t_j + c < 2^64
            const u64 s = (u64)a.v[j] * bi + t[j] + c;
            t[j] = (u32)s;
            c = (u32)(s >> 32);
        }
        u64 s = (u64)t[8] + c;
        t[8] = (u32)s;
        t[9] = (u32)(s >> 32);
        const u32 m = t[0] * P::inv32();
        s = (u64)m * P::mod(0) + t[0];
        c = (u32)(s >> 32);
#pragma unroll
        for (int j = 1; j < 8; j++) {
            s = (u64)m * P::mod(j) + t[j] + c;
            t[j - 1] = (u32)s;
            c = (u32)(s >> 32);
        }
        s = (u64)t[8] + c;
        t[7] = (u32)s;
        t[8] = t[9] + (u32)(s >> 32);
    }
    return reduce_once<P>(t);
}

// a^2: the 28 products a_i a_j (i < j) once, doubled, plus the 8 squares, then the
// Montgomery reduction (SOS): 100 partial products instead of 128 for mul(a, a).
template <class P> __device__ __forceinline__ Fp<P> sqr_wide(const Fp<P>& a) {
    u32 t[16];
#pragma unroll
    for (int j = 0; j < 16; j++) t[j] = 0;
#pragma unroll
    for (int i = 0; i < 7; i++) {
        u32 c = 0;
#pragma unroll
        for (int j = i + 1; j < 8; j++) {
            const u64 s = (u64)a.v[i] * a.v[j] + t[i + j] + c;
            t[i + j] = (u32)s;
            c = (u32)(s >> 32);
        }
        t[i + 8] = c;
    }
    t[15] = t[14] >> 31;  // the off-diagonal sum is < a^2 / 2 < 2^511
#pragma unroll
    for (int j = 14; j > 0; j--) t[j] = (t[j] << 1) | (t[j - 1] >> 31);
    t[0] <<= 1;
    u32 c = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        u64 s = (u64)a.v[i] * a.v[i] + t[2 * i] + c;
        t[2 * i] = (u32)s;
        s = (s >> 32) + t[2 * i + 1];
        t[2 * i + 1] = (u32)s;
        c = (u32)(s >> 32);
    }
    u32 c2 = 0;  // carry into t[i + 8] from the previous row
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const u32 m = t[i] * P::inv32();
        u32 cc = 0;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const u64 s = (u64)m * P::mod(j) + t[i + j] + cc;
            t[i + j] = (u32)s;
            cc = (u32)(s >> 32);
        }
        const u64 s = (u64)t[i + 8] + cc + c2;
        t[i + 8] = (u32)s;
        c2 = (u32)(s >> 32);
    }
    return reduce_once<P>(t + 8);
}

#ifndef FIELD_MUL
#define FIELD_MUL 0
#endif
// FIELD_MUL selects mul/sqr for every field op: 0 = PTX carry chains for both, 1 = 64-bit
// products for both, 2 = PTX multiply with the 64-bit squaring.
template <class P> __device__ __forceinline__ Fp<P> mul(const Fp<P>& a, const Fp<P>& b) {
#if FIELD_MUL == 1
    return mul_wide(a, b);
#else
    return mul_ptx(a, b);
#endif
}
template <class P> __device__ __forceinline__ Fp<P> sqr(const Fp<P>& a) {
#if FIELD_MUL
    return sqr_wide(a);
#else
    return mul_ptx(a, a);
#endif
}

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
#ifndef FQ2_LAZY
#define FQ2_LAZY 0
#endif
#if FQ2_LAZY
#include "fq2_lazy.cuh"
#endif
__device__ __forceinline__ Fq2 mul(const Fq2& a, const Fq2& b) {
#if FQ2_LAZY
    Fq2 r;
    fq2l_mul(a.c0.v, a.c1.v, b.c0.v, b.c1.v, r.c0.v, r.c1.v);
    return r;
#endif
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
