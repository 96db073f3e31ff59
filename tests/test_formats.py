"""File formats against the circom/snarkjs fixtures in tests/data (see its README).

Corrupted files are made in tmp_path; tests/data is never written.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

from prover.bn254 import (FQ_MODULUS, FR_MODULUS, G1, G2, MONT, g1_from_array,
                          g2_from_array, to_py_ecc_g1, to_py_ecc_g2)
from prover.errors import FormatError, InputError
from prover.limbs import limbs_to_ints
from prover.r1cs import evaluate, read_r1cs
from prover.snarkjs_json import (SNARKJS_GT_EXPONENT, read_proof,
                                 read_public, read_vkey, vkey_from_zkey, write_proof,
                                 write_public, write_vkey)
from prover.wtns import check_witness_for, read_wtns, write_wtns
from prover.zkey import read_zkey

DATA = Path(__file__).parent / "data"
FIXTURES = ["three_public", "mul_chain_2e10"]
r, q = FR_MODULUS, FQ_MODULUS


@pytest.fixture(params=FIXTURES)
def fx(request):
    return DATA / request.param


@pytest.fixture(scope="module")
def loaded():
    """Parsed fixtures, once per module: {name: (zkey, r1cs, witness ints)}."""
    out = {}
    for name in FIXTURES:
        d = DATA / name
        out[name] = (read_zkey(d / "circuit.zkey"), read_r1cs(d / "circuit.r1cs"),
                     limbs_to_ints(read_wtns(d / "witness.wtns").values))
    return out


def sections(data: bytes) -> dict[int, tuple[int, int]]:
    """Container index, written independently of prover.binfile: id -> (offset, size)."""
    n = struct.unpack_from("<I", data, 8)[0]
    pos, out = 12, {}
    for _ in range(n):
        sid, size = struct.unpack_from("<IQ", data, pos)
        out[sid] = (pos + 12, size)
        pos += 12 + size
    return out


def rebuild(data: bytes, replace: dict[int, bytes]) -> bytes:
    """Same container with some section payloads replaced (sizes rewritten)."""
    out = bytearray(data[:12])
    for sid, (off, size) in sections(data).items():
        payload = replace.get(sid, data[off:off + size])
        out += struct.pack("<IQ", sid, len(payload)) + payload
    return bytes(out)


def patched(tmp_path, src: Path, offset: int, new: bytes, name=None) -> Path:
    data = bytearray(src.read_bytes())
    data[offset:offset + len(new)] = new
    dst = tmp_path / (name or src.name)
    dst.write_bytes(bytes(data))
    return dst


def domain_rows(zk, w):
    """A·w and B·w on every domain row, from zkey section 4, in Python ints."""
    co = zk.coeffs
    rows = {0: [0] * zk.domain_size, 1: [0] * zk.domain_size}
    for m, row, sig, v in zip(co.matrix.tolist(), co.constraint.tolist(),
                              co.signal.tolist(), limbs_to_ints(co.value)):
        rows[m][row] = (rows[m][row] + v * w[sig]) % r
    return rows[0], rows[1]


# ---------------------------------------------------------------- agreement between files

def test_zkey_header_agrees_with_r1cs(fx, loaded):
    zk, cs, w = loaded[fx.name]
    assert zk.n_vars == cs.n_wires == len(w)
    assert zk.n_public == cs.n_pub_out + cs.n_pub_in
    need = cs.n_constraints + zk.n_public + 1
    assert zk.domain_size >= need and zk.domain_size // 2 < need
    assert zk.domain_size & (zk.domain_size - 1) == 0


def test_zkey_points_agree_with_vkey(fx, loaded):
    zk, _, _ = loaded[fx.name]
    vk = read_vkey(fx / "verification_key.json")
    assert vk.n_public == zk.n_public
    assert g1_from_array(zk.ic) == vk.ic
    assert (zk.alpha1_point, zk.beta2_point, zk.gamma2_point, zk.delta2_point) == \
        (vk.alpha1, vk.beta2, vk.gamma2, vk.delta2)
    # the (2,4) / (2,2,4) arrays carry the same canonical values as the tuples
    assert g1_from_array(zk.alpha1[None])[0] == vk.alpha1
    assert g2_from_array(zk.delta2[None])[0] == vk.delta2
    assert zk.gamma2_point == G2.generator  # snarkjs never randomises gamma


def test_bulk_point_sections_are_canonical_points(fx, loaded):
    """On-curve after the single R^-1 conversion proves the Montgomery factor; (0, 0)
    stays infinity.  A sample keeps this fast on the larger fixture."""
    zk, _, _ = loaded[fx.name]
    assert zk.a.shape == (zk.n_vars, 2, 4) and zk.b2.shape == (zk.n_vars, 2, 2, 4)
    assert zk.c.shape == (zk.n_vars - zk.n_public - 1, 2, 4)
    assert zk.h.shape == (zk.domain_size, 2, 4) and zk.b1.shape == (zk.n_vars, 2, 4)
    for arr in (zk.a, zk.b1, zk.c, zk.h):
        assert all(G1.is_on_curve(p) for p in g1_from_array(arr[:16]))
    assert all(G2.is_on_curve(p) for p in g2_from_array(zk.b2[:8]))
    # a value still in Montgomery form would almost never be on the curve
    raw = limbs_to_ints(zk.h[:1])
    mont = (raw[0] * MONT % q, raw[1] * MONT % q)
    assert not G1.is_on_curve(mont)


def test_coefficients_reproduce_r1cs_rows(fx, loaded):
    """zkey A·w, B·w equal the r1cs A, B rows on the witness: proves canonical =
    stored·R^-2, and A·w ∘ B·w = C·w on every constraint."""
    zk, cs, w = loaded[fx.name]
    a, b = domain_rows(zk, w)
    for i, (la, lb, lc) in enumerate(cs.constraints):
        assert a[i] == evaluate(la, w), f"A row {i}"
        assert b[i] == evaluate(lb, w), f"B row {i}"
        assert a[i] * b[i] % r == evaluate(lc, w), f"row {i}"
    # the raw stored values are c·R² mod r: one R less would not match
    off, _ = sections(fx.joinpath("circuit.zkey").read_bytes())[4]
    raw = fx.joinpath("circuit.zkey").read_bytes()[off + 4 + 12:off + 4 + 44]
    assert int.from_bytes(raw, "little") == \
        limbs_to_ints(zk.coeffs.value[:1])[0] * MONT * MONT % r


def test_extra_public_rows(fx, loaded):
    """snarkjs appends row nConstraints+i with A = 1·w_i for i in 0..nPublic, B empty."""
    zk, cs, _ = loaded[fx.name]
    co = zk.coeffs
    extra = co.constraint >= cs.n_constraints
    got = sorted(zip(co.constraint[extra].tolist(), co.matrix[extra].tolist(),
                     co.signal[extra].tolist(), limbs_to_ints(co.value[extra])))
    assert got == [(cs.n_constraints + i, 0, i, 1) for i in range(zk.n_public + 1)]


def test_witness_public_part_is_public_json(fx, loaded):
    zk, _, w = loaded[fx.name]
    assert w[0] == 1
    assert w[1:zk.n_public + 1] == read_public(fx / "public.json")
    check_witness_for(read_wtns(fx / "witness.wtns"), zk.n_vars, zk.path)


def test_proof_pairing_and_g2_order():
    """The fixture proof verifies with py_ecc on what our readers return: Fq2 [c0, c1]
    order and vk_alphabeta_12 = e(alpha, beta)^m with snarkjs's exponent m."""
    from py_ecc.optimized_bn128 import FQ12, add, final_exponentiate, multiply, neg, pairing
    d = DATA / "three_public"
    vk = read_vkey(d / "verification_key.json")
    pi_a, pi_b, pi_c = read_proof(d / "proof.json")
    acc = to_py_ecc_g1(vk.ic[0])
    for k, x in enumerate(read_public(d / "public.json"), 1):
        acc = add(acc, multiply(to_py_ecc_g1(vk.ic[k]), x))
    ml = (pairing(to_py_ecc_g2(pi_b), neg(to_py_ecc_g1(pi_a)), final_exponentiate=False)
          * pairing(to_py_ecc_g2(vk.beta2), to_py_ecc_g1(vk.alpha1), final_exponentiate=False)
          * pairing(to_py_ecc_g2(vk.gamma2), acc, final_exponentiate=False)
          * pairing(to_py_ecc_g2(vk.delta2), to_py_ecc_g1(pi_c), final_exponentiate=False))
    assert final_exponentiate(ml) == FQ12.one()


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("name,newline", [("proof.json", False), ("proof_rs0.json", True),
                                          ("proof_r12345_s67890.json", True)])
