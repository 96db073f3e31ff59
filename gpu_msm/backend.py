"""Backend selection: "cuda" (CuPy + NVRTC kernels) or "cpu" (numba), chosen lazily."""

from __future__ import annotations

import importlib

_DEVICE: dict = {"kind": None, "index": 0}  # set by select_device; None = best available


def _cuda_usable() -> bool:
    try:
        import cupy  # noqa: F401
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, no driver, no device: all mean "no CUDA here"
        return False


def available_backends() -> list[str]:
    return (["cuda"] if _cuda_usable() else []) + ["cpu"]


def select_device(device: int | str | None) -> None:
    """``--gpu N`` -> select_device(N); ``--cpu`` -> select_device("cpu"); None -> best."""
    if device is None:
        _DEVICE.update(kind=None, index=0)
    elif device == "cpu":
        _DEVICE.update(kind="cpu", index=0)
    else:
        index = int(device)
        if not _cuda_usable():
            raise RuntimeError(f"--gpu {index}: no CUDA device is visible to CuPy")
        import cupy
        count = cupy.cuda.runtime.getDeviceCount()
        if not 0 <= index < count:
            raise RuntimeError(f"--gpu {index}: this machine has {count} CUDA device(s)")
        _DEVICE.update(kind="cuda", index=index)


def get_backend(name: str | None = None):
    """The backend module; each exposes msm_g1, msm_g2, ntt, intt, odd_coset."""
    if name is None:
        name = _DEVICE["kind"] or ("cuda" if _cuda_usable() else "cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown backend {name!r}: use 'cpu' or 'cuda'")
    if name == "cuda" and not _cuda_usable():
        raise RuntimeError("backend 'cuda' asked for, but CuPy finds no CUDA device")
    return importlib.import_module(f"gpu_msm.{name}")


def selected_device() -> str:
    """What select_device chose, resolved: "cpu", or "cuda:N" (for a node's start-up line)."""
    kind = _DEVICE["kind"] or ("cuda" if _cuda_usable() else "cpu")
    return "cpu" if kind == "cpu" else f"cuda:{_DEVICE['index']}"


def device_index() -> int:
    return _DEVICE["index"]


def bind_thread() -> None:
    """Make the selected CUDA device current in the calling thread (CuPy's current
    device is per thread: a server's worker threads would otherwise all use device 0)."""
    if _DEVICE["kind"] == "cuda":
        import cupy
        cupy.cuda.Device(_DEVICE["index"]).use()
