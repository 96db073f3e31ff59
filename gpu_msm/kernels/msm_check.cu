// Check and benchmark helpers for the MSM (not used by the engine): base generation with
// known discrete logs, and element-wise field / curve operations for unit checks.
// Compiled like msm.cu, once per curve (CURVE_G2 = 0 or 1).
#include "curve.cuh"


// out[t*m + j] = (k_t + j*d) * G as affine Montgomery points, where k_t = start_scalars[t]
// (canonical, 8 limbs) and step = d * G.  Lets the checks know every base's discrete log.
extern "C" __global__ void bench_gen_bases(const Pt* __restrict__ gen, const u32* __restrict__ start_scalars,
                                           const Pt* __restrict__ step, Pt* out, u32 n, u32 m) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    const u64 lo = (u64)t * m;
    if (lo >= n) return;
    const Pt G = *gen, D = *step;
    Acc S = xyzz_inf<F>();
    for (int b = 255; b >= 0; b--) {
        S = xyzz_dbl_ool(S);
        if ((start_scalars[(u64)t * 8 + (b >> 5)] >> (b & 31)) & 1) S = xyzz_add_affine(S, G);
    }
    for (u32 j = 0; j < m && lo + j < n; j++) {
        out[lo + j] = xyzz_to_affine(S);
        S = xyzz_add_affine(S, D);
    }
}

// test hooks for the field and curve code: out[i] = op(a[i], b[i]) on Montgomery values
extern "C" __global__ void test_field_ops(const F* a, const F* b, F* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    out[4 * i + 0] = mul(a[i], b[i]);
    out[4 * i + 1] = add(a[i], b[i]);
    out[4 * i + 2] = sub(a[i], b[i]);
    out[4 * i + 3] = sqr(a[i]);
}
// out[i] = affine(p[i] + q[i]) and affine(2 p[i]) via XYZZ (both affine, Montgomery)
extern "C" __global__ void test_curve_ops(const Pt* p, const Pt* q, Pt* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    Acc a = xyzz_inf<F>();
    if (!is_inf(p[i])) a = xyzz_add_affine(a, p[i]);
    Acc b = xyzz_inf<F>();
    if (!is_inf(q[i])) b = xyzz_add_affine(b, q[i]);
    Acc s1 = a;
    if (!is_inf(q[i])) s1 = xyzz_add_affine(a, q[i]);  // mixed
    Acc s2 = xyzz_add(a, b);                             // full
    out[3 * i + 0] = xyzz_to_affine(s1);
    out[3 * i + 1] = xyzz_to_affine(s2);
    out[3 * i + 2] = xyzz_to_affine(xyzz_dbl(a));
}

#if !CURVE_G2
// ---------------------------------------------------------------- multiply variants
// out[5 i + k] = variant k on (a[i], b[i]): mul_ptx, mul_wide, sqr via mul_ptx(a, a),
// sqr_wide, mul_wide without its final subtraction (raw, < 2q).
extern "C" __global__ void test_mul_variants(const Fq* a, const Fq* b, Fq* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    out[5 * i + 0] = mul_ptx(a[i], b[i]);
    out[5 * i + 1] = mul_wide(a[i], b[i]);
    out[5 * i + 2] = mul_ptx(a[i], a[i]);
    out[5 * i + 3] = sqr_wide(a[i]);
    out[5 * i + 4] = mul_wide(a[i], b[i]);  // (kept: a slot for a lazy variant)
}
// throughput: two independent dependent chains per thread (the accumulate's madd has a
// few independent multiplies at a time), `iters` rounds of 4 operations
#define MULBENCH(NAME, OP_AB, OP_CD)                                                     \
    extern "C" __global__ void __launch_bounds__(256) NAME(Fq* x, int iters) {           \
        const u32 i = blockIdx.x * blockDim.x + threadIdx.x;                            \
        Fq a = x[4 * i], b = x[4 * i + 1], c = x[4 * i + 2], d = x[4 * i + 3];          \
        for (int k = 0; k < iters; k++) {                                                \
            a = OP_AB(a, b);                                                             \
            c = OP_CD(c, d);                                                             \
            b = OP_AB(b, a);                                                             \
            d = OP_CD(d, c);                                                             \
        }                                                                                \
        x[4 * i] = a; x[4 * i + 1] = b; x[4 * i + 2] = c; x[4 * i + 3] = d;             \
    }
#define SQ_PTX(x, y) mul_ptx(x, x)
#define SQ_WIDE(x, y) sqr_wide(x)
MULBENCH(bench_mul_ptx, mul_ptx, mul_ptx)
MULBENCH(bench_mul_wide, mul_wide, mul_wide)
MULBENCH(bench_sqr_ptx, SQ_PTX, SQ_PTX)
MULBENCH(bench_sqr_wide, SQ_WIDE, SQ_WIDE)
#endif
