"""MSM autotuner: window size, accumulate block size and accumulation strategy per device
and size, searched by timing, kept in the on-disk cache that the engines read on every MSM
(``gpu_msm.tune_cache``, whose names this module also offers).

    coprove tune [--backend cpu|cuda] [--sizes 12,14,16] ...     (coordinator_free/cli.py)

The cache is optional.  Without an entry for a device and size, the engines use their
built-in choices (the CPU cost model and "affine"; the CUDA measured window table,
STRATEGY_TABLE and TUNING's block): ``gpu_msm.msm_plan`` decides.

Every candidate runs on the same fresh random input as the reference and must give the
same point on every run, or it is reported and left out of the choice and the cache.
Importing this module needs only the standard library; the backends load when used.
"""

from __future__ import annotations

import os
import statistics
import time

from gpu_msm.strategy_names import canonical_strategy
from gpu_msm.tune_cache import (BACKENDS, CACHE_ENV, CUDA_BLOCKS, FORMAT, GROUPS,  # noqa: F401
                                MAX_LOG_N, STRATEGIES, WINDOW_MAX, WINDOW_MIN, cache_path,
                                device_name, entries, lookup, size_bucket, store)

# The CPU inputs tile this many distinct points.  Within a tile every base differs, so
# equal points meet in a bucket about once in 2^12 additions (a doubling in place of a
# chord); the MSM's cost does not depend on which points it adds otherwise.
CPU_DISTINCT_LOG = 12
# At and below this size the CPU default is also checked against the reference's MSM
# (pure Python, so only where it stays affordable; figures: bench/RESULTS.md,
# "Measurements moved from code comments").
PYTHON_REFERENCE_MAX_LOG = 12


class TuneError(RuntimeError):
    """The reference itself is wrong (an engine bug): nothing is chosen or cached."""


# ---------------------------------------------------------------- inputs

