"""Pippenger MSM on the device: the host side of ``kernels/msm.cu``.

Stages (one kernel each): breakdown -> sort (counting sort) -> accumulate (+ fixup) ->
integrate -> collect.  Bases live on the device in Montgomery form: ``upload_bases``
returns a handle that the MSMs take in place of the array, and that holds the device
memory for as long as its owner keeps it (the prover's engine: as long as the zkey lives),
so that a proof streams only its scalars.  Results come back as one XYZZ point and are made affine here.
"""

from __future__ import annotations

import numpy as np

from gpu_msm.constants import FQ_MODULUS, FR_MODULUS
from gpu_msm.cuda import _build
from gpu_msm.msm_plan import BUILT_IN, MsmPlan, kernel_overrides, plan_msm, poison_buffers
from gpu_msm.reduced import rows_below
from gpu_msm.strategy_names import BACKEND_STRATEGIES

Q = FQ_MODULUS

# #defines for msm.cu.  ACC_CHUNK: sorted points per accumulate thread; ACC_BLOCK: its
# block size; ACC_MINB / INT_MINB: min blocks per SM in accumulate's / integrate's launch
# bounds (register caps); INT_OOL: integrate's running sums through the out-of-line add.
# FIELD_MUL (field.cuh): 1 = multiply and square with 64-bit partial products (IMAD.WIDE),
# the fastest variant tried (figures and the variants: bench/RESULTS.md, "Tuning choices
# of the CUDA MSM").
TUNING = {"ACC_CHUNK": 64, "ACC_BLOCK": 128, "ACC_MINB": 1, "FIXUP_SERIAL": 16, "FIELD_MUL": 1,
          "INT_MINB": 1, "INT_OOL": 0, "AFF_K": 8, "BINV_K": 32}
# per-curve overrides.  G1: __launch_bounds__(128, 5) caps accumulate at 96 registers (20
# warps/SM), faster at 2^22.  G2: INT_OOL=1 (the inline add spilled) and FQ2_LAZY=1 (two
# Montgomery reductions per Fq2 multiply, kernels/fq2_lazy.cuh).  Figures and what else
# was tried: bench/RESULTS.md, "Tuning choices of the CUDA MSM".
TUNING_CURVE = {"G1": {"ACC_MINB": 5}, "G2": {"INT_OOL": 1, "FQ2_LAZY": 1}}


# log2 of the buckets per integrate thread (then warp and block combines; see integrate in
# msm.cu).  Runs of 16 were the fastest tried (figures: bench/RESULTS.md, "Tuning choices
# of the CUDA MSM").
INTEGRATE_LOG_SEGMENT = 4
BLOCK = 256
# the block size of the batch-affine rounds (kernels/msm_affine.cuh; their AFF_K and
# BINV_K come from the module's defines)
AFF_BLOCK = 128

class _Curve:
    def __init__(self, name: str, g2: bool):
        self.name, self.g2 = name, g2
        self.fq_per_coord = 2 if g2 else 1
        self.point_words = 16 * self.fq_per_coord  # affine (x, y), 32-bit words
        self.acc_words = 32 * self.fq_per_coord    # XYZZ
        self.shape = (2, 2, 4) if g2 else (2, 4)


G1 = _Curve("G1", False)
G2 = _Curve("G2", True)


def _cp():
    import cupy
    return cupy


def defines(curve: _Curve, block: int | None = None) -> dict:
    """The module's #defines; ``block`` overrides ACC_BLOCK (another module variant,
    compiled on first use like any other)."""
    d = {**TUNING, **TUNING_CURVE[curve.name], **kernel_overrides(curve.name), "CURVE_G2": int(curve.g2)}
    if block is not None:
        if type(block) is not int or block % 32 or not 32 <= block <= 1024:
            raise ValueError(f"block {block!r}: a multiple of 32 from 32 to 1024")
        d["ACC_BLOCK"] = block
    return d


def kernels(curve: _Curve, block: int | None = None):
    return _build.module("msm.cu", defines(curve, block))


def _u32(x):
    return np.uint32(x)


def _sm_count() -> int:
    cp = _cp()
    dev = cp.cuda.Device()
    return dev.attributes["MultiProcessorCount"]


