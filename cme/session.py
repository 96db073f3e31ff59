"""The client's side of one collaborative job, whatever carries it: deal, then complete
and check the proof from the parties' outputs, or audit the job when it fails.

``--local`` (``cme.local_run``) and the network client (``coordinator_free.client``)
both drive this, so the client's protocol is written once; only the moving of material
and outputs differs between them.  r and s are drawn here and never leave this object.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import Future
from typing import Callable

from cme import messages as M
from cme.assembly import JobFailed, combine_additive, decode_outputs, finish
from cme.audit import audit
from cme.dealing import Predeal, deal_with, predeal
from gpu_msm.constants import FR_MODULUS
from prover.groth16 import blinding_terms
from prover.limbs import limbs_to_ints
from prover.snarkjs_json import vkey_object_from_zkey


class ClientSession:
    def __init__(self, zkey, witness, n_parties: int, *, pre: Predeal | None = None,
                 blinding: tuple[int, int] | None = None, vkey=None, engine: str | None = None,
                 rng=None):
        """``witness``: the canonical (m, 4) array (checked against the zkey by the caller).
        ``pre``: this job's witness-independent dealing, made ahead (else made now).
        ``blinding``: (r, s) instead of fresh ones: for tests that compare with snarkjs.
        ``rng``: a seeded ``random.Random`` to repeat a dealing exactly (tests)."""
        self.zkey, self.engine = zkey, engine
        self.vkey = vkey if vkey is not None else vkey_object_from_zkey(zkey)
        self.public = limbs_to_ints(witness[1:zkey.n_public + 1])
        self.n_parties = n_parties
        if pre is None:
            pre = predeal(n_parties, len(witness), zkey.domain_size, engine, rng)
        self.materials = deal_with(pre, witness, engine)
        token = secrets.token_bytes if rng is None else rng.randbytes
        self.job_id = token(M.JOB_ID_BYTES)
        if blinding is None:
            randbelow = secrets.randbelow if rng is None else rng.randrange
            blinding = (randbelow(FR_MODULUS), randbelow(FR_MODULUS))
        self._r, self._s = (v % FR_MODULUS for v in blinding)
        # the blinding's own points do not wait for the parties: computed while they work
        self._terms: Future = Future()
        threading.Thread(target=self._blinding_terms, daemon=True, name="blinding").start()

    def _blinding_terms(self) -> None:
        try:
            self._terms.set_result(blinding_terms(self.zkey, self._r, self._s))
        except BaseException as e:  # handed to whoever finishes the job
            self._terms.set_exception(e)

    @property
    def upload_bytes(self) -> int:
        return sum(p.nbytes() for p in self.materials)

    def finish(self, raw_outputs: dict, transcripts: Callable[[], dict]):
        """The checked proof from ``raw_outputs`` (party -> its OUTPUT payload).  When the
        proof fails its check, ``transcripts()`` (receiver -> [(sender, payload)] as the
        parties report what they received) feeds the audit, and ``JobFailed`` names the
        party it blames.  The dealt shares are wiped either way."""
        try:
            bare = combine_additive(decode_outputs(raw_outputs, self.job_id))
            return finish(self.zkey, self.vkey, self.public, bare, self._r, self._s, self._terms.result())
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
