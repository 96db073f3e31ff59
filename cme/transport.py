"""The transport the protocol runs over: four methods, and an in-memory implementation.

Parties are 0..N−1 and the client is ``CLIENT`` (−1).  Payloads are bytes (the
encoded messages of ``cme.messages``), so byte counts are the real wire sizes.
gRPC lives behind this interface in ``coordinator_free``; ``cme`` never imports it.
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

CLIENT = -1
_ABORT = object()


class PeerError(RuntimeError):
    """A peer timed out, vanished or broke the protocol; names the peer."""

    def __init__(self, peer, message: str):
        self.peer = peer
        who = "the client" if peer == CLIENT else f"party {peer}"
        super().__init__(f"{who}: {message}")


class Transport(Protocol):
    @property
    def index(self) -> int: ...

    def send(self, to: int, payload: bytes) -> None: ...

    def recv(self, frm: int) -> bytes: ...

    def stats(self) -> dict: ...


class InMemoryHub:
    """Mailboxes for one job's parties and client inside one process."""

    def __init__(self, n_parties: int, timeout: float = 60.0):
        self.n_parties = n_parties
        self.timeout = timeout
        ids = [CLIENT, *range(n_parties)]
        self._boxes = {(a, b): queue.Queue() for a in ids for b in ids if a != b}

        self.aborted: str | None = None

    def endpoint(self, index: int) -> "InMemoryTransport":
        return InMemoryTransport(self, index)

    def abort(self, reason: str) -> None:
        """Wake every blocked receiver with ``reason``: a failed party ends the job at once."""
        self.aborted = reason
        for box in self._boxes.values():
            box.put(_ABORT)


class InMemoryTransport:
    def __init__(self, hub: InMemoryHub, index: int):
        self._hub = hub
        self._index = index
        self._stats = {"bytes_sent": 0, "bytes_received": 0, "messages_sent": 0, "messages_received": 0}
        self._lock = threading.Lock()

    @property
    def index(self) -> int:
        return self._index

    def send(self, to: int, payload: bytes) -> None:
        if (self._index, to) not in self._hub._boxes:
            raise PeerError(to, "no such peer in this job")
        self._hub._boxes[(self._index, to)].put(bytes(payload))
        with self._lock:  # a party sends to its peers from several threads
            self._stats["bytes_sent"] += len(payload)
            self._stats["messages_sent"] += 1

    def recv(self, frm: int) -> bytes:
        if (frm, self._index) not in self._hub._boxes:
            raise PeerError(frm, "no such peer in this job")
        try:
            payload = self._hub._boxes[(frm, self._index)].get(timeout=self._hub.timeout)
        except queue.Empty:
            raise PeerError(frm, f"sent nothing within {self._hub.timeout:g} s") from None
        if payload is _ABORT:
            self._hub._boxes[(frm, self._index)].put(_ABORT)  # later receivers see it too
            raise PeerError(frm, f"job aborted: {self._hub.aborted}")
        self._stats["bytes_received"] += len(payload)
        self._stats["messages_received"] += 1
        return payload

    def stats(self) -> dict:
        return dict(self._stats)


class Recorder:
    """Wraps a transport and keeps what passes: ``received`` gets (sender, payload) per
    message received, ``sent`` maps (self, receiver) to the payloads sent.  The client's
    audit replays jobs through it; tests record views with it."""

    def __init__(self, inner, received: list | None = None, sent: dict | None = None):
        self._inner, self._received, self._sent = inner, received, sent

    @property
    def index(self) -> int:
        return self._inner.index

    def send(self, to: int, payload: bytes) -> None:
        if self._sent is not None:
            self._sent.setdefault((self._inner.index, to), []).append(bytes(payload))
        self._inner.send(to, payload)

    def recv(self, frm: int) -> bytes:
        payload = self._inner.recv(frm)
        if self._received is not None:
            self._received.append((frm, payload))
        return payload

    def stats(self) -> dict:
        return self._inner.stats()