def _grid(threads: int, block: int = BLOCK) -> tuple[int]:
    return (max(1, -(-threads // block)),)


# ---------------------------------------------------------------- bases on the device

class DeviceBases:
    """Bases held on the device(s), of one curve: an MSM takes a prefix of them (the C
    section's scalars are the witness tail).  ``ResidentBases`` (one device) and
    ``slots.SplitBases`` (ranges over several) are the two kinds."""
    curve: _Curve
    n: int


class ResidentBases(DeviceBases):
    """Affine bases in device memory (Montgomery form): pass in place of the numpy array."""

    def __init__(self, key, curve: _Curve, data, n: int):
        self.key, self.curve, self.data, self.n = key, curve, data, n

    def __len__(self):
        return self.n

    def __repr__(self):
        return f"ResidentBases({self.key!r}, {self.curve.name}, n={self.n})"


def _curve_of(bases) -> _Curve:
    shape = np.shape(bases)
    if len(shape) == 3 and shape[1:] == (2, 4):
        return G1
    if len(shape) == 4 and shape[1:] == (2, 2, 4):
        return G2
    raise ValueError(f"bases of shape {shape}: want (n, 2, 4) for G1 or (n, 2, 2, 4) for G2")


def _check_below(limbs: np.ndarray, modulus: int, what: str) -> None:
    """Every 4-limb row < modulus, or a ValueError naming the first row that is not."""
    below = rows_below(limbs, modulus)
    if not below.all():
        raise ValueError(f"{what}: coordinate not reduced below the modulus at row "
                         f"{int(np.argmin(below))}")


def upload_bases(bases, curve: _Curve | None = None, key=None) -> ResidentBases:
    """Copy canonical affine bases to the device and convert them to Montgomery form: the
    one way bases stay resident (``key`` only names them in the handle's repr)."""
    cp = _cp()
    curve = curve or _curve_of(bases)
    if isinstance(bases, cp.ndarray):
        d = cp.ascontiguousarray(bases, dtype=cp.uint64)
        n = d.shape[0]
    else:
        arr = np.ascontiguousarray(bases, dtype=np.uint64)
        n = arr.shape[0]
        _check_below(arr.reshape(-1, 4), Q, f"{curve.name} bases")
        d = cp.asarray(arr)
    d = d.view(cp.uint32).reshape(n, curve.point_words)
    count = n * curve.point_words // 8
    if count:
        kernels(curve).get_function("fq_to_mont")(_grid(count), (BLOCK,), (d, np.uint64(count)))
    return ResidentBases(key, curve, d, n)


# ---------------------------------------------------------------- the MSM

SCALAR_BITS = 254


# Measured best window per log2(n) (bench/gpu_msm.py --windows sweep; the run:
# bench/RESULTS.md, "Tuning choices of the CUDA MSM"): larger windows cost more in
# integrate than they save in accumulate past c = 16-17.
WINDOW_TABLE = {16: 13, 17: 13, 18: 13, 19: 15, 20: 16, 21: 16, 22: 16, 23: 17, 24: 17}


def window_bits(n: int) -> int:
    """Window size c for an MSM of n points: the measured table from 2^16 up (17 past
    2^24), below that c minimising windows × (n mixed adds + ~4 per bucket)."""
    log_n = max(n, 1).bit_length() - 1
    if log_n >= 16:
        return WINDOW_TABLE.get(log_n, 17)
    best, best_cost = 2, None
    for c in range(2, 17):
        nwin = -(-(SCALAR_BITS + 1) // c)
        cost = nwin * (n + 4 * (1 << (c - 1)))
        if best_cost is None or cost < best_cost:
            best, best_cost = c, cost
    return best


def _scalars_on_device(scalars, n_max: int):
    cp = _cp()
    if isinstance(scalars, cp.ndarray):
        s = cp.ascontiguousarray(scalars)
        if s.dtype == cp.uint32 and s.ndim == 2 and s.shape[1] == 8:
            return s
        s = s.astype(cp.uint64, copy=False)
    else:
        s = cp.asarray(np.ascontiguousarray(scalars, dtype=np.uint64))
    if s.ndim != 2 or s.shape[1] != 4:
        raise ValueError(f"scalars of shape {s.shape}: want (n, 4) uint64")
    if s.shape[0] > n_max:
        raise ValueError(f"{s.shape[0]} scalars for {n_max} bases")
    return s.view(cp.uint32).reshape(-1, 8)


def plan(curve: _Curve, n: int, window: int | None = None, strategy: str | None = None,
         block: int | None = None) -> MsmPlan:
    """This MSM's settings (``gpu_msm.msm_plan``: arguments > tune cache > WINDOW_TABLE /
    the cost model and STRATEGY_TABLE)."""
    return plan_msm("cuda", curve.name.lower(), n, lambda n: (window_bits(n), default_strategy(curve, n)),
                    window=window, strategy=strategy, block=block)


# Accumulation strategies (gpu_msm.strategy_names): "xyzz"; "affine-L" first runs L
# batch-affine rounds (kernels/msm_affine.cuh).
STRATEGIES = BACKEND_STRATEGIES["cuda"]
DEFAULT_STRATEGY = "xyzz"
# The measured best per log2(n) where it is not XYZZ (bench/gpu_msm.py --strategies
# xyzz,affine-1,affine-2,affine-3; the figures: bench/RESULTS.md, "Tuning choices of the
# CUDA MSM"): below these sizes a batch-affine round costs about what it saves, or more.
STRATEGY_TABLE = {"G1": {22: "affine-2", 23: "affine-2", 24: "affine-3"},
                  "G2": {18: "affine-2", 19: "affine-2", 20: "affine-1", 21: "affine-1", 22: "affine-3",
                         23: "affine-3", 24: "affine-3"}}


def default_strategy(curve: _Curve, n: int) -> str:
    return STRATEGY_TABLE[curve.name].get(max(n, 1).bit_length() - 1, DEFAULT_STRATEGY)


def affine_rounds(strategy: str) -> int:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy {strategy!r}: one of {', '.join(STRATEGIES)}")
    return 0 if strategy == "xyzz" else int(strategy.split("-")[1])


def _affine_rounds(k, defs: dict, curve: _Curve, bases: ResidentBases, entries, starts, counts, total,
                   rounds: int, nb: int, bound: int, keep: list):
    """Run batch-affine rounds on the sorted points; returns the shortened lists as
    (points, starts, counts, total, bound): msm_accumulate's input with direct = 1."""
    cp = _cp()
    aff_k = defs["AFF_K"]
    fw = 8 * curve.fq_per_coord  # u32 words of one F element
    pts = None
    for _ in range(rounds):
        d_cnt = (counts + 1) >> 1
        d_end = cp.cumsum(d_cnt, dtype=cp.uint32)
        d_start = d_end - d_cnt
        d_total = d_end[-1:]
        # Σ ceil(c / 2) <= (Σ c + nonempty buckets) / 2
        bound = (bound + min(nb, bound) + 1) // 2
        nthreads = max(1, -(-bound // aff_k))
        pref = cp.empty((bound, fw), cp.uint32)
        tot = cp.empty((nthreads, fw), cp.uint32)
        out = cp.empty((bound, curve.point_words), cp.uint32)
        args = (bases.data, entries, pts if pts is not None else np.uint64(0), starts, counts,
                d_start, d_total, _u32(nb))
        k.get_function("msm_aff_denoms")(_grid(nthreads, AFF_BLOCK), (AFF_BLOCK,),
                                         (*args, pref, tot, _u32(nthreads)))
        keep += _batch_invert(k, tot, nthreads, fw, defs["BINV_K"])
        k.get_function("msm_aff_apply")(_grid(nthreads, AFF_BLOCK), (AFF_BLOCK,),
                                        (*args, pref, tot, out, _u32(nthreads)))
        keep += [d_cnt, d_end, d_start, pref, tot, out]
        pts, starts, counts, total = out, d_start, d_cnt, d_total
    return pts, starts, counts, total, bound


def _batch_invert(k, values, n: int, fw: int, per_thread: int) -> list:
    """values[:n] (nonzero, (n, fw) u32 Montgomery) -> their inverses, in place, with one
    field inversion; returns the temporaries to keep until the stream has run."""
    cp = _cp()
    if n == 1:
        k.get_function("msm_binv_root")((1,), (1,), (values,))
        return []
    m = -(-n // per_thread)
    pref = cp.empty((n, fw), cp.uint32)
    tot = cp.empty((m, fw), cp.uint32)
    k.get_function("msm_binv_up")(_grid(m), (BLOCK,), (values, _u32(n), pref, tot, _u32(m)))
    kept = _batch_invert(k, tot, m, fw, per_thread)
    k.get_function("msm_binv_down")(_grid(m), (BLOCK,), (values, _u32(n), pref, tot, _u32(m)))
    return kept + [pref, tot]


def msm_device(curve: _Curve, bases: ResidentBases, scalars, window: int | None = None,
               marks: list | None = None, block: int | None = None, keep: list | None = None,
               strategy: str | None = None):
    """Run the device pipeline; returns (window sums, c): the sums Σ_d d·B_d of each
    window as XYZZ Montgomery words (nwin, words) on the device, and the window size.
    ``finish`` combines them on the host.

    ``scalars`` (n, 4) uint64 (numpy or CuPy) or (n, 8) uint32 on the device; n may be
    smaller than len(bases): the first n bases are used.  Asynchronous: nothing syncs.
    ``marks``, when a list, receives (stage name, recorded CUDA event) pairs.
    ``keep``, when a list, receives every temporary: a caller that does not wait for
    the stream holds them until it does, so no allocation elsewhere reuses their memory
    while kernels still use it (seen as wrong MSMs with parties in threads).
    ``window`` / ``block`` (accumulate's ACC_BLOCK) / ``strategy`` (STRATEGIES): None
    takes the `coprove tune` cache's entry for this device and size, else WINDOW_TABLE /
    the cost model, TUNING and STRATEGY_TABLE.
    """
    cp = _cp()

    def mark(stage):
        if marks is not None:
            ev = cp.cuda.Event()
            ev.record()
            marks.append((stage, ev))

    mark("start")
    s = _scalars_on_device(scalars, bases.n)
    n = s.shape[0]
    aw = curve.acc_words
    if n == 0:
        return cp.zeros((1, aw), cp.uint32), 1  # one window, infinity
    p = plan(curve, n, window, strategy, block)
    rounds = affine_rounds(p.strategy)
    if rounds and p.sources["strategy"] == BUILT_IN and not _affine_fits(curve, rounds, n):
        rounds = 0  # the table's choice, not the caller's: XYZZ needs no round arrays
    c = p.window
    defs = defines(curve, p.block)
    k = _build.module("msm.cu", defs)
    nwin = -(-(SCALAR_BITS + 1) // c)
    B = 1 << (c - 1)
    nb = nwin * B
    chunk = TUNING["ACC_CHUNK"]
    max_entries = nwin * n
    nchunks = -(-max_entries // chunk)

    counts = cp.zeros(nb, cp.uint32)
    keys = cp.empty(max_entries, cp.uint32)
    k.get_function("msm_breakdown")(_grid(n), (BLOCK,), (s, _u32(n), _u32(c), _u32(nwin), counts, keys))
    mark("breakdown")
    ends = cp.cumsum(counts, dtype=cp.uint32)
    total = ends[-1:].copy()
    mark("scan")
    entries = cp.empty(max_entries, cp.uint32)
    k.get_function("msm_sort_scatter")((_grid(n)[0], nwin), (BLOCK,), (keys, _u32(n), ends, entries))
    if keep is not None:
        keep.append(keys)
    del keys
    starts = ends
    mark("sort")
    temps: list = []
    points, direct = bases.data, 0
    if rounds:
        points, starts, counts, total, max_entries = _affine_rounds(
            k, defs, curve, bases, entries, starts, counts, total, rounds, nb, max_entries, temps)
        direct = 1
        nchunks = -(-max_entries // chunk)
        mark("affine")

    buckets = cp.empty((nb, aw), cp.uint32)
    first_part = cp.empty((nchunks, aw), cp.uint32)
    last_part = cp.empty((nchunks, aw), cp.uint32)
    log_M = min(INTEGRATE_LOG_SEGMENT, c - 1)
    S = B >> log_M
    K = -(-S // 256)
    sums = [(cp.empty((nwin * K, aw), cp.uint32), cp.empty((nwin * K, aw), cp.uint32))]
    while K > 1:
        K = -(-K // 256)
        sums.append((cp.empty((nwin * K, aw), cp.uint32), cp.empty((nwin * K, aw), cp.uint32)))
    if poison_buffers():
        for arr in (buckets, first_part, last_part, *(x for pair in sums for x in pair)):
            arr.fill(0xFFFFFFFF)
    ab = defs["ACC_BLOCK"]  # the block this module variant's launch bounds were built for
    k.get_function("msm_accumulate")(_grid(nchunks, ab), (ab,),
                                     (points, entries, starts, counts, total, _u32(nb),
                                      buckets, first_part, last_part, _u32(direct)))
    mark("accumulate")
    cap = min(nb, nchunks) + 1
    lists = cp.empty(2 * cap, cp.uint32)
    list_counts = cp.zeros(2, cp.uint32)
    k.get_function("msm_accumulate_fixup")(_grid(nb, 128), (128,),
                                           (starts, counts, first_part, last_part, buckets, _u32(nb),
                                            lists, list_counts, _u32(cap)))
    sms = _sm_count()
    k.get_function("msm_accumulate_wide")((4 * sms,), (256,), (starts, counts, first_part, last_part,
                                                                buckets, lists, list_counts))
    k.get_function("msm_accumulate_huge")((sms,), (256,), (starts, counts, first_part, last_part,
                                                           buckets, lists[cap:], list_counts[1:]))
    mark("fixup")
    K = -(-S // 256)
    k.get_function("msm_integrate")((K, nwin), (256,), (buckets, _u32(B), _u32(log_M), _u32(S),
                                                       sums[0][0], sums[0][1], _u32(K)))
    mark("integrate")
    log_m = log_M + 8
    for (inT, inR), (outT, outR) in zip(sums, sums[1:]):
        K2 = -(-K // 256)
        k.get_function("msm_combine")((K2, nwin), (256,), (inT, inR, _u32(K), _u32(log_m), outT, outR, _u32(K2)))
        K, log_m = K2, log_m + 8
    mark("collect")
    if keep is not None:
        keep += [s, counts, ends, total, entries, buckets, first_part, last_part, lists, list_counts, sums,
                 *temps]
    return sums[-1][0], c


def stage_times(marks) -> dict:
    """{stage: ms} from the marks msm_device recorded (synchronises)."""
    from cupy.cuda import get_elapsed_time
    marks[-1][1].synchronize()
    return {name: get_elapsed_time(marks[i - 1][1], ev) for i, (name, ev) in enumerate(marks) if i}


# ---------------------------------------------------------------- host side of the result

def _words_to_ints(words: np.ndarray) -> list[int]:
    w = np.ascontiguousarray(words, dtype=np.uint32).reshape(-1, 8)
    return [int.from_bytes(row.astype("<u4").tobytes(), "little") for row in w]


def _f2_mul(a, b):
    t0, t1 = a[0] * b[0], a[1] * b[1]
    return ((t0 - t1) % Q, ((a[0] + a[1]) * (b[0] + b[1]) - t0 - t1) % Q)


def _f2_inv(a):
    t = pow(a[0] * a[0] + a[1] * a[1], -1, Q)
    return (a[0] * t % Q, -a[1] * t % Q)


def xyzz_to_affine_ints(curve: _Curve, words: np.ndarray):
    """XYZZ words (Montgomery) -> affine ints ((x, y) or ((x0, x1), (y0, y1))), None = infinity.

    x = X / ZZ and y = Y / ZZZ: the Montgomery factor cancels in each ratio.
    """
    v = _words_to_ints(words)
    if curve.g2:
        X, Y, ZZ, ZZZ = (v[0], v[1]), (v[2], v[3]), (v[4], v[5]), (v[6], v[7])
        if ZZ[0] % Q == 0 and ZZ[1] % Q == 0:
            return None
        return _f2_mul(X, _f2_inv(ZZ)), _f2_mul(Y, _f2_inv(ZZZ))
    X, Y, ZZ, ZZZ = v
    if ZZ % Q == 0:
        return None
    return X * pow(ZZ, -1, Q) % Q, Y * pow(ZZZ, -1, Q) % Q


def _ints_to_array(values, shape) -> np.ndarray:
    buf = b"".join(int(x).to_bytes(32, "little") for x in values)
    return np.frombuffer(buf, dtype="<u8").astype(np.uint64).reshape(shape)


def affine_to_array(curve: _Curve, p) -> np.ndarray:
    if p is None:
        return np.zeros(curve.shape, np.uint64)
    if curve.g2:
        return _ints_to_array([p[0][0], p[0][1], p[1][0], p[1][1]], curve.shape)
    return _ints_to_array([p[0], p[1]], curve.shape)


# Jacobian arithmetic for the window combination (a = 0): Python ints for Fq, pairs for Fq2.
# About 255 doublings in a chain, each step being a latency-bound chain of dependent
# multiplications: CPython here beat one GPU thread at it (figures: bench/RESULTS.md,
# "Tuning choices of the CUDA MSM").

class _FqOps:
    zero, one = 0, 1

    @staticmethod
    def add(a, b):
        return (a + b) % Q

    @staticmethod
    def sub(a, b):
        return (a - b) % Q

    @staticmethod
    def mul(a, b):
        return a * b % Q

    @staticmethod
    def small(a, k):
        return a * k % Q

    @staticmethod
    def is_zero(a):
        return a == 0


class _Fq2Ops:
    zero, one = (0, 0), (1, 0)

    @staticmethod
    def add(a, b):
        return ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)

    @staticmethod
    def sub(a, b):
        return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)

    mul = staticmethod(_f2_mul)

    @staticmethod
    def small(a, k):
        return (a[0] * k % Q, a[1] * k % Q)

    @staticmethod
    def is_zero(a):
        return a == (0, 0)


def _jdouble(F, P):
    """dbl-2009-l; infinity has Z = 0."""
    X, Y, Z = P
    if F.is_zero(Z):
        return P
    A, B = F.mul(X, X), F.mul(Y, Y)
    C = F.mul(B, B)
    XB = F.add(X, B)
    D = F.small(F.sub(F.mul(XB, XB), F.add(A, C)), 2)
    E = F.small(A, 3)
    X3 = F.sub(F.mul(E, E), F.small(D, 2))
    Y3 = F.sub(F.mul(E, F.sub(D, X3)), F.small(C, 8))
    return X3, Y3, F.small(F.mul(Y, Z), 2)


def _jadd_affine(F, P, a):
    """P + a with a affine (not infinity); madd-2007-bl with the special cases."""
    X1, Y1, Z1 = P
    if F.is_zero(Z1):
        return a[0], a[1], F.one
    Z1Z1 = F.mul(Z1, Z1)
    U2 = F.mul(a[0], Z1Z1)
    S2 = F.mul(a[1], F.mul(Z1, Z1Z1))
    H = F.sub(U2, X1)
    r = F.small(F.sub(S2, Y1), 2)
    if F.is_zero(H):
        return _jdouble(F, P) if F.is_zero(r) else (F.one, F.one, F.zero)
    HH = F.mul(H, H)
    I = F.small(HH, 4)
    J = F.mul(H, I)
    V = F.mul(X1, I)
    X3 = F.sub(F.sub(F.mul(r, r), J), F.small(V, 2))
    Y3 = F.sub(F.mul(r, F.sub(V, X3)), F.small(F.mul(Y1, J), 2))
    ZH = F.add(Z1, H)
    Z3 = F.sub(F.sub(F.mul(ZH, ZH), Z1Z1), HH)
    return X3, Y3, Z3


def _jdouble_g1(P):
    """_jdouble on Fq with the arithmetic written out (twice as fast in CPython); C = B^2
    stays unreduced (it is only subtracted and scaled before the next reduction)."""
    X, Y, Z = P
    if Z == 0:
        return P
    A = X * X % Q
    B = Y * Y % Q
    C = B * B
    XB = X + B
    D = 2 * (XB * XB - A - C) % Q
    E = 3 * A
    X3 = (E * E - 2 * D) % Q
    return X3, (E * (D - X3) - 8 * C) % Q, 2 * Y * Z % Q


def _jdouble_g2(P):
    """_jdouble on Fq2 (u^2 = -1) written out: squarings as (a+b)(a-b), 2ab."""
    (x0, x1), (y0, y1), (z0, z1) = P
    if z0 == 0 and z1 == 0:
        return P
    a0, a1 = (x0 + x1) * (x0 - x1) % Q, 2 * x0 * x1 % Q  # A = X^2
    b0, b1 = (y0 + y1) * (y0 - y1) % Q, 2 * y0 * y1 % Q  # B = Y^2
    c0, c1 = (b0 + b1) * (b0 - b1) % Q, 2 * b0 * b1 % Q  # C = B^2
    s0, s1 = x0 + b0, x1 + b1
    d0 = 2 * ((s0 + s1) * (s0 - s1) - a0 - c0) % Q       # D = 2((X + B)^2 - A - C)
    d1 = 2 * (2 * s0 * s1 - a1 - c1) % Q
    e0, e1 = 3 * a0, 3 * a1                              # E = 3A
    X0 = ((e0 + e1) * (e0 - e1) - 2 * d0) % Q            # X3 = E^2 - 2D
    X1 = (2 * e0 * e1 - 2 * d1) % Q
    u0, u1 = d0 - X0, d1 - X1                            # Y3 = E(D - X3) - 8C
    Y0 = (e0 * u0 - e1 * u1 - 8 * c0) % Q
    Y1 = (e0 * u1 + e1 * u0 - 8 * c1) % Q
    return (X0, X1), (Y0, Y1), (2 * (y0 * z0 - y1 * z1) % Q, 2 * (y0 * z1 + y1 * z0) % Q)


def _batch_inverse(F, values, inv):
    """Montgomery's trick: the inverses of nonzero values with one field inversion."""
    prefix, acc = [], F.one
    for v in values:
        prefix.append(acc)
        acc = F.mul(acc, v)
    acc = inv(acc)
    out = [None] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = F.mul(acc, prefix[i])
        acc = F.mul(acc, values[i])
    return out


def windows_affine(curve: _Curve, wins: np.ndarray) -> list:
    """XYZZ window sums (Montgomery words) -> affine ints, None = infinity, with one
    inversion for all of them (two per window cost more CPython time; figures:
    bench/RESULTS.md, "Tuning choices of the CUDA MSM")."""
    F = _Fq2Ops if curve.g2 else _FqOps
    v = _words_to_ints(wins)
    k = 8 if curve.g2 else 4
    pts, dens = [], []
    for w in range(len(v) // k):
        r = v[w * k:(w + 1) * k]
        if curve.g2:
            X, Y, ZZ, ZZZ = (r[0], r[1]), (r[2], r[3]), (r[4] % Q, r[5] % Q), (r[6], r[7])
        else:
            X, Y, ZZ, ZZZ = r[0], r[1], r[2] % Q, r[3]
        if F.is_zero(ZZ):
            pts.append(None)
        else:
            pts.append((X, Y))
            dens += [ZZ, ZZZ]
    invs = _batch_inverse(F, dens, _f2_inv if curve.g2 else (lambda a: pow(a, -1, Q)))
    out, j = [], 0
    for p in pts:
        if p is None:
            out.append(None)
        else:
            out.append((F.mul(p[0], invs[j]), F.mul(p[1], invs[j + 1])))
            j += 2
    return out


def finish(curve: _Curve, wins: np.ndarray, c: int):
    """Σ_w 2^(w·c)·wins[w] (Horner, top window first) -> affine ints, None = infinity."""
    return horner(curve, [windows_affine(curve, wins)], c)


def horner(curve: _Curve, sums: list, c: int):
    """Σ over the lists in ``sums`` of Σ_w 2^(w·c)·pts[w] (affine window sums, None =
    infinity): the doublings once, each list's window added at its place.  Several lists:
    the MSM's ranges on several device slots, all run with window c."""
    F = _Fq2Ops if curve.g2 else _FqOps
    dbl = _jdouble_g2 if curve.g2 else _jdouble_g1
    acc = (F.one, F.one, F.zero)
    for w in range(max((len(pts) for pts in sums), default=0) - 1, -1, -1):
        for _ in range(c):
            acc = dbl(acc)
        for pts in sums:
            if w < len(pts) and pts[w] is not None:
                acc = _jadd_affine(F, acc, pts[w])
    return _jacobian_to_affine(curve, acc)


def _jacobian_to_affine(curve: _Curve, acc):
    F = _Fq2Ops if curve.g2 else _FqOps
    X, Y, Z = acc
    if F.is_zero(Z):
        return None
    if curve.g2:
        zi = _f2_inv(Z)
        zi2 = _f2_mul(zi, zi)
        return _f2_mul(X, zi2), _f2_mul(Y, _f2_mul(zi2, zi))
    zi = pow(Z, -1, Q)
    return X * zi * zi % Q, Y * zi * zi * zi % Q


def msm_ints(curve: _Curve, bases: ResidentBases, scalars, window: int | None = None,
             strategy: str | None = None):
    """The MSM as affine ints (None = infinity): device pipeline, then the host's Horner."""
    wins, c = msm_device(curve, bases, scalars, window, strategy=strategy)
    return finish(curve, wins.get(), c)


# device bytes an MSM needs per point beyond its bases: scalars, two u32 (bucket, point)
# keys per window at c = 16, and slack for the bucket arrays' share
_BYTES_PER_POINT = 32 + 2 * 4 * 17 + 64


def _affine_bytes_per_point(curve: _Curve, rounds: int) -> int:
    """Batch-affine rounds' arrays per point (all held until the stream has run): round r
    writes ~windows / 2^r points and as many prefix products, at c = 16."""
    per_entry = (curve.point_words + 8 * curve.fq_per_coord) * 4
    return sum(16 * per_entry >> r for r in range(1, rounds + 1))


def _affine_fits(curve: _Curve, rounds: int, n: int) -> bool:
    """The rounds' arrays fit in half of the device memory free now (other nodes and jobs
    may share the device), counting the blocks CuPy's pool holds free."""
    cp = _cp()
    free = cp.cuda.runtime.memGetInfo()[0] + cp.get_default_memory_pool().free_bytes()
    return _affine_bytes_per_point(curve, rounds) * n <= free // 2


def chunk_points(curve: _Curve, free_bytes: int | None = None, strategy: str = DEFAULT_STRATEGY) -> int:
    """How many host-held bases fit on the device at once, with their working memory,
    using half of what is free (other jobs and nodes share the device)."""
    if free_bytes is None:
        free_bytes = _cp().cuda.runtime.memGetInfo()[0]
    per_point = curve.point_words * 4 + _BYTES_PER_POINT + _affine_bytes_per_point(curve, affine_rounds(strategy))
    return max(1 << 16, (free_bytes // 2) // per_point)


def msm(curve: _Curve, bases, scalars, window: int | None = None, max_points: int | None = None) -> np.ndarray:
    """Host scalars are checked (< r); a numpy array of bases needs exactly one scalar per
    base, resident bases accept a prefix (the C section's scalars are the witness tail).
    Host bases larger than the device can hold (``max_points``, default from its free
    memory) go through in chunks whose results are summed on the host."""
    scalars = _checked_scalars(curve, bases, scalars)
    if not isinstance(bases, ResidentBases):
        p = plan(curve, len(scalars))
        # a chunk's own size picks its strategy (STRATEGY_TABLE): room for the deepest
        step = max_points or chunk_points(curve, strategy=p.strategy if p.sources["strategy"] != BUILT_IN
                                          else "affine-3")
        if len(scalars) > step:
            return affine_to_array(curve, _msm_chunked(curve, bases, scalars, window, step))
    return affine_to_array(curve, msm_ints(curve, _on_device(curve, bases), scalars, window))


def _checked_scalars(curve: _Curve, bases, scalars):
    """The API's checks: host scalars (n, 4) below r, one per base of a numpy array (a
    prefix of bases held on the device), device bases of this curve."""
    if not isinstance(scalars, _cp().ndarray):
        scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
        if scalars.ndim != 2 or scalars.shape[1] != 4:
            raise ValueError(f"scalars of shape {scalars.shape}: want (n, 4) uint64")
        _check_below(scalars, FR_MODULUS, "scalars")
    if isinstance(bases, DeviceBases):
        if bases.curve is not curve:
            raise ValueError(f"bases on the device are {bases.curve.name}, not {curve.name}")
        if scalars.shape[0] > bases.n:
            raise ValueError(f"{scalars.shape[0]} scalars for {bases.n} bases")
    elif np.shape(bases)[0] != scalars.shape[0]:
        raise ValueError(f"{scalars.shape[0]} scalars for {np.shape(bases)[0]} bases")
    return scalars


def _on_device(curve: _Curve, bases) -> ResidentBases:
    return bases if isinstance(bases, ResidentBases) else upload_bases(bases, curve)


def _msm_chunked(curve: _Curve, bases, scalars, window, step: int):
    """Σ over chunks of ``step`` bases, each uploaded, reduced on the device and freed."""
    F = _Fq2Ops if curve.g2 else _FqOps
    acc = (F.one, F.one, F.zero)  # Jacobian infinity
    for lo in range(0, len(scalars), step):
        part = msm_ints(curve, upload_bases(bases[lo:lo + step], curve), scalars[lo:lo + step], window)
        if part is not None:
            acc = _jadd_affine(F, acc, part)
    return _jacobian_to_affine(curve, acc)


def msm_start(group: str, bases, scalars):
    """Start an MSM on its own stream and return a function that waits for it and gives
    the affine array: the prover launches MSMs that do not feed round 1 before the
    exchange, so the device computes while the host talks to peers.  The inputs may
    come from work queued on the current stream: the new stream waits for it first."""
    cp = _cp()
    curve = G1 if group == "g1" else G2
    scalars = _checked_scalars(curve, bases, scalars)
    bases = _on_device(curve, bases)
    ready = cp.cuda.Event(disable_timing=True)
    ready.record()
    stream = cp.cuda.Stream(non_blocking=True)
    stream.wait_event(ready)
    keep: list = [scalars, bases]  # a caller's handle may be its only reference
    with stream:
        wins, c = msm_device(curve, bases, scalars, keep=keep)

    def result() -> np.ndarray:
        stream.synchronize()
        out = affine_to_array(curve, finish(curve, wins.get(stream=stream), c))
        keep.clear()
        return out

    return result


def msm_g1(bases, scalars) -> np.ndarray:
    """Σ scalars[i]·bases[i] in G1: (n, 2, 4) (or a ResidentBases) and (n, 4) -> (2, 4)."""
    return msm(G1, bases, scalars)


def msm_g2(bases, scalars) -> np.ndarray:
    """Σ scalars[i]·bases[i] in G2: (n, 2, 2, 4) (or a ResidentBases) and (n, 4) -> (2, 2, 4)."""
    return msm(G2, bases, scalars)
