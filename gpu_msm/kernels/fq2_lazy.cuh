// Fq2 multiplication with two Montgomery reductions instead of three (FQ2_LAZY = 1):
// Karatsuba on unreduced 512-bit products, REDC(x) + REDC(y) = REDC(x + y):
//     c0 = REDC(a0 b0 - a1 b1 (+ q 2^256 when negative)),
//     c1 = REDC((a0 + a1)(b0 + b1) - a0 b0 - a1 b1).
// Inputs fully reduced (< q), so a0 + a1 < 2q < 2^255 and every REDC input is < q 2^256
// (4q < 2^256): its output is < 2q, one conditional subtraction makes it canonical.
// 192 + 2 x 72 partial products instead of 3 x 136.  Plain C on u32 / u64 (IMAD.WIDE, as
// mul_wide), so the host test in tests/test_gpu_msm_cuda.py compiles this very file with a
// C++ compiler: FQ_MOD and FQ_INV32 come from the includer, FQ2L_FN qualifies functions.
#pragma once
#ifndef FQ2L_FN
#define FQ2L_FN __device__ __forceinline__
#endif

// t[0..15] = a * b
FQ2L_FN void fq2l_mul512(const u32 a[8], const u32 b[8], u32 t[16]) {
#pragma unroll
    for (int j = 0; j < 16; j++) t[j] = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        u32 c = 0;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const u64 s = (u64)a[j] * b[i] + t[i + j] + c;
            t[i + j] = (u32)s;
            c = (u32)(s >> 32);
        }
        t[i + 8] = c;
    }
}

// r = t / 2^256 mod q for t < q 2^256 (t is clobbered), canonical
FQ2L_FN void fq2l_redc(u32 t[16], u32 r[8]) {
    u32 c2 = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const u32 m = t[i] * FQ_INV32;
        u32 cc = 0;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const u64 s = (u64)m * FQ_MOD[j] + t[i + j] + cc;
            t[i + j] = (u32)s;
            cc = (u32)(s >> 32);
        }
        const u64 s = (u64)t[i + 8] + cc + c2;
        t[i + 8] = (u32)s;
        c2 = (u32)(s >> 32);
    }
    // t[8..15] < 2q: subtract q unless that borrows
    u32 d[8];
    u32 borrow = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const u64 s = (u64)t[8 + j] - FQ_MOD[j] - borrow;
        d[j] = (u32)s;
        borrow = (u32)(s >> 63);
    }
#pragma unroll
    for (int j = 0; j < 8; j++) r[j] = borrow ? t[8 + j] : d[j];
}

// (a0 + a1 u)(b0 + b1 u), u^2 = -1; all limbs canonical
FQ2L_FN void fq2l_mul(const u32 a0[8], const u32 a1[8], const u32 b0[8], const u32 b1[8], u32 r0[8], u32 r1[8]) {
    u32 sa[8], sb[8];
    u32 ca = 0, cb = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {  // a0 + a1, b0 + b1 < 2q < 2^255: no carry out
        const u64 x = (u64)a0[j] + a1[j] + ca;
        sa[j] = (u32)x;
        ca = (u32)(x >> 32);
        const u64 y = (u64)b0[j] + b1[j] + cb;
        sb[j] = (u32)y;
        cb = (u32)(y >> 32);
    }
    u32 t0[16], t1[16], t2[16];
    fq2l_mul512(a0, b0, t0);
    fq2l_mul512(a1, b1, t1);
    // t2 = (a0 + a1)(b0 + b1) - t0 - t1 = a0 b1 + a1 b0 >= 0;  t0 = t0 - t1 (mod q 2^256)
    fq2l_mul512(sa, sb, t2);
    u32 br2 = 0, br0 = 0;
#pragma unroll
    for (int j = 0; j < 16; j++) {
        const u64 x = (u64)t2[j] - t0[j] - br2;
        const u32 x1 = (u32)x;
        const u32 bx = (u32)(x >> 63);
        const u64 y = (u64)x1 - t1[j];
        t2[j] = (u32)y;
        br2 = bx + (u32)(y >> 63);
        const u64 z = (u64)t0[j] - t1[j] - br0;
        t0[j] = (u32)z;
        br0 = (u32)(z >> 63);
    }
    // a0 b0 < a1 b1: the 512-bit difference wrapped; adding q 2^256 brings it into
    // (q 2^256 - q^2, q 2^256) (mod 2^512), the same residue times 2^-256
    const u32 mask = 0u - br0;
    u32 c = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const u64 x = (u64)t0[8 + j] + (FQ_MOD[j] & mask) + c;
        t0[8 + j] = (u32)x;
        c = (u32)(x >> 32);
    }
    fq2l_redc(t0, r0);
    fq2l_redc(t2, r1);
}