def test_proof_roundtrip_bytes(fx, tmp_path, name, newline):
    out = tmp_path / name
    write_proof(out, *read_proof(fx / name), trailing_newline=newline)
    assert out.read_bytes() == (fx / name).read_bytes()


def test_public_and_vkey_roundtrip_bytes(fx, tmp_path):
    write_public(tmp_path / "public.json", read_public(fx / "public.json"))
    assert (tmp_path / "public.json").read_bytes() == (fx / "public.json").read_bytes()
    vk = read_vkey(fx / "verification_key.json")
    write_vkey(tmp_path / "vk.json", vk)
    assert (tmp_path / "vk.json").read_bytes() == (fx / "verification_key.json").read_bytes()
    vk.alphabeta_12 = None  # recomputed from alpha, beta by the pairing
    write_vkey(tmp_path / "vk2.json", vk)
    assert (tmp_path / "vk2.json").read_bytes() == (fx / "verification_key.json").read_bytes()


def test_vkey_from_zkey_matches_snarkjs(fx, loaded, tmp_path):
    zk = read_zkey(fx / "circuit.zkey")
    vk = vkey_from_zkey(zk)
    assert vk == json.loads((fx / "verification_key.json").read_text())
    assert list(vk) == ["protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2",
                        "vk_gamma_2", "vk_delta_2", "vk_alphabeta_12", "IC"]
    write_vkey(tmp_path / "vk.json", vk)
    assert (tmp_path / "vk.json").read_bytes() == (fx / "verification_key.json").read_bytes()
    # exporting the key converted no bulk section
    assert not {"a", "b1", "b2", "c", "h", "coeffs"} & set(vars(zk))


