// Batch-affine rounds for msm.cu's accumulation (the "affine-L" strategies).
//
// A round halves every bucket's list of affine points: element 2i and 2i+1 of a bucket
// become element i of the next list (an odd last element is carried over).  An affine
// chord costs 4M + 1S with its inverse (2M + 1S for the sum, 2M to take the inverse out of
// a shared product), plus 1M in the pass that forms the products, against 8M + 2S for an
// XYZZ += affine.  The inverses come from Montgomery's trick over the whole round: each
// thread multiplies AFF_K denominators (msm_aff_denoms), the per-thread products are
// inverted as one array by a tree of the same trick (msm_binv_up / _down, one field
// inversion at the root), and msm_aff_apply walks its AFF_K sums backwards.  After L
// rounds the shortened lists go through msm_accumulate as if they were the sorted points.
//
// Included by msm.cu: F, Pt, SIGN_BIT and bucket_at come from there.
#pragma once

#ifndef AFF_K
#define AFF_K 8  // pair sums per thread in a round
#endif
#ifndef BINV_K
#define BINV_K 32  // values per thread in each level of the inversion tree
#endif

// point i of a round's input: the signed base of sorted entry i (first round, pts null)
// or the previous round's output
__device__ __forceinline__ Pt aff_load(const Pt* __restrict__ bases, const u32* __restrict__ entries,
                                       const Pt* __restrict__ pts, u64 i) {
    if (pts != nullptr) return pts[i];
    const u32 ent = entries[i];
    Pt p = bases[ent & ~SIGN_BIT];
    if ((ent & SIGN_BIT) && !is_inf(p)) p.y = neg(p.y);
    return p;
}

// the denominator of p + q: x_q - x_p for a chord, 2y for a tangent (p = q), and one when
// the sum needs no division (either is infinity, or p = -q), so that no product is zero
__device__ __forceinline__ F aff_den(const Pt& p, const Pt& q) {
    if (is_inf(p) || is_inf(q)) return f_one<F>();
    if (!eq(p.x, q.x)) return sub(q.x, p.x);
    if (eq(p.y, q.y) && !is_zero(p.y)) return dbl(p.y);
    return f_one<F>();
}

// p + q given inv = 1 / aff_den(p, q)
__device__ __forceinline__ Pt aff_sum(const Pt& p, const Pt& q, const F& inv) {
    if (is_inf(p)) return q;
    if (is_inf(q)) return p;
    F lam;
    if (!eq(p.x, q.x)) {
        lam = mul(sub(q.y, p.y), inv);
    } else if (eq(p.y, q.y) && !is_zero(p.y)) {
        const F xx = sqr(p.x);
        lam = mul(add(dbl(xx), xx), inv);
    } else {
        return Pt{f_zero<F>(), f_zero<F>()};
    }
    Pt r;
    r.x = sub(sub(sqr(lam), p.x), q.x);
    r.y = sub(mul(lam, sub(p.x, r.x)), p.y);
    return r;
}

// output element j of bucket g reads input elements 2(j - d_start[g]) and the next one
__device__ __forceinline__ u32 out_count(const u32* __restrict__ s_cnt, u32 g) { return (s_cnt[g] + 1) >> 1; }

__device__ __forceinline__ F aff_load_x(const Pt* __restrict__ bases, const u32* __restrict__ entries,
                                        const Pt* __restrict__ pts, u64 i) {
    return pts != nullptr ? pts[i].x : bases[entries[i] & ~SIGN_BIT].x;
}

// aff_den reading only the x coordinates where they decide it (distinct, nonzero)
__device__ __forceinline__ F aff_den_at(const Pt* __restrict__ bases, const u32* __restrict__ entries,
                                        const Pt* __restrict__ pts, u64 a) {
    const F px = aff_load_x(bases, entries, pts, a), qx = aff_load_x(bases, entries, pts, a + 1);
    if (!is_zero(px) && !is_zero(qx) && !eq(px, qx)) return sub(qx, px);
    return aff_den(aff_load(bases, entries, pts, a), aff_load(bases, entries, pts, a + 1));
}

