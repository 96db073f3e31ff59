"""Multi-scalar multiplication on the reference curves (Python ints).

``msm_naive`` is the obviously-right definition; ``msm_pippenger`` is the bucket
method the engines implement, kept here in its plainest form (unsigned windows,
Jacobian buckets) so the GPU and CPU backends have a readable twin.
"""

from __future__ import annotations

from prover.bn254 import FR_MODULUS, Curve

SCALAR_BITS = 254


def msm_naive(curve: Curve, points, scalars):
    acc = None
    for p, k in zip(points, scalars, strict=True):
        acc = curve.add(acc, curve.mul(p, k))
    return acc


def window_bits(n: int) -> int:
    """Window minimising windows × (n mixed adds + 2·2^c bucket-sum adds)."""
    best, best_cost = 1, None
    for c in range(1, 17):
        cost = -(-SCALAR_BITS // c) * (n + 2 * (1 << c))
        if best_cost is None or cost < best_cost:
            best, best_cost = c, cost
    return best


def msm_pippenger(curve: Curve, points, scalars, c: int | None = None):
    """Σ k_i·P_i with affine points (None = infinity) and int scalars (any size, reduced mod r)."""
    pairs = [(p, k % FR_MODULUS) for p, k in zip(points, scalars, strict=True)]
    pairs = [(p, k) for p, k in pairs if p is not None and k]
    if not pairs:
        return None
    if c is None:
        c = window_bits(len(pairs))
    mask = (1 << c) - 1
    infinity = curve.to_jac(None)
    n_windows = -(-SCALAR_BITS // c)
    total = infinity
    # Most significant window first, so combining is c doublings then one add.
    for w in reversed(range(n_windows)):
        for _ in range(c):
            total = curve.jdouble(total)
        buckets = [infinity] * (mask + 1)
        shift = w * c
        for p, k in pairs:
            d = (k >> shift) & mask
            if d:
                buckets[d] = curve.jadd_affine(buckets[d], p)
        # Σ d·bucket[d] as a running sum from the top bucket down.
        running = infinity
        window_sum = infinity
        for d in range(mask, 0, -1):
            running = curve.jadd(running, buckets[d])
            window_sum = curve.jadd(window_sum, running)
        total = curve.jadd(total, window_sum)
    return curve.to_affine(total)
