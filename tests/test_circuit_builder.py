"""The test suite's own circuit-building infrastructure (circuit_builder.py, conftest.py),
checked on its own, against the committed snarkjs fixtures in tests/data."""
from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import pytest

import circuit_builder as cb

DATA = Path(__file__).resolve().parent / "data"
THREE = DATA / "three_public"


# --------------------------------------------------------------------------- no npm needed

@pytest.mark.parametrize("fixture, n_constraints, n_public, domain", [
    ("three_public", 5, 3, 16),
    ("mul_chain_2e10", 1022, 1, 1024),
])
def test_header_readers_on_committed_fixtures(fixture, n_constraints, n_public, domain):
    zh = cb.read_zkey_header(DATA / fixture / "circuit.zkey")
    r1 = cb.read_r1cs_header(DATA / fixture / "circuit.r1cs")
    assert (zh.q, zh.r, zh.n8q, zh.n8r) == (cb.BN254_Q, cb.BN254_R, 32, 32)
    assert r1.prime == cb.BN254_R
    assert r1.n_constraints == n_constraints
    assert zh.n_public == r1.n_pub_out + r1.n_pub_in == n_public
    assert zh.n_vars == r1.n_wires
    assert zh.domain_size == domain
    assert len(json.loads((DATA / fixture / "public.json").read_text())) == n_public


def test_committed_ptau_is_prepared_power_12():
    """pot12_final.ptau: iden3 binfile 'ptau', header power 12, with the phase-2
    (Lagrange) sections 12..15 that `powersoftau prepare phase2` adds."""
    with open(cb.PTAU, "rb") as fh:
        sections = cb._read_sections(fh, b"ptau")
        fh.seek(sections[1][0][0])
        n8 = struct.unpack("<I", fh.read(4))[0]
        q = int.from_bytes(fh.read(n8), "little")
        power, ceremony_power = struct.unpack("<II", fh.read(8))
    assert q == cb.BN254_Q
    assert power == cb.PTAU_POWER == 12
    assert ceremony_power >= power
    assert {2, 3, 4, 5, 6, 7, 12, 13, 14, 15} <= set(sections)
    assert cb.PTAU.stat().st_size < 6_000_000


def test_main_source():
    assert cb.main_source("mul_chain", (62,)) == (
        'pragma circom 2.0.0;\ninclude "mul_chain.circom";\n\ncomponent main = MulChain(62);\n')
    assert "component main {public [pub]} = PublicMix(5, 100);" in cb.main_source("public_mix", (5, 100))


def test_fresh_specs_expected_domains():
    for spec in cb.FRESH_SPECS:
        need = spec.n_constraints + spec.n_public + 1
        assert spec.domain_size >= need > spec.domain_size // 2
    assert any(s.n_public >= 5 for s in cb.FRESH_SPECS)
    assert any(s.n_constraints + s.n_public + 1 < s.domain_size for s in cb.FRESH_SPECS)


# --------------------------------------------------------------------------- npm tools

@pytest.mark.slow
@pytest.mark.parametrize("name", cb.FRESH_NAMES)
def test_fresh_circuit_sizes(fresh_circuits, name):
    spec = {s.name: s for s in cb.FRESH_SPECS}[name]
    c = fresh_circuits[name]
    assert (c.n_constraints, c.n_public, c.domain_size) == (
        spec.n_constraints, spec.n_public, spec.domain_size)
    zh = cb.read_zkey_header(c.zkey)
    r1 = cb.read_r1cs_header(c.r1cs)
    assert (zh.n_public, zh.domain_size, zh.n_vars) == (c.n_public, c.domain_size, r1.n_wires)
    assert r1.n_constraints == c.n_constraints
    vk = json.loads(c.vkey.read_text())
    assert vk["nPublic"] == c.n_public and len(vk["IC"]) == c.n_public + 1
    assert len(c.public_signals()) == c.n_public


@pytest.mark.slow
@pytest.mark.parametrize("name", cb.FRESH_NAMES)
def test_snarkjs_verifies_its_own_proof(fresh_circuits, npm_tools, name):
    c = fresh_circuits[name]
    assert cb.snarkjs_verify(npm_tools, c.vkey, c.public, c.proof)


@pytest.mark.slow
def test_public_mix_public_signals_are_output_then_inputs(fresh_circuits):
    c = fresh_circuits["public_mix_5x100"]
    pub = c.public_signals()
    assert pub[1:] == [v % cb.BN254_R for v in c.inputs["pub"]]
    assert 0 <= pub[0] < cb.BN254_R


