"""A correction vector a party is still receiving from the client.

The node starts a job before its material is whole (``cme.material.MaterialStream``);
the party holds this in place of the array and waits on it only where it needs it.
"""

from __future__ import annotations

import threading

import numpy as np

from gpu_msm.constants import FR_MODULUS
from prover.limbs import below


class MaterialError(ValueError):
    """The material is malformed, or its stream ended before it was whole."""


class IncomingVector:
    """A correction vector still on its way from the client.  ``take()`` waits until it
    is whole and range-checked and hands the array over, or raises why it never will be."""

    def __init__(self, key: str, rows: int):
        self.key = key
        self._array = np.empty((rows, 4), dtype=np.uint64)
        self._bytes = self._array.reshape(-1).view(np.uint8)
        self.filled = 0  # bytes written so far
        self._ready = threading.Event()
        self._error: str | None = None

    @property
    def nbytes(self) -> int:
        return len(self._bytes)

    def write(self, data) -> int:
        """Copy the start of ``data`` in; returns how many bytes it took."""
        k = min(len(data), self.nbytes - self.filled)
        if self._error is not None:  # failed (the job ended): the rest is counted, not kept
            self.filled += k
            return k
        self._bytes[self.filled:self.filled + k] = np.frombuffer(data, dtype=np.uint8, count=k)
        self.filled += k
        if self.filled == self.nbytes and not self._ready.is_set():
            if not below(self._array, FR_MODULUS).all():
                raise MaterialError(f"share material: a value of {self.key} is not below r")
            self._ready.set()
        return k

    def take(self) -> np.ndarray:
        self._ready.wait()
        if self._error is not None:
            raise MaterialError(f"the {self.key} correction never arrived: {self._error}")
        arr, self._array, self._bytes = self._array, None, None
        if arr is None:
            raise RuntimeError(f"the {self.key} correction was already taken")
        return arr

    def fail(self, why: str) -> None:
        """Called on every way a stream can end short; a whole vector stays takeable."""
        if self._ready.is_set():
            return
        self._error = why
        self._array.fill(0)  # part of a share: zeroed, not left for the collector
        self._ready.set()
