"""The MSM tune cache: what `coprove tune` found per device and size, read by the engines.

It lives at ``$GPU_MSM_TUNE_CACHE``, else ``~/.cache/coprove/tune.json``: JSON, device
name -> group ("g1", "g2") -> ceil(log2 n) -> entry, so an MSM of n points uses the entry
of the power of two at or above n.  A missing file reads as empty; an unreadable or
malformed one too, with one warning: the cache may make an MSM faster, never make it
fail.  Writes go to a temporary file renamed into place, so a reader never sees half a
file.  Standard library only: the engines import it on every MSM that has no explicit
settings, and the search (``gpu_msm.tune``), which imports the engines, lives apart.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import tempfile
import threading
import warnings
from pathlib import Path

from gpu_msm.strategy_names import BACKEND_STRATEGIES, canonical_strategy

CACHE_ENV = "GPU_MSM_TUNE_CACHE"
FORMAT = 1
GROUPS = ("g1", "g2")
BACKENDS = ("cpu", "cuda")
STRATEGIES = BACKEND_STRATEGIES
# Windows past 20 bits only add buckets at the sizes this engine serves (the CUDA table
# stops at 17; the CPU cost model at 16), and their bucket arrays grow as 2^c.
WINDOW_MIN, WINDOW_MAX = 2, 20
CUDA_BLOCKS = (64, 128, 256)
MAX_LOG_N = 26
def cache_path() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "coprove" / "tune.json")


def size_bucket(n: int) -> int:
    """ceil(log2 n): the cache key for an MSM of n points (n = 1 -> 0)."""
    return max(int(n) - 1, 0).bit_length()


# ---------------------------------------------------------------- device names

_CPU_MODEL: list = []
_CUDA_NAMES: dict = {}


def _cpu_model() -> str:
    if not _CPU_MODEL:
        model = ""
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        model = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        _CPU_MODEL.append(model or platform.processor() or platform.machine() or "unknown CPU")
    return _CPU_MODEL[0]


def device_name(backend: str) -> str:
    """The cache's key for where MSMs run: the CPU model and numba's thread count (a
    tuning for 2 threads says nothing about 16), or the current CUDA device's name and
    compute capability."""
    if backend == "cpu":
        import numba
        return f"cpu: {_cpu_model()} / {numba.get_num_threads()} numba threads"
    if backend == "cuda":
        import cupy
        dev = cupy.cuda.Device().id
        name = _CUDA_NAMES.get(dev)
        if name is None:
            props = cupy.cuda.runtime.getDeviceProperties(dev)
            raw = props["name"]
            raw = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
            name = f"cuda: {raw.strip()} / sm_{props['major']}{props['minor']}"
            _CUDA_NAMES[dev] = name
        return name
    raise ValueError(f"unknown backend {backend!r}: use 'cpu' or 'cuda'")


# ---------------------------------------------------------------- the cache file

_LOCK = threading.Lock()
_MEMO: dict = {}     # path -> (stat signature, parsed data)
_WARNED: set = set()


def _warn_once(path, what, sig=None) -> None:
    key = (str(path), sig, what)
    with _LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warnings.warn(f"tune cache {path}: {what}; ignoring it (MSMs use the built-in choices)",
                  RuntimeWarning, stacklevel=3)


def _shape_problem(data) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("devices", {}), dict):
        return "not a tune cache (no 'devices' table)"
    if data.get("format", FORMAT) != FORMAT:
        return f"format {data.get('format')!r}, this version reads {FORMAT}"
    return None


def _read(path: Path) -> dict:
    """The cache's contents, {} for none; reparsed only when the file changes (a stat per
    call, so a tune finishing in another process is seen at the next MSM)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {}
    except OSError as e:
        _warn_once(path, f"cannot stat ({e.strerror})")
        return {}
    sig = (st.st_mtime_ns, st.st_size, st.st_ino)
    key = str(path)
    with _LOCK:
        hit = _MEMO.get(key)
    if hit is not None and hit[0] == sig:
        return hit[1]
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        problem = _shape_problem(data)
    except Exception as e:  # anything at all: a damaged cache must not stop an MSM
        data, problem = {}, f"unreadable ({type(e).__name__}: {e})"
    if problem:
        _warn_once(path, problem, sig)
        data = {}
    with _LOCK:
        _MEMO[key] = (sig, data)
    return data


def _config(backend: str, entry) -> dict:
    """The usable part of an entry, or ValueError naming what is off."""
    if not isinstance(entry, dict):
        raise ValueError("entry is not a table")
    window, block, strategy = entry.get("window"), entry.get("block"), entry.get("strategy")
    if type(window) is not int or not WINDOW_MIN <= window <= WINDOW_MAX:
        raise ValueError(f"window {window!r} is not an integer in {WINDOW_MIN}..{WINDOW_MAX}")
    if block is not None and (type(block) is not int or block % 32 or not 32 <= block <= 1024):
        raise ValueError(f"block {block!r} is not a multiple of 32 in 32..1024")
    return {"window": window, "block": block, "strategy": canonical_strategy(backend, strategy)}


def lookup(backend: str, group: str, n: int) -> dict | None:
    """The tuned {"window", "block", "strategy"} for an MSM of n points on this device, or
    None.  Cheap (one stat and a few dict lookups): the engines call it on every MSM.
    Never raises; a bad entry warns once and reads as absent."""
    path = None
    try:
        path = cache_path()
        data = _read(path)
        if not data:
            return None
        entry = (data.get("devices", {}).get(device_name(backend), {})
                 .get(group, {}).get(str(size_bucket(n))))
        if entry is None:
            return None
        return _config(backend, entry)
    except Exception as e:
        _warn_once(path, f"{backend} {group} 2^{size_bucket(n)}: {e}")
        return None


def entries(backend: str, device: str | None = None) -> dict:
    """{group: {log2 n: entry}} for a device (default: this one), as stored."""
    data = _read(cache_path())
    device = device or device_name(backend)
    return copy.deepcopy(data.get("devices", {}).get(device, {}))


def store(backend: str, group: str, log_n: int, entry: dict, device: str | None = None) -> Path:
    """Put one entry in the cache (read again just before, so other devices' and sizes'
    entries written meanwhile survive), atomically."""
    _config(backend, entry)
    path = cache_path()
    device = device or device_name(backend)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = copy.deepcopy(_read(path)) or {}
    data["format"] = FORMAT
    data.setdefault("devices", {}).setdefault(device, {}).setdefault(group, {})[str(log_n)] = entry
    fd, tmp = tempfile.mkstemp(prefix=".tune-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
