"""``AdditiveOps``: the share operations for one of N parties holding additive shares.

The local operations are ``prover``'s, applied to this party's summand (they are
linear).  What differs from one party holding everything:
- products use the dealt Beaver triple: open d = a − x and e = b − y, then
  [a∘b] = [z1] + d∘[y] + e∘[x] + d∘e (the last term at party 0 only); the product on
  the odd coset, odd_coset(a)∘odd_coset(b), uses the triple's image (odd_coset([x]),
  odd_coset([y]), [z2]) with the masks odd_coset(d), odd_coset(e), which every party
  computes from the opened d and e: one opening serves both products;
- opening is the round-1 exchange with chunk owners: party k sums everyone's
  share of chunk k and sends the opened chunk back, so traffic stays linear in n
  and every party does the same work; the witness MSMs run while it is on the wire;
- the output, this party's bare MSMs, goes to the client (round 2), which sums the
  parties' and completes the proof with r and s: no party holds the blinding and no
  point is opened between parties.
Every value this party receives is a masked vector: uniform.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from cme import messages as M
from cme.dealing import Shares
from cme.incoming import IncomingVector
from cme.transport import CLIENT
from prover.local_ops import LocalOps


def chunk_bounds(length: int, n_parties: int) -> list[int]:
    return [k * length // n_parties for k in range(n_parties + 1)]


class _SubSteps:
    """Seconds since the previous call, added to ``timings[prefix + name]``: where an
    exchange's time goes (dotted names: parts of a step, not steps of their own)."""

    def __init__(self, timings: dict, prefix: str):
        self._timings, self._prefix, self._t = timings, prefix, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        key = self._prefix + name
        self._timings[key] = self._timings.get(key, 0.0) + now - self._t
        self._t = now


class AdditiveOps(LocalOps):
    def __init__(self, shares: Shares, transport, n_parties: int, job_id: bytes, engine: str | None = None):
        super().__init__(engine)
        self.i = transport.index
        self.n_parties = n_parties
        self.job_id = job_id
        self.transport = transport
        self._shares = shares
        self._w = self._arrived(shares.w)
        self._x, self._y = self.from_wire(shares.x), self.from_wire(shares.y)
        self._z_pending = {"z1": shares.z1, "z2": shares.z2}  # needed after the exchange: may arrive meanwhile
        self._z = {}

    def _arrived(self, v):
        """A share vector on the engine; one the client is still sending is waited for
        (timed as ``material``: the job started before its material was whole)."""
        if isinstance(v, IncomingVector):
            t0 = time.perf_counter()
            v = v.take()
            self.timings["material"] = self.timings.get("material", 0.0) + time.perf_counter() - t0
        return self.from_wire(v)

    def _triple_z(self, key):
        if key not in self._z:
            self._z[key] = self._arrived(self._z_pending.pop(key))
        return self._z[key]

    def witness(self):
        return self._w

    # round 1 ------------------------------------------------------------------
    def multiply(self, a, b, meanwhile):
        n = len(a)
        if len(b) != n or len(self._x) != n:
            raise RuntimeError(f"vectors of {len(a)} and {len(b)} values; the triple has {len(self._x)}")
        masked = self.concat([self.sub_vec(a, self._x), self.sub_vec(b, self._y)])

        def start_msms():
            # the MSMs it starts are timed as their own steps, not as the exchange's
            t0 = time.perf_counter()
            meanwhile()
            self.timings["exchange"] = self.timings.get("exchange", 0.0) - (time.perf_counter() - t0)

        opened = self._timed("exchange", self._exchange, masked, start_msms)
        d, e = opened[:n], opened[n:]
        c_dom = self._beaver(d, e, self._x, self._y, self._triple_z("z1"))
        ab_odd = self._beaver(self.odd_coset(d), self.odd_coset(e), self.odd_coset(self._x),
                              self.odd_coset(self._y), self._triple_z("z2"))
        return c_dom, ab_odd

    def _beaver(self, d, e, x, y, z):
        ab = self.add_vec(z, self.add_vec(self.mul_vec(d, y), self.mul_vec(e, x)))
        return self.add_vec(ab, self.mul_vec(d, e)) if self.i == 0 else ab

    def _exchange(self, masked, meanwhile):
        """Chunk-owner opening of the engine vector ``masked``; ``meanwhile()`` runs while
        the first half's sends are under way.  The opened vector comes back as an engine
        vector: this party's chunk never leaves the engine, the peers' chunks go straight in."""
        n, t, me = self.n_parties, self.transport, self.i
        bounds = chunk_bounds(len(masked), n)
        peers = [k for k in range(n) if k != me]
        clock = _SubSteps(self.timings, "exchange.")
        # each chunk goes from the engine straight into its message
        payloads = {k: M.encode_values(M.ROUND1_SHARES, self.job_id, me, k, bounds[k + 1] - bounds[k],
                                       lambda out, k=k: self.to_wire_into(masked[bounds[k]:bounds[k + 1]], out))
                    for k in peers}
        clock("encode")
        with ThreadPoolExecutor(max_workers=len(peers), thread_name_prefix="send") as pool:
            sending = [pool.submit(self.transport.send, k, p) for k, p in payloads.items()]
            del payloads
            try:
                meanwhile()
            finally:
                # a failed MSM still lets the sends finish (or fail) before the job ends
                clock("msms")
                for f in sending:
                    f.result()
        clock("send shares")
        acc = masked[bounds[me]:bounds[me + 1]]
        for k in peers:
            raw = t.recv(k)
            clock("wait shares")
            msg = M.decode(raw, peer=k, job_id=self.job_id, kind=M.ROUND1_SHARES,
                           chunk=me, count=bounds[me + 1] - bounds[me])
            acc = self.add_vec(acc, self.from_wire(msg.values))
            clock("sum")
        opened = M.encode_values(M.ROUND1_OPENED, self.job_id, me, me, bounds[me + 1] - bounds[me],
                                 lambda out: self.to_wire_into(acc, out))
        clock("encode")
        self._send_each({k: opened for k in peers})
        clock("send opened")
        chunks = {me: acc}
        for k in peers:
            raw = t.recv(k)
            clock("wait opened")
            msg = M.decode(raw, peer=k, job_id=self.job_id, kind=M.ROUND1_OPENED,
                           chunk=k, count=bounds[k + 1] - bounds[k])
            chunks[k] = self.from_wire(msg.values)
            clock("decode")
        return self.concat([chunks[k] for k in range(n)])

    def _send_each(self, payloads: dict) -> None:
        """Send to every peer at once, so one peer's link does not wait for another's."""
        if len(payloads) == 1:
            for k, p in payloads.items():
                self.transport.send(k, p)
            return
        with ThreadPoolExecutor(max_workers=len(payloads), thread_name_prefix="send") as pool:
            for f in [pool.submit(self.transport.send, k, p) for k, p in payloads.items()]:
                f.result()

    # round 2 ------------------------------------------------------------------
    def output(self, parts):
        self.transport.send(CLIENT, M.encode(M.Message(M.OUTPUT, self.job_id, self.i,
                                                       points=(parts.a, parts.b1, parts.b2, parts.c))))
        return parts
