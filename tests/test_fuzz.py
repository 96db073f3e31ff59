"""Fuzzing the file readers and a live node's gRPC surface.

Readers (``.zkey``, ``.wtns``, ``.r1cs``, proof/public/vkey JSON): the fixtures in
tests/data, damaged structurally (header fields and counts, section ids and sizes,
truncation at every kind of boundary, repeated, dropped, reordered, resized and foreign
sections) and byte by byte, plus random input.  Property: a FormatError/InputError whose
message starts with the file name, or an object consistent with its own header (lazy
zkey sections included).  Any other exception, a case over its time budget or an
allocation past its memory budget fails.

gRPC: every RPC of ``protos/coprove.proto`` (the list comes from the descriptor, so a new
RPC is fuzzed without touching this file) against node1 of a ``LocalNetwork(2)``, with
messages built generically from the descriptors and near-valid ones that get deep into
the handlers (real circuit, real share material, live job ids), streams cut by
cancelling the call.  Property: OK, or a status other than UNKNOWN (an unhandled
exception in a servicer) with details, in time.  Afterwards the nodes are alive, prove a
real job, hold no job past its deadline and are back near their thread count and RSS.

``HYPOTHESIS_PROFILE=ci`` (default: derandomized, sized for the normal suite) or
``long`` (10x the cases, random).  ``python bench/fuzz.py --minutes N`` runs every target
for a time budget; ``COPROVE_FUZZ_REPORT=path.json`` makes this module write the cases
tried per target and the node figures there.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import resource
import secrets
import signal
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

import grpc
import numpy as np
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor as FD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import DATA, run_cli
from cme.prg import SEED_BYTES
from prover.bn254 import FQ_MODULUS as Q
from prover.bn254 import FR_MODULUS as R
from prover.bn254 import G1, G2
from prover.errors import FormatError, InputError
from prover.r1cs import read_r1cs
from prover.snarkjs_json import read_proof, read_public, read_vkey
from prover.wtns import read_wtns
from prover.zkey import read_zkey
from protos import coprove_pb2 as pb

THREE = DATA / "three_public"
CHAIN = DATA / "mul_chain_2e10"

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
_COMMON = dict(database=None, deadline=None, print_blob=True, suppress_health_check=list(HealthCheck))
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("long", derandomize=False, **_COMMON)
SCALE = {"ci": 1, "long": 10}.get(PROFILE, 1)

# Cases run per target in this process (bench/fuzz.py reads it too).
CASES: Counter = Counter()
REPORT: dict = {}

# A reader case gets this long and this much address space; a tiny file needs far less,
# so hitting either is a hang or an allocation driven by a declared size.
CASE_SECONDS = 20.0
CASE_EXTRA_BYTES = 2 << 30


# ============================================================== harness

class CaseTimeout(BaseException):
    """BaseException, so that no ``except Exception`` in the code under test hides it."""


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def bounded(seconds: float = CASE_SECONDS, extra_bytes: int = CASE_EXTRA_BYTES):
    """Interrupt the case after ``seconds`` and make allocations beyond ``extra_bytes``
    of address space fail with MemoryError instead of swapping the machine to death."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(*_):
        raise CaseTimeout(f"over its {seconds:g} s budget")

    old_handler = signal.signal(signal.SIGALRM, alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_size() + extra_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, old_handler)


@dataclass
class Target:
    name: str
    strategy: st.SearchStrategy
    run: Callable  # run(case, ctx)
    examples: int  # in the ci profile
    deadline: timedelta | None = None
    needs_node: bool = False


TARGETS: dict[str, Target] = {}


def target(name, strategy, examples, deadline=None, needs_node=False):
    def register(fn):
        TARGETS[name] = Target(name, strategy, fn, examples, deadline, needs_node)
        return fn
    return register


def run_target(t: Target, ctx, examples: int | None = None, **overrides):
    """Run one target's property under hypothesis (the tests and bench/fuzz.py)."""
    s = settings(settings.get_profile(PROFILE), max_examples=examples or t.examples * SCALE,
                 deadline=t.deadline, **overrides)

    @s
    @given(case=t.strategy)
    def prop(case):
        CASES[t.name] += 1
        t.run(case, ctx)

    prop()


def _check_error(e: Exception, path: Path):
    name = path.name
    assert isinstance(e, (FormatError, InputError)), repr(e)
    assert str(e).startswith(name), f"error does not start with the file name {name!r}: {e}"


# ============================================================== binary files

BINARY = {
    "zkey": [THREE / "circuit.zkey"] * 3 + [CHAIN / "circuit.zkey"],
    "wtns": [THREE / "witness.wtns"] * 3 + [CHAIN / "witness.wtns"],
    "r1cs": [THREE / "circuit.r1cs"] * 3 + [CHAIN / "circuit.r1cs"],
}
_BYTES = {p: p.read_bytes() for paths in BINARY.values() for p in set(paths)}

# (offset in payload, width, name) of the counts and sizes each reader trusts
HEADER_FIELDS = {
    "zkey": {1: [(0, 4, "protocol")],
             2: [(0, 4, "n8q"), (36, 4, "n8r"), (72, 4, "nVars"), (76, 4, "nPublic"), (80, 4, "domainSize")],
             4: [(0, 4, "nCoefs"), (4, 4, "coef0.matrix"), (8, 4, "coef0.constraint"), (12, 4, "coef0.signal")]},
    "wtns": {1: [(0, 4, "n8"), (36, 4, "nWitness")]},
    "r1cs": {1: [(0, 4, "n8"), (36, 4, "nWires"), (40, 4, "nPubOut"), (44, 4, "nPubIn"), (48, 4, "nPrvIn"),
                 (52, 8, "nLabels"), (60, 4, "mConstraints")],
             2: [(0, 4, "c0.A.nTerms"), (4, 4, "c0.A.wire0")]},
}


def parse_layout(data: bytes):
    """(magic, version, [(section id, payload)]) of a well-formed container; a plain
    parser of its own so the consistency checks do not trust the code under test."""
    version, n = struct.unpack_from("<II", data, 4)
    pos, sections = 12, []
    for _ in range(n):
        sid, size = struct.unpack_from("<IQ", data, pos)
        sections.append((sid, data[pos + 12:pos + 12 + size]))
        pos += 12 + size
    return data[:4], version, sections


def serialize(magic, version, sections, fmt):
    """Bytes, plus the positions of every structural field and the boundaries a
    truncation should hit."""
    out = bytearray(magic + struct.pack("<II", version, len(sections)))
    fields = [(4, 4, "version"), (8, 4, "nSections")]
    bounds = {0, 4, 8, 12}
    for i, (sid, payload) in enumerate(sections):
        hdr = len(out)
        out += struct.pack("<IQ", sid, len(payload)) + payload
        fields += [(hdr, 4, f"s{i}.id"), (hdr + 4, 8, f"s{i}.size")]
        bounds |= {hdr + 4, hdr + 12, len(out)}
        for off, width, name in HEADER_FIELDS[fmt].get(sid, []):
            if off + width <= len(payload):
                fields.append((hdr + 12 + off, width, f"s{i}.{name}"))
                bounds |= {hdr + 12 + off, hdr + 12 + off + width}
    bounds |= {b + d for b in list(bounds) for d in (-1, 1)}
    return out, fields, sorted(b for b in bounds if 0 <= b <= len(out))


class Case:
    """A generated input: where it came from, what was done to it, the bytes."""

    def __init__(self, label: str, ops: list, data: bytes):
        self.label, self.ops, self.data = label, ops, data

    def __repr__(self):
        return (f"Case({self.label!r}, ops={self.ops}, {len(self.data)} bytes, "
                f"sha256 {hashlib.sha256(self.data).hexdigest()[:16]})")


