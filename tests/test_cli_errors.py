"""Bad input to the CLI: one clear line naming the file, exit code 2, never a traceback."""

from __future__ import annotations

import pytest

from cli_helpers import DATA, run_cli

ZKEY = DATA / "three_public" / "circuit.zkey"
WTNS = DATA / "three_public" / "witness.wtns"


def _patched(tmp_path, src, name, offset=None, value=None, cut=None):
    data = bytearray(src.read_bytes())
    if cut is not None:
        data = data[:cut]
    if offset is not None:
        data[offset:offset + len(value)] = value
    out = tmp_path / name
    out.write_bytes(bytes(data))
    return out


# Offsets from the fixed container layout: magic, version, nSections (12 bytes),
# then section 1 (id, u64 size) whose first u32 is the zkey protocol / wtns n8.
ZKEY_PROTOCOL_AT = 24
ZKEY_Q_AT = 44      # section 2: n8q (u32) at 40, then q
WTNS_PRIME_AT = 28  # section 1: n8 (u32) at 24, then the prime

CASES = {
    "truncated zkey": lambda t: (
        ("prove", _patched(t, ZKEY, "cut.zkey", cut=ZKEY.stat().st_size // 2), WTNS), "cut.zkey", "section"),
    "zkey cut inside a header": lambda t: (
        ("prove", _patched(t, ZKEY, "tiny.zkey", cut=30), WTNS), "tiny.zkey", ""),
    "empty zkey": lambda t: (("prove", _patched(t, ZKEY, "empty.zkey", cut=0), WTNS), "empty.zkey", ""),
    "wrong curve": lambda t: (
        ("prove", _patched(t, ZKEY, "bls.zkey", ZKEY_Q_AT, b"\x01\x00\x00\x00"), WTNS), "bls.zkey", "curve"),
    "plonk zkey": lambda t: (
        ("prove", _patched(t, ZKEY, "plonk.zkey", ZKEY_PROTOCOL_AT, b"\x02"), WTNS), "plonk.zkey", "plonk"),
    "witness for another circuit": lambda t: (
        ("prove", ZKEY, DATA / "mul_chain_2e10" / "witness.wtns"), "witness.wtns", "nVars"),
    "truncated wtns": lambda t: (
        ("prove", ZKEY, _patched(t, WTNS, "cut.wtns", cut=WTNS.stat().st_size - 5)), "cut.wtns", "section 2"),
    "wtns with another prime": lambda t: (
        ("prove", ZKEY, _patched(t, WTNS, "prime.wtns", WTNS_PRIME_AT, b"\x02")), "prime.wtns", "prime"),
    "zkey given as witness": lambda t: (("prove", ZKEY, ZKEY), "circuit.zkey", "wtns"),
    "missing zkey": lambda t: (("prove", t / "nope.zkey", WTNS), "nope.zkey", "no such file"),
    "directory as witness": lambda t: (("prove", ZKEY, t), str(t.name), ""),
    "verify: malformed vkey": lambda t: (
        ("verify", _write(t, "vk.json", "{"), DATA / "three_public" / "public.json", DATA / "three_public" / "proof.json"),
        "vk.json", "JSON"),
    "verify: proof missing pi_c": lambda t: (
        ("verify", DATA / "three_public" / "verification_key.json", DATA / "three_public" / "public.json",
         _write(t, "p.json", '{"pi_a": ["1", "2", "1"], "pi_b": [["0","0"],["1","0"],["0","0"]]}')),
        "p.json", "pi_c"),
    "verify: public inputs not numbers": lambda t: (
        ("verify", DATA / "three_public" / "verification_key.json", _write(t, "pub.json", '["0x10", "2", "3"]'),
         DATA / "three_public" / "proof.json"), "pub.json", "decimal"),
    "export-vkey: truncated zkey": lambda t: (
        ("export-vkey", _patched(t, ZKEY, "cut.zkey", cut=200), t / "vk.json"), "cut.zkey", ""),
}


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_one_line_and_exit_2(case, tmp_path):
    args, names, mentions = CASES[case](tmp_path)
    if args[0] == "prove":
        args = (*args, tmp_path / "proof.json", tmp_path / "public.json", "--single")
    res = run_cli(*args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert names in lines[0], lines[0]
    assert mentions.lower() in lines[0].lower(), lines[0]
    assert not (tmp_path / "proof.json").exists()
