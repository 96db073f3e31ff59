"""Errors raised when reading circom / snarkjs files.

Both are ``ValueError`` subclasses whose message starts with the file name, so a CLI
can print ``str(err)`` alone and the user knows which file to look at.
"""

from __future__ import annotations

import os


class _PathError(ValueError):
    def __init__(self, path, section, message: str):
        self.path = os.fspath(path) if path is not None else "<memory>"
        self.section = section
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        name = os.path.basename(self.path) or self.path
        where = f": {self.section}" if self.section else ""
        return f"{name}{where}: {self.message}"


class FormatError(_PathError):
    """A file is not what its format says it must be (truncated, wrong magic, wrong
    curve, value out of range, point not on the curve, malformed JSON...).

    ``section`` is free text such as ``"header"``, ``"section 9 (H points)"`` or a JSON
    key (``"pi_a"``); e.g. ``circuit.zkey: section 9 (H points): expected 16384 points
    (524288 bytes), found 100 bytes``.
    """


class InputError(_PathError):
    """Files that are each well formed but do not belong together, e.g. a witness with
    a different number of values than the zkey's nVars."""


class OutOfRangeError(FormatError):
    """Well-formed JSON holding a number not below its field modulus or a point off its
    curve.  In a proof or public.json this means "invalid proof" (exit 1), not bad input."""
