// NTT over Fr (BN254 scalar field), Montgomery form inside, canonical at the boundary.
// Radix-2, decimation in time: bit-reverse permutation, then log2(n) butterfly stages,
// one launch each.  Twiddles: tw[k] = w^k for k < n/2, built on the device.
#include "field.cuh"

extern "C" __global__ void fr_to_mont(Fr* a, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] = to_mont(a[i]);
}
extern "C" __global__ void fr_from_mont(Fr* a, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] = from_mont(a[i]);
}

// out[k] = w^k (w in Montgomery form), k < count
extern "C" __global__ void fr_powers(const Fr* w, Fr* out, u32 count) {
    const u32 k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= count) return;
    const Fr base = *w;
    Fr r = fp_one<FrP>();
    for (int b = 31; b >= 0; b--) {
        r = sqr(r);
        if ((k >> b) & 1) r = mul(r, base);
    }
    out[k] = r;
}

// out[bitrev(i)] = in[i] over log_n bits (out and in distinct)
extern "C" __global__ void fr_bit_reverse(const Fr* __restrict__ in, Fr* __restrict__ out, u32 n, u32 log_n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const u32 j = log_n ? __brev(i) >> (32 - log_n) : 0;
    out[j] = in[i];
}

// one stage of butterflies with half-size `half`: pairs (i, i + half) in blocks of 2*half,
// twiddle w_{2 half}^k = tw[k * (n / (2 half))]
extern "C" __global__ void fr_ntt_stage(Fr* a, const Fr* __restrict__ tw, u32 n, u32 half) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n / 2) return;
    const u32 k = t & (half - 1);
    const u32 i = (t - k) * 2 + k;
    const u32 j = i + half;
    const Fr w = tw[(u64)k * (n / (2 * half))];
    const Fr u = a[i];
    const Fr v = mul(a[j], w);
    a[i] = add(u, v);
    a[j] = sub(u, v);
}

// a[i] *= f[i]  (f: coset powers) or a[i] *= f[0] when `broadcast`
extern "C" __global__ void fr_scale(Fr* a, const Fr* __restrict__ f, u32 n, u32 broadcast) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    a[i] = mul(a[i], f[broadcast ? 0 : i]);
}

// a[i] = a[i] * b[i] (Montgomery) for tests
extern "C" __global__ void fr_test_mul(const Fr* a, const Fr* b, Fr* out, u32 n) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = mul(a[i], b[i]);
}
