"""One MSM over several device slots: each slot holds a contiguous range of the bases on
its own device and runs the device pipeline on its range, on its own stream; the host
adds the ranges' window sums in one Horner pass.

A slot is a device index; a device may appear twice (``--gpus 0,0``), and then its two
slots have their own streams and memory on one GPU: the split is exercised on a
one-GPU machine, and the result is the one-slot result bit for bit (the same affine
point: the ranges' sums add up to the whole sum).  The ranges follow ``slot_weights``:
the devices' measured speeds (``device_speeds``), shared among a device's slots.
"""

from __future__ import annotations

import time

import numpy as np

from gpu_msm.cuda.msm import (G1, G2, DeviceBases, _checked_scalars, _curve_of, _Curve, affine_to_array,
                              horner, msm_device, plan, upload_bases, windows_affine)
from gpu_msm.split import slot_weights, split_bounds


def _cp():
    import cupy
    return cupy


class SplitBases(DeviceBases):
    """Bases spread over slots: slot i holds rows [bounds[i], bounds[i+1]) resident on
    ``devices[i]`` (None where its range is empty).  Pass it in place of the array."""

    def __init__(self, curve: _Curve, parts: list, devices: tuple, bounds: list[int]):
        self.curve, self.parts, self.devices, self.bounds = curve, parts, devices, bounds
        self.n = bounds[-1]

    def __len__(self):
        return self.n

    def __repr__(self):
        return f"SplitBases({self.curve.name}, n={self.n}, devices={self.devices}, bounds={self.bounds})"


_SPEEDS: dict = {}


def device_speeds(devices, measure: bool | None = None) -> dict[int, float]:
    """Relative MSM speed of each distinct device: 1 / the median time of a G1 MSM of 2^16
    random points on it, measured once per process.  ``measure`` None: only where the
    devices are not all the same model (else 1.0 each, nothing to time)."""
    cp = _cp()
    distinct = sorted(set(devices))
    if measure is None:
        names = {cp.cuda.runtime.getDeviceProperties(d)["name"] for d in distinct}
        measure = len(names) > 1
    if not measure:
        return {d: 1.0 for d in distinct}
    missing = [d for d in distinct if d not in _SPEEDS]
    if missing:
        from gpu_msm.cuda.fixed_base import fixed_base_g1
        rng = np.random.default_rng(1)
        scalars = rng.integers(0, 2**63, size=(1 << 16, 4), dtype=np.uint64)
        scalars[:, 3] >>= 3  # below r
        g = np.array([[1, 0, 0, 0], [2, 0, 0, 0]], dtype=np.uint64)
        with cp.cuda.Device(distinct[0]):
            bases = fixed_base_g1(g, scalars)
        for d in missing:
            with cp.cuda.Device(d):
                res = upload_bases(bases, G1)
                s = cp.asarray(scalars)
                times = []
                for _ in range(4):
                    t0 = time.perf_counter()
                    msm_device(G1, res, s)[0].get()
                    times.append(time.perf_counter() - t0)
                _SPEEDS[d] = 1.0 / float(np.median(times[1:]))
    return {d: _SPEEDS[d] for d in distinct}


def upload_split(bases, devices, weights=None, curve: _Curve | None = None) -> SplitBases:
    """Canonical affine bases (numpy) -> each slot's range uploaded to its device in
    Montgomery form.  ``weights`` default: ``slot_weights`` of ``device_speeds``."""
    cp = _cp()
    curve = curve or _curve_of(bases)
    devices = tuple(int(d) for d in devices)
    if weights is None:
        weights = slot_weights(devices, device_speeds(devices))
    if len(weights) != len(devices):
        raise ValueError(f"{len(weights)} weights for {len(devices)} slots")
    arr = bases if isinstance(bases, cp.ndarray) else np.ascontiguousarray(bases, dtype=np.uint64)
    bounds = split_bounds(arr.shape[0], weights)
    parts = []
    for d, lo, hi in zip(devices, bounds, bounds[1:]):
        if lo == hi:
            parts.append(None)
            continue
        with cp.cuda.Device(d):
            src = arr[lo:hi]
            if isinstance(src, cp.ndarray) and src.device.id != d:
                src = cp.copy(src)
            parts.append(upload_bases(src, curve))
    return SplitBases(curve, parts, devices, bounds)


def _slice_to(cp, s, lo: int, hi: int, device: int, stream):
    """Rows [lo, hi) of the scalars on ``device``, queued on ``stream``: a view where they
    already are there, a device-to-device copy from another GPU, an upload from the host."""
    if isinstance(s, cp.ndarray):
        part = s[lo:hi]
        if s.device.id == device:
            return part
        out = cp.empty(part.shape, part.dtype)
        out.data.copy_from_device_async(part.data, part.nbytes, stream=stream)
        return out
    return cp.asarray(s[lo:hi])


def msm_start(group: str, bases: SplitBases, scalars):
    """Start the slots' MSMs, each on a stream of its device, and return a function that
    waits for them and gives the affine array (as ``msm.msm_start``).  Device scalars may
    come from work queued on the current stream of their device: every slot waits for it."""
    cp = _cp()
    curve = G1 if group == "g1" else G2
    s = _checked_scalars(curve, bases, scalars)
    n = s.shape[0]
    src_dev = s.device.id if isinstance(s, cp.ndarray) else cp.cuda.Device().id
    with cp.cuda.Device(src_dev):
        if isinstance(s, cp.ndarray):
            s = cp.ascontiguousarray(s)  # rows copied to another GPU as one block
        ready = cp.cuda.Event(disable_timing=True)
        ready.record()
    live = [(i, lo, min(hi, n)) for i, (lo, hi) in enumerate(zip(bases.bounds, bases.bounds[1:])) if lo < min(hi, n)]
    # one window for every slot, so that one Horner pass adds them all
    window = plan(curve, max((hi - lo for _, lo, hi in live), default=1)).window
    running = []
    keep: list = [s, bases]
    for i, lo, hi in live:
        d = bases.devices[i]
        with cp.cuda.Device(d):
            stream = cp.cuda.Stream(non_blocking=True)
            stream.wait_event(ready)
            with stream:
                part = _slice_to(cp, s, lo, hi, d, stream)
                wins, _ = msm_device(curve, bases.parts[i], part, window=window, keep=keep)
            keep.append(part)
            running.append((d, stream, wins))

    def result() -> np.ndarray:
        sums = []
        for d, stream, wins in running:
            with cp.cuda.Device(d):
                stream.synchronize()
                sums.append(windows_affine(curve, wins.get(stream=stream)))
        keep.clear()
        return affine_to_array(curve, horner(curve, sums, window))

    return result


def msm(group: str, bases: SplitBases, scalars) -> np.ndarray:
    return msm_start(group, bases, scalars)()


__all__ = ["SplitBases", "upload_split", "msm_start", "msm", "device_speeds"]
