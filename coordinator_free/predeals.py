"""Material dealt ahead, as a node holds it: in memory only, one use each, with an expiry.

A Beaver triple used for two jobs leaks: both jobs open A·w − x with the same x, so the
difference of the openings is A·(w − w'), and likewise for B.  So an entry is deleted
when a job takes it (whether or not that job then succeeds), a second use is refused
naming the job that used it, and an entry is bound to the client that dealt it, the
circuit and the committee (the parties' fingerprints in index order), so no other
client or job shape can draw on it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_ENTRIES = 64  # per node; a client proving repeatedly needs one or two ahead
MAX_BYTES = 4 << 30
USED_REMEMBERED = 4096  # ids of entries already used, to say so rather than "unknown"


class PredealError(ValueError):
    """An entry that cannot be used for this job; the message says why."""


@dataclass
class Entry:
    predeal_id: bytes
    client: str  # the fingerprint of the client that dealt it
    circuit: str
    parties: tuple  # fingerprints, in index order
    index: int
    expires: float  # time.time() seconds
    material: object = field(repr=False)  # cme.dealing.PartyMaterial, triple corrections only
    nbytes: int = 0

    def wipe(self) -> None:
        c = self.material.corrections
        if c is not None:
            c.wipe()
        self.material = None


class PredealStore:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: dict[bytes, Entry] = {}
        self._used: OrderedDict[bytes, str] = OrderedDict()  # id -> what used it
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, entry: Entry) -> None:
        with self._lock:
            if entry.predeal_id in self._entries or entry.predeal_id in self._used:
                raise PredealError(f"material {entry.predeal_id.hex()[:12]} was dealt before: ids are used once")
            if len(self._entries) >= self.max_entries:
                raise PredealError(f"{len(self._entries)} entries dealt ahead are held, the limit")
            held = sum(e.nbytes for e in self._entries.values())
            if held + entry.nbytes > self.max_bytes:
                raise PredealError(f"{held} bytes dealt ahead are held; {entry.nbytes} more exceed the "
                                   f"limit of {self.max_bytes}")
            self._entries[entry.predeal_id] = entry

    def take(self, predeal_id: bytes, *, client: str, circuit: str, parties: tuple, index: int,
             job_id: bytes):
        """The entry's material for this job, removed from the store (one use)."""
        short = predeal_id.hex()[:12]
        with self._lock:
            entry = self._entries.get(predeal_id)
            if entry is None:
                used = self._used.get(predeal_id)
                if used is not None and used.startswith("used by"):
                    raise PredealError(f"material {short} dealt ahead was already {used}: each is "
                                       "used once (a Beaver triple used twice leaks the witnesses' "
                                       "difference)")
                if used is not None:
                    raise PredealError(f"material {short} dealt ahead {used} and is deleted")
                raise PredealError(f"no material {short} dealt ahead on this node (never dealt, or "
                                   "forgotten after expiry or a restart)")
            why = None
            if entry.client != client:
                why = "was dealt by another client"
            elif entry.circuit != circuit:
                why = f"is for circuit {entry.circuit[:12]}, not {circuit[:12]}"
            elif entry.parties != parties or entry.index != index:
                why = "is for another committee or party index"
            elif entry.expires <= time.time():
                why = "has expired"
            if why is not None and entry.client != client:
                # another client's entry: refused, and left for its owner
                raise PredealError(f"material {short} dealt ahead {why}")
            del self._entries[predeal_id]
            self._remember(predeal_id, f"used by job {job_id.hex()[:12]}" if why is None else why)
        if why is not None:
            entry.wipe()
            raise PredealError(f"material {short} dealt ahead {why}; it is deleted")
        material = entry.material
        entry.material = None
        return material

    def sweep(self, now: float | None = None) -> int:
        """Delete expired entries; returns how many."""
        now = time.time() if now is None else now
        with self._lock:
            gone = [e for e in self._entries.values() if e.expires <= now]
            for e in gone:
                del self._entries[e.predeal_id]
                self._remember(e.predeal_id, "has expired")
        for e in gone:
            e.wipe()
        return len(gone)

    def clear(self) -> None:
        with self._lock:
            gone = list(self._entries.values())
            self._entries.clear()
        for e in gone:
            e.wipe()

    def _remember(self, predeal_id: bytes, what: str) -> None:
        self._used[predeal_id] = what
        while len(self._used) > USED_REMEMBERED:
            self._used.popitem(last=False)
