// Pippenger MSM over BN254, one kernel per stage (names after sppark's pippenger.cuh):
//
//   breakdown   signed c-bit digits of each scalar; histogram of (window, |digit|) buckets
//   sort        counting sort: scatter (bucket, point) pairs into bucket order
//   accumulate  each thread sums ACC_CHUNK consecutive sorted points (XYZZ += affine),
//               so the load is even whatever the scalar distribution; buckets cut by a
//               chunk boundary are finished by accumulate_fixup (a warp per bucket)
//   integrate   running sums over parallel segments of each window's buckets
//   collect     window sums, then the Horner combination over windows
//
// Compiled twice from this one source: CURVE_G2 = 0 (G1 over Fq) or 1 (G2 over Fq2).
// Tunables arrive as #defines from gpu_msm/cuda/msm.py (TUNING there).
#include "curve.cuh"

#ifndef CURVE_G2
#define CURVE_G2 0
#endif
#ifndef ACC_CHUNK
#define ACC_CHUNK 64  // sorted points per accumulate thread
#endif
#ifndef ACC_BLOCK
#define ACC_BLOCK 128  // accumulate threads per block
#endif

#if CURVE_G2
typedef Fq2 F;
#else
typedef Fq F;
#endif
typedef Affine<F> Pt;
typedef Xyzz<F> Acc;

#define NO_BUCKET 0xffffffffu
#define SIGN_BIT 0x80000000u

// ---------------------------------------------------------------- Montgomery conversion
extern "C" __global__ void fq_to_mont(Fq* a, u64 count) {
    const u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) a[i] = to_mont(a[i]);
}
extern "C" __global__ void fq_from_mont(Fq* a, u64 count) {
    const u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) a[i] = from_mont(a[i]);
}

// ---------------------------------------------------------------- breakdown + sort

// the scalar reduced mod r (inputs are canonical, but any 256-bit value is accepted)
__device__ __forceinline__ void load_scalar(const u32* scalars, u32 i, u32 n, u32 s[8]) {
#pragma unroll
    for (int k = 0; k < 8; k++) s[k] = i < n ? scalars[(u64)i * 8 + k] : 0u;
#pragma unroll 1
    for (int it = 0; it < 5; it++) {  // 2^256 < 6r
        u32 d[8];
        d[0] = sub_cc(s[0], FR_MOD[0]);
#pragma unroll
        for (int k = 1; k < 8; k++) d[k] = subc_cc(s[k], FR_MOD[k]);
        const u32 borrow = subc(0u, 0u);
        if (borrow) break;
#pragma unroll
        for (int k = 0; k < 8; k++) s[k] = d[k];
    }
}

// c bits of s starting at bit `bit` (zero past bit 255)
__device__ __forceinline__ u32 get_bits(const u32 s[8], u32 bit, u32 c) {
    const u32 word = bit >> 5, off = bit & 31;
    u32 lo = 0, hi = 0;
#pragma unroll
    for (int k = 0; k < 8; k++) {
        if (k == word) lo = s[k];
        if (k == word + 1) hi = s[k];
    }
    return (u32)((((u64)hi << 32) | lo) >> off) & ((1u << c) - 1);
}

// Signed digit of window w: raw in [0, 2^c]; raw > 2^(c-1) becomes raw - 2^c with a carry
// into the next window.  nwin * c >= 255 and s < 2^254, so the top window never carries.
// Returns the bucket key w * 2^(c-1) + |d| - 1, or NO_BUCKET for d = 0; *neg = (d < 0).
__device__ __forceinline__ u32 next_digit(const u32 s[8], u32 w, u32 c, u32& carry, bool& neg) {
    const u32 half = 1u << (c - 1);
    const u32 raw = get_bits(s, w * c, c) + carry;
    u32 mag;
    if (raw > half) {
        mag = (1u << c) - raw;
        carry = 1;
        neg = true;
    } else {
        mag = raw;
        carry = 0;
        neg = false;
    }
    return mag ? w * half + mag - 1 : NO_BUCKET;
}

