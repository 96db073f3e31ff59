"""Collaborative proofs in one process: equal to the single-party proof, checked, tamper-proof."""

from __future__ import annotations

import secrets

import numpy as np
import pytest

import circuit_builder as cb
from cli_helpers import DATA, run_cli
from cme import messages as M
from cme.assembly import JobFailed
from cme.local_run import prove_local
from cme_helpers import Tampering, bump_first_value, shift_point
from prover.bn254 import FR_MODULUS
from prover.plain import prove_single
from prover.snarkjs_json import read_vkey, write_proof, write_public
from prover.verify import verify
from prover.wtns import read_wtns
from prover.zkey import read_zkey

FIXTURES = ["three_public", "mul_chain_2e10"]


def _load(fixture):
    d = DATA / fixture
    return read_zkey(d / "circuit.zkey"), read_wtns(d / "witness.wtns")


@pytest.mark.parametrize("n_parties", [2, 3, 5])
@pytest.mark.parametrize("fixture", FIXTURES)
def test_collaborative_equals_single_party_with_fixed_rs(fixture, n_parties, engine):
    zkey, wtns = _load(fixture)
    r, s = secrets.randbelow(FR_MODULUS), secrets.randbelow(FR_MODULUS)
    proof, public, report = prove_local(zkey, wtns, n_parties, r, s, engine=engine)
    # the oracle is always the pure-Python single-party prover
    single, single_public = prove_single(zkey, wtns, r, s, "reference")
    assert proof == single
    assert public == single_public
    assert sorted(report.party_stats) == list(range(n_parties))


@pytest.mark.slow
@pytest.mark.parametrize("n_parties", [2, 3, 5])
def test_fresh_circuits_collaborative_proofs_pass_snarkjs(fresh_circuits, n_parties, tmp_path):
    for name, c in fresh_circuits.items():
        zkey, wtns = read_zkey(c.zkey), read_wtns(c.wtns)
        proof, public, _ = prove_local(zkey, wtns, n_parties)
        pp, pubp = tmp_path / f"{name}_proof.json", tmp_path / f"{name}_public.json"
        write_proof(pp, proof.pi_a, proof.pi_b, proof.pi_c)
        write_public(pubp, public)
        assert c.verify(pp, pubp), (name, n_parties)
        assert verify(read_vkey(c.vkey), public, (proof.pi_a, proof.pi_b, proof.pi_c))
        if n_parties == 3:  # and equal to snarkjs's own proof for the same r, s
            r, s = secrets.randbelow(FR_MODULUS), secrets.randbelow(FR_MODULUS)
            ref, _ = c.prove_fixed(r, s, tmp_path)
            collab, _, _ = prove_local(zkey, wtns, 3, r, s)
            from prover.snarkjs_json import read_proof
            assert (collab.pi_a, collab.pi_b, collab.pi_c) == read_proof(ref), name


@pytest.mark.slow
@pytest.mark.parametrize("fixture", FIXTURES)
def test_cli_local_proof_passes_snarkjs(fixture, npm_tools, tmp_path):
    d = DATA / fixture
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    res = run_cli("prove", d / "circuit.zkey", d / "witness.wtns", proof, public, "--local", "3")
    assert res.returncode == 0, res.stderr
    assert "client upload" in res.stderr
    assert cb.snarkjs_verify(npm_tools, d / "verification_key.json", public, proof)


def test_upload_is_independent_of_party_count():
    zkey, wtns = _load("mul_chain_2e10")
    uploads = {}
    for n in (2, 3, 5, 8):
        _, _, report = prove_local(zkey, wtns, n) if n < 8 else (None, None, None)
        if report is None:
            from cme.dealing import deal, upload_bytes
            from prover.plain import witness_ints
            report_bytes = upload_bytes(deal(witness_ints(zkey, wtns), n, zkey.domain_size))
        else:
            report_bytes = report.upload_bytes
        uploads[n] = report_bytes
    lo, hi = min(uploads.values()), max(uploads.values())
    assert hi <= 1.05 * lo, uploads
    # about one witness plus two vectors of n field elements
    assert abs(lo - 32 * (zkey.n_vars + 2 * zkey.domain_size)) < 0.05 * lo, uploads


def test_traffic_per_party_is_linear_and_balanced():
    zkey, wtns = _load("three_public")
    for n in (2, 3, 5):
        _, _, report = prove_local(zkey, wtns, n)
        sent = [report.party_stats[i]["bytes_sent"] for i in range(n)]
        # 2 masked vectors of n elements (a − x, b − y; the coset product reuses them):
        # send (N−1)/N of them, then the owned chunk to N−1 peers
        expected = 2 * 2 * zkey.domain_size * 32 * (n - 1) / n
        for b in sent:
            assert expected <= b <= expected + n * 400, (n, sent, expected)