def _interesting(orig: int, width: int):
    top = (1 << (8 * width)) - 1
    special = {0, 1, 2, 3, 4, 31, 32, 33, 255, 256, 1 << 16, 1 << 20, (1 << 31) - 1, 1 << 31, (1 << 32) - 1,
               1 << 32, 1 << 63, top, orig - 1, orig + 1, orig * 2, orig // 2}
    return st.one_of(st.sampled_from(sorted(v for v in special if 0 <= v <= top)), st.integers(0, top))


_ELEMENTS = [Q, Q - 1, Q + 1, R, R - 1, R + 1, (1 << 256) - 1, 0]


@st.composite
def binary_cases(draw, fmt, only=None):
    paths = [p for p in BINARY[fmt] if only is None or p == only]
    path = draw(st.sampled_from(paths))
    original = _BYTES[path]
    label = f"{path.parent.name}/{path.name}"
    if draw(st.integers(0, 15)) == 0:
        prefix = draw(st.sampled_from([b"", fmt.encode(), original[:8], original[:12]]))
        return Case(label, ["random"], prefix + draw(st.binary(max_size=512)))

    magic, version, sections = parse_layout(original)
    ops = []
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        op = draw(st.sampled_from(["dup", "drop", "swap", "move", "insert", "resize"]))
        i = draw(st.integers(0, len(sections) - 1))
        if op == "dup":
            sections.insert(draw(st.integers(0, len(sections))), sections[i])
        elif op == "drop" and len(sections) > 1:
            sections.pop(i)
        elif op == "swap":
            j = draw(st.integers(0, len(sections) - 1))
            sections[i], sections[j] = sections[j], sections[i]
        elif op == "move":
            sections.insert(draw(st.integers(0, len(sections) - 1)), sections.pop(i))
        elif op == "insert":
            sid = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 4, 9, 10, 11, 12, (1 << 32) - 1]),
                                 st.integers(0, (1 << 32) - 1)))
            payload = draw(st.one_of(st.binary(max_size=96), st.just(sections[i][1])))
            sections.insert(draw(st.integers(0, len(sections))), (sid, payload))
        elif op == "resize":
            sid, payload = sections[i]
            delta = draw(st.sampled_from([-64, -32, -4, -1, 1, 4, 32, 64]))
            payload = payload[:len(payload) + delta] if delta < 0 else payload + bytes(delta)
            sections[i] = (sid, payload)
        ops.append(f"{op} #{i}")

    blob, fields, bounds = serialize(magic, version, sections, fmt)
    for _ in range(draw(st.integers(0 if ops else 1, 3))):
        op = draw(st.sampled_from(["field", "field", "field", "element", "flip", "byte", "splice"]))
        if op == "field":
            pos, width, name = draw(st.sampled_from(fields))
            fmt_ = "<I" if width == 4 else "<Q"
            value = draw(_interesting(struct.unpack_from(fmt_, blob, pos)[0], width))
            struct.pack_into(fmt_, blob, pos, value)
            ops.append(f"{name}={value}")
        elif op == "element" and len(blob) >= 44:
            # a 32-byte field element (point coordinate, coefficient, witness value,
            # modulus) set to a boundary value, on the container's 4-byte grid
            pos = 12 + 4 * draw(st.integers(0, (len(blob) - 44) // 4))
            value = draw(st.sampled_from(_ELEMENTS))
            blob[pos:pos + 32] = value.to_bytes(32, "little")
            ops.append(f"element@{pos}={'q' if value == Q else 'r' if value == R else hex(value)[:10]}")
        elif op in ("flip", "byte") and blob:
            pos = draw(st.integers(0, len(blob) - 1))
            if op == "flip":
                bit = draw(st.integers(0, 7))
                blob[pos] ^= 1 << bit
                ops.append(f"flip@{pos}.{bit}")
            else:
                blob[pos] = draw(st.integers(0, 255))
                ops.append(f"byte@{pos}={blob[pos]}")
        elif op == "splice" and blob:
            pos = draw(st.integers(0, len(blob) - 1))
            junk = draw(st.binary(min_size=1, max_size=48))
            blob[pos:pos + len(junk)] = junk
            ops.append(f"splice@{pos}+{len(junk)}")
    if draw(st.integers(0, 3)) == 0:
        cut = draw(st.one_of(st.sampled_from(bounds), st.integers(0, len(blob))))
        del blob[cut:]
        ops.append(f"truncate@{cut}")
    if draw(st.integers(0, 9)) == 0:
        junk = draw(st.binary(min_size=1, max_size=64))
        blob += junk
        ops.append(f"append+{len(junk)}")
    return Case(label, ops, bytes(blob))


def _below(arr, modulus) -> bool:
    flat = arr.reshape(-1, 4)
    return all(v < modulus for v in (int(a) | int(b) << 64 | int(c) << 128 | int(d) << 192
                                     for a, b, c, d in flat.tolist()))


def _unique_payload(data, sid):
    found = [p for s, p in parse_layout(data)[2] if s == sid]
    assert len(found) == 1, f"reader accepted a file with {len(found)} sections of type {sid}"
    return found[0]


def zkey_consistent(z, path: Path, data: bytes):
    hdr = _unique_payload(data, 2)
    assert (z.n_vars, z.n_public, z.domain_size) == struct.unpack_from("<III", hdr, 72)
    m, l, n = z.n_vars, z.n_public, z.domain_size
    assert n > 0 and n & (n - 1) == 0 and l + 1 <= m
    assert z.ic.shape == (l + 1, 2, 4) and _below(z.ic, Q)
    assert z.sha256 == hashlib.sha256(data).hexdigest()
    shapes = {"a": (m, 2, 4), "b1": (m, 2, 4), "b2": (m, 2, 2, 4), "c": (m - l - 1, 2, 4), "h": (n, 2, 4)}
    for name, shape in shapes.items():
        try:
            arr = getattr(z, name)
        except FormatError as e:
            _check_error(e, path)
            continue
        assert arr.shape == shape, (name, arr.shape, shape)
        if arr.shape[0] <= 4096:
            assert _below(arr, Q), name
    try:
        c = z.coeffs
    except FormatError as e:
        _check_error(e, path)
        return
    k = struct.unpack_from("<I", _unique_payload(data, 4))[0]
    assert len(c) == k and c.value.shape == (k, 4)
    assert np.all(c.matrix <= 1) and np.all(c.constraint < n) and np.all(c.signal < m)
    assert _below(c.value, R)


def wtns_consistent(w, path: Path, data: bytes):
    n = struct.unpack_from("<I", _unique_payload(data, 1), 36)[0]
    assert w.values.shape == (n, 4) and w.values.dtype == np.uint64 and len(w) == n
    assert len(_unique_payload(data, 2)) == 32 * n
    assert _below(w.values, R)


def r1cs_consistent(r, path: Path, data: bytes):
    hdr = _unique_payload(data, 1)
    n_wires, out, pin, prv = struct.unpack_from("<IIII", hdr, 36)
    n_labels, m = struct.unpack_from("<QI", hdr, 52)
    assert (r.n_wires, r.n_pub_out, r.n_pub_in, r.n_prv_in, r.n_labels, r.n_constraints) == \
        (n_wires, out, pin, prv, n_labels, m)
    assert 1 + out + pin + prv <= n_wires
    assert len(r.constraints) == m
    for lcs in r.constraints:
        assert len(lcs) == 3
        for lc in lcs:
            assert all(0 <= w < n_wires and 0 <= c < R for w, c in lc.items())
    if r.wire_to_label is not None:
        assert len(r.wire_to_label) == n_wires


READERS = {"zkey": (read_zkey, zkey_consistent), "wtns": (read_wtns, wtns_consistent),
           "r1cs": (read_r1cs, r1cs_consistent)}


def check_file(kind: str, ext: str, data: bytes, workdir: Path, read, consistent,
               seconds: float = CASE_SECONDS):
    """The reader property on one input, under the per-case time and memory budget."""
    path = workdir / f"fuzz-{kind}-{CASES[kind]}{ext}"
    path.write_bytes(data)
    try:
        with bounded(seconds):
            try:
                obj = read(path)
                consistent(obj, path, data)
            except (FormatError, InputError) as e:
                _check_error(e, path)
    except CaseTimeout as e:
        raise AssertionError(f"{kind} reader: hang, {e}") from None
    except MemoryError:
        raise AssertionError(f"{kind} reader: tried to allocate more than {CASE_EXTRA_BYTES >> 20} MiB") from None
    finally:
        path.unlink(missing_ok=True)


for _fmt in READERS:
    def _run(case, workdir, fmt=_fmt):
        read, consistent = READERS[fmt]
        check_file(fmt, f".{fmt}", case.data, workdir, read, consistent)
    target(_fmt, binary_cases(_fmt), examples={"zkey": 2500, "wtns": 1500, "r1cs": 1500}[_fmt],
           deadline=timedelta(seconds=5))(_run)


# ============================================================== JSON files

JSON_FIXTURES = {
    "proof": [THREE / "proof.json", THREE / "proof_rs0.json", CHAIN / "proof.json"],
    "public": [THREE / "public.json", CHAIN / "public.json"],
    "vkey": [THREE / "verification_key.json", CHAIN / "verification_key.json"],
}
_JSON = {p: json.loads(p.read_text()) for ps in JSON_FIXTURES.values() for p in ps}

NUMBER_STRINGS = st.one_of(
    st.sampled_from([str(Q), str(Q - 1), str(Q + 1), str(R), str(R - 1), str(2**256), "0", "00", "-1", "-0",
                     "01", "1e3", "1.0", " 1", "1 ", "+1", "0x10", "", "١٢٣", "１", "NaN", "Infinity", "\x00",
                     "1\n", "0" * 5000 + "7"]),
    st.integers(0, 2**260).map(str),
    # around Python's 4300-digit limit for int(str)
    st.sampled_from([78, 79, 4299, 4300, 4301, 10_000]).map(lambda n: "9" * n),
)
JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-2**300, 2**300),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), NUMBER_STRINGS)
JSON_VALUES = st.recursive(
    JSON_LEAVES, lambda ch: st.lists(ch, max_size=4) | st.dictionaries(st.text(max_size=8), ch, max_size=4),
    max_leaves=12)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    if not path:
        return value
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    parent[path[-1]] = value
    return obj


