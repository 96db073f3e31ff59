"""What parties see: uniform, and the same whatever the witness.

For two witnesses of one circuit, many jobs each, record every message a party
receives — alone (party 1) and as a coalition of N − 1 (parties 0 and 1 pooling
what party 2 sent them) — and test that the field elements in them are uniform in
Fr, fresh per job, and distributed alike for both witnesses.  No group element
travels between parties: the client completes the proof with r and s, which no party
holds.  The client's dealing to party 0 is tested the same way.
"""

from __future__ import annotations

import random

import pytest

from cme import messages as M
from cme.dealing import deal
from cme.local_run import run_job
from cme_helpers import Recording, peek
from gpu_msm.constants import FR_MODULUS
from prover.limbs import limbs_to_ints
from prover.plain import witness_ints
from prover.wtns import read_wtns
from prover.zkey import read_zkey
from stats_helpers import chi2_uniform_p, ks_two_sample_p

N_PARTIES = 3
JOBS = 40
ALPHA = 1e-6  # a real leak (an unmasked value) gives p-values far below this
HEADER_BYTES = 23 + 9  # the message header and the chunk header: values start at byte 32


@pytest.fixture(scope="module")
def two_witnesses(build_circuit, test_seed):
    rng = random.Random(test_seed)
    xs = [rng.randrange(2, FR_MODULUS) for _ in range(2)]
    circuits = [build_circuit("view_mul_chain_30", "mul_chain", [30], {"x": x}) for x in xs]
    zkey = read_zkey(circuits[0].zkey)
    assert circuits[0].zkey == circuits[1].zkey
    ws = [witness_ints(zkey, read_wtns(c.wtns)) for c in circuits]
    assert ws[0] != ws[1]
    return zkey, ws


def _views(zkey, w):
    """Per job: (party 1's received payloads, coalition's payloads from party 2, outputs)."""
    jobs = []
    for _ in range(JOBS):
        logs = {i: [] for i in range(N_PARTIES)}
        outputs, _ = run_job(zkey, w, N_PARTIES, wrap=lambda i, t: Recording(t, logs[i]) if i >= 0 else t)
        coalition = [p for i in (0, 1) for frm, p in logs[i] if frm == 2]
        shares = {i: [peek(p) for frm, p in logs[(i + 1) % N_PARTIES] if frm == i] for i in range(N_PARTIES)}
        jobs.append(([p for _, p in logs[1]], coalition, outputs, shares))
    return jobs


def _field_elements(payloads):
    vals = []
    for p in payloads:
        msg = peek(p)
        vals += limbs_to_ints(msg.values)
    return vals


def _normalised(payloads):
    out = []
    for p in payloads:
        msg = peek(p)
        out += [v / FR_MODULUS for v in limbs_to_ints(msg.values)]
    return out


@pytest.fixture(scope="module")
def recorded(two_witnesses):
    zkey, ws = two_witnesses
    return zkey, [_views(zkey, w) for w in ws]


@pytest.mark.parametrize("who", ["party 1", "parties 0+1"])
def test_received_values_uniform_fresh_and_witness_independent(recorded, who):
    _, per_witness = recorded
    slot = 0 if who == "party 1" else 1
    pooled = []
    for jobs in per_witness:
        per_job = [_field_elements(j[slot]) for j in jobs]
        assert len({len(v) for v in per_job}) == 1, "the view's shape must not depend on the job"
        # fresh per job: no position repeats a value across jobs (an unmasked one would)
        for pos in range(len(per_job[0])):
            column = [v[pos] for v in per_job]
            assert len(set(column)) == len(column), f"{who}: position {pos} repeats across jobs"
        u = [x for j in jobs for x in _normalised(j[slot])]
        assert len(u) > 3000
        p = chi2_uniform_p(u)
        assert p > ALPHA, f"{who}: received values are not uniform (p = {p:.2e})"
        pooled.append(u)
    p = ks_two_sample_p(*pooled)
    assert p > ALPHA, f"{who}: views differ between the two witnesses (KS p = {p:.2e})"


def test_parties_exchange_masked_vectors_and_no_point(recorded):
    """Every byte a party receives is a header or a masked field element: round 1 carries
    no point (an opened πA or B1 would be a group element a party could learn from)."""
    _, per_witness = recorded
    for jobs in per_witness:
        for received, _, outputs, shares in jobs:
            for payload in received:
                msg = peek(payload)
                assert msg.kind in (M.ROUND1_SHARES, M.ROUND1_OPENED) and msg.points == ()
                assert len(payload) == HEADER_BYTES + 32 * len(msg.values)
            # and each party's output is its bare MSMs only: no constants, nothing blinded
            assert all(len(o.__dict__) == len(M.OUTPUT_POINTS) for o in outputs.values())


def test_dealing_to_party_0_is_uniform_and_witness_independent(two_witnesses):
    zkey, ws = two_witnesses
    pooled = []
    for w in ws:
        u = []
        firsts = []
        for _ in range(JOBS):
            c = deal(w, N_PARTIES, zkey.domain_size)[0].corrections
            vals = [v for arr in c.vectors().values() for v in limbs_to_ints(arr)]
            firsts.append(vals[0:5])
            u += [v / FR_MODULUS for v in vals]
        # w₀[0] is the share of the constant 1 and still looks random
        assert len({tuple(f) for f in firsts}) == JOBS
        assert chi2_uniform_p(u) > ALPHA
        pooled.append(u)
    assert ks_two_sample_p(*pooled) > ALPHA
