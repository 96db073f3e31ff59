"""Fuzzing the file readers (regressions; the fuzzer itself follows)."""

from __future__ import annotations

import re

import pytest

from cli_helpers import DATA
from prover.errors import FormatError
from prover.snarkjs_json import read_proof, read_public, read_vkey

THREE = DATA / "three_public"

_VKEY_TEXT = (THREE / "verification_key.json").read_text()
JSON_REGRESSIONS = {
    # found by this fuzzer: RecursionError and the 4300-digit ValueError of int() escaped
    "deep nesting": ("public", "[" * 100_000, None),
    "deep nesting in a field": ("proof", '{"pi_a": ' + "[" * 50_000 + "]" * 50_000 + "}", None),
    "4301-digit number token": ("public", "[" + "9" * 4301 + "]", None),
    "4301-digit decimal string": ("proof", '{"pi_a": ["' + "9" * 4301 + '", "1", "1"]}', None),
    "nPublic + 1 has 4301 digits": ("vkey", re.sub(r'"nPublic": *\d+', '"nPublic": ' + "9" * 4300, _VKEY_TEXT),
                                    None),
    "leading zeros are still a small number": ("public", '["' + "0" * 5000 + '7"]', [7]),
}


@pytest.mark.parametrize("what", list(JSON_REGRESSIONS))
def test_json_reader_regressions(what, tmp_path):
    kind, text, expected = JSON_REGRESSIONS[what]
    path = tmp_path / f"{kind}.json"
    path.write_text(text)
    read = {"public": read_public, "proof": read_proof, "vkey": read_vkey}[kind]
    if expected is not None:
        assert read(path) == expected
        return
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value).startswith(path.name)