def _nested(depth: int, opener: str, closed: bool) -> str:
    if opener == "[":
        return "[" * depth + ("]" * depth if closed else "")
    return '{"a":' * depth + "1" + ("}" * depth if closed else "")


@st.composite
def json_cases(draw, kind):
    src = draw(st.sampled_from(JSON_FIXTURES[kind]))
    label = f"{src.parent.name}/{src.name}"
    mode = draw(st.sampled_from(["tree"] * 5 + ["random", "text", "nesting", "bignum", "bignum", "bytes"]))
    ops = [mode]
    if mode == "tree":
        obj = copy.deepcopy(_JSON[src])
        for _ in range(draw(st.integers(1, 3))):
            paths = list(_paths(obj))
            path = draw(st.sampled_from(paths))
            op = draw(st.sampled_from(["replace", "replace", "number", "delete", "add", "wrap", "unwrap", "dup"]))
            target_ = obj
            for k in path:
                target_ = target_[k]
            if op == "replace":
                obj = _set(obj, path, draw(JSON_VALUES))
            elif op == "number" and isinstance(target_, str) and target_.isdigit() and len(target_) < 4000:
                obj = _set(obj, path, draw(st.one_of(st.just(int(target_)), NUMBER_STRINGS)))
            elif op == "delete" and path:
                parent = obj
                for k in path[:-1]:
                    parent = parent[k]
                del parent[path[-1]]
            elif op == "add" and isinstance(target_, (dict, list)):
                v = draw(JSON_VALUES)
                if isinstance(target_, dict):
                    target_[draw(st.sampled_from(["protocol", "curve", "nPublic", "IC", "pi_a", "x"]))] = v
                else:
                    target_.insert(draw(st.integers(0, len(target_))), v)
            elif op == "wrap":
                obj = _set(obj, path, [target_])
            elif op == "unwrap" and isinstance(target_, list) and target_:
                obj = _set(obj, path, target_[0])
            elif op == "dup" and isinstance(target_, list) and target_:
                target_.append(copy.deepcopy(target_[-1]))
            ops.append(f"{op} {'/'.join(map(str, path))}")
        text = json.dumps(obj, indent=draw(st.sampled_from([None, 1])))
    elif mode == "random":
        text = json.dumps(draw(JSON_VALUES))
    elif mode == "text":
        text = src.read_text()
        pos = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["truncate", "insert", "replace", "dupkey"]))
        if how == "truncate":
            text = text[:pos]
        elif how == "insert":
            text = text[:pos] + draw(st.text(max_size=8)) + text[pos:]
        elif how == "replace":
            text = text[:pos] + draw(st.text(min_size=1, max_size=4)) + text[pos + 4:]
        elif kind != "public":
            text = text.replace("{", '{"pi_a": 1, "IC": "x", "nPublic": -1,', 1)
        ops.append(how)
    elif mode == "nesting":
        depth = draw(st.sampled_from([10, 1000, 5000, 100_000, 1_000_000]))
        inner = _nested(depth, draw(st.sampled_from("[{")), draw(st.booleans()))
        where = draw(st.sampled_from(["whole", "field"]))
        if where == "whole" or kind == "public":
            text = inner
        else:
            key = draw(st.sampled_from(sorted(_JSON[src])))
            obj = dict(_JSON[src], **{key: "@@"})
            text = json.dumps(obj).replace('"@@"', inner)
        ops.append(f"depth {depth} {where}")
    elif mode == "bignum":
        # raw number tokens and decimal strings far past any field (and past 4300 digits)
        digits = "9" * draw(st.sampled_from([78, 100, 4299, 4300, 4300, 4301, 20_000]))
        text = src.read_text()
        quoted = list(re.finditer(r'"(\d+)"', text))
        m = draw(st.sampled_from(quoted)) if quoted else None
        raw = draw(st.booleans())
        if m is not None:
            text = text[:m.start()] + (digits if raw else f'"{digits}"') + text[m.end():]
        if kind == "vkey" and draw(st.integers(0, 2)):
            text = re.sub(r'"nPublic": *\d+', f'"nPublic": {digits}', text)
        ops.append(f"{len(digits)} digits {'raw' if raw else 'quoted'}")
    else:
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x80", b"\xed\xa0\x80"]))
        data += draw(st.sampled_from([b"", src.read_bytes()])) + draw(st.binary(max_size=32))
        return Case(label, ops, data)
    return Case(label, ops, text.encode("utf-8", "surrogatepass"))


def _g1_ok(p):
    return p is None or (all(0 <= c < Q for c in p) and G1.is_on_curve(p))


def _g2_ok(p):
    return p is None or (all(0 <= c < Q for c in (*p[0], *p[1])) and G2.is_on_curve(p))


def proof_consistent(proof, path, data):
    pi_a, pi_b, pi_c = proof
    assert _g1_ok(pi_a) and _g2_ok(pi_b) and _g1_ok(pi_c)


def public_consistent(public, path, data):
    assert isinstance(public, list) and all(isinstance(x, int) and 0 <= x < R for x in public)


