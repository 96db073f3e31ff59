"""Where numba keeps the CPU engine's compiled kernels: a per-user cache folder.

numba's default is a ``__pycache__`` beside each source file, i.e. inside the installed
package.  That breaks installs that are read-only (system site-packages, containers
running as another user), and pip's uninstall leaves those files behind: the folder that
remains shadows a later editable install as a namespace package.  So the kernels go to

    $NUMBA_CACHE_DIR                       if set (numba's own setting wins), else
    $COPROVE_CACHE_DIR/kernels/<stamp>     or, without it,
    $XDG_CACHE_HOME/coprove/kernels/<stamp>  (~/.cache when XDG_CACHE_HOME is unset)

and to a folder under the system's temporary directory where none of these can be
written.  ``<stamp>`` hashes every source file of the engine: numba checks only the
stamp of a kernel's own file, so a changed helper module (``fields``, ``curve``) would
otherwise load stale machine code; with the hash, an edit or an upgrade gets a fresh
folder.

``configure()`` must run before any ``@njit(cache=True)`` function is defined: numba
picks a function's cache locator when it is decorated.  ``gpu_msm.cpu`` calls it first.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def source_stamp(folder: Path = HERE) -> str:
    """A short hash of the engine's sources (every .py of this package)."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _base() -> Path:
    if os.environ.get("COPROVE_CACHE_DIR"):
        return Path(os.environ["COPROVE_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "coprove"


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-")
        probe.close()
        return True
    except OSError:
        return False


def kernel_dir() -> Path:
    """The folder numba will cache into (created), $NUMBA_CACHE_DIR included."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    stamp = source_stamp()
    chosen = _base() / "kernels" / stamp
    if not _writable(chosen):
        chosen = Path(tempfile.gettempdir()) / f"coprove-{os.getuid()}" / "kernels" / stamp
        chosen.mkdir(parents=True, exist_ok=True)
    return chosen


_configured: Path | None = None


def configure() -> Path:
    """Point numba's cache at ``kernel_dir()``; idempotent.  Returns the folder."""
    global _configured
    if _configured is None:
        from numba.core import config
        path = kernel_dir()
        if not os.environ.get("NUMBA_CACHE_DIR"):
            # numba re-reads NUMBA_* variables only when one of them changes; setting the
            # config attribute rather than the environment keeps child processes free to
            # choose their own folder (they compute the same one).
            config.CACHE_DIR = str(path)
        _configured = path
    return _configured