# tampering: one party's message in each round, each kind of field ------------------

def _edit_once(kind, mutate, to_filter=None):
    done = []

    def edit(to, msg):
        if msg.kind != kind or done or (to_filter is not None and to != to_filter):
            return None
        done.append(True)
        return mutate(msg)
    return edit


TAMPERS = {
    "round-1 vector share": (M.ROUND1_SHARES, bump_first_value),
    "round-1 opened chunk": (M.ROUND1_OPENED, bump_first_value),
    **{f"round-2 bare {name}": (M.OUTPUT, lambda m, k=k: shift_point(m, k))
       for k, (name, _) in enumerate(M.OUTPUT_POINTS)},
}


@pytest.mark.parametrize("what", sorted(TAMPERS))
@pytest.mark.parametrize("cheater", [0, 2])
def test_tampering_any_party_message_fails_the_job_naming_it(what, cheater):
    zkey, wtns = _load("three_public")
    kind, mutate = TAMPERS[what]
    wrappers = {}

    def wrap(i, t):
        if i != cheater:
            return t
        wrappers[i] = Tampering(t, _edit_once(kind, mutate))
        return wrappers[i]

    with pytest.raises(JobFailed) as exc:
        prove_local(zkey, wtns, 3, wrap=wrap)
    assert wrappers[cheater].edited == 1
    # the completed proof fails its check, and the audit's replay names the sender
    assert "does not verify" in str(exc.value)
    assert exc.value.party == cheater and exc.value.step == "audit", str(exc.value)


@pytest.mark.parametrize("what", ["wrong job id", "truncated", "wrong kind", "value not below r"])
def test_malformed_round1_message_names_the_sender(what):
    zkey, wtns = _load("three_public")
    cheater = 1

    def mutate(msg):
        raw = M.encode(msg)
        if what == "wrong job id":
            return raw[:5] + bytes(M.JOB_ID_BYTES) + raw[5 + M.JOB_ID_BYTES:]
        if what == "truncated":
            return raw[:-7]
        if what == "wrong kind":
            return raw[:4] + bytes([M.OUTPUT]) + raw[5:]
        vals = msg.values.copy()
        vals[0] = [2**64 - 1] * 4
        msg.values = vals
        return M.encode(msg)

    def wrap(i, t):
        return Tampering(t, _edit_once(M.ROUND1_SHARES, mutate)) if i == cheater else t

    with pytest.raises(JobFailed) as exc:
        prove_local(zkey, wtns, 3, wrap=wrap, timeout=20)
    assert f"party {cheater}:" in str(exc.value), str(exc.value)


def test_cli_local_needs_two_parties(tmp_path):
    d = DATA / "three_public"
    res = run_cli("prove", d / "circuit.zkey", d / "witness.wtns", tmp_path / "p", tmp_path / "q", "--local", "1")
    assert res.returncode == 2 and "at least 2" in res.stderr


def test_dealing_is_fresh_unless_an_rng_is_given():
    import random

    from cme.dealing import deal
    from cme.material import material_to_bytes
    zkey, wtns = _load("three_public")
    a = [material_to_bytes(p) for p in deal(wtns.values, 3, zkey.domain_size)]
    b = [material_to_bytes(p) for p in deal(wtns.values, 3, zkey.domain_size)]
    assert all(x != y for x, y in zip(a, b))
    c = [material_to_bytes(p) for p in deal(wtns.values, 3, zkey.domain_size, rng=random.Random(7))]
    d = [material_to_bytes(p) for p in deal(wtns.values, 3, zkey.domain_size, rng=random.Random(7))]
    assert c == d


@pytest.mark.parametrize("kind", [M.ROUND1_SHARES, M.ROUND1_OPENED])
def test_values_filled_in_place_encode_as_encode_does(kind):
    """The hot path (values written straight into the message, e.g. from the device)
    makes the same bytes as ``encode``, with the values 8-byte aligned."""
    import random

    from prover.limbs import ints_to_limbs
    rng = random.Random(5)
    vals = ints_to_limbs([rng.randrange(FR_MODULUS) for _ in range(37)])
    job = bytes(range(16))
    want = M.encode(M.Message(kind, job, 2, 1, vals))
    seen = []

    def fill(out):
        seen.append(out.ctypes.data % 8)
        out[...] = vals
    got = M.encode_values(kind, job, 2, 1, len(vals), fill)
    assert bytes(got) == want and seen == [0]
    msg = M.decode(got, peer=2, job_id=job, kind=kind, chunk=1, count=37)
    assert (msg.values == vals).all() and msg.points == ()
