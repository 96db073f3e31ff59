"""Kernel sources -> cupy.RawModule, compiled at first use with NVRTC.

The ``.cu`` files live in ``gpu_msm/kernels``; their ``#include "x.cuh"`` lines are
inlined here so that one string (and its hash) is the whole translation unit.  Tunables
arrive as ``#define``s from a Python dict.  Modules are memoised per (device, file,
defines).  Compiled cubins are also kept on disk (``$GPU_MSM_KERNEL_CACHE``, default
``~/.cache/coprove/kernels``), keyed by the source's hash and the device's architecture:
the G2 module takes minutes to compile, so a node pays that once, not per process.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
from pathlib import Path

KERNEL_DIR = Path(__file__).resolve().parent.parent / "kernels"
OPTIONS = ("-std=c++17",)
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$', re.M)
_MODULES: dict = {}  # (device, name, defines) -> module: the sources are read once per process


def source(name: str, defines: dict | None = None) -> str:
    """The translation unit for ``kernels/<name>``: includes inlined, defines prepended."""
    seen: set[str] = set()

    def expand(fname: str) -> str:
        if fname in seen:  # every header is #pragma once
            return ""
        seen.add(fname)
        text = (KERNEL_DIR / fname).read_text().replace("#pragma once", "")
        return _INCLUDE.sub(lambda m: expand(m.group(1)), text)

    head = "".join(f"#define {k} {int(v)}\n" for k, v in sorted((defines or {}).items()))
    return head + expand(name)


def cache_dir() -> Path:
    return Path(os.environ.get("GPU_MSM_KERNEL_CACHE")
                or Path.home() / ".cache" / "coprove" / "kernels")


def cubin_path(name: str, src: str, arch: str) -> Path:
    """Cache file for this exact source, option set and architecture (e.g. "90")."""
    key = hashlib.sha256("\0".join((src, " ".join(OPTIONS), arch)).encode()).hexdigest()
    return cache_dir() / f"{Path(name).stem}-sm{arch}-{key[:24]}.cubin"


def _options(arch: str) -> list[str]:
    return [*OPTIONS, f"--gpu-architecture=sm_{arch}"]


def _compile_cupy(src: str, arch: str) -> bytes:
    from cupy_backends.cuda.libs import nvrtc

    prog = nvrtc.createProgram(src, "gpu_msm.cu", (), ())
    try:
        try:
            nvrtc.compileProgram(prog, _options(arch))
        except nvrtc.NVRTCError as exc:
            raise RuntimeError(f"NVRTC failed:\n{nvrtc.getProgramLog(prog)}") from exc
        return nvrtc.getCUBIN(prog)
    finally:
        nvrtc.destroyProgram(prog)


def compile_ctypes(src: str, arch: str, libnvrtc: str, verbose: bool = False) -> tuple[bytes, str]:
    """Compile with a libnvrtc loaded by path (prebuilding cubins on a machine without a
    GPU or CuPy).  Returns (cubin, log); ``verbose`` adds ptxas's resource report."""
    lib = ctypes.CDLL(libnvrtc)
    prog = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), b"gpu_msm.cu", 0, None, None):
        raise RuntimeError("nvrtcCreateProgram failed")
    opts = [o.encode() for o in _options(arch)] + ([b"-Xptxas", b"-v"] if verbose else [])
    rc = lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    if rc:
        raise RuntimeError(f"NVRTC failed ({rc}):\n{log.value.decode()}")
    lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
    cubin = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetCUBIN(prog, cubin)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return cubin.raw, log.value.decode()


def device_arch() -> str:
    import cupy
    return cupy.cuda.Device().compute_capability  # e.g. "90"


def module(name: str, defines: dict | None = None):
    """Compiled ``cupy.RawModule`` for ``kernels/<name>`` on the current device."""
    import cupy

    # found by (device, name, defines) before any source is read: expanding the source
    # at every kernel launch cost ~10 ms of host time per 2^20 proof (bench/RESULTS.md,
    # "Where a 2^20 single-party proof's time goes on the H100")
    key = (cupy.cuda.Device().id, name, tuple(sorted((defines or {}).items())))
    mod = _MODULES.get(key)
    if mod is not None:
        return mod
    src = source(name, defines)
    arch = device_arch()
    path = cubin_path(name, src, arch)
    if not path.exists():
        try:
            cubin = _compile_cupy(src, arch)
        except ImportError:  # CuPy without its NVRTC wrapper: let CuPy compile and cache
            mod = cupy.RawModule(code=src, options=OPTIONS, backend="nvrtc")
            mod.compile()
            _MODULES[key] = mod
            return mod
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(cubin)
        tmp.replace(path)
    mod = cupy.RawModule(path=str(path))
    _MODULES[key] = mod
    return mod