// Warp-aggregated atomic add of 1 per lane on ctr[key] (all 32 lanes must call): lanes
// with equal keys share one atomic.  Returns the old value plus the lane's rank in its group.
__device__ __forceinline__ u32 agg_atomic_add(u32* ctr, u32 key) {
    const u32 lane = threadIdx.x & 31;
    const u32 peers = __match_any_sync(0xffffffffu, key);
    const u32 leader = __ffs(peers) - 1;
    u32 base = 0;
    if (key != NO_BUCKET && lane == leader) base = atomicAdd(&ctr[key], __popc(peers));
    base = __shfl_sync(0xffffffffu, base, leader);
    return base + __popc(peers & ((1u << lane) - 1));
}
// the same with atomicSub: positions old - count + rank, filling each bucket from its end
__device__ __forceinline__ u32 agg_atomic_take(u32* ends, u32 key) {
    const u32 lane = threadIdx.x & 31;
    const u32 peers = __match_any_sync(0xffffffffu, key);
    const u32 leader = __ffs(peers) - 1;
    const u32 cnt = __popc(peers);
    u32 base = 0;
    if (key != NO_BUCKET && lane == leader) base = atomicSub(&ends[key], cnt) - cnt;
    base = __shfl_sync(0xffffffffu, base, leader);
    return base + __popc(peers & ((1u << lane) - 1));
}

// counts[w * 2^(c-1) + |d| - 1] += 1 for every nonzero digit.  Block size: multiple of 32.
extern "C" __global__ void msm_breakdown(const u32* scalars, u32 n, u32 c, u32 nwin, u32* counts) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    u32 s[8];
    load_scalar(scalars, i, n, s);
    u32 carry = 0;
    for (u32 w = 0; w < nwin; w++) {
        bool neg;
        u32 key = next_digit(s, w, c, carry, neg);
        if (i >= n) key = NO_BUCKET;
        agg_atomic_add(counts, key);
    }
}

// Counting-sort scatter.  `ends` holds the inclusive prefix sum of counts on entry and the
// bucket starts on exit.  entries[pos] = point index | sign bit, keys[pos] = bucket.
extern "C" __global__ void msm_sort_scatter(const u32* scalars, u32 n, u32 c, u32 nwin, u32* ends,
                                            u32* entries, u32* keys) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    u32 s[8];
    load_scalar(scalars, i, n, s);
    u32 carry = 0;
    for (u32 w = 0; w < nwin; w++) {
        bool neg;
        u32 key = next_digit(s, w, c, carry, neg);
        if (i >= n) key = NO_BUCKET;
        const u32 pos = agg_atomic_take(ends, key);
        if (key != NO_BUCKET) {
            entries[pos] = i | (neg ? SIGN_BIT : 0u);
            keys[pos] = key;
        }
    }
}

// ---------------------------------------------------------------- accumulate

// Thread t sums sorted entries [t*ACC_CHUNK, (t+1)*ACC_CHUNK).  A bucket wholly inside the
// chunk is written to buckets[]; the run that began before the chunk goes to first_part[t],
// the run that goes on after it to last_part[t].
extern "C" __global__ void __launch_bounds__(ACC_BLOCK) msm_accumulate(
        const Pt* __restrict__ bases, const u32* __restrict__ entries, const u32* __restrict__ keys,
        const u32* __restrict__ starts, const u32* __restrict__ counts, const u32* __restrict__ total,
        Acc* buckets, Acc* first_part, Acc* last_part) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    const u64 E = *total;
    const u64 lo = (u64)t * ACC_CHUNK;
    if (lo >= E) return;
    const u64 hi = lo + ACC_CHUNK < E ? lo + ACC_CHUNK : E;
    u32 g = keys[lo];
    Acc acc = xyzz_inf<F>();
    for (u64 e = lo;; e++) {
        const bool done = e == hi;
        const u32 key = done ? NO_BUCKET : keys[e];
        if (key != g) {
            const u64 s = starts[g];
            const u64 k = counts[g];
            if (s < lo) first_part[t] = acc;
            else if (s + k > hi) last_part[t] = acc;
            else buckets[g] = acc;
            if (done) break;
            acc = xyzz_inf<F>();
            g = key;
        }
        const u32 ent = entries[e];
        Pt p = bases[ent & ~SIGN_BIT];
        if (!is_inf(p)) {
            if (ent & SIGN_BIT) p.y = neg(p.y);
            acc = xyzz_add_affine(acc, p);
        }
    }
}

