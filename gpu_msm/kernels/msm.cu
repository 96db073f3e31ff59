// Pippenger MSM over BN254, one kernel per stage (names after sppark's pippenger.cuh):
//
//   breakdown   signed c-bit digits of each scalar; histogram of (window, |digit|) buckets
//   sort        counting sort: scatter (bucket, point) pairs into bucket order
//   (affine)    optional batch-affine rounds halving each bucket's list (msm_affine.cuh)
//   accumulate  each thread sums ACC_CHUNK consecutive sorted points (XYZZ += affine),
//               so the load is even whatever the scalar distribution; buckets cut by a
//               chunk boundary are finished by accumulate_fixup (+ _wide, _huge)
//   integrate   running sums over runs of buckets, combined by warps and blocks
//   collect     msm_combine until one (T, R) per window; the Horner combination over
//               the windows is on the host (a ~255-doubling chain: one GPU thread is slow)
//
// Compiled twice from this one source: CURVE_G2 = 0 (G1 over Fq) or 1 (G2 over Fq2).
// Tunables arrive as #defines from gpu_msm/cuda/msm.py (TUNING there).
#include "curve.cuh"

#ifndef ACC_CHUNK
#define ACC_CHUNK 64  // sorted points per accumulate thread
#endif
#ifndef ACC_BLOCK
#define ACC_BLOCK 128  // accumulate threads per block
#endif
#ifndef ACC_MINB
#define ACC_MINB 1  // __launch_bounds__ min blocks per SM for accumulate (caps registers)
#endif
#ifndef FIXUP_SERIAL
#define FIXUP_SERIAL 16  // longest chunk span summed by one fixup thread
#endif
#ifndef INT_MINB
#define INT_MINB 1  // __launch_bounds__ min blocks per SM for integrate / combine
#endif
#ifndef INT_OOL
#define INT_OOL 0  // 1: integrate's running sums call the out-of-line add (fewer registers)
#endif
#ifndef WIDE_MAX
#define WIDE_MAX 1024  // spans past this get a block instead of a warp
#endif


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

// counts[w * 2^(c-1) + |d| - 1] += 1 for every nonzero digit, and keys[w * n + i] = that
// bucket key | sign bit (NO_BUCKET for d = 0), window-major so that the scatter can take
// one window at a time.  Block size: multiple of 32.
extern "C" __global__ void msm_breakdown(const u32* scalars, u32 n, u32 c, u32 nwin, u32* counts, u32* keys) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    u32 s[8];
    load_scalar(scalars, i, n, s);
    u32 carry = 0;
    for (u32 w = 0; w < nwin; w++) {
        bool neg;
        u32 key = next_digit(s, w, c, carry, neg);
        if (i >= n) key = NO_BUCKET;
        agg_atomic_add(counts, key);
        if (i < n) keys[(u64)w * n + i] = key == NO_BUCKET ? NO_BUCKET : key | (neg ? SIGN_BIT : 0u);
    }
}

// Counting-sort scatter, grid (ceil(n / blockDim), nwin): block row w takes window w, so
// the rows run (in launch order) one window at a time and the random writes in flight fall
// in one window's range.  `ends` holds the inclusive prefix sum of counts on entry and the
// bucket starts on exit.  entries[pos] = point index | sign bit.  (Bucket keys are not
// stored: accumulate finds them from the starts.  A thread per scalar walking all windows
// - every window's range written at once - took 13.5 ms at G1 2^24 on an H200; this takes
// 8.2 ms on an H100, breakdown +0.6 ms for writing the keys.  Cutting each window into 2 or
// 4 slices of buckets, one per row, changed nothing (8.1 / 8.3 ms): not the L2's size.)
extern "C" __global__ void msm_sort_scatter(const u32* __restrict__ keys, u32 n, u32* ends, u32* entries) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    const u32 k = i < n ? keys[(u64)blockIdx.y * n + i] : NO_BUCKET;
    const u32 key = k == NO_BUCKET ? NO_BUCKET : k & ~SIGN_BIT;
    const u32 pos = agg_atomic_take(ends, key);
    if (key != NO_BUCKET) entries[pos] = i | (k & SIGN_BIT);
}