def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine since boot (None without /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(fields) - fields[3] - fields[4], sum(fields)  # idle and iowait are not busy


def _others_share(ticks0, ticks1, own_cpu_s: float) -> float | None:
    """The share of the machine's CPU that other processes took between two readings:
    timings on a shared machine mean little without it."""
    if ticks0 is None or ticks1 is None or ticks1[1] == ticks0[1]:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    busy_s = (ticks1[0] - ticks0[0]) / hz
    return round(max(0.0, busy_s - own_cpu_s) / ((ticks1[1] - ticks0[1]) / hz), 3)


def _library_version() -> str:
    try:
        from importlib.metadata import version
        return version("coprove")
    except Exception:
        return "unknown"


def _random_below_r(rng) -> int:
    from gpu_msm.constants import FR_MODULUS
    while True:
        v = int.from_bytes(rng.bytes(32), "little") % FR_MODULUS
        if v:
            return v


def _random_scalars(rng, n: int):
    """(n, 4) uint64, uniform below r: 254-bit draws, the quarter at or above r redrawn."""
    import numpy as np
    from gpu_msm.constants import FR_MODULUS
    r_limbs = [(FR_MODULUS >> (64 * i)) & (2**64 - 1) for i in range(4)]
    out = np.empty((n, 4), np.uint64)
    todo = np.arange(n)
    while len(todo):
        draw = rng.integers(0, 2**64, size=(len(todo), 4), dtype=np.uint64, endpoint=False)
        draw[:, 3] &= np.uint64((1 << 62) - 1)
        below = np.zeros(len(todo), bool)
        equal = np.ones(len(todo), bool)
        for i in (3, 2, 1, 0):
            below |= equal & (draw[:, i] < np.uint64(r_limbs[i]))
            equal &= draw[:, i] == np.uint64(r_limbs[i])
        out[todo[below]] = draw[below]
        todo = todo[~below]
    return out


def _index_sums(scalars, period: int) -> tuple[int, int]:
    """(Σ s_i, Σ s_i·(i mod period)) exactly, as ints: numpy sums of 16-bit limbs in
    chunks small enough that no uint64 column sum overflows (2^16 rows · 2^16 · 2^26)."""
    import numpy as np
    total0 = total1 = 0
    step = 1 << 16
    for lo in range(0, len(scalars), step):
        part = np.ascontiguousarray(scalars[lo:lo + step], dtype="<u8").view("<u2").astype(np.uint64)
        idx = np.arange(lo, lo + len(part), dtype=np.uint64) % np.uint64(period)
        col0 = part.sum(axis=0).tolist()
        col1 = (part * idx[:, None]).sum(axis=0).tolist()
        total0 += sum(int(v) << (16 * j) for j, v in enumerate(col0))
        total1 += sum(int(v) << (16 * j) for j, v in enumerate(col1))
    return total0, total1


# ---------------------------------------------------------------- the backends' benches

class _CpuBench:
    """Bases: 2^12 distinct points (a + j·d)·G tiled; the expected answer from the known
    logs, and from the reference's MSM at small sizes."""

    block_applies = False

    def __init__(self, group: str, log_n: int, rng, progress, reference):
        import numpy as np

        import gpu_msm.cpu as cpu
        from gpu_msm.cpu import msm as cpu_msm
        from gpu_msm.constants import FR_MODULUS as R

        self.group, self.n = group, 1 << log_n
        self._msm = getattr(cpu, f"msm_{group}")
        self._cost_model = cpu_msm.window_bits
        self.default = {"window": cpu_msm.window_bits(self.n), "block": None,
                        "strategy": cpu_msm.DEFAULT_STRATEGY}
        self.window_cap = cpu_msm.MAX_WINDOW
        m = min(self.n, 1 << CPU_DISTINCT_LOG)
        a, d = _random_below_r(rng), _random_below_r(rng)
        t0 = time.perf_counter()
        tile = reference.walk(group, a, d, m)
        self.bases = np.ascontiguousarray(np.tile(tile, (self.n // m,) + (1,) * (tile.ndim - 1)))
        self.scalars = _random_scalars(rng, self.n)
        s0, s1 = _index_sums(self.scalars, m)
        self.expected = reference.multiple(group, (a * s0 + d * s1) % R)
        progress(f"  inputs: {self.n} random scalars, {m} distinct bases"
                 f"{'' if m == self.n else ' tiled'} ({time.perf_counter() - t0:.2f} s)")
        self._python_check = None
        if log_n <= PYTHON_REFERENCE_MAX_LOG:
            t0 = time.perf_counter()
            self._python_check = reference.msm(group, self.bases, self.scalars)
            progress(f"  reference MSM: {time.perf_counter() - t0:.2f} s")

    def check_reference(self, out) -> None:
        import numpy as np
        if not np.array_equal(out, self.expected):
            raise TuneError("the CPU engine's default configuration disagrees with the known-log "
                            "answer (an engine bug); nothing cached")
        if self._python_check is not None and not np.array_equal(out, self._python_check):
            raise TuneError("the CPU engine's default configuration disagrees with the reference "
                            "MSM (an engine bug); nothing cached")

    def run(self, cfg: dict, extra=None):
        if extra is not None:
            return extra(self.bases, self.scalars, cfg["window"])
        return self._msm(self.bases, self.scalars, c=cfg["window"], strategy=cfg["strategy"])


class _CudaBench:
    """Bases (a + i·d)·G made on the device (kernels/msm_check.cu, bench_gen_bases), all
    distinct; the reference is the CPU engine's default on the same points, itself checked
    against the known logs.  Scalars are on the device before timing: the copy is the same
    for every candidate."""

    block_applies = True
    points_per_thread = 64

    def __init__(self, group: str, log_n: int, rng, progress, reference):
        import cupy as cp
        import numpy as np

        import gpu_msm.cpu as cpu
        from gpu_msm.constants import FR_MODULUS as R
        from gpu_msm.cpu import msm as cpu_msm
        from gpu_msm.cpu.convert import fq_rows_from_mont
        from gpu_msm.cuda import _build
        from gpu_msm.cuda import msm as cm

        self.cp, self.cm = cp, cm
        self.group, self.n = group, 1 << log_n
        self.curve = cm.G1 if group == "g1" else cm.G2
        self.default = {"window": cm.window_bits(self.n), "block": cm.defines(self.curve)["ACC_BLOCK"],
                        "strategy": cm.default_strategy(self.curve, self.n)}
        self.window_cap = WINDOW_MAX
        n, m = self.n, self.points_per_thread
        a, d = _random_below_r(rng), _random_below_r(rng)
        t0 = time.perf_counter()
        threads = -(-n // m)
        starts = np.array([(a + t * m * d) % R for t in range(threads)], dtype=object)
        start_words = np.frombuffer(b"".join(int(v).to_bytes(32, "little") for v in starts),
                                    dtype="<u4").astype(np.uint32).reshape(-1, 8)
        gen = cm.upload_bases(reference.multiple(group, 1)[None], self.curve).data
        step = cm.upload_bases(reference.multiple(group, d)[None], self.curve).data
        out = cp.empty((n, self.curve.point_words), cp.uint32)
        kc = _build.module("msm_check.cu", {"CURVE_G2": int(self.curve.g2)})
        kc.get_function("bench_gen_bases")((-(-threads // 64),), (64,),
                                           (gen, cp.asarray(start_words), step, out,
                                            np.uint32(n), np.uint32(m)))
        self.bases = cm.ResidentBases(None, self.curve, out, n)
        scalars = _random_scalars(rng, n)
        self.scalars = cm._scalars_on_device(scalars, n)
        cp.cuda.Device().synchronize()
        s0, s1 = _index_sums(scalars, n)
        expected = reference.multiple(group, (a * s0 + d * s1) % R)
        progress(f"  inputs: {n} random scalars and distinct bases on the device "
                 f"({time.perf_counter() - t0:.2f} s)")
        t0 = time.perf_counter()
        mont = out.get().view(np.uint64).reshape(-1, 4)
        host = fq_rows_from_mont(mont).reshape((n,) + self.curve.shape)
        self.reference = getattr(cpu, f"msm_{group}")(host, scalars, c=cpu_msm.window_bits(n),
                                                      strategy=cpu_msm.DEFAULT_STRATEGY)
        if not np.array_equal(self.reference, expected):
            raise TuneError("the CPU engine's default disagrees with the known-log answer on the "
                            "device-made bases (an engine or generator bug); nothing cached")
        progress(f"  CPU engine reference: {time.perf_counter() - t0:.2f} s")

    def check_reference(self, out) -> None:
        import numpy as np
        if not np.array_equal(out, self.reference):
            raise TuneError("the CUDA engine's default configuration disagrees with the CPU "
                            "engine (an engine bug); nothing cached")

    def run(self, cfg: dict, extra=None):
        if extra is not None:
            return extra(self.bases, self.scalars, cfg["window"])
        cm = self.cm
        wins, c = cm.msm_device(self.curve, self.bases, self.scalars, cfg["window"], block=cfg["block"],
                                strategy=cfg["strategy"])
        return cm.affine_to_array(self.curve, cm.finish(self.curve, wins.get(), c))


# ---------------------------------------------------------------- the search

def _label(cfg: dict) -> str:
    block = "" if cfg["block"] is None else f" block {cfg['block']}"
    return f"window {cfg['window']}{block} {cfg['strategy']}"


def _windows_around(center: int, cap: int) -> list[int]:
    lo, hi = max(WINDOW_MIN, center - 2), min(cap, center + 2)
    return list(range(lo, hi + 1))


def tune(backend: str, group: str, log_n: int, windows=None, blocks=None, strategies=None,
         repeat: int = 5, seed=None, progress=print, extra_strategies: dict | None = None,
         save: bool = True, *, reference) -> dict:
    """Time every candidate for MSMs of 2^log_n points in ``group`` on this device, keep
    the fastest correct one in the cache (``save``), and return the summary.

    windows     window bits to try; default the backend's own choice ±2
    blocks      cuda: accumulate block sizes (default 64, 128, 256), tried at the best
                window after the windows at the default block (each block is a separately
                compiled kernel module); cpu: not applicable
    strategies  accumulation (``gpu_msm.strategy_names``): cpu "affine", "xyzz"; cuda "xyzz",
                "affine-1" .. "affine-3"
                (all of the backend's by default)
    extra_strategies  {name: fn(bases, scalars, window) -> point array}: outside
                candidates timed and checked like the rest, at every window (bases and
                scalars as the bench holds them: numpy on cpu, device arrays on cuda)
    seed        None: fresh random input each run
    reference   the known answers, from arithmetic this package does not trust itself to:
                ``multiple(group, k)`` -> k·G, ``walk(group, a, d, m)`` -> (a + j·d)·G for
                j < m, ``msm(group, bases, scalars)``, all canonical arrays
                (``prover.known_points.KnownPoints``; gpu_msm imports nothing above it)

    The untuned default runs first and is timed again last.  On cpu its answer is the
    reference (itself checked against the known discrete logs of the bases and, up to
    2^12, the reference's MSM); on cuda the CPU engine's default on the same points is.  Raises
    TuneError if that reference is wrong, ValueError for a bad argument.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use 'cpu' or 'cuda'")
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}: use 'g1' or 'g2'")
    if type(log_n) is not int or not 1 <= log_n <= MAX_LOG_N:
        raise ValueError(f"size 2^{log_n}: use log2 sizes 1 to {MAX_LOG_N}")
    if type(repeat) is not int or repeat < 1:
        raise ValueError(f"repeat {repeat!r}: at least 1")
    for w in windows or ():
        if type(w) is not int or not WINDOW_MIN <= w <= WINDOW_MAX:
            raise ValueError(f"window {w!r}: use {WINDOW_MIN} to {WINDOW_MAX} bits")
    strategies = [canonical_strategy(backend, s) for s in (strategies or STRATEGIES[backend])]
    extra_strategies = dict(extra_strategies or {})
    for name in extra_strategies:
        if name in STRATEGIES[backend]:
            raise ValueError(f"extra strategy {name!r} shadows a built-in one")
    if backend == "cpu":
        if blocks is not None and any(b is not None for b in blocks):
            raise ValueError("blocks apply to the cuda backend only (the CPU engine has no blocks)")
        blocks = None
    else:
        blocks = list(CUDA_BLOCKS if blocks is None else blocks)
        for b in blocks:
            if type(b) is not int or b % 32 or not 32 <= b <= 1024:
                raise ValueError(f"block {b!r}: a multiple of 32 from 32 to 1024")
    progress = progress or (lambda line: None)

    import numpy as np

    rng = np.random.default_rng(seed)
    device = device_name(backend)
    load_before = os.getloadavg()
    progress(f"{group} 2^{log_n} on {device}")
    bench = (_CpuBench if backend == "cpu" else _CudaBench)(group, log_n, rng, progress, reference)
    default = dict(bench.default)
    if windows is None:
        windows = _windows_around(default["window"], bench.window_cap)
    windows = sorted(set(windows))

    records: dict = {}  # (window, block, strategy) -> record

    def measure(cfg: dict, extra=None) -> dict:
        key = (cfg["window"], cfg["block"], cfg["strategy"])
        if key in records:
            return records[key]
        rec = {**cfg, "ms": None, "runs_ms": [], "ok": False}
        try:
            outs = [bench.run(cfg, extra)]  # warm-up: JIT, module loads, first allocations
            for _ in range(repeat):
                t0 = time.perf_counter()
                outs.append(bench.run(cfg, extra))
                rec["runs_ms"].append((time.perf_counter() - t0) * 1e3)
        except Exception as e:  # e.g. out of device memory at a large window: not a candidate
            rec["reason"] = f"failed: {type(e).__name__}: {e}"
        else:
            rec["ms"] = statistics.median(rec["runs_ms"])
            if extra is None and key == (default["window"], default["block"], default["strategy"]):
                bench.check_reference(outs[0])  # raises TuneError: the engine is wrong
                if backend == "cpu":
                    bench.reference = outs[0]
            wrong = sum(not np.array_equal(o, bench.reference) for o in outs)
            if wrong:
                rec["reason"] = f"wrong result in {wrong} of {len(outs)} runs"
            else:
                rec["ok"] = True
        records[key] = rec
        verdict = "ok" if rec["ok"] else f"EXCLUDED: {rec['reason']}"
        ms = "" if rec["ms"] is None else f"{rec['ms']:9.2f} ms  "
        progress(f"  {_label(cfg):<34} {ms}{verdict}")
        return rec

    ticks0, own0 = _cpu_ticks(), time.process_time()
    # the default first: on cpu its answer is the reference for all the others
    default_rec = measure(default)
    if not default_rec["ok"]:
        raise TuneError(f"the default configuration failed: {default_rec.get('reason')}")
    for s in strategies:
        for w in windows:
            measure({"window": w, "block": default["block"], "strategy": s})
    for name, fn in extra_strategies.items():
        for w in windows:
            measure({"window": w, "block": default["block"], "strategy": name}, extra=fn)

    def fastest():
        ok = [r for r in records.values() if r["ok"]]
        return min(ok, key=lambda r: r["ms"])

    if blocks:
        best_w = fastest()
        for b in blocks:
            measure({"window": best_w["window"], "block": b, "strategy": best_w["strategy"]},
                    extra=extra_strategies.get(best_w["strategy"]))
    # The default ran first, right after start-up; timed once more at the end, so that the
    # search's order does not count against it (its time: the median over both rounds).
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = bench.run(default)
        default_rec["runs_ms"].append((time.perf_counter() - t0) * 1e3)
        if not np.array_equal(out, bench.reference):
            raise TuneError("the default configuration's answer changed between runs; nothing cached")
    default_rec["ms"] = statistics.median(default_rec["runs_ms"])
    progress(f"  {_label(default):<34} {default_rec['ms']:9.2f} ms  (default again: median of "
             f"{len(default_rec['runs_ms'])} runs)")
    others = _others_share(ticks0, _cpu_ticks(), time.process_time() - own0)
    if others is not None:
        busy = ": timings are unreliable, tune again when the machine is quiet" if others > 0.25 else ""
        progress(f"  other processes took {others:.0%} of the machine's CPU meanwhile{busy}")
    best = fastest()
    if best["strategy"] not in STRATEGIES[backend]:
        # an outside strategy may be timed and checked, but the engines cannot run it
        best = min((r for r in records.values() if r["ok"] and r["strategy"] in STRATEGIES[backend]),
                   key=lambda r: r["ms"])

    def brief(r):
        return {"window": r["window"], "block": r["block"], "strategy": r["strategy"],
                "ms": None if r["ms"] is None else round(r["ms"], 4)}

    ok = [brief(r) for r in records.values() if r["ok"]]
    rejected = [{**brief(r), "reason": r["reason"]} for r in records.values() if not r["ok"]]
    summary = {
        "backend": backend, "device": device, "group": group, "log_n": log_n, "n": 1 << log_n,
        "best": brief(best), "default": brief(default_rec),
        "speedup": default_rec["ms"] / best["ms"] if best["ms"] else None,
        "candidates": ok, "rejected": rejected, "repeat": repeat,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "version": _library_version(),
        "load": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "others_cpu_share": others,
        "cache": None,
    }
    if save:
        entry = {**brief(best), "default": brief(default_rec), "candidates": ok,
                 "rejected": rejected, "repeat": repeat, "date": summary["date"],
                 "version": summary["version"], "load": summary["load"],
                 "others_cpu_share": others}
        summary["cache"] = str(store(backend, group, log_n, entry, device=device))
    return summary
