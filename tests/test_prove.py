"""The single-party prover against snarkjs: exact proofs, verification both ways, tampering."""

from __future__ import annotations

import json
import secrets
import shutil

import pytest

import circuit_builder as cb
from prover.bn254 import FQ_MODULUS, FR_MODULUS
from prover.plain import prove_single
from prover.snarkjs_json import read_proof, read_public, read_vkey, write_proof, write_public
from prover.verify import verify
from prover.wtns import read_wtns
from prover.zkey import read_zkey
from cli_helpers import DATA, run_cli

FIXTURES = ["three_public", "mul_chain_2e10"]
FIXED_RS = [(0, 0, "proof_rs0.json"), (12345, 67890, "proof_r12345_s67890.json")]


def _as_tuple(proof):
    return (proof.pi_a, proof.pi_b, proof.pi_c)


@pytest.mark.parametrize("fixture", FIXTURES)
@pytest.mark.parametrize("r, s, expected", FIXED_RS, ids=["rs0", "r12345_s67890"])
def test_reproduces_snarkjs_proof_exactly(fixture, r, s, expected, engine):
    d = DATA / fixture
    proof, public = prove_single(read_zkey(d / "circuit.zkey"), read_wtns(d / "witness.wtns"), r, s, engine)
    assert _as_tuple(proof) == read_proof(d / expected)
    assert public == read_public(d / "public.json")


@pytest.mark.parametrize("fixture", FIXTURES)
def test_snarkjs_proofs_pass_our_verifier(fixture):
    d = DATA / fixture
    vk = read_vkey(d / "verification_key.json")
    public = read_public(d / "public.json")
    for name in ("proof.json", "proof_rs0.json", "proof_r12345_s67890.json"):
        assert verify(vk, public, read_proof(d / name)), name


@pytest.mark.slow
@pytest.mark.parametrize("fixture", FIXTURES)
def test_cli_proof_passes_snarkjs_and_coprove(fixture, npm_tools, tmp_path):
    d = DATA / fixture
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    res = run_cli("prove", d / "circuit.zkey", d / "witness.wtns", proof, public, "--single")
    assert res.returncode == 0, res.stderr
    assert run_cli("verify", d / "verification_key.json", public, proof).returncode == 0
    assert cb.snarkjs_verify(npm_tools, d / "verification_key.json", public, proof)
    assert public.read_text() == (d / "public.json").read_text()


def _tampered_variants(proof_obj, public_list):
    """Every coordinate of the proof and every public input, changed by one."""
    for key, idx in [("pi_a", (0,)), ("pi_a", (1,)), ("pi_c", (0,)), ("pi_c", (1,)),
                     ("pi_b", (0, 0)), ("pi_b", (0, 1)), ("pi_b", (1, 0)), ("pi_b", (1, 1))]:
        p = json.loads(json.dumps(proof_obj))
        slot = p[key]
        for i in idx[:-1]:
            slot = slot[i]
        slot[idx[-1]] = str((int(slot[idx[-1]]) + 1) % FQ_MODULUS)
        yield f"{key}{list(idx)}", p, public_list
    for i in range(len(public_list)):
        pub = list(public_list)
        pub[i] = str((int(pub[i]) + 1) % FR_MODULUS)
        yield f"public[{i}]", proof_obj, pub
    # the same public value plus r: equal mod r, so only a range check catches it
    pub = list(public_list)
    pub[0] = str(int(pub[0]) + FR_MODULUS)
    yield "public[0]+r", proof_obj, pub


@pytest.mark.slow
@pytest.mark.parametrize("fixture", FIXTURES)
def test_tampered_proofs_rejected_by_both(fixture, npm_tools, tmp_path):
    d = DATA / fixture
    vkey = d / "verification_key.json"
    proof_obj = json.loads((d / "proof.json").read_text())
    public_list = json.loads((d / "public.json").read_text())
    checked = 0
    for what, p, pub in _tampered_variants(proof_obj, public_list):
        pp, pubp = tmp_path / "proof.json", tmp_path / "public.json"
        pp.write_text(json.dumps(p))
        pubp.write_text(json.dumps(pub))
        res = run_cli("verify", vkey, pubp, pp)
        assert res.returncode == 1, (what, res.stdout, res.stderr)
        assert "INVALID" in res.stdout
        assert not cb.snarkjs_verify(npm_tools, vkey, pubp, pp), what
        checked += 1
    assert checked == 8 + len(public_list) + 1


