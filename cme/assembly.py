"""The client's last step: combine the parties' bare MSMs, complete the proof, check it.

The client never returns or writes a proof that its own verifier rejects.
"""

from __future__ import annotations

from functools import reduce

from cme import messages as M
from prover.groth16 import BareParts, Proof, complete_proof
from prover.verify import verify


class JobFailed(RuntimeError):
    """The collaborative job did not produce a valid proof; names the party where known,
    and ``step``, what showed it ("output": its output was unusable; "audit": the replay
    of the job found its message off; "job": it failed or let a peer down)."""

    def __init__(self, message: str, party: int | None = None, step: str = "job"):
        self.party, self.step = party, step
        super().__init__(message)


def decode_outputs(raw_outputs: dict, job_id: bytes) -> dict:
    """party -> its ``BareParts``, from the raw OUTPUT payloads; a malformed one fails the
    job naming its sender."""
    parts = {}
    for i, raw in raw_outputs.items():
        try:
            a, b1, b2, c = M.decode(raw, peer=i, job_id=job_id, kind=M.OUTPUT).points
        except M.MessageError as e:
            raise JobFailed(f"the output of party {i} is unusable: {e}", i, "output") from None
        parts[i] = BareParts(a, b1, b2, c)
    return parts


def combine_additive(parts: dict) -> BareParts:
    """The witness's bare MSMs from additive shares of them: their sum."""
    return reduce(lambda x, y: x + y, (parts[i] for i in sorted(parts)))


def finish(zkey, vkey, public: list[int], bare: BareParts, r: int, s: int, terms=None) -> Proof:
    """Complete the proof with the client's r and s (``terms``: their points, computed
    ahead) and check it; a proof that does not verify raises ``JobFailed`` (party unknown:
    the audit finds it)."""
    proof = complete_proof(zkey, bare, r, s, terms)
    verdict = verify(vkey, public, (proof.pi_a, proof.pi_b, proof.pi_c))
    if not verdict:
        raise JobFailed(f"the assembled proof does not verify ({verdict.reason}): a party deviated "
                        "or the witness does not satisfy the circuit; nothing is returned")
    return proof
