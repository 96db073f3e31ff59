// Element-wise Fr vector arithmetic and the sparse matrix-vector product, on canonical
// values (the form vectors keep on the device between steps, so no step converts).
// A Montgomery product of two canonical values is a·b/R; one more product with R²
// (to_mont) restores a·b.  A stored coefficient in Montgomery form times a canonical
// value gives the canonical product in one multiply.
#include "field.cuh"

extern "C" __global__ void fr_add_vec(const Fr* a, const Fr* b, Fr* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = add(a[i], b[i]);
}
extern "C" __global__ void fr_sub_vec(const Fr* a, const Fr* b, Fr* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = sub(a[i], b[i]);
}
extern "C" __global__ void fr_mul_vec(const Fr* a, const Fr* b, Fr* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = to_mont(mul(a[i], b[i]));
}
// out = a·k with k_mont = k·R (a Montgomery constant): one product
extern "C" __global__ void fr_mul_const(const Fr* a, const Fr* k_mont, Fr* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = mul(a[i], *k_mont);
}
// in place: canonical -> Montgomery (coefficients, once per circuit)
extern "C" __global__ void fr_vec_to_mont(Fr* a, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] = to_mont(a[i]);
}

// CSR rows: out[row] = Σ_{e in [ptr[row], ptr[row+1])} coef[e]·v[col[e]], coef Montgomery,
// v and out canonical.  One thread a row: a Groth16 row has a handful of entries.
extern "C" __global__ void fr_csr_matvec(const u32* __restrict__ ptr, const u32* __restrict__ col,
                                         const Fr* __restrict__ coef, const Fr* __restrict__ v,
                                         Fr* out, u32 rows) {
    const u32 row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) return;
    Fr acc = fp_zero<FrP>();
    for (u32 e = ptr[row]; e < ptr[row + 1]; e++) acc = add(acc, mul(coef[e], v[col[e]]));
    out[row] = acc;
}
