"""snarkjs JSON files: ``proof.json``, ``public.json``, ``verification_key.json``.

Layouts as written by snarkjs 0.7 (``cli.js`` writes ``JSON.stringify(obj, null, 1)``
with no trailing newline; checked byte for byte against tests/data):

- points in projective (Jacobian) form with decimal strings: G1 ``[x, y, "1"]``,
  G2 ``[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]``; infinity ``["0", "1", "0"]`` and
  ``[["0", "0"], ["1", "0"], ["0", "0"]]``;
- ``vk_alphabeta_12`` = e(alpha1, beta2) in ffjavascript's tower
  Fq12 = Fq6[w]/(w² − v), Fq6 = Fq2[v]/(v³ − (9 + u)), written
  ``[[c00, c10, c20], [c01, c11, c21]]`` with c_ij the Fq2 coefficient of v^i·w^j.

Points here are the reference tuples of ``prover.bn254``: G1 ``(x, y)``, G2
``((x0, x1), (y0, y1))``, infinity ``None``.  Every malformed input raises
``FormatError(path, field, message)``.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
from dataclasses import dataclass

from prover.bn254 import (FQ_MODULUS, FR_MODULUS, G1, G2, g1_from_array, to_py_ecc_g1,
                          to_py_ecc_g2)
from prover.errors import FormatError, OutOfRangeError

_DECIMAL = re.compile(r"[0-9]+\Z")
_CURVE_NAMES = {"BN128", "BN254", "ALTBN128"}  # snarkjs getCurveFromName accepts these

# snarkjs's vk_alphabeta_12 is py_ecc's pairing raised to m = 2x(6x² + 3x + 1), x the BN
# parameter (found on the fixtures).  m is the multiple of (q^4 - q^2 + 1)/r that the
# Fuentes-Castañeda et al. final-exponentiation hard part computes; py_ecc raises to
# (q^12 - 1)/r exactly.  Both are pairings (m is prime to r); only the JSON value differs.
BN_X = 4965661367192848881
SNARKJS_GT_EXPONENT = 2 * BN_X * (6 * BN_X * BN_X + 3 * BN_X + 1)


# ---------------------------------------------------------------- low level

def _dump(path, obj, trailing_newline: bool) -> None:
    text = json.dumps(obj, indent=1) + ("\n" if trailing_newline else "")
    with open(os.fspath(path), "w", encoding="utf-8") as fh:
        fh.write(text)


# snarkjs files nest at most 4 deep (vk_alphabeta_12); anything far deeper is refused
# before parsing, because the C decoder's recursion on it crashed a whole test process
# once (SIGSEGV in CI) instead of raising RecursionError.
MAX_DEPTH = 64
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def _depth(raw: bytes) -> int:
    """Bracket depth, counting brackets inside strings too (an overestimate, never less)."""
    if not raw:
        return 0
    steps = _OPEN[np.frombuffer(raw, dtype=np.uint8)]
    return int(np.cumsum(steps, dtype=np.int64).max(initial=0))


def _load(path):
    try:
        with open(os.fspath(path), "rb") as fh:
            raw = fh.read()
        if _depth(raw) > MAX_DEPTH:
            raise FormatError(path, "JSON", f"nested more than {MAX_DEPTH} deep")
        return json.loads(raw.decode("utf-8"))
    except OSError as e:
        raise FormatError(path, None, f"cannot open: {e.strerror or e}") from None
    except RecursionError:
        raise FormatError(path, "JSON", "nested too deeply") from None
    except ValueError as e:
        # JSONDecodeError, UnicodeDecodeError, and Python's 4300-digit limit on an int token
        raise FormatError(path, "JSON", f"not valid JSON: {e}") from None


def _get(path, obj, key):
    if not isinstance(obj, dict):
        raise FormatError(path, None, f"expected a JSON object, found {type(obj).__name__}")
    if key not in obj:
        raise FormatError(path, key, "missing")
    return obj[key]


def _int(path, where, v, modulus: int, what: str) -> int:
    # snarkjs writes decimal strings; plain JSON integers are accepted too (JS BigInt
    # takes them), booleans are not
    if isinstance(v, str) and _DECIMAL.match(v):
        digits = v.lstrip("0")
        if len(digits) > len(str(modulus)):  # also keeps int() under its 4300-digit limit
            raise OutOfRangeError(path, where, f"a {len(digits)}-digit number is not below the {what} modulus")
        n = int(digits or "0")
    elif isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        n = v
    else:
        raise FormatError(path, where, f"expected a decimal string, found {json.dumps(v)[:80]}")
    if n >= modulus:
        raise OutOfRangeError(path, where, f"{n} is not below the {what} modulus")
    return n


def _list(path, where, v, length: int):
    if not isinstance(v, list) or len(v) != length:
        found = f"a list of {len(v)}" if isinstance(v, list) else type(v).__name__
        raise FormatError(path, where, f"expected a list of {length}, found {found}")
    return v


def _fq(path, where, v) -> int:
    return _int(path, where, v, FQ_MODULUS, "base field")


def _fq2(path, where, v):
    a, b = _list(path, where, v, 2)
    return (_fq(path, where, a), _fq(path, where, b))


# ---------------------------------------------------------------- points

def g1_to_json(p) -> list:
    return ["0", "1", "0"] if p is None else [str(p[0]), str(p[1]), "1"]


def g2_to_json(p) -> list:
    if p is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def _affine(curve, x, y, z):
    """Jacobian (ffjavascript's projective form) -> affine; z = 0 is infinity."""
    F = curve.F
    if F.is_zero(z):
        return None
    if z == F.one:
        return (x, y)
    return curve.to_affine((x, y, z))


def g1_from_json(path, where, v):
    x, y, z = (_fq(path, where, c) for c in _list(path, where, v, 3))
    p = _affine(G1, x, y, z)
    if not G1.is_on_curve(p):
        raise OutOfRangeError(path, where, "point is not on the BN254 G1 curve")
    return p


def g2_from_json(path, where, v):
    x, y, z = (_fq2(path, where, c) for c in _list(path, where, v, 3))
    p = _affine(G2, x, y, z)
    if not G2.is_on_curve(p):
        raise OutOfRangeError(path, where, "point is not on the BN254 G2 curve")
    return p


# ---------------------------------------------------------------- proof / public

def write_proof(path, pi_a, pi_b, pi_c, trailing_newline: bool = False) -> None:
    """Write proof.json as ``snarkjs groth16 prove`` does (no trailing newline unless
    asked: the snarkjs API scripts in tests/data add one, its CLI does not)."""
    _dump(path, {"pi_a": g1_to_json(pi_a), "pi_b": g2_to_json(pi_b),
                 "pi_c": g1_to_json(pi_c), "protocol": "groth16", "curve": "bn128"},
          trailing_newline)


def _check_header(path, obj, require: bool):
    for key, ok in (("protocol", lambda s: s == "groth16"),
                    ("curve", lambda s: isinstance(s, str) and s.upper() in _CURVE_NAMES)):
        if key not in obj and not require:
            continue
        val = _get(path, obj, key)
        if not ok(val):
            raise FormatError(path, key, f"{json.dumps(val)[:80]} is not supported "
                                         "(expected groth16 on bn128)")


def read_proof(path):
    """-> (pi_a, pi_b, pi_c) as reference points."""
    obj = _load(path)
    if not isinstance(obj, dict):
        raise FormatError(path, None, "expected a JSON object")
    # protocol/curve are optional in snarkjs's own reader; when present they must fit
    _check_header(path, obj, require=False)
    return (g1_from_json(path, "pi_a", _get(path, obj, "pi_a")),
            g2_from_json(path, "pi_b", _get(path, obj, "pi_b")),
            g1_from_json(path, "pi_c", _get(path, obj, "pi_c")))


def write_public(path, values, trailing_newline: bool = False) -> None:
    _dump(path, [str(int(v)) for v in values], trailing_newline)


def read_public(path) -> list[int]:
    obj = _load(path)
    if not isinstance(obj, list):
        raise FormatError(path, None, "expected a JSON list of decimal strings")
    return [_int(path, f"entry {i}", v, FR_MODULUS, "scalar field") for i, v in enumerate(obj)]


# ---------------------------------------------------------------- verification key

@dataclass
class VerificationKey:
    n_public: int
    alpha1: tuple
    beta2: tuple
    gamma2: tuple
    delta2: tuple
    ic: list                       # nPublic + 1 G1 points
    alphabeta_12: list | None = None  # snarkjs tower layout, ints; computed if None


def alphabeta_12(alpha1, beta2) -> list:
    """e(alpha1, beta2) as snarkjs writes it: ``[[c00, c10, c20], [c01, c11, c21]]``,
    each ``[a, b]`` ints, c_ij the Fq2 coefficient of v^i·w^j."""
    from py_ecc.optimized_bn128 import pairing
    e = pairing(to_py_ecc_g2(beta2), to_py_ecc_g1(alpha1)) ** SNARKJS_GT_EXPONENT
    c = [int(x) for x in e.coeffs]
    # py_ecc's FQ12 is Fq[w]/(w^12 - 18w^6 + 82) with u = w^6 - 9 on Fq2, so
    # e_k·w^k + e_{k+6}·w^{k+6} = ((e_k + 9·e_{k+6}) + e_{k+6}·u)·w^k, and w^k = v^i·w^j
    # for k = 2i + j in the tower.
    return [[[(c[2 * i + j] + 9 * c[2 * i + j + 6]) % FQ_MODULUS, c[2 * i + j + 6]]
             for i in range(3)] for j in range(2)]


def vkey_to_dict(vk: VerificationKey) -> dict:
    ab = vk.alphabeta_12 if vk.alphabeta_12 is not None else alphabeta_12(vk.alpha1, vk.beta2)
    return {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": g1_to_json(vk.alpha1),
        "vk_beta_2": g2_to_json(vk.beta2),
        "vk_gamma_2": g2_to_json(vk.gamma2),
        "vk_delta_2": g2_to_json(vk.delta2),
        "vk_alphabeta_12": [[[str(a), str(b)] for a, b in row] for row in ab],
        "IC": [g1_to_json(p) for p in vk.ic],
    }


def vkey_object_from_zkey(zkey) -> VerificationKey:
    """The verification key's points, without the (costly, unneeded) alphabeta pairing."""
    return VerificationKey(n_public=zkey.n_public, alpha1=zkey.alpha1_point,
                           beta2=zkey.beta2_point, gamma2=zkey.gamma2_point,
                           delta2=zkey.delta2_point, ic=g1_from_array(zkey.ic))


def vkey_from_zkey(zkey) -> dict:
    """What ``snarkjs zkey export verificationkey`` writes, as a dict (key order kept)."""
    return vkey_to_dict(vkey_object_from_zkey(zkey))


def write_vkey(path, vk, trailing_newline: bool = False) -> None:
    """``vk``: a VerificationKey or the dict of :func:`vkey_from_zkey`."""
    _dump(path, vkey_to_dict(vk) if isinstance(vk, VerificationKey) else vk, trailing_newline)


def read_vkey(path) -> VerificationKey:
    obj = _load(path)
    if not isinstance(obj, dict):
        raise FormatError(path, None, "expected a JSON object")
    _check_header(path, obj, require=True)
    n_public = _get(path, obj, "nPublic")
    if not isinstance(n_public, int) or isinstance(n_public, bool) or n_public < 0:
        raise FormatError(path, "nPublic", f"expected a non-negative integer, found "
                                           f"{json.dumps(n_public)[:80]}")
    if n_public >= 1 << 32:  # a zkey's nPublic is a u32; also keeps nPublic + 1 printable
        raise FormatError(path, "nPublic", f"{n_public} is not a 32-bit count")
    ic_raw = _get(path, obj, "IC")
    if not isinstance(ic_raw, list) or len(ic_raw) != n_public + 1:
        found = len(ic_raw) if isinstance(ic_raw, list) else type(ic_raw).__name__
        raise FormatError(path, "IC", f"expected nPublic + 1 = {n_public + 1} points, "
                                      f"found {found}")
    ab = None
    if "vk_alphabeta_12" in obj:
        rows = _list(path, "vk_alphabeta_12", obj["vk_alphabeta_12"], 2)
        ab = [[_fq2(path, "vk_alphabeta_12", c) for c in _list(path, "vk_alphabeta_12", row, 3)]
              for row in rows]
    return VerificationKey(
        n_public=n_public,
        alpha1=g1_from_json(path, "vk_alpha_1", _get(path, obj, "vk_alpha_1")),
        beta2=g2_from_json(path, "vk_beta_2", _get(path, obj, "vk_beta_2")),
        gamma2=g2_from_json(path, "vk_gamma_2", _get(path, obj, "vk_gamma_2")),
        delta2=g2_from_json(path, "vk_delta_2", _get(path, obj, "vk_delta_2")),
        ic=[g1_from_json(path, f"IC[{i}]", p) for i, p in enumerate(ic_raw)],
        alphabeta_12=ab,
    )
