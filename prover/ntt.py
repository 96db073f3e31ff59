"""Evaluation domain and NTT over Fr (reference, Python ints), as snarkjs uses them.

snarkjs (ffjavascript) takes the 2^k-th root of unity ω = 5^((r−1)/2^k); the
domain of size n is {ω_n^i}.  Groth16's quotient is evaluated on the odd coset
{g·ω_n^i} with g = ω_2n: iNTT to coefficients, scale coefficient i by g^i, NTT.
"""

from __future__ import annotations

from prover.bn254 import FR_MODULUS

R = FR_MODULUS
TWO_ADICITY = 28  # 2^28 divides r − 1
assert (R - 1) % (1 << TWO_ADICITY) == 0 and ((R - 1) >> TWO_ADICITY) % 2 == 1


def root_of_unity(n: int) -> int:
    """The primitive n-th root of unity snarkjs uses, for n a power of two ≤ 2^28."""
    if n < 1 or n & (n - 1) or n > 1 << TWO_ADICITY:
        raise ValueError(f"domain size {n} is not a power of two in [1, 2^28]")
    return pow(5, (R - 1) // n, R)


def _bit_reverse(values: list[int]) -> list[int]:
    n = len(values)
    bits = n.bit_length() - 1
    out = [0] * n
    for i, v in enumerate(values):
        out[int(format(i, f"0{bits}b")[::-1], 2) if bits else 0] = v
    return out


def ntt(values, root: int | None = None) -> list[int]:
    """Evaluations at ω^0..ω^{n−1} of the polynomial with the given coefficients."""
    a = _bit_reverse([v % R for v in values])
    n = len(a)
    w_n = root_of_unity(n) if root is None else root
    size = 2
    while size <= n:
        half = size // 2
        w_step = pow(w_n, n // size, R)
        twiddles = [1] * half
        for k in range(1, half):
            twiddles[k] = twiddles[k - 1] * w_step % R
        for start in range(0, n, size):
            for k in range(half):
                u = a[start + k]
                v = a[start + k + half] * twiddles[k] % R
                a[start + k] = (u + v) % R
                a[start + k + half] = (u - v) % R
        size *= 2
    return a


def intt(values) -> list[int]:
    """Coefficients of the polynomial with the given evaluations on the domain."""
    n = len(values)
    out = ntt(values, pow(root_of_unity(n), -1, R))
    n_inv = pow(n, -1, R)
    return [v * n_inv % R for v in out]


def odd_coset(values) -> list[int]:
    """Domain evaluations -> evaluations at g·ω^i, g = ω_2n (snarkjs's shifted domain)."""
    n = len(values)
    coeffs = intt(values)
    g = root_of_unity(2 * n)
    gi = 1
    for i in range(n):
        coeffs[i] = coeffs[i] * gi % R
        gi = gi * g % R
    return ntt(coeffs)


def evaluate_naive(coeffs, x: int) -> int:
    """Horner's rule; the slow twin used by tests."""
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    return acc
