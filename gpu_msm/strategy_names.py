"""Accumulation strategies of the MSM: one meaning on every backend.

    xyzz       each bucket's points summed into an XYZZ accumulator
    affine-L   L rounds of batch-affine halving (chords sharing one inversion a round),
               then XYZZ sums of what is left
    affine     batch-affine rounds until each bucket holds one point

A backend runs the names it lists and refuses the others by name.
"""

from __future__ import annotations

BACKEND_STRATEGIES = {"cpu": ("affine", "xyzz"), "cuda": ("xyzz", "affine-1", "affine-2", "affine-3")}
# names an older tune cache may hold, read as today's
ALIASES = {"batch-affine": "affine"}


def canonical_strategy(backend: str, name: str) -> str:
    """``name`` as this backend runs it (an old alias resolved), or ValueError naming the choices."""
    name = ALIASES.get(name, name)
    if name not in BACKEND_STRATEGIES[backend]:
        raise ValueError(f"strategy {name!r}: the {backend} backend runs "
                         f"{', '.join(BACKEND_STRATEGIES[backend])}")
    return name
