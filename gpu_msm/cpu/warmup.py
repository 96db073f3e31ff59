"""Compile (or load from numba's cache) every CPU kernel on tiny inputs.

    python -m gpu_msm.cpu.warmup [--all] [--jobs N]

A fresh installation pays tens of seconds of JIT compilation on its first calls
(figures: bench/RESULTS.md, 'Measurements moved from code comments'); running this
once, e.g. while building a container image, moves that cost out of the first proof.
Prints the seconds each kernel family took and the cache folder
(``gpu_msm.cpu.kernel_cache``).  By default it compiles what proving,
the nodes and the verifier run; ``--all`` adds what only tuning and the dealing of
fixed-base multiples call (the XYZZ strategy, fixed-base tables).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

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


# Seconds each family took to compile from nothing on the 2-core box (bench/RESULTS.md,
# "The first demo"): what the parallel warm-up balances its processes by.
COMPILE_SECONDS = {"msm_g1": 12.8, "msm_g2": 12.8, "ntt": 4.4, "vector_ops": 4.1, "conversions": 2.2,
                   "pairing": 22.9, "msm_xyzz": 20.0, "fixed_base": 10.0}


def _groups(names: list[str], k: int) -> list[list[str]]:
    """The families in k groups of about equal compile time (longest first, each to the
    lightest group so far)."""
    groups: list[list[str]] = [[] for _ in range(k)]
    load = [0.0] * k
    for name in sorted(names, key=lambda n: -COMPILE_SECONDS.get(n, 5.0)):
        i = load.index(min(load))
        groups[i].append(name)
        load[i] += COMPILE_SECONDS.get(name, 5.0)
    return [g for g in groups if g]


def _cold(folder: Path) -> bool:
    """No kernel index in the cache folder yet (numba keeps them in a subfolder per
    source folder): the next warm-up compiles everything."""
    return not any(folder.rglob("*.nbi"))


def compile_in_parallel(names: list[str], jobs: int) -> None:
    """Compile the families in ``jobs`` child processes at once, into this process's cache
    folder (numba compiles on one core: a cold cache is filled in the time of its largest
    group, not of all).  The children import these same files (numba keys its cache by
    source path).  A child that fails costs only time: the caller then loads every family
    itself, compiling what is missing."""
    import subprocess
    import sys

    from gpu_msm.cpu.kernel_cache import configure
    configure()
    root = str(Path(__file__).resolve().parent.parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    procs = [subprocess.Popen([sys.executable, "-P", "-m", "gpu_msm.cpu.warmup", "--only", ",".join(g)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for g in _groups(names, jobs)]
    for proc in procs:
        proc.wait()


def warm_up(everything: bool = False, only: list[str] | None = None, jobs: int | None = None) -> dict[str, float]:
    """Seconds per kernel family for its first call in this process.  On a cold cache
    with several cores (``jobs`` None: as many as there are, up to the families' count)
    the families compile first in child processes side by side, then load here."""
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
    if only is not None:
        unknown = sorted(set(only) - set(calls))
        if unknown:
            raise ValueError(f"unknown kernel families {unknown}: known {sorted(calls)}")
        calls = {k: v for k, v in calls.items() if k in only}
    if only is None:
        from gpu_msm.cpu.kernel_cache import configure
        jobs = min(os.cpu_count() or 1, len(calls)) if jobs is None else jobs
        if jobs > 1 and _cold(configure()):
            compile_in_parallel(list(calls), jobs)
    seconds = {}
    for name, call in calls.items():
        t0 = time.perf_counter()
        call()
        seconds[name] = time.perf_counter() - t0
    return seconds


def main() -> None:
    import argparse

    from gpu_msm.cpu.kernel_cache import configure
    ap = argparse.ArgumentParser(prog="python -m gpu_msm.cpu.warmup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="also what only tuning and fixed-base dealing call")
    ap.add_argument("--only", help="these families only, comma-separated (no child processes)")
    ap.add_argument("--jobs", type=int, help="processes for a cold cache (default: one per core)")
    args = ap.parse_args()
    only = args.only.split(",") if args.only else None
    for name, secs in warm_up(everything=args.all or bool(only), only=only, jobs=args.jobs).items():
        print(f"{secs:7.2f} s  {name}")
    print(f"kernels cached in {configure()}")


if __name__ == "__main__":
    main()
