"""Time the device's local polynomial work at Groth16 sizes: the steps between MSMs.

    python bench/gpu_vec.py [--sizes 16,18,20,22] [--reps 10]

Per size n: Fr add / mul / mul-by-constant, the sparse product with ~2 entries a row
(the shape of a mul-chain circuit's A and B), the odd-coset transform (iNTT, shift,
NTT), and one vector's host-to-device and device-to-host copy.  Vectors are resident
CuPy arrays (the prover's steady state); medians of --reps after a warm-up, CUDA events.
Checks a sample of each result against Python ints first.  Prints a table last.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="16,18,20,22")
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    import cupy as cp
    import gpu_msm.cuda as gc
    from gpu_msm.constants import FR_MODULUS as R
    from prover import ntt as pntt

    rng = np.random.default_rng()

    def rand_vec(n):
        a = rng.integers(0, 2**63, size=(n, 4), dtype=np.uint64)
        a[:, 3] &= np.uint64((1 << 60) - 1)  # < 2^252 < r
        return a

    def ints(a):
        return [int.from_bytes(r.astype("<u8").tobytes(), "little") for r in np.asarray(a)]

    def timed(fn):
        fn()
        cp.cuda.Device().synchronize()
        out = []
        for _ in range(args.reps):
            e0, e1 = cp.cuda.Event(), cp.cuda.Event()
            e0.record()
            fn()
            e1.record()
            e1.synchronize()
            out.append(cp.cuda.get_elapsed_time(e0, e1))
        return float(np.median(out))

    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    rows = []
    for logn in (int(x) for x in args.sizes.split(",")):
        n = 1 << logn
        a, b = rand_vec(n), rand_vec(n)
        da, db = gc.to_device(a), gc.to_device(b)
        k = 2 * n  # entries: row i gets (i, i) and (i, i // 2 + 1)
        cons = np.repeat(np.arange(n, dtype=np.uint32), 2)
        sig = np.stack([np.arange(n), np.arange(n) // 2 + 1], axis=1).reshape(-1).astype(np.uint32)
        vals = rand_vec(k)
        mat = gc.SparseMatrix(n, cons, sig, vals)
        # spot checks on a few rows
        idx = rng.integers(0, n, size=4)
        ai, bi = ints(a[idx]), ints(b[idx])
        assert ints(gc.to_host(gc.mul_vec(da, db))[idx]) == [x * y % R for x, y in zip(ai, bi)]
        mv = gc.to_host(mat.matvec(da))
        for i in idx.tolist():
            vs = ints(vals[2 * i:2 * i + 2])
            want = (vs[0] * ints(a[[i]])[0] + vs[1] * ints(a[[i // 2 + 1]])[0]) % R
            assert ints(mv[[i]])[0] == want
        if logn <= 12:
            assert ints(gc.to_host(gc.odd_coset(da))) == pntt.odd_coset(ints(a))
        t = {
            "add": timed(lambda: gc.add_vec(da, db)),
            "mul": timed(lambda: gc.mul_vec(da, db)),
            "scale": timed(lambda: gc.mul_scalar(da, 12345)),
            "matvec": timed(lambda: mat.matvec(da)),
            "odd_coset": timed(lambda: gc.odd_coset(da)),
            "h2d": timed(lambda: cp.asarray(a)),
            "d2h": timed(lambda: da.get()),
        }
        rows.append((logn, t))
        print(f"2^{logn}: " + "  ".join(f"{k} {v:.3f}" for k, v in t.items()), flush=True)
    print(f"\ndevice: {name}   ms per call (median of {args.reps})")
    keys = list(rows[0][1])
    print("size  " + "".join(f"{k:>10}" for k in keys))
    for logn, t in rows:
        print(f"2^{logn:<3} " + "".join(f"{t[k]:10.3f}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