def vkey_consistent(vk, path, data):
    assert isinstance(vk.n_public, int) and len(vk.ic) == vk.n_public + 1
    assert _g1_ok(vk.alpha1) and all(_g1_ok(p) for p in vk.ic)
    assert _g2_ok(vk.beta2) and _g2_ok(vk.gamma2) and _g2_ok(vk.delta2)
    if vk.alphabeta_12 is not None:
        assert len(vk.alphabeta_12) == 2 and all(len(row) == 3 for row in vk.alphabeta_12)
        assert all(0 <= x < Q for row in vk.alphabeta_12 for c in row for x in c)


JSON_READERS = {"proof": (read_proof, proof_consistent), "public": (read_public, public_consistent),
                "vkey": (read_vkey, vkey_consistent)}

for _kind in JSON_READERS:
    def _run_json(case, workdir, kind=_kind):
        read, consistent = JSON_READERS[kind]
        check_file(f"json_{kind}", ".json", case.data, workdir, read, consistent)
    target(f"json_{_kind}", json_cases(_kind), examples=1500, deadline=timedelta(seconds=5))(_run_json)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("name", ["zkey", "wtns", "r1cs", "json_proof", "json_public", "json_vkey"])
def test_reader_fuzz(name, workdir):
    run_target(TARGETS[name], workdir)


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


def test_the_budget_catches_hangs_and_blowups(workdir):
    # without this, "no reader hangs" would mean nothing
    def spin(path):
        while True:
            pass
    with pytest.raises(AssertionError, match="hang"):
        check_file("selftest", ".bin", b"", workdir, spin, None, seconds=0.3)
    with pytest.raises(AssertionError, match="allocate"):
        check_file("selftest", ".bin", b"", workdir, lambda path: bytearray(8 << 30), None)


# ------------------------------------------------------------------ through the CLI

def check_cli_prove(data: bytes, workdir: Path, tag: str):
    """``coprove prove --single`` on a damaged zkey: exit 0 or 1, or 2 with one line
    naming the file; never a traceback."""
    zkey = workdir / f"cli-{tag}.zkey"
    zkey.write_bytes(data)
    proof, public = workdir / f"cli-{tag}-proof.json", workdir / f"cli-{tag}-public.json"
    try:
        res = run_cli("prove", zkey, THREE / "witness.wtns", proof, public, "--single", timeout=120)
    finally:
        zkey.unlink(missing_ok=True)
    err = res.stderr.strip()
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-3000:]
    assert res.returncode in (0, 1, 2), (res.returncode, err[-2000:])
    if res.returncode == 2:
        assert len(err.splitlines()) == 1 and err.startswith(f"coprove: error: {zkey.name}"), err
    return res.returncode


def _patch(data: bytes, sid: int, off: int, fmt: str, value) -> bytes:
    magic, version, sections = parse_layout(data)
    sections = [(s, bytearray(p)) for s, p in sections]
    payload = next(p for s, p in sections if s == sid)
    if isinstance(value, bytes):
        payload[off:off + len(value)] = value
    else:
        struct.pack_into(fmt, payload, off, value)
    return bytes(serialize(magic, version, [(s, bytes(p)) for s, p in sections], "zkey")[0])


def _zkey_mutations():
    z = _BYTES[THREE / "circuit.zkey"]
    magic, version, sections = parse_layout(z)
    h_end = 12 + sum(12 + len(p) for s, p in sections if s <= 9)
    return {
        "valid": z,
        "truncated in H": z[:h_end - 100],
        "A point off the curve": _patch(z, 5, 64 + 7, "<B", 0x5A),
        "coefficient matrix 7": _patch(z, 4, 4, "<I", 7),
        "coefficient value >= r": _patch(z, 4, 16, "", b"\xff" * 32),
        "nVars 2^32-1": _patch(z, 2, 72, "<I", (1 << 32) - 1),
        "nSections 2^32-1": z[:8] + struct.pack("<I", (1 << 32) - 1) + z[12:],
        "section 9 twice": bytes(serialize(magic, version, sections + [s for s in sections if s[0] == 9],
                                           "zkey")[0]),
        "H size 2^64-1": _patch_size(z, 9, (1 << 64) - 1),
    }


def _patch_size(data: bytes, sid: int, size: int) -> bytes:
    out = bytearray(data)
    pos = 12
    for _ in range(struct.unpack_from("<I", data, 8)[0]):
        s, n = struct.unpack_from("<IQ", data, pos)
        if s == sid:
            struct.pack_into("<Q", out, pos + 4, size)
            break
        pos += 12 + n
    return bytes(out)


@pytest.mark.parametrize("what", list(_zkey_mutations()))
def test_cli_prove_single_on_a_damaged_zkey(what, workdir):
    code = check_cli_prove(_zkey_mutations()[what], workdir, what.replace(" ", "_").replace("^", ""))
    expected = {"valid": 0, "A point off the curve": 1}.get(what, 2)
    assert code == expected, what


def _run_cli(case, workdir):
    check_cli_prove(case.data, workdir, f"h{CASES['cli_prove']}")


# ci: the parametrized cases above; bench/fuzz.py runs this one for its budget
target("cli_prove", binary_cases("zkey", only=THREE / "circuit.zkey"), examples=3)(_run_cli)


# ============================================================== gRPC against a live node

SERVICE = pb.DESCRIPTOR.services_by_name["Node"]
METHODS = {m.name: m for m in SERVICE.methods}
UNARY_SECONDS, STREAM_SECONDS, FETCH_SECONDS = 10.0, 20.0, 2.0
U32 = st.one_of(st.sampled_from([0, 1, 2, 3, 16, 1 << 16, (1 << 16) + 1, 1 << 31, (1 << 32) - 1]),
                st.integers(0, (1 << 32) - 1))
U64 = st.one_of(st.sampled_from([0, 1, 1 << 20, 8 << 20, 1 << 32, (1 << 63), (1 << 64) - 1]),
                st.integers(0, (1 << 64) - 1))
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
from coordinator_free.mesh import PART_BYTES  # noqa: E402
MAX_MESSAGE = 8 << 20


@dataclass(frozen=True)
class Big:
    """``n`` bytes of ``fill``, made only when the request is built (keeps examples small)."""
    n: int
    fill: int

    def make(self) -> bytes:
        return bytes([self.fill]) * self.n


BLOBS = st.one_of(
    st.binary(max_size=64),
    st.builds(Big, st.sampled_from([PART_BYTES - 1, PART_BYTES, PART_BYTES + 1, 1 << 16, MAX_MESSAGE - 4096,
                                    MAX_MESSAGE + 1]), st.integers(0, 255)))
# "@accepted" = a job this node accepted earlier in the run; "@fresh" = 16 new random bytes
JOB_IDS = st.one_of(st.just("@fresh"), st.tuples(st.just("@accepted"), st.integers(0, 7)),
                    st.sampled_from([b"", bytes(15), bytes(16), bytes(17), b"\xff" * 16]), st.binary(max_size=40),
                    st.builds(Big, st.sampled_from([1 << 10, 1 << 20]), st.integers(0, 255)))
SHAS = st.one_of(st.just("@real"), st.just("@real-upper"), st.just("@uploaded"), st.just("@random"),
                 st.text("0123456789abcdefABCDEF", max_size=70), TEXT,
                 st.sampled_from(["", "0" * 64, "g" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n", "@long",
                                  hashlib.sha256(b"").hexdigest()]))
LIVE_JOB = st.tuples(st.just("@accepted"), st.integers(0, 7))
IDENTITIES = st.sampled_from(["client"] * 6 + ["node2", "node1"])


