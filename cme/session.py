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
    any 2t + 1 honest outputs give the proof.

    Outputs are ``offer``ed as they arrive: once 2t + 1 are in, each new one is tried in
    every (2t + 1)-subset it completes, so no subset is tried twice and the client needs
    to wait for no party beyond those that give the first proof."""

    def __init__(self, zkey, witness, n_parties: int, threshold: int, *,
                 blinding: tuple[int, int] | None = None, vkey=None, engine: str | None = None,
                 rng=None):
        self.threshold = threshold
        self.materials = deal_shamir(witness, n_parties, threshold, engine, rng)
        super().__init__(zkey, witness, n_parties, blinding, vkey, engine, rng)
        self.blamed: list[int] = []  # parties whose output was unusable or off
        self.proof = None
        self._parts: dict = {}
        self._tried = 0

    @property
    def needed(self) -> int:
        return 2 * self.threshold + 1

    def offer(self, index: int, raw: bytes):
        """Party ``index``'s OUTPUT payload: the checked proof, once one verifies; None
        while more outputs are needed.  Raises JobFailed when the subsets tried reach
        MAX_SUBSETS.  After a proof, a late output is only checked against it."""
        try:
            self._parts.update(decode_outputs({index: raw}, self.job_id))
        except JobFailed:
            self.blamed = sorted({*self.blamed, index})
            return self.proof
        if self.proof is not None:
            self._check_against(self._subset, [index])
            return self.proof
        if len(self._parts) < self.needed:
            return None
        others = [k for k in self._parts if k != index]
        for rest in combinations(others, self.needed - 1):
            if self._tried == MAX_SUBSETS:
                raise JobFailed(f"no proof from the first {MAX_SUBSETS} subsets of {self.needed} "
                                f"outputs; nothing is returned")
            self._tried += 1
            subset = (*rest, index)
            try:
                self.proof = self._finish(interpolate(self._parts, subset, 0))
            except JobFailed:
                continue
            self._subset = subset
            self._check_against(subset, [k for k in self._parts if k not in subset])
            self.forget()
            return self.proof
        return None

    def _check_against(self, subset, others) -> None:
        off = [k for k in others if interpolate(self._parts, subset, alpha(k)) != self._parts[k]]
        self.blamed = sorted({*self.blamed, *off})

    def failure(self, missing=()) -> JobFailed:
        """Why no proof came from the outputs offered (``missing``: parties that gave none)."""
        bad = [k for k in self.blamed if k not in self._parts]
        gone = f"; no output from parties {sorted(missing)}" if missing else ""
        unusable = f" (unusable: parties {bad})" if bad else ""
        if len(self._parts) < self.needed:
            return JobFailed(f"{len(self._parts)} usable outputs of {self.n_parties} parties; threshold "
                             f"{self.threshold} needs {self.needed}{unusable}{gone}")
        return JobFailed(f"no {self.needed} of the {len(self._parts)} outputs give a proof that verifies: "
                         f"more than {len(self._parts) - self.needed} of them are off, or the witness "
                         f"does not satisfy the circuit{gone}; nothing is returned")

    def finish(self, raw_outputs: dict):
        """The checked proof from the outputs that arrived (party -> OUTPUT payload, in the
        order they came); ``blamed`` then lists the parties whose output was malformed or
        disagrees with that proof's polynomial."""
        try:
            for i, raw in raw_outputs.items():
                self.offer(i, raw)
            if self.proof is None:
                raise self.failure([k for k in range(self.n_parties) if k not in raw_outputs])
            return self.proof
        finally:
            self.forget()

    def forget(self) -> None:
        for p in self.materials:
            p.wipe()
