"""Running the real ``coprove`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def run_cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    """``coprove ARGS...`` via ``python -m`` so the test sees exit codes and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "coordinator_free.cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