def _generic_value(f: FD, depth: int):
    t = f.type
    if t == FD.TYPE_MESSAGE:
        if f.message_type.GetOptions().map_entry:
            k, v = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
            return st.dictionaries(_generic_value(k, depth), _generic_value(v, depth), max_size=3)
        return generic_message(f.message_type, depth + 1)
    if t == FD.TYPE_BYTES:
        return BLOBS
    if t == FD.TYPE_STRING:
        return TEXT
    if t == FD.TYPE_BOOL:
        return st.booleans()
    if t in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=64 if t == FD.TYPE_DOUBLE else 32)
    if t in (FD.TYPE_UINT32, FD.TYPE_FIXED32):
        return U32
    if t in (FD.TYPE_UINT64, FD.TYPE_FIXED64):
        return U64
    if t in (FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32, FD.TYPE_ENUM):
        return st.integers(-(1 << 31), (1 << 31) - 1)
    return st.integers(-(1 << 63), (1 << 63) - 1)


def generic_message(desc, depth=0):
    """Any message of type ``desc``: each field set or not, oneofs respected; field
    values are plans (``Big`` blobs) that ``materialize`` turns into bytes."""
    if depth > 3:
        return st.just({"@type": desc.full_name})
    fields = {}
    for f in desc.fields:
        v = _generic_value(f, depth)
        if f.is_repeated and not (f.type == FD.TYPE_MESSAGE and f.message_type.GetOptions().map_entry):
            v = st.lists(v, max_size=4)
        fields[f.name] = v
    oneof_groups = [[f.name for f in o.fields] for o in desc.oneofs]
    in_oneof = {n for g in oneof_groups for n in g}
    plain = {k: v for k, v in fields.items() if k not in in_oneof}

    @st.composite
    def build(draw):
        out = {"@type": desc.full_name}
        for k, v in plain.items():
            if draw(st.booleans()):
                out[k] = draw(v)
        for group in oneof_groups:
            choice = draw(st.sampled_from([None, *group]))
            if choice is not None:
                out[choice] = draw(fields[choice])
        return out
    return build()


# -- near-valid plans, per request type ------------------------------------------------

DEADLINES = st.one_of(
    st.floats(0.5, 6.0).map(lambda s: ("rel", round(s, 2))),
    st.sampled_from([("rel", -3600.0), ("rel", -0.5), ("rel", 0.0), ("rel", 3599.0), ("rel", 3601.0),
                     ("abs", 0), ("abs", 1), ("abs", (1 << 64) - 1)]),
    U64.map(lambda v: ("abs", v)))
PARTY_LISTS = st.one_of(
    st.sampled_from(["ok", "ok", "reversed", "self_twice", "peer_twice", "drop_peer", "add_client", "add_unknown",
                     "wrong_index", "empty", "garbage_address", "long_name", "long_fingerprint"]),
    st.lists(st.tuples(U32, TEXT, st.one_of(TEXT, st.sampled_from(["127.0.0.1:1", "@peer", "@self"])),
                       st.sampled_from(["@self", "@peer", "@client", "@unknown", "", "sha256:zz"])), max_size=4))
MANIFEST_FIELDS = st.one_of(
    st.tuples(st.just("job_id"), JOB_IDS), st.tuples(st.just("circuit_sha256"), SHAS),
    st.tuples(st.just("n_parties"), U32), st.tuples(st.just("party_index"), U32),
    st.tuples(st.just("parties"), PARTY_LISTS), st.tuples(st.just("deadline"), DEADLINES),
    st.tuples(st.just("material_size"), st.one_of(U64, st.sampled_from(["+1", "-1"]))),
    st.tuples(st.just("threshold"), U32), st.tuples(st.just("predeal_id"), st.binary(max_size=20)))
MATERIALS = st.one_of(
    st.tuples(st.just("valid"), st.integers(1, 3)),
    st.tuples(st.just("valid"), st.integers(1, 3)),
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(1, 64)),
    st.tuples(st.just("extra"), st.integers(1, 64)),
    st.tuples(st.just("blob"), BLOBS),
    st.tuples(st.just("value>=r"), st.integers(0, 1 << 16)),
    st.just(("none",)))


@st.composite
def submit_plans(draw):
    order = draw(st.sampled_from(["self_first", "peer_first"]))
    perturb = draw(st.lists(MANIFEST_FIELDS, max_size=2)) if draw(st.integers(0, 2)) else []
    if not any(k == "deadline" for k, _ in perturb):
        perturb.append(("deadline", ("rel", draw(st.floats(0.5, 6.0).map(lambda s: round(s, 2))))))
    shape = draw(st.sampled_from(["normal"] * 6 + ["material_first", "two_manifests", "empty", "manifest_only"]))
    return {"order": order, "perturb": perturb, "material": draw(MATERIALS), "shape": shape,
            "cut_after": draw(st.one_of(st.none(), st.none(), st.none(), st.integers(1, 2)))}


@st.composite
def upload_plans(draw):
    mode = draw(st.sampled_from(["file", "file", "random"]))
    plan = {"mode": mode, "cut_after": draw(st.one_of(st.none(), st.none(), st.none(), st.integers(1, 2)))}
    if mode == "file":
        plan["file"] = draw(st.one_of(
            binary_cases("zkey", only=THREE / "circuit.zkey"),
            st.builds(lambda b: Case("random", ["random"], b), st.binary(max_size=256)),
            # readers ignore bytes after the last section: a valid circuit the node has not seen
            st.builds(lambda b: Case("three_public/circuit.zkey", [f"append+{len(b)}"],
                                     _BYTES[THREE / "circuit.zkey"] + b), st.binary(min_size=1, max_size=16))))
        plan["split"] = draw(st.integers(1, 3))
        plan["perturb"] = draw(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(
            ["sha256", "total_size", "offset", "data"]), st.one_of(U64, SHAS, BLOBS)), max_size=1))
    else:
        plan["chunks"] = draw(st.lists(st.fixed_dictionaries({
            "sha256": SHAS, "total_size": U64, "offset": U64, "data": BLOBS}), max_size=3))
    return plan


PEER_RANDOM = {
    "identity": st.sampled_from(["node2", "client", "node1"]), "job_id": JOB_IDS, "sender": U32, "seq": U32,
    "part": U32, "n_parts": st.one_of(st.sampled_from([1 << 16, (1 << 16) + 1]), U32), "data": BLOBS}


@st.composite
def peer_plans(draw):
    """Mostly what node2 would send into a job node1 runs ("@peer": node2's index in it),
    with some fields replaced by anything."""
    plan = {"identity": "node2", "job_id": draw(LIVE_JOB), "sender": "@peer",
            "seq": draw(st.sampled_from([0, 0, 1, 2, 5])), "part": draw(st.sampled_from([0, 0, 0, 1])),
            "n_parts": draw(st.sampled_from([1, 1, 1, 2, 3])),
            "data": draw(st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"CMEM"]), BLOBS))}
    for key in draw(st.lists(st.sampled_from(sorted(PEER_RANDOM)), max_size=2, unique=True)):
        plan[key] = draw(PEER_RANDOM[key])
    return plan


PEER_PLANS = peer_plans()

TYPED_PLANS = {
    "coprove.v1.CircuitRef": st.fixed_dictionaries({"sha256": SHAS}).map(lambda d: {"@plan": "ref", **d}),
    "coprove.v1.CircuitChunk": upload_plans().map(lambda d: {"@plan": "upload", **d}),
    "coprove.v1.JobPart": submit_plans().map(lambda d: {"@plan": "submit", **d}),
    "coprove.v1.JobRef": st.fixed_dictionaries({"job_id": st.one_of(LIVE_JOB, JOB_IDS)}).map(
        lambda d: {"@plan": "jobref", **d}),
    "coprove.v1.PeerChunk": PEER_PLANS.map(lambda d: {"@plan": "peer", **d}),
}


