"""The client's side of one collaborative job, whatever carries it: deal, then complete
and check the proof from the parties' outputs (or, additive mode, audit the job when it
fails).

``--local`` (``cme.local_run``, ``cme.threshold_run``) and the network client
(``coordinator_free.client``) drive these, so the client's protocol is written once; only
the moving of material and outputs differs between them.  r and s are drawn here and
never leave the session.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import Future
from itertools import combinations
from typing import Callable

from cme import messages as M
from cme.assembly import JobFailed, combine_additive, decode_outputs, finish
from cme.audit import audit
from cme.dealing import Predeal, deal_with, predeal
from cme.shamir import alpha, deal_shamir, interpolate
from gpu_msm.constants import FR_MODULUS
from prover.groth16 import blinding_terms
from prover.limbs import limbs_to_ints
from prover.snarkjs_json import vkey_object_from_zkey


# each subset costs a recombination and a pairing check: past this many, the job fails
# rather than trying every subset of a large committee
MAX_SUBSETS = 256


class _Completion:
    """What every mode's client holds: the key, the public inputs, r and s, and the
    blinding's own points, computed in a thread while the parties work."""

    def __init__(self, zkey, witness, n_parties: int, blinding, vkey, engine, rng):
        self.zkey, self.engine, self.n_parties = zkey, engine, n_parties
        self.vkey = vkey if vkey is not None else vkey_object_from_zkey(zkey)
        self.public = limbs_to_ints(witness[1:zkey.n_public + 1])
        token = secrets.token_bytes if rng is None else rng.randbytes
        self.job_id = token(M.JOB_ID_BYTES)
        if blinding is None:
            randbelow = secrets.randbelow if rng is None else rng.randrange
            blinding = (randbelow(FR_MODULUS), randbelow(FR_MODULUS))
        self._r, self._s = (v % FR_MODULUS for v in blinding)
        self._terms: Future = Future()
        threading.Thread(target=self._blinding_terms, daemon=True, name="blinding").start()

    def _blinding_terms(self) -> None:
        try:
            self._terms.set_result(blinding_terms(self.zkey, self._r, self._s))
        except BaseException as e:  # handed to whoever finishes the job
            self._terms.set_exception(e)

    def _finish(self, bare):
        return finish(self.zkey, self.vkey, self.public, bare, self._r, self._s, self._terms.result())

    @property
    def upload_bytes(self) -> int:
        return sum(p.nbytes() for p in self.materials)


class ClientSession(_Completion):
    """Additive mode: N-of-N shares, Beaver products, one round between the parties."""

    def __init__(self, zkey, witness, n_parties: int, *, pre: Predeal | None = None,
                 blinding: tuple[int, int] | None = None, vkey=None, engine: str | None = None,
                 rng=None):
        """``witness``: the canonical (m, 4) array (checked against the zkey by the caller).
        ``pre``: this job's witness-independent dealing, made ahead (else made now).
        ``blinding``: (r, s) instead of fresh ones: for tests that compare with snarkjs.
        ``rng``: a seeded ``random.Random`` to repeat a dealing exactly (tests)."""
        if pre is None:
            pre = predeal(n_parties, len(witness), zkey.domain_size, engine, rng)
        self.materials = deal_with(pre, witness, engine)
        super().__init__(zkey, witness, n_parties, blinding, vkey, engine, rng)

    def finish(self, raw_outputs: dict, transcripts: Callable[[], dict]):
        """The checked proof from ``raw_outputs`` (party -> its OUTPUT payload).  When the
        proof fails its check, ``transcripts()`` (receiver -> [(sender, payload)] as the
        parties report what they received) feeds the audit, and ``JobFailed`` names the
        party it blames.  The dealt shares are wiped either way."""
        try:
            return self._finish(combine_additive(decode_outputs(raw_outputs, self.job_id)))
        except JobFailed as e:
            if e.party is not None:
                raise
            found = audit(self.zkey, self.materials, self.job_id, transcripts(), raw_outputs, self.engine)
            raise JobFailed(f"{e}; audit: {found.detail}",
                            found.culprits[0] if found.culprits else None, "audit") from None
        finally:
            self.forget()

    def forget(self) -> None:
        """Wipe the dealt shares (the client keeps them only until the job is settled)."""
        for p in self.materials:
            if p.corrections is not None:
                p.corrections.wipe()
                p.corrections = None


class ThresholdSession(_Completion):
    """Threshold mode: degree-t Shamir shares; the parties never talk to each other, and
    any 2t + 1 honest outputs give the proof."""

    def __init__(self, zkey, witness, n_parties: int, threshold: int, *,
                 blinding: tuple[int, int] | None = None, vkey=None, engine: str | None = None,
                 rng=None):
        self.threshold = threshold
        self.materials = deal_shamir(witness, n_parties, threshold, engine, rng)
        super().__init__(zkey, witness, n_parties, blinding, vkey, engine, rng)
        self.blamed: list[int] = []  # parties whose output was unusable or off, once finished

    @property
    def needed(self) -> int:
        return 2 * self.threshold + 1

    def finish(self, raw_outputs: dict):
        """The checked proof from the outputs that arrived (party -> OUTPUT payload, in the
        order they came): the first 2t + 1 usable ones, else other (2t + 1)-subsets until
        one gives a proof that verifies.  ``blamed`` then lists the parties whose output
        was malformed or disagrees with that proof's polynomial."""
        parts, bad = {}, []
        for i, raw in raw_outputs.items():
            try:
                parts.update(decode_outputs({i: raw}, self.job_id))
            except JobFailed:
                bad.append(i)
        try:
            if len(parts) < self.needed:
                raise JobFailed(f"{len(parts)} usable outputs of {self.n_parties} parties; threshold "
                                f"{self.threshold} needs {self.needed}" +
                                (f" (unusable: parties {bad})" if bad else ""))
            for tried, subset in enumerate(combinations(list(parts), self.needed)):
                if tried == MAX_SUBSETS:
                    raise JobFailed(f"no proof from the first {MAX_SUBSETS} subsets of {self.needed} "
                                    f"outputs; nothing is returned")
                try:
                    proof = self._finish(interpolate(parts, subset, 0))
                except JobFailed:
                    continue
                off = [k for k in parts if k not in subset and interpolate(parts, subset, alpha(k)) != parts[k]]
                self.blamed = sorted(bad + off)
                return proof
            raise JobFailed(f"no {self.needed} of the {len(parts)} outputs give a proof that verifies: "
                            f"more than {len(parts) - self.needed} of them are off, or the witness "
                            "does not satisfy the circuit; nothing is returned")
        finally:
            self.forget()

    def forget(self) -> None:
        for p in self.materials:
            p.wipe()