def test_zkey_sha256_is_file_hash(fx):
    zk = read_zkey(fx / "circuit.zkey")
    assert zk.sha256 == hashlib.sha256((fx / "circuit.zkey").read_bytes()).hexdigest()


def test_wtns_write_read_roundtrip(fx, tmp_path):
    w = read_wtns(fx / "witness.wtns")
    write_wtns(tmp_path / "w.wtns", w.values)
    assert (tmp_path / "w.wtns").read_bytes() == (fx / "witness.wtns").read_bytes()
    ints = [1, 2, r - 1]
    write_wtns(tmp_path / "i.wtns", ints)
    assert limbs_to_ints(read_wtns(tmp_path / "i.wtns").values) == ints


def test_r1cs_header(loaded):
    _, cs, _ = loaded["three_public"]
    assert (cs.n_pub_out, cs.n_pub_in, cs.n_prv_in, cs.n_constraints) == (0, 3, 2, 5)
    assert cs.constraints[4][0] == {} and cs.constraints[4][1] == {}  # the linear one
    assert len(cs.wire_to_label) == cs.n_wires


# ---------------------------------------------------------------- refusals

def raises_format(fn, *needles):
    with pytest.raises(FormatError) as ei:
        fn()
    msg = str(ei.value)
    for n in needles:
        assert n in msg, msg
    return msg


BLS12_381_R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
ZKEY = DATA / "three_public" / "circuit.zkey"
WTNS = DATA / "three_public" / "witness.wtns"
R1CS_FILE = DATA / "three_public" / "circuit.r1cs"