def method_plans(m):
    generic = generic_message(m.input_type)
    if m.client_streaming:
        generic = st.fixed_dictionaries({"@plan": st.just("stream"), "messages": st.lists(generic, max_size=4),
                                         "cut_after": st.one_of(st.none(), st.integers(1, 2))})
    typed = TYPED_PLANS.get(m.input_type.full_name)
    plans = generic if typed is None else st.one_of(typed, typed, typed, generic)
    return st.tuples(IDENTITIES, plans)


# -- the node under fuzz ------------------------------------------------------------------

def proc_status(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("Threads", "VmRSS", "VmHWM"):
            out[k] = int(v.split()[0])
    kinds: Counter = Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            kinds[Path(link).suffix or link if link.startswith("/") else link.split(":")[0]] += 1
    out["fds"], out["fd_kinds"] = sum(kinds.values()), dict(kinds)
    return out


def prove_and_verify(net) -> bool:
    from coordinator_free.client import Client
    from prover.verify import verify
    with Client(net.committee) as client:
        proof, public, _ = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
    return bool(verify(read_vkey(THREE / "verification_key.json"), public, (proof.pi_a, proof.pi_b, proof.pi_c)))


class NodeUnderFuzz:
    """node1 of a LocalNetwork(2), stubs for every identity, and what the fuzz learnt
    (accepted jobs and their deadlines, circuits it uploaded)."""

    def __init__(self, net):
        from cme.dealing import deal
        from cme.material import material_to_bytes
        from coordinator_free import identity as ident
        from coordinator_free.mesh import SERVER_NAME
        from prover.plain import witness_ints
        self.net = net
        self.node = net.committee.member("node1")
        self.peer = net.committee.member("node2")
        self.client_fp = net.committee.trusted_clients[0].fingerprint
        self.pids = {n: p.pid for n, p in net.procs.items()}
        identities = {"client": net.committee.client_identity(),
                      "node1": ident.load_identity(net.keys / "node1.key", net.keys / "node1.crt"),
                      "node2": ident.load_identity(net.keys / "node2.key", net.keys / "node2.crt")}
        self.channels = {k: grpc.secure_channel(self.node.address, ident.channel_credentials(v, self.node.cert_pem),
                                                options=ident.channel_options(SERVER_NAME))
                         for k, v in identities.items()}
        from protos import coprove_pb2_grpc as rpc
        self.stubs = {k: rpc.NodeStub(ch) for k, ch in self.channels.items()}
        zkey = read_zkey(THREE / "circuit.zkey")
        self.sha, self.n_vars, self.domain = zkey.sha256, zkey.n_vars, zkey.domain_size
        w = witness_ints(zkey, read_wtns(THREE / "witness.wtns"))
        self.material = {i: material_to_bytes(p) for i, p in enumerate(deal(w, 2, zkey.domain_size))}
        self.accepted: dict[bytes, tuple] = {}  # job id -> (deadline in unix seconds, node2's index)
        self.uploaded: list[str] = []
        self.calls: Counter = Counter()  # (method, status) -> count
        self.samples: dict = {}  # (method, status) -> the first details seen

    def close(self):
        for ch in self.channels.values():
            ch.close()

    def stats(self) -> dict:
        return {n: proc_status(pid) for n, pid in self.pids.items()}

    # -- plans to messages
    def job_id(self, plan, draw_index=0) -> bytes:
        if plan == "@fresh":
            return secrets.token_bytes(16)
        if isinstance(plan, tuple):
            ids = list(self.accepted)[-8:]
            return ids[-1 - plan[1] % len(ids)] if ids else secrets.token_bytes(16)
        return materialize(plan)

    def sha_of(self, plan) -> str:
        if not isinstance(plan, str):
            return plan
        return {"@real": self.sha, "@real-upper": self.sha.upper(),
                "@uploaded": self.uploaded[-1] if self.uploaded else self.sha,
                "@random": secrets.token_hex(32), "@long": "x" * 100_000}.get(plan, plan)

    def party(self, who, index, name=None, address=None):
        m = {"@self": self.node, "@peer": self.peer}.get(who)
        fp = {"@self": self.node.fingerprint, "@peer": self.peer.fingerprint, "@client": self.client_fp,
              "@unknown": "sha256:" + "ab" * 32}.get(who, who)
        addr = {"@self": self.node.address, "@peer": self.peer.address}.get(address, address)
        return pb.Party(index=index, name=name if name is not None else (m.name if m else "x"),
                        address=addr if addr is not None else (m.address if m else "127.0.0.1:1"),
                        fingerprint=fp)

    def parties(self, plan, order):
        first, second = ("@self", "@peer") if order == "self_first" else ("@peer", "@self")
        ok = [self.party(first, 0), self.party(second, 1)]
        if isinstance(plan, list):
            return [self.party(fp, idx, name, addr) for idx, name, addr, fp in plan]
        return {
            "ok": ok, "reversed": ok[::-1], "empty": [],
            "self_twice": [self.party("@self", 0), self.party("@self", 1)],
            "peer_twice": [self.party("@peer", 0), self.party("@peer", 1)],
            "drop_peer": [p for p in ok if p.fingerprint == self.node.fingerprint],
            "add_client": ok + [self.party("@client", 2)], "add_unknown": ok + [self.party("@unknown", 2)],
            "wrong_index": [self.party(first, 0), self.party(second, 5)],
            # an address the peer is not at: the node must still fail the job by its deadline
            "garbage_address": [self.party(first, 0), self.party(second, 1, address="127.0.0.1:1")],
            "long_name": [self.party(first, 0, name="n" * 100_000), self.party(second, 1)],
            "long_fingerprint": [self.party(first, 0), self.party("sha256:" + "f" * 100_000, 1, name="n" * 100_000)],
        }[plan]

    def submit_messages(self, plan):
        order = plan["order"]
        index = 0 if order == "self_first" else 1
        material = self.material[index]
        kind, *args = plan["material"]
        if kind == "flip":
            pos = args[0] % len(material)
            material = material[:pos] + bytes([material[pos] ^ args[1]]) + material[pos + 1:]
        elif kind == "cut":
            material = material[:-args[0]]
        elif kind == "extra":
            material = material + bytes(args[0])
        elif kind == "blob":
            material = materialize(args[0])
        elif kind == "value>=r" and index == 0:
            # inside w's correction: after the header, the seed and party 0's r, s, r·s shares
            pos = 4 + 20 + SEED_BYTES + 3 * 32 + 32 * (args[0] % self.n_vars)
            material = material[:pos] + b"\xff" * 32 + material[pos + 32:]
        elif kind == "none":
            material = b""
        fields = {"job_id": secrets.token_bytes(16), "circuit_sha256": self.sha, "n_parties": 2,
                  "party_index": index, "parties": self.parties("ok", order),
                  "material_size": len(self.material[index])}
        deadline = None
        for key, value in plan["perturb"]:
            if key == "job_id":
                fields[key] = self.job_id(value)
            elif key == "circuit_sha256":
                fields[key] = self.sha_of(value)
            elif key == "parties":
                fields[key] = self.parties(value, order)
            elif key == "deadline":
                deadline = value
            elif key == "material_size" and isinstance(value, str):
                fields[key] = min(max(fields[key] + int(value), 0), (1 << 64) - 1)
            else:
                fields[key] = value
        how, when = deadline
        fields["deadline_unix_ms"] = (max(0, min((1 << 64) - 1, int((time.time() + when) * 1000)))
                                      if how == "rel" else when)
        manifest = pb.JobPart(manifest=pb.JobManifest(**fields))
        split = args[0] if kind == "valid" else 1
        step = max(1, -(-len(material) // split))
        parts = [pb.JobPart(material=material[i:i + step]) for i in range(0, len(material), step)]
        shape = plan["shape"]
        msgs = {"normal": [manifest, *parts], "material_first": [*parts, manifest],
                "two_manifests": [manifest, *parts[:1], manifest, *parts[1:]], "empty": [],
                "manifest_only": [manifest]}[shape]
        return msgs, fields

    def upload_messages(self, plan):
        if plan["mode"] == "random":
            return [pb.CircuitChunk(sha256=self.sha_of(c["sha256"]), total_size=c["total_size"],
                                    offset=c["offset"], data=materialize(c["data"])) for c in plan["chunks"]], None
        data = plan["file"].data
        sha = hashlib.sha256(data).hexdigest()
        step = max(1, -(-len(data) // plan["split"]))
        chunks = [dict(sha256=sha, total_size=len(data), offset=i, data=data[i:i + step])
                  for i in range(0, len(data), step)] or [dict(sha256=sha, total_size=0, offset=0, data=b"")]
        for i, key, value in plan["perturb"]:
            c = chunks[i % len(chunks)]
            if key == "sha256":
                c[key] = self.sha_of(value) if isinstance(value, str) else sha
            elif key == "data":
                c[key] = materialize(value) if not isinstance(value, (int, str)) else c[key]
            elif isinstance(value, int):
                c[key] = value
        return [pb.CircuitChunk(**c) for c in chunks], (sha, data)

    def peer_message(self, plan):
        job_id = self.job_id(plan["job_id"])
        sender = self.accepted.get(job_id, (0, 1))[1] if plan["sender"] == "@peer" else plan["sender"]
        return pb.PeerChunk(job_id=job_id, sender=sender, seq=plan["seq"],
                            part=plan["part"], n_parts=plan["n_parts"], data=materialize(plan["data"]))

    # -- one call
    def call(self, method: str, identity: str, request):
        m = METHODS[method]
        timeout = FETCH_SECONDS if method == "FetchResult" else STREAM_SECONDS if m.client_streaming else UNARY_SECONDS
        fn = getattr(self.stubs[identity], method)
        t0 = time.monotonic()
        try:
            resp = fn(iter(request) if m.client_streaming else request, timeout=timeout)
            code, details = grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            resp, code, details = None, e.code(), e.details() or ""
        elapsed = time.monotonic() - t0
        self.calls[(method, code.name)] += 1
        self.samples.setdefault((method, code.name), details[:160])
        assert code != grpc.StatusCode.UNKNOWN, f"{method}: unhandled exception in the node: {details}"
        assert code == grpc.StatusCode.OK or details.strip(), f"{method}: {code.name} without details"
        assert "metadata size exceeds" not in details, f"{method}: the node's error is too long to reach the caller"
        assert elapsed < timeout + 5, f"{method}: {elapsed:.1f} s"
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            assert method == "FetchResult", f"{method} did not answer in {timeout} s"
        return resp, code, details

    def cut_call(self, method: str, identity: str, messages, cut_after: int):
        """Send ``cut_after`` messages of a stream, then cancel the call mid-stream."""
        release = threading.Event()

        def gen():
            yield from messages[:cut_after]
            release.wait(STREAM_SECONDS)

        fut = getattr(self.stubs[identity], method).future(gen(), timeout=STREAM_SECONDS)
        time.sleep(0.05)
        fut.cancel()
        release.set()
        self.calls[(method, "cut")] += 1

    def wait_upload_unlocked(self, sha: str, data: bytes):
        """After a cut upload, the circuit must not stay locked by the dead call."""
        give_up = time.monotonic() + 10
        while True:
            state, code, _ = self.call("HasCircuit", "client", pb.CircuitRef(sha256=sha))
            if code != grpc.StatusCode.OK or state.present:
                return
            have = state.bytes_received
            rest = [pb.CircuitChunk(sha256=sha, total_size=len(data), offset=have, data=data[have:])]
            _, code, details = self.call("UploadCircuit", "client", rest)
            if code != grpc.StatusCode.ABORTED:
                return
            assert time.monotonic() < give_up, f"upload of {sha[:12]} still locked 10 s after the call was cut"
            time.sleep(0.1)


def materialize(v):
    if isinstance(v, Big):
        return v.make()
    if isinstance(v, dict) and "@type" in v:
        cls = message_factory.GetMessageClass(pb.DESCRIPTOR.pool.FindMessageTypeByName(v["@type"]))
        kw = {k: materialize(x) for k, x in v.items() if k != "@type"}
        return cls(**kw)
    if isinstance(v, list):
        return [materialize(x) for x in v]
    if isinstance(v, dict):
        return {k: materialize(x) for k, x in v.items()}
    return v


def run_rpc(method: str, case, node: NodeUnderFuzz):
    identity, plan = case
    kind = plan.get("@plan")
    cut = plan.get("cut_after")
    if kind == "ref":
        node.call(method, identity, pb.CircuitRef(sha256=node.sha_of(plan["sha256"])))
    elif kind == "jobref":
        node.call(method, identity, pb.JobRef(job_id=node.job_id(plan["job_id"])))
    elif kind == "peer":
        node.call(method, plan["identity"], node.peer_message(plan))
    elif kind == "upload":
        msgs, file = node.upload_messages(plan)
        if cut and msgs:
            node.cut_call(method, identity, msgs, cut)
            if file is not None and identity == "client":
                node.wait_upload_unlocked(*file)
            return
        state, code, _ = node.call(method, identity, msgs)
        if code == grpc.StatusCode.OK and state.present and state.sha256 != node.sha:
            node.uploaded.append(state.sha256)
    elif kind == "submit":
        msgs, fields = node.submit_messages(plan)
        if cut and msgs:
            node.cut_call(method, identity, msgs, cut)
            if cut < len(msgs) and identity == "client":
                # a cut submission leaves no job behind unless what got through was a whole one
                # (gRPC may show the server a cancel as a plain end of stream)
                _, code, _ = node.call("JobStatus", "client", pb.JobRef(job_id=fields["job_id"]))
                sent = msgs[:cut]
                whole = (sent[0].WhichOneof("part") == "manifest"
                         and all(m.WhichOneof("part") == "material" for m in sent[1:])
                         and sum(len(m.material) for m in sent[1:]) == fields["material_size"])
                if code == grpc.StatusCode.OK and whole:
                    node.accepted[fields["job_id"]] = (fields["deadline_unix_ms"] / 1000.0,
                                                       1 if plan["order"] == "self_first" else 0)
                else:
                    assert code == grpc.StatusCode.NOT_FOUND or fields["job_id"] in node.accepted, code
            return
        resp, code, _ = node.call(method, identity, msgs)
        if code == grpc.StatusCode.OK:
            node.accepted[resp.job_id] = (fields["deadline_unix_ms"] / 1000.0,
                                          1 if plan["order"] == "self_first" else 0)
    elif kind == "stream":
        msgs = [materialize(m) for m in plan["messages"]]
        if cut and msgs:
            node.cut_call(method, identity, msgs, cut)
        else:
            node.call(method, identity, msgs)
    else:
        node.call(method, identity, materialize(plan))


for _name, _m in METHODS.items():
    target(f"rpc_{_name}", method_plans(_m), examples=200,
           needs_node=True)(lambda case, node, name=_name: run_rpc(name, case, node))


def check_node_survived(node: NodeUnderFuzz, baseline: dict) -> dict:
    """After a fuzz run: jobs ended by their deadlines, nodes alive and proving, threads
    and RSS back near the baseline.  Returns the figures."""
    now = time.time()
    soon = [d for d, _ in node.accepted.values() if now < d < now + 20]
    if soon:
        time.sleep(max(soon) - now + 2.5)  # the janitor sweeps every second
    states, stuck = Counter(), []
    for jid, (deadline, _) in node.accepted.items():
        resp, code, _ = node.call("JobStatus", "client", pb.JobRef(job_id=jid))
        state = resp.state if resp is not None else code.name
        states[state] += 1
        if state == "running" and time.time() > deadline + 2:
            stuck.append((jid.hex(), round(time.time() - deadline, 1)))
        if state == "running":
            node.call("CancelJob", "client", pb.JobRef(job_id=jid))
    alive = {n: p.poll() is None for n, p in node.net.procs.items()}
    proved = all(alive.values()) and prove_and_verify(node.net)
    # job threads end once their job is over; give them a moment to unwind
    settle = time.monotonic() + 15
    while True:
        after = node.stats()
        if time.monotonic() > settle or all(
                after[n]["Threads"] <= baseline[n]["Threads"] + 4 for n in after):
            break
        time.sleep(0.5)
    figures = {"baseline": baseline, "after": after, "jobs_accepted": len(node.accepted),
               "job_states": dict(states), "stuck": stuck, "alive": alive, "proved": proved,
               "calls": {f"{m} {c}": k for (m, c), k in sorted(node.calls.items())},
               "details": {f"{m} {c}": d for (m, c), d in sorted(node.samples.items())}}
    REPORT["node"] = figures
    assert not stuck, f"jobs still running past their deadline: {stuck}"
    assert all(alive.values()), alive
    assert proved, "the node no longer proves a real job"
    for n in after:
        dt = after[n]["Threads"] - baseline[n]["Threads"]
        drss = after[n]["VmRSS"] - baseline[n]["VmRSS"]
        assert dt <= 16, f"{n}: {dt} more threads than before the fuzz ({figures})"
        assert drss <= 256 << 10, f"{n}: RSS grew by {drss} kB ({figures})"
    return figures


# -- a job's peer mailbox, in process: what PeerSend hands over, far more cases per second

DELIVERIES = st.lists(st.tuples(
    st.sampled_from([1, 1, 2, 0, 7]),                                   # sender (0: this node)
    st.one_of(st.integers(0, 7), st.sampled_from([(1 << 32) - 1])),    # seq
    st.one_of(st.integers(0, 3), st.sampled_from([(1 << 32) - 1])),    # part
    st.one_of(st.integers(0, 4), st.sampled_from([1 << 16, (1 << 16) + 1, (1 << 32) - 1])),  # n_parts
    st.sampled_from([0, 0, 0, 1, 100, 1500])), max_size=40)            # bytes


def run_deliveries(calls, _ctx=None, max_buffered=2048):
    """Job.deliver against a model of it: messages come out whole, in order, once;
    what waits for its other parts (bookkeeping included) stays within max_buffered."""
    from coordinator_free.jobs import PART_OVERHEAD, Job, JobError, PartyInfo
    job = Job(bytes(16), "c", 0, [PartyInfo(i, f"p{i}", "a", f"f{i}") for i in range(3)],
              time.monotonic() + 60, max_buffered=max_buffered)
    pending: dict = {}  # (sender, seq) -> (n_parts, {part: data})
    next_seq = {1: 0, 2: 0}
    out: dict = {1: [], 2: []}
    for sender, seq, part, n_parts, size in calls:
        data = bytes([(seq * 7 + part) % 251]) * size
        try:
            job.deliver(sender, seq, part, n_parts, data)
        except JobError:
            return  # the node fails the job here: nothing more to check
        assert sender in next_seq and 0 <= part < n_parts <= 1 << 16 and seq >= next_seq[sender]
        n, parts = pending.setdefault((sender, seq), (n_parts, {}))
        assert n == n_parts
        parts.setdefault(part, data)
        while (msg := pending.get((sender, next_seq[sender]))) and len(msg[1]) == msg[0]:
            out[sender].append(b"".join(msg[1][i] for i in range(msg[0])))
            del pending[(sender, next_seq[sender])]
            next_seq[sender] += 1
        held = [p for _, ps in pending.values() for p in ps.values()]
        assert sum(map(len, held)) + PART_OVERHEAD * len(held) <= max_buffered, "buffer bound not enforced"
    for sender, msgs in out.items():
        for want in msgs:
            assert job.recv(sender) == want


target("job_deliver", DELIVERIES, examples=1500)(run_deliveries)


def test_job_mailbox_fuzz():
    run_target(TARGETS["job_deliver"], None)


def test_empty_parts_count_against_the_job_buffer():
    # found by this fuzzer: only payload bytes were counted, so a peer could park ~550 B of
    # bookkeeping per empty part (200k parts = 110 MB) for as long as the job lived
    run_deliveries([(1, seq, 0, 2, 0) for seq in range(1, 3000)], max_buffered=1 << 20)
    from coordinator_free.jobs import Job, JobError, PartyInfo
    job = Job(bytes(16), "c", 0, [PartyInfo(0, "a", "a", "f0"), PartyInfo(1, "b", "b", "f1")],
              time.monotonic() + 60, max_buffered=1 << 20)
    with pytest.raises(JobError, match="buffer"):
        for seq in range(1, 100_000):
            job.deliver(1, seq, 0, 2, b"")


@contextlib.contextmanager
def node_under_fuzz():
    from coordinator_free.localnet import LocalNetwork
    with LocalNetwork(2) as net:
        node = NodeUnderFuzz(net)
        try:
            assert prove_and_verify(net)  # uploads the circuit everywhere, warms every path
            node.baseline = node.stats()
            yield node
        finally:
            node.close()


@pytest.fixture(scope="module")
def fuzz_node():
    with node_under_fuzz() as node:
        yield node


@pytest.mark.parametrize("method", list(METHODS))
def test_rpc_fuzz(method, fuzz_node):
    run_target(TARGETS[f"rpc_{method}"], fuzz_node)


def test_long_ids_and_names_get_their_own_error(fuzz_node):
    # found by this fuzzer: the node quoted them whole, and a status over the caller's 16 KiB
    # metadata limit arrives as RESOURCE_EXHAUSTED "Stream removed" instead of the error
    node = fuzz_node
    long_id = bytes(1 << 20)
    for method, identity, request, code in [
        ("JobStatus", "client", pb.JobRef(job_id=long_id), grpc.StatusCode.NOT_FOUND),
        ("PeerSend", "node2", pb.PeerChunk(job_id=long_id, n_parts=1), grpc.StatusCode.NOT_FOUND),
        ("HasCircuit", "client", pb.CircuitRef(sha256="x" * 100_000), grpc.StatusCode.INVALID_ARGUMENT),
    ]:
        assert node.call(method, identity, request)[1] == code, method
    msgs, _ = node.submit_messages({"order": "self_first", "perturb": [
        ("parties", "long_fingerprint"), ("deadline", ("rel", 5.0))], "material": ("valid", 1),
        "shape": "normal"})
    _, code, details = node.call("SubmitJob", "client", msgs)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("job manifest: party 1"), details[:200]


@pytest.mark.parametrize("sha", ["", "@real-upper", "x"])
def test_a_manifest_naming_no_circuit_id_is_refused(sha, fuzz_node):
    # found by this fuzzer: the registry's UploadError escaped SubmitJob (UNKNOWN status)
    msgs, _ = fuzz_node.submit_messages({"order": "self_first", "perturb": [
        ("circuit_sha256", sha), ("deadline", ("rel", 5.0))], "material": ("valid", 1), "shape": "normal"})
    _, code, details = fuzz_node.call("SubmitJob", "client", msgs)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "SHA-256" in details, (code, details)


def test_node_survives_the_fuzz(fuzz_node):
    check_node_survived(fuzz_node, fuzz_node.baseline)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    path = os.environ.get("COPROVE_FUZZ_REPORT")
    if path:
        Path(path).write_text(json.dumps({"profile": PROFILE, "cases": dict(CASES), **REPORT}, indent=1))
