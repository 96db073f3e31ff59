"""Dealing ahead for a client that proves repeatedly (``Client(..., deal_ahead=True)``).

After each additive job, the witness-independent part of the next job's dealing
(``cme.dealing.predeal``: seeds and Beaver triple corrections) is made in a background
thread and pre-positioned at the nodes (the ``Predeal`` call), each party's piece bound to
this client, the circuit and the committee, with an expiry.  The next job of the same
shape then sends only the witness correction, to party 0, and names the pieces dealt
ahead; the others get nothing but the manifest.  Each piece is used once: a job takes it
whether or not it succeeds; when a piece could not be placed at every node, the dealing
is sent whole with the job instead, as without dealing ahead.
"""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc

from cme.dealing import CORRECTED, Corrections, PartyMaterial, Predeal, owner, predeal
from cme.material import material_buffers
from coordinator_free.node_errors import rpc_why
from coordinator_free import wire
from protos import coprove_pb2 as pb

AHEAD_SECONDS = 600.0  # how long nodes keep material dealt ahead (an unused piece expires)
# a piece this close to its expiry is not named by a job (it could expire on the way):
# the job sends the dealing whole instead
EXPIRY_MARGIN = 0.1
PREDEAL_ID_BYTES = 16
CHUNK = 4 << 20


@dataclass
class Ahead:
    pre: Predeal
    ids: list | None  # per party, the id its piece is held under; None: not placed everywhere
    placed_bytes: int = 0
    expires: float = 0.0  # time.time() seconds


def ahead_pieces(pre: Predeal) -> list[PartyMaterial]:
    """Each party's piece of a dealing made ahead: its seed and the triple corrections it
    owns (the witness correction follows with the job)."""
    out = []
    for i in range(pre.n_parties):
        mine = {k: pre.z[k] for k in CORRECTED if k != "w" and owner(k, pre.n_parties) == i}
        out.append(PartyMaterial(i, pre.n_parties, pre.n_vars, pre.domain_size, pre.seeds[i],
                                 Corrections(**mine) if mine else None))
    return out


class AheadDealer:
    def __init__(self, client):
        self._client = client
        self._next: dict = {}  # (member fingerprints, circuit, n_vars, domain) -> Future[Ahead]
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deal-ahead")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._next.clear()

    def take(self, members, zkey) -> Ahead | None:
        """The dealing made ahead for this job's shape, if any (and start the next one)."""
        key = (tuple(m.fingerprint for m in members), zkey.sha256, zkey.n_vars, zkey.domain_size)
        with self._lock:
            fut = self._next.pop(key, None)
            self._next[key] = self._pool.submit(self._deal_and_place, list(members), zkey)
        if fut is None:
            return None
        try:
            ahead = fut.result()
        except Exception as e:  # noqa: BLE001 (a failed deal-ahead only costs the job its head start)
            self._client.progress("deal ahead", f"the dealing made ahead failed ({e}); dealing afresh")
            return None
        if ahead.ids is not None and time.time() > ahead.expires - EXPIRY_MARGIN * AHEAD_SECONDS:
            ahead.ids = None  # about to expire at the nodes: sent whole instead
        return ahead

    def _deal_and_place(self, members, zkey) -> Ahead:
        pre = predeal(len(members), zkey.n_vars, zkey.domain_size)
        ids = [secrets.token_bytes(PREDEAL_ID_BYTES) for _ in members]
        expires_ms = int((time.time() + AHEAD_SECONDS) * 1000)
        parties = wire.manifest_parties(members)
        placed = 0
        for i, (node, piece) in enumerate(zip(members, ahead_pieces(pre))):
            parts = material_buffers(piece, "ahead")
            size = sum(len(p) for p in parts)
            manifest = pb.PredealManifest(predeal_id=ids[i], circuit_sha256=zkey.sha256, n_parties=len(members),
                                          party_index=i, parties=parties, expires_unix_ms=expires_ms,
                                          material_size=size)

            def stream():
                yield pb.PredealPart(manifest=manifest)
                for piece_bytes in parts:
                    view = memoryview(piece_bytes)
                    for off in range(0, len(view), CHUNK):
                        yield pb.PredealPart(material=bytes(view[off:off + CHUNK]))

            try:
                self._client._stub(node).Predeal(stream(), timeout=self._client.rpc_seconds)
            except grpc.RpcError as e:
                self._client.progress("deal ahead", f"node {node.name} did not take material dealt ahead "
                                                    f"({rpc_why(e)}); the next job deals afresh")
                return Ahead(pre, None)
            placed += size
        return Ahead(pre, ids, placed, expires_ms / 1000.0)