// A warp per bucket: empty buckets become infinity; a bucket cut by chunk boundaries
// t0 < t1 is last_part[t0] + first_part[t0+1] + ... + first_part[t1].
extern "C" __global__ void msm_accumulate_fixup(const u32* __restrict__ starts, const u32* __restrict__ counts,
                                                const Acc* __restrict__ first_part, const Acc* __restrict__ last_part,
                                                Acc* buckets, u32 nbuckets) {
    const u32 g = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const u32 lane = threadIdx.x & 31;
    if (g >= nbuckets) return;  // warp-uniform
    const u64 k = counts[g];
    if (k == 0) {
        if (lane == 0) buckets[g] = xyzz_inf<F>();
        return;
    }
    const u64 s = starts[g];
    const u64 t0 = s / ACC_CHUNK, t1 = (s + k - 1) / ACC_CHUNK;
    if (t0 == t1) return;  // accumulate wrote it
    Acc acc = xyzz_inf<F>();
    for (u64 t = t0 + lane; t <= t1; t += 32) acc = xyzz_add_ool(acc, t == t0 ? last_part[t0] : first_part[t]);
#pragma unroll 1
    for (int d = 16; d > 0; d >>= 1) acc = xyzz_add_ool(acc, shfl_down(acc, d));
    if (lane == 0) buckets[g] = acc;
}

// ---------------------------------------------------------------- integrate + collect

// Thread (w, s) owns buckets of digits s*M+1 .. s*M+M of window w (B = 2^(c-1) per
// window, S = B / M segments).  Running sum from the top gives sum_j (j+1) bucket_j; the
// segment's offset s*M times the plain sum completes sum_d d * bucket_d.
extern "C" __global__ void msm_integrate(const Acc* __restrict__ buckets, u32 B, u32 M, u32 S, u32 nwin, Acc* seg) {
    const u32 idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= nwin * S) return;
    const u32 w = idx / S, s = idx % S;
    const Acc* b = buckets + (u64)w * B + (u64)s * M;
    Acc run = xyzz_inf<F>(), acc = xyzz_inf<F>();
    for (int j = (int)M - 1; j >= 0; j--) {
        run = xyzz_add(run, b[j]);
        acc = xyzz_add(acc, run);
    }
    if (s) acc = xyzz_add_ool(acc, xyzz_mul_small(run, s * M));
    seg[idx] = acc;
}

// A block per window sums its S segment values.
extern "C" __global__ void msm_collect_windows(const Acc* __restrict__ seg, u32 S, Acc* win) {
    __shared__ Acc part[32];
    const u32 w = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    Acc acc = xyzz_inf<F>();
    for (u32 s = threadIdx.x; s < S; s += blockDim.x) acc = xyzz_add_ool(acc, seg[(u64)w * S + s]);
#pragma unroll 1
    for (int d = 16; d > 0; d >>= 1) acc = xyzz_add_ool(acc, shfl_down(acc, d));
    if (lane == 0) part[warp] = acc;
    __syncthreads();
    if (warp == 0) {
        acc = lane < (blockDim.x >> 5) ? part[lane] : xyzz_inf<F>();
#pragma unroll 1
        for (int d = 16; d > 0; d >>= 1) acc = xyzz_add_ool(acc, shfl_down(acc, d));
        if (lane == 0) win[w] = acc;
    }
}

// One thread: sum_w 2^(w c) win[w] by Horner from the top window.
extern "C" __global__ void msm_collect_final(const Acc* __restrict__ win, u32 nwin, u32 c, Acc* out) {
    if (blockIdx.x * blockDim.x + threadIdx.x != 0) return;
    Acc acc = xyzz_inf<F>();
    for (int w = (int)nwin - 1; w >= 0; w--) {
        for (u32 i = 0; i < c; i++) acc = xyzz_dbl_ool(acc);
        acc = xyzz_add_ool(acc, win[w]);
    }
    *out = acc;
}

