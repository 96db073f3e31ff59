// Batch scalar multiplication of one fixed point: out[i] = scalars[i]·P, canonical affine
// (the input point in Montgomery form).
// For setups (every base of a zkey is a multiple of the generator), not for proving:
// double-and-add from the top bit, one point per thread, one inversion per output.
// Compiled once per curve (CURVE_G2 = 0 or 1).
#include "curve.cuh"

__device__ __forceinline__ Fq canon(const Fq& a) { return from_mont(a); }
__device__ __forceinline__ Fq2 canon(const Fq2& a) { return {from_mont(a.c0), from_mont(a.c1)}; }

extern "C" __global__ void fixed_base_mul(const Pt* __restrict__ base, const u32* __restrict__ scalars,
                                          Pt* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const Pt P = *base;
    const u32* k = scalars + (u64)i * 8;
    Acc S = xyzz_inf<F>();
    for (int b = 255; b >= 0; b--) {
        S = xyzz_dbl_ool(S);
        if ((k[b >> 5] >> (b & 31)) & 1) S = xyzz_add_affine(S, P);
    }
    const Pt A = xyzz_to_affine(S);
    out[i] = {canon(A.x), canon(A.y)};
}
