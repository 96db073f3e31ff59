"""Fault injection for tests (``coprove node --fault STEP:ACTION``): the node kills or
stops itself, for real, at one point of the protocol, once.

Steps: ``upload`` (after the first circuit chunk is stored), ``submit`` (after a job's
manifest arrives), ``start`` (as local work begins), ``exchange`` (round 1, after the
first peer got this node's shares), ``output`` (as the round-2 output is ready).
Actions: ``crash`` (SIGKILL), ``hang`` (SIGSTOP: the process stays, silent) and ``stall``
(the job pauses ``STALL_SECONDS`` and goes on: a slow node, and a window in which a test
can kill the node or cut its link while the job is surely in progress).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from cme import messages as M
from cme.transport import CLIENT

STEPS = ("upload", "submit", "start", "exchange", "output")
ACTIONS = {"crash": signal.SIGKILL, "hang": signal.SIGSTOP, "stall": None}
STALL_SECONDS = 5.0
log = logging.getLogger("coprove.node")


class FaultPlan:
    def __init__(self, spec: str | None):
        self.step = self.action = None
        if spec:
            step, _, action = spec.partition(":")
            if step not in STEPS or action not in ACTIONS:
                raise ValueError(f"--fault {spec!r}: expected STEP:ACTION with STEP in {', '.join(STEPS)} "
                                 f"and ACTION in {', '.join(ACTIONS)}")
            self.step, self.action = step, action
        self._lock = threading.Lock()

    def at(self, step: str) -> None:
        with self._lock:  # reached from several sending threads at once
            if self.step != step:
                return
            self.step = None  # once
        log.warning("fault injection: %s at step %s", self.action, step)
        for h in logging.getLogger().handlers:
            h.flush()
        if self.action == "stall":
            time.sleep(STALL_SECONDS)
            return
        os.kill(os.getpid(), ACTIONS[self.action])

    def wrap(self, transport):
        return _FaultyTransport(transport, self) if self.step in ("exchange", "output") else transport


class _FaultyTransport:
    def __init__(self, inner, plan: FaultPlan):
        self._inner, self._plan = inner, plan

    @property
    def index(self):
        return self._inner.index

    def send(self, to, payload):
        if to == CLIENT:
            self._plan.at("output")
        self._inner.send(to, payload)
        if payload[4] == M.ROUND1_SHARES:
            self._plan.at("exchange")

    def recv(self, frm):
        return self._inner.recv(frm)

    def stats(self):
        return self._inner.stats()

    def misreport(self, *args):
        return self._inner.misreport(*args)