@pytest.mark.parametrize("cut", [0, 3, 11, 12, 20, 30, 100, 700, 1000, 3000, 5000, -1])
def test_truncated_zkey(tmp_path, cut):
    data = ZKEY.read_bytes()
    p = tmp_path / "circuit.zkey"
    p.write_bytes(data[:cut])
    msg = raises_format(lambda: read_zkey(p), "circuit.zkey: ")
    assert "header" in msg or "section" in msg


def test_zkey_section_wrong_size(tmp_path):
    data = ZKEY.read_bytes()
    off, _ = sections(data)[9]
    p = tmp_path / "circuit.zkey"
    p.write_bytes(rebuild(data, {9: data[off:off + 100]}))
    raises_format(lambda: read_zkey(p),
                  "circuit.zkey: section 9 (H points): expected 16 points (1024 bytes), "
                  "found 100 bytes")


def test_zkey_wrong_curve(tmp_path):
    off, _ = sections(ZKEY.read_bytes())[2]
    p = patched(tmp_path, ZKEY, off + 4, b"\x01")  # low byte of q
    raises_format(lambda: read_zkey(p), "circuit.zkey: section 2 (Groth16 header)",
                  "base field modulus q is", "expected BN254 base field", "another curve")


def test_zkey_plonk(tmp_path):
    off, _ = sections(ZKEY.read_bytes())[1]
    p = patched(tmp_path, ZKEY, off, struct.pack("<I", 2))
    raises_format(lambda: read_zkey(p), "circuit.zkey: section 1 (protocol)",
                  "zkey is for plonk, not groth16")


def test_zkey_wrong_magic(tmp_path):
    p = patched(tmp_path, ZKEY, 0, b"ptau")
    raises_format(lambda: read_zkey(p), "circuit.zkey: header", "magic")


def test_zkey_header_point_off_curve(tmp_path):
    off, _ = sections(ZKEY.read_bytes())[2]
    alpha1 = off + 4 + 32 + 4 + 32 + 12
    p = patched(tmp_path, ZKEY, alpha1, b"\x07")
    raises_format(lambda: read_zkey(p), "section 2", "alpha1 is not on the BN254 G1 curve")


def test_zkey_ic_point_off_curve(tmp_path):
    off, _ = sections(ZKEY.read_bytes())[3]
    p = patched(tmp_path, ZKEY, off + 64 + 1, b"\x07")  # IC[1].x
    raises_format(lambda: read_zkey(p), "section 3 (IC points)", "IC point #1")


def test_zkey_bad_coefficient_entry(tmp_path):
    off, _ = sections(ZKEY.read_bytes())[4]
    p = patched(tmp_path, ZKEY, off + 4 + 2 * 44 + 8, struct.pack("<I", 99))  # signal
    zk = read_zkey(p)  # bulk sections are checked when first used
    raises_format(lambda: zk.coeffs, "section 4 (coefficients)", "entry #2", "signal 99")
    p = patched(tmp_path, ZKEY, off + 4 + 3 * 44 + 12 + 24, b"\xff" * 8, "v.zkey")
    raises_format(lambda: read_zkey(p).coeffs, "v.zkey: section 4", "entry value #3")


def test_wtns_errors(tmp_path):
    data = WTNS.read_bytes()
    off, _ = sections(data)[1]
    p = patched(tmp_path, WTNS, off, struct.pack("<I", 48), "n8.wtns")
    raises_format(lambda: read_wtns(p), "n8.wtns: section 1 (header)", "prime needs 48 bytes")
    p = patched(tmp_path, WTNS, off + 4, b"\x02", "prime.wtns")
    raises_format(lambda: read_wtns(p), "prime.wtns: section 1 (header)", "prime is",
                  "an unknown field", "another curve")
    p = tmp_path / "bls.wtns"
    write_wtns(p, [1, 2], prime=BLS12_381_R)
    raises_format(lambda: read_wtns(p), "bls.wtns: section 1", "BLS12-381 scalar field")
    p = patched(tmp_path, WTNS, off + 4, FQ_MODULUS.to_bytes(32, "little"), "fq.wtns")
    raises_format(lambda: read_wtns(p), "BN254 base field), expected BN254 scalar field")
    for cut in (0, 10, 40, 100, len(data) - 1):
        p = tmp_path / f"cut{cut}.wtns"
        p.write_bytes(data[:cut])
        raises_format(lambda: read_wtns(p), f"cut{cut}.wtns: ")
    p = tmp_path / "big.wtns"
    write_wtns(p, [1, r])
    raises_format(lambda: read_wtns(p), "big.wtns: section 2 (witness values)",
                  "witness value #1")
    p = tmp_path / "count.wtns"
    p.write_bytes(rebuild(data, {2: data[sections(data)[2][0]:][:32 * 5]}))
    raises_format(lambda: read_wtns(p), "section 2", "expected 8 witness values")


