"""bench/synthetic_setup.py: a known-trapdoor Groth16 setup for large mul chains.

The circuit must be the one circom makes of tests/circuits/mul_chain.circom (compared
with the 2^10 fixture: constraints, coefficient section, witness), and the key must make
proofs that snarkjs accepts.  The tau-dependent sections cannot be compared with
anything snarkjs made (its tau is unknown), so ``snarkjs groth16 verify`` is the judge;
snarkjs's own prover on our key must also agree with ours point for point.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
from pathlib import Path

import pytest

import circuit_builder as cb
from prover.bn254 import FR_MODULUS, G1, G2, g1_from_array, g2_from_array
from prover.limbs import limbs_to_ints
from prover.plain import prove_single
from prover.r1cs import evaluate, read_r1cs
from prover.snarkjs_json import (read_proof, read_public, read_vkey, vkey_object_from_zkey,
                                 write_proof, write_public)
from prover.verify import verify
from prover.wtns import read_wtns
from prover.zkey import read_zkey

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "mul_chain_2e10"
R = FR_MODULUS


def _load():
    # bench/ is not a package, and putting it on sys.path would let bench/gpu_msm.py
    # shadow the gpu_msm package
    spec = importlib.util.spec_from_file_location("synthetic_setup", ROOT / "bench" / "synthetic_setup.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["synthetic_setup"] = mod
    spec.loader.exec_module(mod)
    return mod


synthetic = sys.modules.get("synthetic_setup") or _load()


def _section(path, sid) -> bytes:
    raw = Path(path).read_bytes()
    pos = 12
    for _ in range(struct.unpack_from("<I", raw, 8)[0]):
        s, size = struct.unpack_from("<IQ", raw, pos)
        if s == sid:
            return raw[pos + 12:pos + 12 + size]
        pos += 12 + size
    raise KeyError(sid)


def _sparse_dicts(m, n_rows):
    rows = [dict() for _ in range(n_rows)]
    for row, wire, c in zip(m.row.tolist(), m.wire.tolist(), limbs_to_ints(m.coeff)):
        rows[row][wire] = (rows[row].get(wire, 0) + c) % R
    return rows


@pytest.fixture(scope="module")
def fixture_setup(tmp_path_factory):
    """Our 2^10 setup with the fixture's private input."""
    x = int(json.loads((FIXTURE / "input.json").read_text())["x"])
    return synthetic.make_setup(10, tmp_path_factory.mktemp("synth10"), backend="cpu",
                                seed=1, x=x, quiet=True)


def test_circuit_is_circoms_mul_chain(fixture_setup):
    """Same R1CS (all of A, B, C, signs included) as circom's MulChain(1022)."""
    ref = read_r1cs(FIXTURE / "circuit.r1cs")
    chain = synthetic.MulChain.for_domain(10)
    assert (chain.n_vars, chain.n_constraints) == (ref.n_wires, ref.n_constraints)
    ours = [_sparse_dicts(m, chain.n_constraints) for m in (chain.a, chain.b, chain.c)]
    for i, (a, b, c) in enumerate(ref.constraints):
        assert (ours[0][i], ours[1][i], ours[2][i]) == (a, b, c), f"constraint {i}"


def test_key_and_witness_match_the_fixture(fixture_setup):
    ours, theirs = read_zkey(fixture_setup.zkey), read_zkey(FIXTURE / "circuit.zkey")
    assert (ours.n_vars, ours.n_public, ours.domain_size) == \
           (theirs.n_vars, theirs.n_public, theirs.domain_size)
    # the coefficient section does not depend on the trapdoor: byte for byte snarkjs's
    assert _section(fixture_setup.zkey, 4) == _section(FIXTURE / "circuit.zkey", 4)
    # which points are infinity (wires absent from A, B or C) does not either
    for name in ("a", "b1", "b2", "c"):
        finite = [arr.reshape(len(arr), -1).any(axis=1) for arr in (getattr(ours, name),
                                                                   getattr(theirs, name))]
        assert (finite[0] == finite[1]).all(), name
    assert (read_wtns(fixture_setup.wtns).values == read_wtns(FIXTURE / "witness.wtns").values).all()
    assert fixture_setup.public.read_text() == (FIXTURE / "public.json").read_text()


