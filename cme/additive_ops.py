"""``AdditiveOps``: the share operations for one of N parties holding additive shares.

The local operations are ``prover``'s, applied to this party's summand (they are
linear).  What differs from one party holding everything:
- constants (α1, β1, β2) are added by party 0 only;
- products use the dealt Beaver triples: open d = a − x and e = b − y, then
  [a∘b] = [z] + d∘[y] + e∘[x] + d∘e (the last term at party 0 only);
- opening is the round-1 exchange with chunk owners: party k sums everyone's
  share of chunk k and sends the opened chunk back, so traffic stays linear in n
  and every party does the same work;
- the output goes to the client (round 2).
Every value this party receives is uniform (masked by a triple or by r, s) or
public: πA ends up in the proof, B1 is masked by s·δ1.
"""

from __future__ import annotations

import numpy as np

from cme import messages as M
from cme.dealing import TRIPLES, Shares
from cme.transport import CLIENT
from prover.local_ops import CURVES, LocalOps, public_point


def chunk_bounds(length: int, n_parties: int) -> list[int]:
    return [k * length // n_parties for k in range(n_parties + 1)]


class AdditiveOps(LocalOps):
    def __init__(self, shares: Shares, transport, n_parties: int, job_id: bytes, engine: str | None = None):
        super().__init__(engine)
        self.i = transport.index
        self.n_parties = n_parties
        self.job_id = job_id
        self.transport = transport
        self._shares = shares
        self._w = self.from_wire(shares.w)
        self._triples = [tuple(self.from_wire(a) for a in shares.triples[t]) for t in TRIPLES]

    def witness(self):
        return self._w

    def blinding(self):
        return self._shares.r, self._shares.s, self._shares.rs

    def add_public(self, group, a, p):
        return CURVES[group].add(a, public_point(group, p)) if self.i == 0 else a

    # round 1 ------------------------------------------------------------------
    def multiply_and_open(self, pairs, points):
        if len(pairs) > len(self._triples):
            raise RuntimeError(f"{len(pairs)} products asked for, {len(self._triples)} triples dealt")
        if any(g != "g1" for g, _ in points) or len(points) != 2:
            raise RuntimeError("round 1 opens exactly two G1 points (πA, B1)")
        masked = []
        for (a, b), (x, y, _) in zip(pairs, self._triples):
            masked += [self.sub_vec(a, x), self.sub_vec(b, y)]
        lengths = [len(v) for v in masked]
        flat = self.to_wire(self.concat(masked))
        opened_flat, opened_points = self._timed("exchange", self._exchange, flat, [p for _, p in points])
        opened = []
        pos = 0
        for n in lengths:
            opened.append(self.from_wire(opened_flat[pos:pos + n]))
            pos += n
        products = []
        for j, (x, y, z) in enumerate(self._triples[:len(pairs)]):
            d, e = opened[2 * j], opened[2 * j + 1]
            ab = self.add_vec(z, self.add_vec(self.mul_vec(d, y), self.mul_vec(e, x)))
            if self.i == 0:
                ab = self.add_vec(ab, self.mul_vec(d, e))
            products.append(ab)
        return products, opened_points

    def _exchange(self, flat: np.ndarray, point_shares):
        """Chunk-owner opening of ``flat`` and all-to-all opening of the point shares."""
        n, t, me = self.n_parties, self.transport, self.i
        bounds = chunk_bounds(len(flat), n)
        peers = [k for k in range(n) if k != me]
        for k in peers:
            t.send(k, M.encode(M.Message(M.ROUND1_SHARES, self.job_id, me, k,
                                         flat[bounds[k]:bounds[k + 1]], tuple(point_shares))))
        own = self.from_wire(flat[bounds[me]:bounds[me + 1]])
        acc = own
        sums = list(point_shares)
        for k in peers:
            msg = M.decode(t.recv(k), peer=k, job_id=self.job_id, kind=M.ROUND1_SHARES,
                           chunk=me, count=bounds[me + 1] - bounds[me])
            acc = self.add_vec(acc, self.from_wire(msg.values))
            sums = [self.add("g1", s, p) for s, p in zip(sums, msg.points)]
        my_chunk = self.to_wire(acc)
        for k in peers:
            t.send(k, M.encode(M.Message(M.ROUND1_OPENED, self.job_id, me, me, my_chunk)))
        out = np.empty_like(flat)
        out[bounds[me]:bounds[me + 1]] = my_chunk
        for k in peers:
            msg = M.decode(t.recv(k), peer=k, job_id=self.job_id, kind=M.ROUND1_OPENED,
                           chunk=k, count=bounds[k + 1] - bounds[k])
            out[bounds[k]:bounds[k + 1]] = msg.values
        return out, sums

    # round 2 ------------------------------------------------------------------
    def output(self, pi_a, pi_b, pi_c):
        self.transport.send(CLIENT, M.encode(M.Message(M.OUTPUT, self.job_id, self.i,
                                                       points=(pi_a, pi_b, pi_c))))
        return None
