"""Two classical tests, written out so the suite needs no SciPy.

``chi2_uniform_p``: Pearson's χ² of values in [0, 1) against the uniform law on equal
bins (p from the regularised upper incomplete gamma, by its series).
``ks_two_sample_p``: the two-sample Kolmogorov–Smirnov test (asymptotic p-value).
"""

from __future__ import annotations

import math


def _lower_gamma_regularised(s: float, x: float) -> float:
    if x <= 0:
        return 0.0
    term = 1.0 / s
    total = term
    k = 1
    while term > total * 1e-15 and k < 10000:
        term *= x / (s + k)
        total += term
        k += 1
    return math.exp(s * math.log(x) - x - math.lgamma(s)) * total


def chi2_sf(stat: float, dof: int) -> float:
    return max(0.0, 1.0 - _lower_gamma_regularised(dof / 2, stat / 2))


def chi2_uniform_p(values, bins: int = 16) -> float:
    counts = [0] * bins
    for u in values:
        counts[min(bins - 1, int(u * bins))] += 1
    n = len(values)
    exp = n / bins
    stat = sum((c - exp) ** 2 / exp for c in counts)
    return chi2_sf(stat, bins - 1)


def ks_two_sample_p(a, b) -> float:
    a, b = sorted(a), sorted(b)
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            i += 1
        else:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    ne = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return min(1.0, max(0.0, p))
