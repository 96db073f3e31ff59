"""Where an MSM's settings come from, decided in one place for every backend.

The caller's arguments first, then `coprove tune`'s cache entry for this device and size
(``tune_cache``), then the backend's built-in choice (its measured table or cost model).
The MSM's settings are read from the environment here and nowhere else: ``$GPU_MSM_TUNE_CACHE``
through ``tune_cache``, ``$GPU_MSM_TUNE`` (kernel #define overrides) and
``$GPU_MSM_POISON`` (a debugging aid) below.

Strategy names mean one thing on every backend (``strategy_names``).  Standard library
only: the engines consult it on every MSM, with or without CuPy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from gpu_msm import tune_cache
from gpu_msm.strategy_names import canonical_strategy

TUNE_ENV = "GPU_MSM_TUNE"
POISON_ENV = "GPU_MSM_POISON"
ARGUMENT, TUNE_CACHE, BUILT_IN = "argument", "tune cache", "built-in"


@dataclass(frozen=True)
class MsmPlan:
    window: int
    strategy: str
    block: int | None = None  # cuda: accumulate's block size (None: the module's default)
    sources: dict = field(default_factory=dict)  # setting -> ARGUMENT, TUNE_CACHE or BUILT_IN


def plan_msm(backend: str, group: str, n: int, builtin: Callable[[int], tuple[int, str]], *,
             window: int | None = None, strategy: str | None = None,
             block: int | None = None) -> MsmPlan:
    """The settings of an MSM of ``n`` points in ``group`` on ``backend``.  ``builtin(n)``
    gives the backend's own (window, strategy) for sizes the caller and the cache leave open."""
    tuned = {}
    if window is None or strategy is None or block is None:
        tuned = tune_cache.lookup(backend, group, n) or {}  # never raises: a bad cache reads as empty
    own: list = []

    def built_in(i):
        if not own:
            own.extend(builtin(n))
        return own[i]

    sources = {}

    def pick(key, given, default):
        if given is not None:
            sources[key] = ARGUMENT
            return given
        if tuned.get(key) is not None:
            sources[key] = TUNE_CACHE
            return tuned[key]
        sources[key] = BUILT_IN
        return default()

    window = pick("window", window, lambda: built_in(0))
    strategy = canonical_strategy(backend, pick("strategy", strategy, lambda: built_in(1)))
    block = pick("block", block, lambda: None)  # None: the kernel module's own default
    return MsmPlan(window, strategy, block, sources)


def kernel_overrides(curve: str) -> dict:
    """#define overrides for one curve's MSM module from ``$GPU_MSM_TUNE``, e.g.
    "G2:FQ2_LAZY=0,INT_OOL=0;G1:ACC_MINB=4" (checks of a non-default build; each such
    module is compiled on first use like any other)."""
    out: dict = {}
    for part in (p for p in os.environ.get(TUNE_ENV, "").split(";") if p.strip()):
        name, _, kvs = part.partition(":")
        if name.strip() != curve:
            continue
        try:
            out.update({k.strip(): int(v) for k, v in (kv.split("=") for kv in kvs.split(","))})
        except ValueError:
            raise ValueError(f"${TUNE_ENV}: {part!r} is not CURVE:NAME=INT,...") from None
    return out


def poison_buffers() -> bool:
    """``$GPU_MSM_POISON`` set (not 0): fill the MSM's scratch buffers with ones before use,
    so a kernel that reads what it never wrote gives a wrong answer, not a lucky zero."""
    return os.environ.get(POISON_ENV, "") not in ("", "0")
