"""Threshold mode in one process: Shamir shares of degree t, no bytes between parties, the
proof from any 2t + 1 honest outputs, drop-outs and lying parties survived in one job."""

from __future__ import annotations

import random
import secrets

import pytest

from cli_helpers import DATA, run_cli
from cme.assembly import JobFailed
from cme.shamir import alpha, check_threshold, deal_shamir, lagrange_at, share_of
from cme.threshold_run import prove_local_threshold
from gpu_msm.constants import FR_MODULUS
from prover.limbs import limbs_to_ints
from prover.plain import prove_single, witness_ints
from prover.snarkjs_json import read_vkey, write_proof, write_public
from prover.verify import verify
from prover.wtns import read_wtns
from prover.zkey import read_zkey
from stats_helpers import chi2_uniform_p, ks_two_sample_p

FIXTURES = ["three_public", "mul_chain_2e10"]
SHAPES = [(3, 1), (4, 1), (5, 2)]
ALPHA = 1e-6


def _load(fixture):
    d = DATA / fixture
    return read_zkey(d / "circuit.zkey"), read_wtns(d / "witness.wtns")


@pytest.mark.parametrize("n,t", SHAPES)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_threshold_proof_equals_the_single_party_proof(fixture, n, t):
    zkey, wtns = _load(fixture)
    r, s = secrets.randbelow(FR_MODULUS), secrets.randbelow(FR_MODULUS)
    proof, public, report = prove_local_threshold(zkey, wtns, n, t, r, s, engine="cpu")
    single, single_public = prove_single(zkey, wtns, r, s, "reference")
    assert proof == single and public == single_public
    assert report.blamed == [] and report.missing == []
    # upload: N − t witnesses, a seed for each of the others (the parties have no
    # transport at all in this mode: nothing can pass between them)
    m = zkey.n_vars
    assert report.upload_bytes == (n - t) * m * 32 + t * 32


@pytest.mark.parametrize("n,t", [(4, 1), (5, 2)])
def test_threshold_proof_on_every_engine(engine, n, t):
    """The dealing and each party's routine on the engine under test (the CUDA engine
    included, where a GPU is), against the pure-Python single-party prover."""
    zkey, wtns = _load("mul_chain_2e10")
    r, s = secrets.randbelow(FR_MODULUS), secrets.randbelow(FR_MODULUS)
    proof, public, report = prove_local_threshold(zkey, wtns, n, t, r, s, engine=engine,
                                                  faults={0: "wrong-msm"} if n > 2 * t + 1 else None)
    assert proof == prove_single(zkey, wtns, r, s, "reference")[0]
    assert report.blamed == ([0] if n > 2 * t + 1 else [])


def test_drop_outs_and_a_lying_party_are_survived_in_one_job():
    zkey, wtns = _load("three_public")
    r, s = 12345, 67890
    proof, public, report = prove_local_threshold(zkey, wtns, 5, 1, r, s, engine="cpu",
                                                  faults={0: "wrong-msm", 2: "crash"})
    assert proof == prove_single(zkey, wtns, r, s, "cpu")[0]
    assert verify(read_vkey(DATA / "three_public" / "verification_key.json"), public,
                  (proof.pi_a, proof.pi_b, proof.pi_c))
    assert report.missing == [2] and report.blamed == [0]


def test_too_many_faults_fail_without_a_proof():
    zkey, wtns = _load("three_public")
    with pytest.raises(JobFailed, match="usable outputs"):
        prove_local_threshold(zkey, wtns, 3, 1, engine="cpu", faults={1: "crash"})
    with pytest.raises(JobFailed, match="no 3 of the 4 outputs"):
        prove_local_threshold(zkey, wtns, 4, 1, engine="cpu", faults={0: "wrong-msm", 3: "wrong-msm"})


@pytest.mark.parametrize("n,t", [(2, 1), (4, 2), (5, 0)])
def test_bad_shapes_are_refused(n, t):
    with pytest.raises(ValueError, match="threshold"):
        check_threshold(n, t)


