"""The client's last step: sum the parties' outputs, check the proof, or refuse it.

The client never returns or writes a proof that its own verifier rejects.
"""

from __future__ import annotations

from collections import Counter

from prover.bn254 import G1, G2
from prover.plain import Proof
from prover.verify import verify


class JobFailed(RuntimeError):
    """The collaborative job did not produce a valid proof; names the party where known."""

    def __init__(self, message: str, party: int | None = None):
        self.party = party
        super().__init__(message)


def assemble(vkey, public: list[int], outputs: dict) -> Proof:
    """``outputs``: party index -> (πA, [πB]ᵢ, [πC]ᵢ) as decoded OUTPUT messages."""
    votes = Counter(o[0] for o in outputs.values())
    pi_a, agreeing = votes.most_common(1)[0]
    if agreeing != len(outputs):
        odd = sorted(i for i, o in outputs.items() if o[0] != pi_a)
        if 2 * agreeing > len(outputs):
            raise JobFailed(f"party {odd[0]} reported a πA that differs from the other parties' "
                            "(it, or a peer that sent it a round-1 share, deviated)", odd[0])
        raise JobFailed(f"the parties disagree on πA (parties {odd} against the rest)")
    pi_b = pi_c = None
    for _, b, c in outputs.values():
        pi_b = G2.add(pi_b, b)
        pi_c = G1.add(pi_c, c)
    proof = Proof(pi_a, pi_b, pi_c)
    verdict = verify(vkey, public, (pi_a, pi_b, pi_c))
    if not verdict:
        raise JobFailed(f"the assembled proof does not verify ({verdict.reason}): a party deviated "
                        "or the witness does not satisfy the circuit; nothing is returned")
    return proof
