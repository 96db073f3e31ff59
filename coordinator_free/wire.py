"""The bulk messages in protobuf wire form, without the copies the protobuf runtime makes.

Python's protobuf runtime (upb) copies a bytes field once to build a message, twice to
serialize it, once to parse it and once more on every read of the field.  For 4 MiB
parts those copies, and the page faults of the fresh buffers they land in, were most of
a node's CPU in a peer exchange (perf over bench/grpc_throughput.py; figures:
bench/RESULTS.md, 'Measurements moved from code comments').  So the senders write a
part's bytes once, behind a header the runtime serializes
(:func:`peer_chunk`, :func:`job_material`), and the node parses ``PeerChunk`` and
material-only ``JobPart`` itself, handing their bytes on as views of gRPC's receive
buffer (:func:`parse_peer_chunk`, :func:`parse_job_part`).  On the wire these are
ordinary protobuf: any client may still send ``pb`` messages, and these parse with
``pb.*.FromString``.

bench/grpc_throughput.py times the gain for all-to-all and one-to-one peer exchanges
and for SubmitJob (figures: bench/RESULTS.md, 'Measurements moved from code comments').
"""

from __future__ import annotations

from protos import coprove_pb2 as pb


def _tag(message, field: str) -> bytes:
    return _varint(message.DESCRIPTOR.fields_by_name[field].number << 3 | 2)  # length-delimited


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_PEER_DATA = _tag(pb.PeerChunk, "data")
_JOB_MATERIAL = _tag(pb.JobPart, "material")


# Trailing metadata a node sets when it refuses a job's material dealt ahead (expired,
# used, unknown): the client then deals that job whole instead of failing it.
REFUSED_KEY = "coprove-refused"
REFUSED_PREDEAL = "predeal"


def refused_predeal(error) -> bool:
    """Whether a SubmitJob's RpcError is a node refusing the job's material dealt ahead."""
    return any(k == REFUSED_KEY and v == REFUSED_PREDEAL for k, v in error.trailing_metadata() or ())


def manifest_parties(members) -> list:
    """A job's (or dealing's) parties for its manifest, in index order."""
    return [pb.Party(index=i, name=m.name, address=m.address, fingerprint=m.fingerprint)
            for i, m in enumerate(members)]


def peer_chunk(job_id: bytes, sender: int, seq: int, part: int, n_parts: int, data, signature: bytes = b"") -> bytes:
    """``pb.PeerChunk(...).SerializeToString()``, with ``data`` (any bytes-like) copied once."""
    head = pb.PeerChunk(job_id=job_id, sender=sender, seq=seq, part=part, n_parts=n_parts,
                        signature=signature).SerializeToString()
    return b"".join((head, _PEER_DATA, _varint(len(data)), data))


def job_material(data) -> bytes:
    """``pb.JobPart(material=data).SerializeToString()``, with ``data`` copied once."""
    return b"".join((_JOB_MATERIAL, _varint(len(data)), data))


# a view keeps the whole received buffer alive: only while the rest of it is this small
# (an honest part's header is ~30 bytes) is the job's buffer limit, which counts data
# bytes plus jobs.PART_OVERHEAD per part, still a bound on what a peer makes a node hold
VIEW_SLACK = 1024


class PeerPart:
    """A parsed ``PeerChunk``: the fields PeerSend reads; ``data`` a read-only view into
    the received buffer (which it keeps alive), or a copy where that buffer holds more
    than ``VIEW_SLACK`` bytes besides it."""

    __slots__ = ("job_id", "sender", "seq", "part", "n_parts", "data", "signature")

    def __init__(self):
        self.job_id, self.sender, self.seq, self.part, self.n_parts = b"", 0, 0, 0, 0
        self.data = memoryview(b"")
        self.signature = b""


# a part has six fields; this loop is Python, so a peer may not make it spin over millions
MAX_FIELDS = 64
# PeerChunk field number -> (attribute, wire type: 0 varint, 2 length-delimited)
_PEER_FIELDS = {f.number: (f.name, 2 if f.type == f.TYPE_BYTES else 0) for f in pb.PeerChunk.DESCRIPTOR.fields}


def parse_peer_chunk(raw: bytes) -> PeerPart:
    """Parse ``raw`` as protobuf does for ``PeerChunk`` (proto3: the last occurrence of a
    field wins, uint32 fields keep the low 32 bits of the varint, unknown fields and known
    ones of another wire type are skipped); ValueError if it is not well-formed protobuf
    or has more than ``MAX_FIELDS`` fields (gRPC then answers INTERNAL, as for a message
    upb cannot parse)."""
    view = memoryview(raw).toreadonly()
    out, pos, end, count = PeerPart(), 0, len(raw), 0
    while pos < end:
        count += 1
        if count > MAX_FIELDS:
            raise ValueError(f"more than {MAX_FIELDS} fields")
        key, pos = _read_varint(raw, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, pos = _read_varint(raw, pos, end)
        elif wire == 2:
            size, pos = _read_varint(raw, pos, end)
            if size > end - pos:
                raise ValueError("truncated length-delimited field")
            value, pos = view[pos:pos + size], pos + size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            if pos > end:
                raise ValueError("truncated fixed-width field")
            continue
        else:  # groups (3, 4) are proto2-only and no field here; 6, 7 do not exist
            raise ValueError(f"wire type {wire}")
        name, want = _PEER_FIELDS.get(number, (None, None))
        if name is None or wire != want:
            continue  # unknown field, or a known one in the wrong wire type: skipped
        if name in ("job_id", "signature"):
            value = bytes(value)
        elif wire == 0:
            value &= 0xFFFFFFFF
        setattr(out, name, value)
    if end - len(out.data) > VIEW_SLACK:
        out.data = bytes(out.data)
    return out


class MaterialPart:
    """A ``JobPart`` holding only material, as :func:`job_material` writes it: ``material``
    is a read-only view into the received buffer."""

    __slots__ = ("material",)

    def __init__(self, material):
        self.material = material

    def WhichOneof(self, name):  # noqa: N802 (protobuf's name)
        if name != "part":
            raise ValueError(f"JobPart has no oneof {name!r}")
        return "material"


def parse_job_part(raw: bytes):
    """A part in exactly :func:`job_material`'s form (the material tag, its length, the
    bytes, nothing else) as a :class:`MaterialPart` viewing ``raw``; anything else (the
    manifest, another encoder's output) as ``pb.JobPart.FromString`` parses it."""
    end = len(raw)
    if raw[:len(_JOB_MATERIAL)] == _JOB_MATERIAL:
        try:
            size, pos = _read_varint(raw, len(_JOB_MATERIAL), end)
        except ValueError:
            size, pos = -1, 0
        if pos + size == end:
            return MaterialPart(memoryview(raw).toreadonly()[pos:])
    return pb.JobPart.FromString(raw)


def _read_varint(raw: bytes, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift >= 70:
            raise ValueError("truncated or overlong varint")
        b = raw[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