@pytest.mark.parametrize("n,t", SHAPES)
def test_t_plus_one_shares_determine_the_witness(n, t, test_seed):
    zkey, wtns = _load("mul_chain_2e10")
    w = witness_ints(zkey, wtns)
    materials = deal_shamir(wtns.values, n, t, engine="cpu", rng=random.Random(test_seed))
    shares = {m.index: limbs_to_ints(share_of(m)) for m in materials}
    rng = random.Random(test_seed)
    for _ in range(3):
        who = rng.sample(range(n), t + 1)
        lam = lagrange_at([alpha(k) for k in who], 0)
        got = [sum(l * shares[k][i] for l, k in zip(lam, who)) % FR_MODULUS for i in range(len(w))]
        assert got == w


def _views(w_values, n, t, who, jobs):
    """The values the coalition ``who`` (t parties) receives, over ``jobs`` fresh dealings."""
    out = []
    for _ in range(jobs):
        materials = deal_shamir(w_values, n, t, engine="cpu")
        out.append([v for k in who for v in limbs_to_ints(share_of(materials[k]))])
    return out


@pytest.mark.parametrize("n,t,who", [(3, 1, (2,)), (5, 2, (3, 4)), (5, 2, (0, 4))])
def test_any_t_parties_see_uniform_values_whatever_the_witness(n, t, who, build_circuit, test_seed):
    rng = random.Random(test_seed)
    circuits = [build_circuit("view_mul_chain_30", "mul_chain", [30], {"x": rng.randrange(2, FR_MODULUS)})
                for _ in range(2)]
    ws = [read_wtns(c.wtns).values for c in circuits]
    assert limbs_to_ints(ws[0]) != limbs_to_ints(ws[1])
    pooled = []
    for w in ws:
        views = _views(w, n, t, who, 40)
        for pos in range(len(views[0])):  # fresh per job: no position repeats a value
            column = [v[pos] for v in views]
            assert len(set(column)) == len(column)
        u = [x / FR_MODULUS for v in views for x in v]
        assert chi2_uniform_p(u) > ALPHA
        pooled.append(u)
    assert ks_two_sample_p(*pooled) > ALPHA


def test_cli_local_threshold(tmp_path):
    d = DATA / "three_public"
    pp, pubp = tmp_path / "proof.json", tmp_path / "public.json"
    res = run_cli("prove", d / "circuit.zkey", d / "witness.wtns", pp, pubp, "--local", "3", "--threshold", "1")
    assert res.returncode == 0, res.stderr
    assert "nothing sent between parties" in res.stderr
    res = run_cli("verify", d / "verification_key.json", pubp, pp)
    assert res.returncode == 0, res.stdout + res.stderr
    for args, why in ((("--local", "4", "--threshold", "2"), "at least 5 parties"),
                      (("--local", "3", "--threshold", "0"), "at least 1"),
                      (("--single", "--threshold", "1"), "applies to --local")):
        res = run_cli("prove", d / "circuit.zkey", d / "witness.wtns", tmp_path / "p", tmp_path / "q", *args)
        assert res.returncode == 2 and why in res.stderr, (args, res.stderr)
        assert not (tmp_path / "p").exists()


@pytest.mark.slow
@pytest.mark.parametrize("n,t", SHAPES)
def test_fresh_circuits_threshold_proofs_pass_snarkjs(fresh_circuits, n, t, tmp_path):
    for name, c in fresh_circuits.items():
        zkey, wtns = read_zkey(c.zkey), read_wtns(c.wtns)
        proof, public, _ = prove_local_threshold(zkey, wtns, n, t)
        pp, pubp = tmp_path / f"{name}_proof.json", tmp_path / f"{name}_public.json"
        write_proof(pp, proof.pi_a, proof.pi_b, proof.pi_c)
        write_public(pubp, public)
        assert c.verify(pp, pubp), (name, n, t)
        assert verify(read_vkey(c.vkey), public, (proof.pi_a, proof.pi_b, proof.pi_c))
