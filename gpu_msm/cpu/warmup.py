"""Compile (or load from numba's cache) every CPU kernel on tiny inputs.

    python -m gpu_msm.cpu.warmup [--all]

A fresh installation pays tens of seconds of JIT compilation on its first calls
(figures: bench/RESULTS.md, 'Measurements moved from code comments'); running this
once, e.g. while building a container image, moves that cost out of the first proof.
Prints the seconds each kernel family took and the cache folder
(``gpu_msm.cpu.kernel_cache``).  By default it compiles what proving,
the nodes and the verifier run; ``--all`` adds what only tuning and the dealing of
fixed-base multiples call (the XYZZ strategy, fixed-base tables).
"""

from __future__ import annotations

import time

import numpy as np

from gpu_msm.constants import FQ_MODULUS

# x, y of 2·G1 and 2·G2 (any points on the curves will do; these are fixed and valid)
_G1_POINT = (1368015179489954701390400359078579693043519447331113978918064868415326638035,
             9918110051302171585080402603319702774565515993150576347155970296011118125764)
_G2_POINT = ((18029695676650738226693292988307914797657423701064905010927197838374790804409,
              14583779054894525174450323658765874724019480979794335525732096752006891875705),
             (2140229616977736810657479771656733941598412651537078903776637920509952744750,
              11474861747383700316476719153975578001603231366361248090558603872215261634898))


def _limbs(values) -> np.ndarray:
    return np.array([[(v >> (64 * i)) & 0xFFFFFFFFFFFFFFFF for i in range(4)] for v in values],
                    dtype=np.uint64)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


def _pairing(g1, g2):
    from gpu_msm.cpu import pairing
    neg = g1[:1].copy()
    neg[0, 1] = _limbs([FQ_MODULUS - _G1_POINT[1]])[0]
    pairing.pairing_check(np.concatenate([g1[:1], neg]), g2)
    pairing.g2_in_subgroup(g2[:1])
    pairing.g1_lincomb(g1, _limbs([1, 2]))


def warm_up(everything: bool = False) -> dict[str, float]:
    """Seconds per kernel family for its first call in this process."""
    import gpu_msm.cpu as cpu
    from gpu_msm.cpu import convert, msm

    g1 = _limbs(list(_G1_POINT) * 2).reshape(2, 2, 4)
    (x0, x1), (y0, y1) = _G2_POINT
    g2 = _limbs([x0, x1, y0, y1] * 2).reshape(2, 2, 2, 4)
    scalars = _limbs([3, 5])
    v = _limbs([1, 2, 3, 4])
    calls = {
        "msm_g1": lambda: cpu.msm_g1(g1, scalars),
        "msm_g2": lambda: cpu.msm_g2(g2, scalars),
        "ntt": lambda: (cpu.ntt(v), cpu.intt(v), cpu.odd_coset(v)),
        "vector_ops": lambda: (cpu.mul_vec(v, v), cpu.add_vec(v, v), cpu.sub_vec(v, v),
                               cpu.neg_vec(v), cpu.mul_scalar(v, 3),
                               cpu.sparse_matvec(2, np.array([0, 1], np.uint32),
                                                 np.array([2, 3], np.uint32), v[:2], v)),
        # reading a zkey: its points and coefficients are stored in Montgomery form
        # (numba compiles read-only arrays, as np.frombuffer gives, as a type of their own)
        "conversions": lambda: [(convert.fq_rows_from_mont(a), convert.fr_rows_from_mont(a),
                                 convert.fr_rows_to_mont(a), convert.check_below(a, "r", "v"))
                                for a in (v, _read_only(v))],
        # what every client runs on each proof (prover.verify): e(P, Q)·e(−P, Q) == 1
        "pairing": lambda: _pairing(g1, g2),
    }
    if everything:
        calls.update({
            "msm_xyzz": lambda: (msm.msm_g1(g1, scalars, strategy="xyzz"),
                                 msm.msm_g2(g2, scalars, strategy="xyzz")),
            "fixed_base": lambda: (cpu.fixed_base_g1(g1[0], scalars), cpu.fixed_base_g2(g2[0], scalars)),
        })
    seconds = {}
    for name, call in calls.items():
        t0 = time.perf_counter()
        call()
        seconds[name] = time.perf_counter() - t0
    return seconds


def main() -> None:
    import sys

    from gpu_msm.cpu.kernel_cache import configure
    for name, secs in warm_up(everything="--all" in sys.argv[1:]).items():
        print(f"{secs:7.2f} s  {name}")
    print(f"kernels cached in {configure()}")


if __name__ == "__main__":
    main()