def test_witness_length_mismatch(tmp_path):
    p = tmp_path / "short.wtns"
    write_wtns(p, [1, 2, 3])
    with pytest.raises(InputError, match=r"^short\.wtns: has 3 values.*circuit\.zkey.*nVars = 8"):
        check_witness_for(read_wtns(p), 8, str(ZKEY))


def test_r1cs_errors(tmp_path):
    data = R1CS_FILE.read_bytes()
    off, _ = sections(data)[1]
    p = patched(tmp_path, R1CS_FILE, off + 4, b"\x02")
    raises_format(lambda: read_r1cs(p), "circuit.r1cs: section 1 (header)", "prime")
    for cut in (5, 100, 800, len(data) - 1):
        p = tmp_path / "cut.r1cs"
        p.write_bytes(data[:cut])
        raises_format(lambda: read_r1cs(p), "cut.r1cs: ")
    off2, _ = sections(data)[2]
    p = patched(tmp_path, R1CS_FILE, off2 + 4, struct.pack("<I", 500), "wire.r1cs")
    raises_format(lambda: read_r1cs(p), "section 2 (constraints)", "wire 500 >= nWires 8")


def _json_variant(tmp_path, src: Path, edit, name="bad.json") -> Path:
    obj = json.loads(src.read_text())
    edit(obj)
    p = tmp_path / name
    p.write_text(json.dumps(obj))
    return p


PROOF = DATA / "three_public" / "proof.json"
VKEY = DATA / "three_public" / "verification_key.json"


def test_json_errors(tmp_path):
    p = tmp_path / "proof.json"
    p.write_text('{"pi_a": [')
    raises_format(lambda: read_proof(p), "proof.json: JSON", "not valid JSON")
    p = _json_variant(tmp_path, PROOF, lambda o: o.pop("pi_b"), "proof.json")
    raises_format(lambda: read_proof(p), "proof.json: pi_b: missing")

    def bad_number(o):
        o["pi_a"][0] = "12a"
    p = _json_variant(tmp_path, PROOF, bad_number)
    raises_format(lambda: read_proof(p), "bad.json: pi_a", "decimal string")

    def off_curve(o):
        o["pi_c"][1] = str(int(o["pi_c"][1]) ^ 1)
    p = _json_variant(tmp_path, PROOF, off_curve)
    raises_format(lambda: read_proof(p), "pi_c", "not on the BN254 G1 curve")

    def g2_swapped(o):  # c1, c0 (Solidity order) is a different, off-curve point
        o["pi_b"][0].reverse()
        o["pi_b"][1].reverse()
    p = _json_variant(tmp_path, PROOF, g2_swapped)
    raises_format(lambda: read_proof(p), "pi_b", "not on the BN254 G2 curve")

    def too_big(o):
        o["pi_a"][0] = str(q)
    p = _json_variant(tmp_path, PROOF, too_big)
    raises_format(lambda: read_proof(p), "pi_a", "not below the base field modulus")

    def short(o):
        o["pi_a"] = o["pi_a"][:2]
    p = _json_variant(tmp_path, PROOF, short)
    raises_format(lambda: read_proof(p), "pi_a", "expected a list of 3")

    def ic_len(o):
        o["IC"].pop()
    p = _json_variant(tmp_path, VKEY, ic_len, "vk.json")
    raises_format(lambda: read_vkey(p), "vk.json: IC", "expected nPublic + 1 = 4 points")

    def plonk(o):
        o["protocol"] = "plonk"
    p = _json_variant(tmp_path, VKEY, plonk, "vk.json")
    raises_format(lambda: read_vkey(p), "vk.json: protocol")

    def vk_off_curve(o):
        o["vk_delta_2"][1][0] = "5"
    p = _json_variant(tmp_path, VKEY, vk_off_curve, "vk.json")
    raises_format(lambda: read_vkey(p), "vk.json: vk_delta_2", "G2")

    p = tmp_path / "public.json"
    p.write_text('["1", "-2"]')
    raises_format(lambda: read_public(p), "public.json: entry 1", "decimal string")
    p.write_text(json.dumps([str(r)]))
    raises_format(lambda: read_public(p), "public.json: entry 0", "scalar field")
    p.write_text('{"a": 1}')
    raises_format(lambda: read_public(p), "public.json", "list")


