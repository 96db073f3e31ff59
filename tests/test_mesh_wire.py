"""coordinator_free.wire: the mesh's hand-made protobuf for bulk parts is the same protobuf
the runtime reads and writes, and the node's PeerChunk parser reads what upb reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator_free import wire
from protos import coprove_pb2 as pb

FIELDS = ("job_id", "sender", "seq", "part", "n_parts", "data")


def fields(msg) -> tuple:
    return tuple(bytes(getattr(msg, f)) if f in ("job_id", "data") else getattr(msg, f) for f in FIELDS)


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16383, 16384, 4 << 20])
def test_peer_chunk_is_what_protobuf_writes(size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    args = dict(job_id=b"\x07" * 16, sender=2, seq=300, part=5, n_parts=1 << 16)
    made = wire.peer_chunk(*args.values(), memoryview(data))
    assert pb.PeerChunk.FromString(made) == pb.PeerChunk(**args, data=data)
    if size:  # protobuf leaves out an empty field; the mesh writes it, which parses the same
        assert made == pb.PeerChunk(**args, data=data).SerializeToString()
    parsed = wire.parse_peer_chunk(made)
    assert fields(parsed) == (args["job_id"], 2, 300, 5, 1 << 16, data)
    assert isinstance(parsed.data, memoryview) and parsed.data.readonly  # a view, not a copy


@pytest.mark.parametrize("size", [0, 1, 200, 4 << 20])
def test_job_material_is_what_protobuf_writes(size):
    data = b"\xab" * size
    made = wire.job_material(memoryview(data))
    assert pb.JobPart.FromString(made) == pb.JobPart(material=data)
    assert pb.JobPart.FromString(made).WhichOneof("part") == "material"


def test_a_part_with_a_large_rest_is_copied_not_viewed():
    # a view keeps the whole buffer alive; a peer padding a tiny part with an unknown field
    # must not make the node hold more than the job's buffer limit counts
    raw = pb.PeerChunk(job_id=bytes(16), n_parts=1, data=b"x").SerializeToString()
    padded = raw + _key(15, 2) + _varint(1 << 20) + bytes(1 << 20)
    assert isinstance(wire.parse_peer_chunk(raw).data, memoryview)
    got = wire.parse_peer_chunk(padded)
    assert isinstance(got.data, bytes) and got.data == b"x"


def test_a_part_of_endless_fields_is_refused():
    raw = pb.PeerChunk(job_id=bytes(16), n_parts=1, data=b"x").SerializeToString()
    assert wire.parse_peer_chunk(raw + _key(9, 0) + b"\x01")
    with pytest.raises(ValueError, match="fields"):
        wire.parse_peer_chunk(raw + (_key(9, 0) + b"\x01") * wire.MAX_FIELDS)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append(n & 0x7F | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


# one field as protobuf encodes it: known numbers 1-6 in either wire type, unknown 7-20
FIELD = st.one_of(
    st.tuples(st.integers(1, 20), st.just(0), st.integers(0, (1 << 64) - 1)),
    st.tuples(st.integers(1, 20), st.just(2), st.binary(max_size=300)),
    st.tuples(st.integers(1, 20), st.just(1), st.binary(min_size=8, max_size=8)),
    st.tuples(st.integers(1, 20), st.just(5), st.binary(min_size=4, max_size=4)),
)


def _encode(items) -> bytes:
    out = b""
    for number, wt, value in items:
        out += _key(number, wt)
        out += _varint(value) if wt == 0 else _varint(len(value)) + value if wt == 2 else value
    return out


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(FIELD, max_size=12))
def test_parse_peer_chunk_agrees_with_upb(items):
    raw = _encode(items)
    assert fields(wire.parse_peer_chunk(raw)) == fields(pb.PeerChunk.FromString(raw))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(FIELD, max_size=6), st.integers(1, 40))
def test_parse_peer_chunk_refuses_truncated_input(items, cut):
    raw = _encode(items)
    bad = raw[:-cut] if len(raw) > cut else None
    if bad is None:
        return
    try:
        expect = fields(pb.PeerChunk.FromString(bad))
    except Exception:
        expect = None
    try:
        got = fields(wire.parse_peer_chunk(bad))
    except ValueError:
        got = None
    assert got == expect


def test_parse_job_part_views_material_and_leaves_the_rest_to_protobuf():
    data = b"\x5a" * 1000
    part = wire.parse_job_part(wire.job_material(data))
    assert part.WhichOneof("part") == "material" and bytes(part.material) == data
    assert isinstance(part.material, memoryview) and part.material.readonly
    # the same bytes from protobuf itself take the same path
    assert isinstance(wire.parse_job_part(pb.JobPart(material=data).SerializeToString()).material, memoryview)
    manifest = pb.JobPart(manifest=pb.JobManifest(job_id=bytes(16), n_parties=3)).SerializeToString()
    for raw in (manifest, b"", wire.job_material(data) + manifest, manifest + wire.job_material(data),
                wire.job_material(data)[:-1] + b"", pb.JobPart(material=b"").SerializeToString()):
        try:
            want = pb.JobPart.FromString(raw)
        except Exception:
            with pytest.raises(Exception):
                wire.parse_job_part(raw)
            continue
        got = wire.parse_job_part(raw)
        assert got.WhichOneof("part") == want.WhichOneof("part")
        if want.WhichOneof("part") == "material":
            assert bytes(got.material) == want.material
        elif want.WhichOneof("part") == "manifest":
            assert got.manifest == want.manifest