def test_witness_satisfies_the_r1cs():
    chain = synthetic.MulChain.for_domain(6)
    w = limbs_to_ints(chain.witness(987654321))
    rows = [_sparse_dicts(m, chain.n_constraints) for m in (chain.a, chain.b, chain.c)]
    for i in range(chain.n_constraints):
        a, b, c = (evaluate(m[i], w) for m in rows)
        assert a * b % R == c, f"constraint {i}"


def test_seed_reproduces_the_files(tmp_path):
    one = synthetic.make_setup(4, tmp_path / "one", backend="cpu", seed=5, quiet=True)
    two = synthetic.make_setup(4, tmp_path / "two", backend="cpu", seed=5, quiet=True)
    for name in ("zkey", "wtns", "input", "public", "vkey"):
        assert getattr(one, name).read_bytes() == getattr(two, name).read_bytes(), name


def test_refuses_sizes_it_cannot_make(tmp_path):
    for log_n in (1, synthetic.MAX_LOG_N + 1):
        with pytest.raises(ValueError, match="log_n"):
            synthetic.make_setup(log_n, tmp_path, quiet=True)


@pytest.mark.parametrize("log_n", [6, 8])
def test_proofs_verify_with_snarkjs(log_n, npm_tools, tmp_path, test_seed):
    paths = synthetic.make_setup(log_n, tmp_path, backend="cpu", seed=test_seed, quiet=True)
    zkey = read_zkey(paths.zkey)  # our reader's validation (sizes, ranges, header points)
    assert (zkey.n_vars, zkey.n_public, zkey.domain_size) == (1 << log_n, 1, 1 << log_n)
    assert len(zkey.coeffs) == 2 * (zkey.domain_size - 2) + 2
    # the bulk sections are only range-checked by the reader: a sample on the curve
    for arr in (zkey.a, zkey.b1, zkey.c, zkey.h):
        assert all(G1.is_on_curve(p) for p in g1_from_array(arr[:: max(1, len(arr) // 16)]))
    assert all(G2.is_on_curve(p) and G2.in_subgroup(p) for p in g2_from_array(zkey.b2[2:5]))
    vk = read_vkey(paths.vkey)
    ref = vkey_object_from_zkey(zkey)
    assert (vk.n_public, vk.alpha1, vk.beta2, vk.gamma2, vk.delta2, vk.ic) == \
           (ref.n_public, ref.alpha1, ref.beta2, ref.gamma2, ref.delta2, ref.ic)

    proof, public = prove_single(zkey, read_wtns(paths.wtns), engine="cpu")
    assert public == read_public(paths.public)
    triple = (proof.pi_a, proof.pi_b, proof.pi_c)
    assert verify(vk, public, triple)
    proof_path = tmp_path / "proof.json"
    write_proof(proof_path, *triple)
    assert cb.snarkjs_verify(npm_tools, paths.vkey, paths.public, proof_path)

    # the same proof for another public output is rejected by both verifiers
    other = [(public[0] + 1) % R]
    other_path = tmp_path / "other_public.json"
    write_public(other_path, other)
    assert not verify(vk, other, triple)
    assert not cb.snarkjs_verify(npm_tools, paths.vkey, other_path, proof_path)


def test_snarkjs_prover_agrees_on_our_key(npm_tools, tmp_path):
    """snarkjs reads our key as we do: its proof with fixed r, s is ours, point for point."""
    paths = synthetic.make_setup(6, tmp_path, backend="cpu", quiet=True)
    r, s = 12345, 67890
    proof_path, public_path = cb.prove_fixed_rs(npm_tools, paths.zkey, paths.wtns,
                                                tmp_path / "sj_proof.json",
                                                tmp_path / "sj_public.json", r, s)
    proof, public = prove_single(read_zkey(paths.zkey), read_wtns(paths.wtns), r, s, engine="cpu")
    assert (proof.pi_a, proof.pi_b, proof.pi_c) == read_proof(proof_path)
    assert public == read_public(public_path)
    assert cb.snarkjs_verify(npm_tools, paths.vkey, public_path, proof_path)