@pytest.mark.slow
def test_fresh_circuits_match_snarkjs_with_fixed_rs(fresh_circuits, tmp_path, engine):
    assert len(fresh_circuits) >= 3
    seen_public = set()
    for name, c in fresh_circuits.items():
        zkey, wtns = read_zkey(c.zkey), read_wtns(c.wtns)
        seen_public.add(zkey.n_public)
        r, s = secrets.randbelow(FR_MODULUS), secrets.randbelow(FR_MODULUS)
        ref_proof, ref_public = c.prove_fixed(r, s, tmp_path)
        proof, public = prove_single(zkey, wtns, r, s, engine)
        assert _as_tuple(proof) == read_proof(ref_proof), name
        assert public == read_public(ref_public) == c.public_signals(), name
    assert len(seen_public) >= 2, "fresh circuits should differ in their public-input counts"


@pytest.mark.slow
def test_fresh_circuit_random_proof_verifies_both_ways(fresh_circuits, tmp_path):
    for name, c in fresh_circuits.items():
        proof, public = prove_single(read_zkey(c.zkey), read_wtns(c.wtns))
        pp, pubp = tmp_path / f"{name}_proof.json", tmp_path / f"{name}_public.json"
        write_proof(pp, proof.pi_a, proof.pi_b, proof.pi_c)
        write_public(pubp, public)
        assert c.verify(pp, pubp), name
        assert verify(read_vkey(c.vkey), public, _as_tuple(proof)), name
        # and snarkjs's own proof passes ours
        assert verify(read_vkey(c.vkey), c.public_signals(), read_proof(c.proof)), name


def test_unsatisfying_witness_is_refused_and_nothing_written(tmp_path):
    from prover.limbs import limbs_to_ints
    from prover.wtns import write_wtns

    d = DATA / "three_public"
    values = limbs_to_ints(read_wtns(d / "witness.wtns").values)
    values[-1] = (values[-1] + 1) % FR_MODULUS  # an internal signal, now wrong
    bad = tmp_path / "bad.wtns"
    write_wtns(bad, values)
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    res = run_cli("prove", d / "circuit.zkey", bad, proof, public, "--single")
    assert res.returncode == 1
    assert "does not satisfy" in res.stderr and "bad.wtns" in res.stderr
    assert not proof.exists() and not public.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_export_vkey_matches_snarkjs(tmp_path):
    for fixture in FIXTURES:
        out = tmp_path / f"{fixture}.json"
        assert run_cli("export-vkey", DATA / fixture / "circuit.zkey", out).returncode == 0
        assert out.read_bytes() == (DATA / fixture / "verification_key.json").read_bytes()


def test_demo_proves_bundled_circuit(tmp_path):
    res = run_cli("demo", "--single", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    assert read_public(tmp_path / "public.json") == read_public(DATA / "mul_chain_2e10" / "public.json")
    vkey = read_vkey(DATA / "mul_chain_2e10" / "verification_key.json")
    assert verify(vkey, read_public(tmp_path / "public.json"), read_proof(tmp_path / "proof.json"))


def test_prove_without_mode_says_how(tmp_path):
    d = DATA / "three_public"
    res = run_cli("prove", d / "circuit.zkey", d / "witness.wtns", tmp_path / "p.json", tmp_path / "q.json")
    assert res.returncode == 2 and "--single" in res.stderr


def test_outputs_replace_existing_files_only_on_success(tmp_path):
    d = DATA / "three_public"
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    shutil.copy(d / "proof.json", proof)
    shutil.copy(d / "public.json", public)
    res = run_cli("prove", d / "circuit.zkey", DATA / "mul_chain_2e10" / "witness.wtns", proof, public, "--single")
    assert res.returncode == 2
    assert proof.read_bytes() == (d / "proof.json").read_bytes()
    assert public.read_bytes() == (d / "public.json").read_bytes()