def test_projective_json_points(tmp_path):
    """Infinity and z != 1 (Jacobian, as ffjavascript) are read correctly."""
    obj = json.loads(PROOF.read_text())
    x, y = int(obj["pi_a"][0]), int(obj["pi_a"][1])
    z = 12345
    obj["pi_a"] = [str(x * z * z % q), str(y * z ** 3 % q), str(z)]
    obj["pi_c"] = ["0", "1", "0"]
    obj["pi_b"] = [["0", "0"], ["1", "0"], ["0", "0"]]
    p = tmp_path / "proj.json"
    p.write_text(json.dumps(obj))
    a, b, c = read_proof(p)
    assert a == (x, y) and b is None and c is None
    write_proof(tmp_path / "inf.json", None, None, None)
    assert read_proof(tmp_path / "inf.json") == (None, None, None)


def test_vkey_alphabeta_exponent():
    """snarkjs's GT value is py_ecc's pairing to the power m = 2x(6x²+3x+1)."""
    from py_ecc.optimized_bn128 import curve_order
    x = 4965661367192848881
    assert SNARKJS_GT_EXPONENT == 2 * x * (6 * x * x + 3 * x + 1)
    assert SNARKJS_GT_EXPONENT % curve_order != 0  # a bijection on GT


def test_errors_are_value_errors():
    assert issubclass(FormatError, ValueError) and issubclass(InputError, ValueError)
    e = FormatError("/x/circuit.zkey", "section 9 (H points)", "expected 1 points")
    assert str(e) == "circuit.zkey: section 9 (H points): expected 1 points"
    assert e.path == "/x/circuit.zkey"


def test_engine_montgomery_conversion_matches_reference():
    """The zkey loader's vectorised conversion equals the pure-Python twin on fresh values."""
    import secrets

    from prover import zkey as zk
    from prover.bn254 import FQ_MODULUS, FR_MODULUS, MONT
    from prover.limbs import ints_to_limbs, limbs_to_ints, mul_mod_array
    q_vals = [secrets.randbelow(FQ_MODULUS) for _ in range(257)] + [0, FQ_MODULUS - 1]
    r_vals = [secrets.randbelow(FR_MODULUS) for _ in range(257)] + [0, FR_MODULUS - 1]
    q_arr, r_arr = ints_to_limbs(q_vals), ints_to_limbs(r_vals)
    assert (zk.from_montgomery_q(q_arr) == mul_mod_array(q_arr, pow(MONT, -1, FQ_MODULUS), FQ_MODULUS)).all()
    assert (zk.from_montgomery2_r(r_arr) == mul_mod_array(r_arr, pow(MONT, -2, FR_MODULUS), FR_MODULUS)).all()
    mont = ints_to_limbs([v * MONT % FQ_MODULUS for v in q_vals[:258]]).reshape(-1, 2, 4)
    assert limbs_to_ints(zk.from_montgomery_q(mont)) == q_vals[:258]