// ---------------------------------------------------------------- accumulate

// the bucket holding sorted position pos: the largest g with starts[g] <= pos (an empty
// bucket shares its start with the next one, so the largest such g is never empty)
__device__ __forceinline__ u32 bucket_at(const u32* __restrict__ starts, u32 nb, u64 pos) {
    u32 lo = 0, hi = nb - 1;
    while (lo < hi) {
        const u32 mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= pos) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

#include "msm_affine.cuh"

// Thread t sums sorted entries [t*ACC_CHUNK, (t+1)*ACC_CHUNK).  A bucket wholly inside the
// chunk is written to buckets[]; the run that began before the chunk goes to first_part[t],
// the run that goes on after it to last_part[t].  ``direct``: point e is bases[e] (the
// output of batch-affine rounds) instead of the signed base of entries[e].
extern "C" __global__ void __launch_bounds__(ACC_BLOCK, ACC_MINB) msm_accumulate(
        const Pt* __restrict__ bases, const u32* __restrict__ entries,
        const u32* __restrict__ starts, const u32* __restrict__ counts, const u32* __restrict__ total, u32 nb,
        Acc* buckets, Acc* first_part, Acc* last_part, u32 direct) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    const u64 E = *total;
    const u64 lo = (u64)t * ACC_CHUNK;
    if (lo >= E) return;
    const u64 hi = lo + ACC_CHUNK < E ? lo + ACC_CHUNK : E;
    u32 g = bucket_at(starts, nb, lo);
    u64 s = starts[g], end = s + counts[g];
    Acc acc = xyzz_inf<F>();
    for (u64 e = lo;; e++) {
        if (e == end || e == hi) {
            if (s < lo) first_part[t] = acc;
            else if (end > hi) last_part[t] = acc;
            else buckets[g] = acc;
            if (e == hi) break;
            acc = xyzz_inf<F>();
            g = counts[g + 1] ? g + 1 : bucket_at(starts, nb, e);  // more entries: g + 1 < nb
            s = starts[g];
            end = s + counts[g];
        }
        Pt p;
        if (direct) {  // the points of batch-affine rounds: in bucket order, signs applied
            p = bases[e];
        } else {
            const u32 ent = entries[e];
            p = bases[ent & ~SIGN_BIT];
            if (ent & SIGN_BIT) p.y = neg(p.y);
        }
        if (!is_inf(p)) acc = xyzz_add_affine(acc, p);
    }
}

// A thread per bucket: empty buckets become infinity; a bucket cut by chunk boundaries
// t0 < t1 is last_part[t0] + first_part[t0+1] + ... + first_part[t1].  Spans of up to
// FIXUP_SERIAL boundaries (random scalars: 1, or ~8 with 512 points a bucket) are summed
// here; longer ones, from skewed scalars (many equal digits) or small windows, go to a list
// for a warp each (< WIDE_MAX parts) or a block each.
// (A warp per bucket for every crossing bucket cost 7.3 ms of 20 ms at G1 2^20 on an H200;
// a block per bucket past 8 boundaries cost 41 ms at G1 2^24 with c = 16.)
extern "C" __global__ void msm_accumulate_fixup(const u32* __restrict__ starts, const u32* __restrict__ counts,
                                                const Acc* __restrict__ first_part, const Acc* __restrict__ last_part,
                                                Acc* buckets, u32 nbuckets, u32* lists, u32* list_counts, u32 list_cap) {
    const u32 g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= nbuckets) return;
    const u64 k = counts[g];
    if (k == 0) {
        buckets[g] = xyzz_inf<F>();
        return;
    }
    const u64 s = starts[g];
    const u64 t0 = s / ACC_CHUNK, t1 = (s + k - 1) / ACC_CHUNK;
    if (t0 == t1) return;  // accumulate wrote it
    if (t1 - t0 <= FIXUP_SERIAL) {
        Acc acc = last_part[t0];
        for (u64 t = t0 + 1; t <= t1; t++) acc = xyzz_add(acc, first_part[t]);
        buckets[g] = acc;
    } else {
        const u32 which = t1 - t0 < WIDE_MAX ? 0 : 1;
        lists[which * list_cap + atomicAdd(&list_counts[which], 1u)] = g;
    }
}

