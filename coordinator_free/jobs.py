"""A job as one node holds it: manifest, deadline, peer mailboxes, outcome.

Peer messages arrive in parts (``PeerSend``); ``deliver`` reassembles them and queues
each complete message for the party's ``recv``.  Every blocking wait is bounded by the
job's deadline, and failing or cancelling a job wakes every waiter at once.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from coordinator_free.signing import DIGEST_BLOCK

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
# FetchResult of a failed job names the party its node blames in this trailing metadata
# key (JobState has it as blamed_party): the client reads a field, never the error text
BLAMED_PARTY_KEY = "coprove-blamed-party"
PEER_MARGIN = 1.0  # seconds before the deadline at which waits on peers give up
LATE_GRACE = 2.0  # seconds past the deadline before a job with no recorded cause is failed
_WAKE = object()
# bookkeeping bytes charged per buffered part, so a peer cannot pile up empty parts for free
PART_OVERHEAD = 512


class JobError(RuntimeError):
    pass


@dataclass
class PartyInfo:
    index: int
    name: str
    address: str
    fingerprint: str

    def label(self) -> str:
        return f"party {self.index} ({self.name} at {self.address})"


@dataclass
class Job:
    job_id: bytes
    circuit: str
    index: int
    parties: list
    deadline: float  # time.monotonic() seconds
    max_buffered: int
    threshold: int = 0  # 0: additive mode; t: threshold mode (no peer messages at all)
    state: str = RUNNING
    error: str = ""
    blamed: int | None = None  # the party this node holds responsible for a failure
    output: bytes | None = None
    steps: dict = field(default_factory=dict)
    bytes_sent: int = 0
    bytes_received: int = 0
    ended_at: float | None = None
    material_bytes: int = 0  # from the client, for the receipt
    started_unix: float = field(default_factory=time.time)
    receipt: tuple = (b"", b"")  # (signed receipt bytes, signature), once done

    def __post_init__(self):
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._boxes = {p.index: queue.Queue() for p in self.parties if p.index != self.index}
        self._parts: dict = {}  # (sender, seq) -> {part: bytes}
        self._next_seq = {k: 0 for k in self._boxes}
        self._buffered = 0
        self._on_end: list = []
        self.transcript: list = []  # (sender, seq, payload, signature) of every message delivered
        # verify(sender, seq, payload, signature) -> bool: the node's check of the
        # sender's signature (coordinator_free.signing); None accepts unsigned messages
        self.verify = None

    @property
    def n_parties(self) -> int:
        return len(self.parties)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def work_remaining(self) -> float:
        """Time left for the job's own waits: they end a little before the deadline, so
        the error that names the silent peer is recorded before the job is declared late."""
        left = self.deadline - time.monotonic()
        return max(0.0, left - min(PEER_MARGIN, left / 4))

    # peer delivery ------------------------------------------------------------
    def deliver(self, sender: int, seq: int, part: int, n_parts: int, data: bytes, signature: bytes = b"",
                hashes: list | None = None) -> None:
        """``hashes``: the part's block hashes (``signing.block_hashes``), computed by the
        caller outside this job's lock, so that parts are hashed in parallel as they arrive."""
        if sender not in self._boxes:
            raise JobError(f"sender index {sender} is not a peer in this job")
        if not 0 <= part < n_parts or n_parts > 1 << 16:
            raise JobError(f"bad part {part} of {n_parts}")
        with self._lock:
            if self.state != RUNNING:
                return
            if seq < self._next_seq[sender]:
                raise JobError(f"message {seq} from party {sender} was already delivered (replay)")
            msg = self._parts.setdefault((sender, seq), {"n": n_parts, "parts": {}})
            if msg["n"] != n_parts:
                raise JobError(f"party {sender} changed the part count of message {seq}")
            if part in msg["parts"]:
                return  # a retried send: already have it
            if self._buffered + len(data) + PART_OVERHEAD > self.max_buffered:
                raise JobError(f"party {sender} sent more than the {self.max_buffered} bytes a job may buffer")
            # bytes, or PeerSend's read-only view of a received buffer (kept, not copied:
            # the join below is the one copy)
            msg["parts"][part] = data
            if hashes is not None:
                msg.setdefault("hashes", {})[part] = hashes
            if signature:
                msg["signature"] = bytes(signature)
            self._buffered += len(data) + PART_OVERHEAD
            self.bytes_received += len(data)
            # hand complete messages over in sequence order
            while True:
                key = (sender, self._next_seq[sender])
                msg = self._parts.get(key)
                if msg is None or len(msg["parts"]) != msg["n"]:
                    break
                payload = b"".join(msg["parts"][i] for i in range(msg["n"]))
                del self._parts[key]
                self._buffered -= len(payload) + PART_OVERHEAD * msg["n"]
                sig = msg.get("signature", b"")
                if self.verify is not None and not self.verify(sender, key[1], payload, sig,
                                                               _aligned_hashes(msg)):
                    raise JobError(f"message {key[1]} from party {sender} does not carry its sender's "
                                   f"signature ({'none' if not sig else 'a bad one'}): refused")
                self._next_seq[sender] += 1
                self.transcript.append((sender, key[1], payload, sig))
                self._boxes[sender].put(payload)

    def recv(self, sender: int) -> bytes:
        box = self._boxes[sender]
        try:
            item = box.get(timeout=self.work_remaining())
        except queue.Empty:
            raise TimeoutError("sent nothing before the job's deadline") from None
        if item is _WAKE:
            box.put(_WAKE)
            raise JobError(f"job {self.state}: {self.error}")
        return item

    # outcome ------------------------------------------------------------------
    def finish(self, state: str, error: str = "", blamed: int | None = None) -> bool:
        with self._lock:
            if self.state != RUNNING:
                return False
            self.state, self.error = state, error
            self.blamed = blamed if blamed is not None and blamed != self.index else None
            self.ended_at = time.monotonic()
            self._parts.clear()
            self._buffered = 0
        for box in self._boxes.values():
            box.put(_WAKE)
        for fn in self._on_end:
            fn(state, error)
        self.done.set()
        return True

    def on_end(self, fn) -> None:
        """``fn(state, error)`` when the job ends (at once if it has): e.g. to wake a party
        still waiting for material the client has stopped sending."""
        with self._lock:
            if self.state == RUNNING:
                self._on_end.append(fn)
                return
        fn(self.state, self.error)


def _aligned_hashes(msg) -> list | None:
    """The payload's block hashes from its parts', when every part but the last is a whole
    number of blocks (so the parts' blocks are the payload's); else None."""
    got = msg.get("hashes", {})
    if len(got) != msg["n"]:
        return None
    if any(len(msg["parts"][i]) % DIGEST_BLOCK for i in range(msg["n"] - 1)):
        return None
    return [h for i in range(msg["n"]) for h in got[i]]
