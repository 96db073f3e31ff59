"""Backend selection: "cuda" (CuPy + NVRTC kernels) or "cpu" (numba), chosen lazily."""

from __future__ import annotations

import importlib

# set by select_device / select_devices; kind None = best available.  "slots" are the CUDA
# devices the MSMs are split over (a device may appear twice: two slots sharing it); the
# first is the primary, where vectors, NTTs and everything but the MSMs run.
_DEVICE: dict = {"kind": None, "slots": (0,)}
MAX_SLOTS = 64  # a longer --gpus list is a typo, not a machine


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
        _DEVICE.update(kind=None, slots=(0,))
    elif device == "cpu":
        _DEVICE.update(kind="cpu", slots=(0,))
    else:
        index = int(device)
        _check_devices([index], f"--gpu {index}")
        _DEVICE.update(kind="cuda", slots=(index,))


def parse_gpu_list(text: str) -> tuple[int, ...]:
    """``--gpus 0,1,1`` -> (0, 1, 1); one line naming what is wrong otherwise.  A device may
    repeat: each appearance is a slot of its own (its own streams and memory)."""
    items = [t.strip() for t in str(text).split(",")]
    if not any(items):
        raise ValueError(f"--gpus {text!r}: an empty device list (write e.g. --gpus 0,1)")
    out = []
    for t in items:
        if not t.isdigit():
            raise ValueError(f"--gpus {text}: {t!r} is not a device number (write e.g. --gpus 0,1)")
        out.append(int(t))
    if len(out) > MAX_SLOTS:
        raise ValueError(f"--gpus {text}: {len(out)} slots; at most {MAX_SLOTS}")
    return tuple(out)



def _check_devices(devices, flag: str) -> None:
    if not _cuda_usable():
        raise RuntimeError(f"{flag}: no CUDA device is visible to CuPy")
    import cupy
    count = cupy.cuda.runtime.getDeviceCount()
    for d in devices:
        if not 0 <= d < count:
            raise RuntimeError(f"{flag}: no device {d}; this machine has {count} CUDA device(s) "
                               f"(0 to {count - 1})")


def select_devices(devices) -> None:
    """``--gpus 0,1`` -> select_devices((0, 1)): the MSMs split over these slots, the rest on
    the first.  A one-element list is ``select_device`` of it."""
    devices = tuple(int(d) for d in devices)
    flag = "--gpus " + ",".join(map(str, devices))
    if not devices:
        raise ValueError("--gpus: an empty device list (write e.g. --gpus 0,1)")
    _check_devices(devices, flag)
    _DEVICE.update(kind="cuda", slots=devices)


def selected_kind() -> str | None:
    """"cpu" or "cuda" as select_device(s) set it; None: the best available, unresolved."""
    return _DEVICE["kind"]


def device_slots() -> tuple[int, ...]:
    """The CUDA devices the MSMs are split over (one slot: no splitting)."""
    return tuple(_DEVICE["slots"])


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
    """What select_device(s) chose, resolved: "cpu", "cuda:N", or "cuda:0,1" for several slots
    (for a node's start-up line and status)."""
    kind = _DEVICE["kind"] or ("cuda" if _cuda_usable() else "cpu")
    if kind == "cpu":
        return "cpu"
    return "cuda:" + ",".join(map(str, _DEVICE["slots"]))


def device_index() -> int:
    return _DEVICE["slots"][0]


def bind_thread() -> None:
    """Make the selected CUDA device current in the calling thread (CuPy's current
    device is per thread: a server's worker threads would otherwise all use device 0)."""
    if _DEVICE["kind"] == "cuda":
        import cupy
        cupy.cuda.Device(_DEVICE["slots"][0]).use()
