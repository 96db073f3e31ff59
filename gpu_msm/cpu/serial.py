"""One engine call at a time.

The kernels release the GIL, so a daemon's network threads keep running through a long
MSM.  That makes calls from several Python threads truly concurrent, which numba's
fallback "workqueue" threading layer cannot take (it aborts the process on concurrent
parallel launches) and which gains nothing where one call already keeps every core
busy.  Each public function therefore holds this lock.
"""

from __future__ import annotations

import functools
import threading

_LOCK = threading.RLock()


def serialized(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _LOCK:
            return fn(*args, **kwargs)
    return wrapper