@pytest.mark.slow
def test_fresh_inputs_come_from_the_session_seed(fresh_circuits, test_seed):
    import random
    for spec in cb.FRESH_SPECS:
        c = fresh_circuits[spec.name]
        assert c.inputs == spec.make_inputs(random.Random(f"{test_seed}:{spec.name}"))
        written = json.loads(c.input_json.read_text())
        assert written == {k: cb._stringify(v) for k, v in c.inputs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("r, s, expected", [
    (0, 0, "proof_rs0.json"),
    (12345, 67890, "proof_r12345_s67890.json"),
])
def test_prove_fixed_reproduces_committed_proofs(npm_tools, tmp_path, r, s, expected):
    proof, public = cb.prove_fixed_rs(npm_tools, THREE / "circuit.zkey", THREE / "witness.wtns",
                                      tmp_path / "proof.json", tmp_path / "public.json", r, s)
    assert json.loads(proof.read_text()) == json.loads((THREE / expected).read_text())
    assert json.loads(public.read_text()) == json.loads((THREE / "public.json").read_text())


@pytest.mark.slow
def test_prove_fixed_on_fresh_circuit_is_deterministic_and_verifies(fresh_circuits, npm_tools, tmp_path):
    c = fresh_circuits["public_mix_5x100"]
    p1, pub1 = c.prove_fixed(0, 0, tmp_path / "a")
    p2, _ = c.prove_fixed(0, 0, tmp_path / "b")
    p3, pub3 = c.prove_fixed(1, 2, tmp_path / "c")
    assert json.loads(p1.read_text()) == json.loads(p2.read_text())
    assert json.loads(p1.read_text()) != json.loads(p3.read_text())
    assert json.loads(pub1.read_text()) == json.loads(c.public.read_text()) == json.loads(pub3.read_text())
    assert cb.snarkjs_verify(npm_tools, c.vkey, pub3, p3)


def _tampered(tmp_path: Path, change) -> Path:
    proof = json.loads((THREE / "proof.json").read_text())
    change(proof)
    out = tmp_path / "tampered_proof.json"
    out.write_text(json.dumps(proof, indent=1))
    return out


@pytest.mark.slow
def test_snarkjs_verify_rejects_changed_pi_a(npm_tools, tmp_path):
    vkey, public = THREE / "verification_key.json", THREE / "public.json"
    assert cb.snarkjs_verify(npm_tools, vkey, public, THREE / "proof.json")

    def negate(p):   # -pi_a: still a point of the group, wrong proof
        p["pi_a"][1] = str(cb.BN254_Q - int(p["pi_a"][1]))

    def off_curve(p):
        p["pi_a"][0] = str((int(p["pi_a"][0]) + 1) % cb.BN254_Q)

    assert cb.snarkjs_verify(npm_tools, vkey, public, _tampered(tmp_path, negate)) is False
    assert cb.snarkjs_verify(npm_tools, vkey, public, _tampered(tmp_path, off_curve)) is False
    wrong_public = tmp_path / "public.json"
    signals = json.loads(public.read_text())
    signals[0] = str(int(signals[0]) + 1)
    wrong_public.write_text(json.dumps(signals))
    assert cb.snarkjs_verify(npm_tools, vkey, wrong_public, THREE / "proof.json") is False


@pytest.mark.slow
def test_snarkjs_verify_raises_on_unreadable_input(npm_tools, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(cb.ToolError):
        cb.snarkjs_verify(npm_tools, THREE / "verification_key.json", THREE / "public.json", broken)


@pytest.mark.slow
def test_wtns_check_rejects_a_witness_of_another_circuit(npm_tools):
    cb.wtns_check(npm_tools, THREE / "circuit.r1cs", THREE / "witness.wtns")
    with pytest.raises(cb.ToolError, match="does not satisfy"):
        cb.wtns_check(npm_tools, DATA / "mul_chain_2e10" / "circuit.r1cs", THREE / "witness.wtns")


@pytest.mark.slow
def test_build_circuit_is_cached(build_circuit, fresh_circuits):
    c = fresh_circuits["mul_chain_62"]
    stamp = c.proof.stat().st_mtime_ns
    t0 = time.perf_counter()
    again = build_circuit(c.name, c.kind, c.params, c.inputs)
    assert time.perf_counter() - t0 < 2.0
    assert again == c
    assert again.proof.stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_new_inputs_reuse_the_setup(build_circuit, fresh_circuits):
    c = fresh_circuits["mul_chain_62"]
    zkey_stamp = c.zkey.stat().st_mtime_ns
    other = build_circuit(c.name, c.kind, c.params, {"x": (c.inputs["x"] + 1) % cb.BN254_R})
    assert other.dir == c.dir and other.zkey.stat().st_mtime_ns == zkey_stamp
    assert other.run_dir != c.run_dir
    assert other.public_signals() != c.public_signals()
    assert other.verify()


@pytest.mark.slow
def test_setup_is_deterministic(npm_tools, tmp_path):
    """Two setups of one circuit in separate caches give the same zkey: the phase-2
    contribution is a beacon keyed by the cache key, not random entropy."""
    a = cb.build_circuit(npm_tools, "det", "mul_chain", (6,), {"x": 3}, cache=tmp_path / "a")
    b = cb.build_circuit(npm_tools, "det", "mul_chain", (6,), {"x": 3}, cache=tmp_path / "b")
    assert a.zkey.read_bytes() == b.zkey.read_bytes()
    assert a.vkey.read_text() == b.vkey.read_text()
    assert a.wtns.read_bytes() == b.wtns.read_bytes()
    assert cb.snarkjs_verify(npm_tools, a.vkey, a.public, a.proof)