// parts t0 .. t1 of bucket g, strided over `stride` threads starting at `first`
__device__ __forceinline__ Acc bucket_parts(const u32* __restrict__ starts, const u32* __restrict__ counts,
                                            const Acc* __restrict__ first_part, const Acc* __restrict__ last_part,
                                            u32 g, u32 first, u32 stride) {
    const u64 s = starts[g], k = counts[g];
    const u64 t0 = s / ACC_CHUNK, t1 = (s + k - 1) / ACC_CHUNK;
    Acc acc = xyzz_inf<F>();
    for (u64 t = t0 + first; t <= t1; t += stride) acc = xyzz_add_ool(acc, t == t0 ? last_part[t0] : first_part[t]);
    return acc;
}

__device__ __forceinline__ Acc warp_sum(Acc acc) {
#pragma unroll 1
    for (int d = 16; d > 0; d >>= 1) acc = xyzz_add_ool(acc, shfl_down(acc, d));
    return acc;  // lane 0
}

// A warp per listed bucket (grid-stride over the list).
extern "C" __global__ void msm_accumulate_wide(const u32* __restrict__ starts, const u32* __restrict__ counts,
                                               const Acc* __restrict__ first_part, const Acc* __restrict__ last_part,
                                               Acc* buckets, const u32* __restrict__ list, const u32* __restrict__ list_count) {
    const u32 lane = threadIdx.x & 31;
    const u32 nwarps = (gridDim.x * blockDim.x) >> 5;
    const u32 n = *list_count;
    for (u32 i = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; i < n; i += nwarps) {
        const u32 g = list[i];
        const Acc acc = warp_sum(bucket_parts(starts, counts, first_part, last_part, g, lane, 32));
        if (lane == 0) buckets[g] = acc;
    }
}