// Thread t: outputs [t*AFF_K, (t+1)*AFF_K) of the round, so that its pairs lie side by
// side.  (Warps owning 32*AFF_K outputs with lanes taking 32 consecutive ones at each
// step, coalesced, was slower: round 1 of G1 2^24 59.6 ms against 43.3, H100.)
// pref[j] = product of the thread's denominators up to output j; tot[t] = all of them
// (one where the thread has none).
extern "C" __global__ void msm_aff_denoms(const Pt* __restrict__ bases, const u32* __restrict__ entries,
                                          const Pt* __restrict__ pts, const u32* __restrict__ s_start,
                                          const u32* __restrict__ s_cnt, const u32* __restrict__ d_start,
                                          const u32* __restrict__ d_total, u32 nb, F* pref, F* tot, u32 nthreads) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nthreads) return;
    const u64 E = *d_total, j0 = (u64)t * AFF_K;
    F acc = f_one<F>();
    if (j0 < E) {
        const u64 j1 = j0 + AFF_K < E ? j0 + AFF_K : E;
        u32 g = bucket_at(d_start, nb, j0);
        u64 end = d_start[g] + out_count(s_cnt, g);
        for (u64 j = j0; j < j1; j++) {
            if (j == end) {
                g = bucket_at(d_start, nb, j);
                end = d_start[g] + out_count(s_cnt, g);
            }
            const u64 i = 2 * (j - d_start[g]);
            if (i + 1 < s_cnt[g]) acc = mul(acc, aff_den_at(bases, entries, pts, s_start[g] + i));
            pref[j] = acc;
        }
    }
    tot[t] = acc;
}

// Given inv_tot[t] = 1 / tot[t], the thread's outputs from the last to the first.
extern "C" __global__ void msm_aff_apply(const Pt* __restrict__ bases, const u32* __restrict__ entries,
                                         const Pt* __restrict__ pts, const u32* __restrict__ s_start,
                                         const u32* __restrict__ s_cnt, const u32* __restrict__ d_start,
                                         const u32* __restrict__ d_total, u32 nb, const F* __restrict__ pref,
                                         const F* __restrict__ inv_tot, Pt* out, u32 nthreads) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nthreads) return;
    const u64 E = *d_total, j0 = (u64)t * AFF_K;
    if (j0 >= E) return;
    const u64 j1 = j0 + AFF_K < E ? j0 + AFF_K : E;
    F I = inv_tot[t];  // 1 / (product of the denominators up to j)
    u32 g = bucket_at(d_start, nb, j1 - 1);
    for (u64 j = j1; j-- > j0;) {
        if (j < d_start[g]) g = bucket_at(d_start, nb, j);
        const u64 i = 2 * (j - d_start[g]);
        const u64 a = s_start[g] + i;
        const Pt p = aff_load(bases, entries, pts, a);
        if (i + 1 < s_cnt[g]) {
            const Pt q = aff_load(bases, entries, pts, a + 1);
            const F inv = j > j0 ? mul(I, pref[j - 1]) : I;
            I = mul(I, aff_den(p, q));
            out[j] = aff_sum(p, q, inv);
        } else {
            out[j] = p;
        }
    }
}

// Montgomery's trick over an array of n nonzero values, a tree level at a time: up
// writes each thread's prefix products and total, the totals are inverted (the next
// level, or msm_binv_root), and down turns the values into their inverses in place.
extern "C" __global__ void msm_binv_up(const F* __restrict__ v, u32 n, F* pref, F* tot, u32 nthreads) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nthreads) return;
    const u32 j0 = t * BINV_K, j1 = j0 + BINV_K < n ? j0 + BINV_K : n;
    F acc = f_one<F>();
    for (u32 j = j0; j < j1; j++) {
        acc = mul(acc, v[j]);
        pref[j] = acc;
    }
    tot[t] = acc;
}

extern "C" __global__ void msm_binv_down(F* v, u32 n, const F* __restrict__ pref, const F* __restrict__ inv_tot,
                                         u32 nthreads) {
    const u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nthreads) return;
    const u32 j0 = t * BINV_K, j1 = j0 + BINV_K < n ? j0 + BINV_K : n;
    F I = inv_tot[t];
    for (u32 j = j1; j-- > j0;) {
        const F x = v[j];
        v[j] = j > j0 ? mul(I, pref[j - 1]) : I;
        I = mul(I, x);
    }
}

extern "C" __global__ void msm_binv_root(F* v) { v[0] = inv(v[0]); }