// A block per listed bucket (grid-stride over the list): threads, then warps, then one warp.
extern "C" __global__ void msm_accumulate_huge(const u32* __restrict__ starts, const u32* __restrict__ counts,
                                               const Acc* __restrict__ first_part, const Acc* __restrict__ last_part,
                                               Acc* buckets, const u32* __restrict__ list, const u32* __restrict__ list_count) {
    __shared__ Acc part[32];
    const u32 lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const u32 n = *list_count;
    for (u32 i = blockIdx.x; i < n; i += gridDim.x) {
        const u32 g = list[i];
        Acc acc = warp_sum(bucket_parts(starts, counts, first_part, last_part, g, threadIdx.x, blockDim.x));
        if (lane == 0) part[warp] = acc;
        __syncthreads();
        if (warp == 0) {
            acc = warp_sum(lane < (blockDim.x >> 5) ? part[lane] : xyzz_inf<F>());
            if (lane == 0) buckets[g] = acc;
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------- integrate + combine
//
// A window's sum is sum_d d * B_d over its buckets B_1 .. B_{2^(c-1)}.  For consecutive
// items s = 0 .. K-1 (runs of m = 2^log_m buckets each) with T_s = sum_j (j+1) B_{sm+j} and
// R_s = sum_j B_{sm+j}, the group of them has
//     T = sum_s T_s + m * sum_s s R_s,   R = sum_s R_s,   sum_s s R_s = sum_{s>=1} Suf_s,
// Suf_s = sum_{s'>=s} R_s' (a suffix scan).  Threads start from runs of M buckets (running
// sums), then warps and blocks combine with shuffles: depth ~ M + 5 log2(group) adds and
// log2(window) doublings, where per-thread segments with a small multiple each cost 3.9 ms
// at G1 2^20 on an H200 (and the Horner over windows on one GPU thread 2.3 ms: it is on the
// host now, gpu_msm/cuda/msm.py).

// lanes hold consecutive items (T, R) of span 2^log_m buckets; lane 0 gets the group's
__device__ __forceinline__ void warp_combine(Acc& T, Acc& R, u32 log_m) {
    const u32 lane = threadIdx.x & 31;
    Acc suf = R;
#pragma unroll 1
    for (int d = 1; d < 32; d <<= 1) {
        const Acc y = shfl_down(suf, d);
        if (lane + d < 32) suf = xyzz_add_ool(suf, y);
    }
    Acc u = lane ? suf : xyzz_inf<F>();
    Acc t = T;
#pragma unroll 1
    for (int d = 16; d > 0; d >>= 1) {
        const Acc yu = shfl_down(u, d);
        const Acc yt = shfl_down(t, d);
        u = xyzz_add_ool(u, yu);
        t = xyzz_add_ool(t, yt);
    }
    if (lane == 0) {
        for (u32 i = 0; i < log_m; i++) u = xyzz_dbl_ool(u);
        T = xyzz_add_ool(t, u);
        R = suf;
    }
}

// blockDim.x = 256: threads hold consecutive items; thread 0 gets the block's (T, R)
__device__ __forceinline__ void block_combine(Acc& T, Acc& R, u32 log_m) {
    __shared__ Acc sT[8], sR[8];
    const u32 lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    warp_combine(T, R, log_m);
    if (lane == 0) {
        sT[warp] = T;
        sR[warp] = R;
    }
    __syncthreads();
    if (warp == 0) {
        T = lane < 8 ? sT[lane] : xyzz_inf<F>();
        R = lane < 8 ? sR[lane] : xyzz_inf<F>();
        warp_combine(T, R, log_m + 5);
    }
}

// grid (ceil(S / 256), nwin): thread s of window w runs over buckets s*M .. s*M+M-1 (M =
// 2^log_M, S = 2^(c-1) / M runs a window); block b writes its (T, R) at [w * K + b].
extern "C" __global__ void __launch_bounds__(256, INT_MINB) msm_integrate(const Acc* __restrict__ buckets, u32 B, u32 log_M,
                                                                u32 S, Acc* outT, Acc* outR, u32 K) {
    const u32 w = blockIdx.y, s = blockIdx.x * 256 + threadIdx.x;
    Acc T = xyzz_inf<F>(), R = xyzz_inf<F>();
    if (s < S) {
        const u32 M = 1u << log_M;
        const Acc* b = buckets + (u64)w * B + (u64)s * M;
        for (int j = (int)M - 1; j >= 0; j--) {
#if INT_OOL
            R = xyzz_add_ool(R, b[j]);
            T = xyzz_add_ool(T, R);
#else
            R = xyzz_add(R, b[j]);
            T = xyzz_add(T, R);
#endif
        }
    }
    block_combine(T, R, log_M);
    if (threadIdx.x == 0) {
        outT[(u64)w * K + blockIdx.x] = T;
        outR[(u64)w * K + blockIdx.x] = R;
    }
}

// grid (ceil(K / 256), nwin): groups of 256 items (span 2^log_m buckets each) -> one item
extern "C" __global__ void __launch_bounds__(256, INT_MINB) msm_combine(const Acc* __restrict__ inT, const Acc* __restrict__ inR,
                                                              u32 K, u32 log_m, Acc* outT, Acc* outR, u32 K2) {
    const u32 w = blockIdx.y, i = blockIdx.x * 256 + threadIdx.x;
    Acc T = i < K ? inT[(u64)w * K + i] : xyzz_inf<F>();
    Acc R = i < K ? inR[(u64)w * K + i] : xyzz_inf<F>();
    block_combine(T, R, log_m);
    if (threadIdx.x == 0) {
        outT[(u64)w * K2 + blockIdx.x] = T;
        outR[(u64)w * K2 + blockIdx.x] = R;
    }
}
