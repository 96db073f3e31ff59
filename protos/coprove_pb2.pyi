from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CircuitRef(_message.Message):
    __slots__ = ("sha256",)
    SHA256_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    def __init__(self, sha256: _Optional[str] = ...) -> None: ...

class CircuitState(_message.Message):
    __slots__ = ("sha256", "present", "bytes_received", "n_vars", "n_public", "domain_size")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    N_VARS_FIELD_NUMBER: _ClassVar[int]
    N_PUBLIC_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_SIZE_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    present: bool
    bytes_received: int
    n_vars: int
    n_public: int
    domain_size: int
    def __init__(self, sha256: _Optional[str] = ..., present: _Optional[bool] = ..., bytes_received: _Optional[int] = ..., n_vars: _Optional[int] = ..., n_public: _Optional[int] = ..., domain_size: _Optional[int] = ...) -> None: ...

class CircuitChunk(_message.Message):
    __slots__ = ("sha256", "total_size", "offset", "data")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    total_size: int
    offset: int
    data: bytes
    def __init__(self, sha256: _Optional[str] = ..., total_size: _Optional[int] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class Party(_message.Message):
    __slots__ = ("index", "name", "address", "fingerprint")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    index: int
    name: str
    address: str
    fingerprint: str
    def __init__(self, index: _Optional[int] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., fingerprint: _Optional[str] = ...) -> None: ...

class JobManifest(_message.Message):
    __slots__ = ("job_id", "circuit_sha256", "n_parties", "party_index", "parties", "deadline_unix_ms", "material_size", "threshold", "predeal_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_SHA256_FIELD_NUMBER: _ClassVar[int]
    N_PARTIES_FIELD_NUMBER: _ClassVar[int]
    PARTY_INDEX_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    MATERIAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PREDEAL_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: bytes
    circuit_sha256: str
    n_parties: int
    party_index: int
    parties: _containers.RepeatedCompositeFieldContainer[Party]
    deadline_unix_ms: int
    material_size: int
    threshold: int
    predeal_id: bytes
    def __init__(self, job_id: _Optional[bytes] = ..., circuit_sha256: _Optional[str] = ..., n_parties: _Optional[int] = ..., party_index: _Optional[int] = ..., parties: _Optional[_Iterable[_Union[Party, _Mapping]]] = ..., deadline_unix_ms: _Optional[int] = ..., material_size: _Optional[int] = ..., threshold: _Optional[int] = ..., predeal_id: _Optional[bytes] = ...) -> None: ...

class PredealManifest(_message.Message):
    __slots__ = ("predeal_id", "circuit_sha256", "n_parties", "party_index", "parties", "expires_unix_ms", "material_size")
    PREDEAL_ID_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_SHA256_FIELD_NUMBER: _ClassVar[int]
    N_PARTIES_FIELD_NUMBER: _ClassVar[int]
    PARTY_INDEX_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    MATERIAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    predeal_id: bytes
    circuit_sha256: str
    n_parties: int
    party_index: int
    parties: _containers.RepeatedCompositeFieldContainer[Party]
    expires_unix_ms: int
    material_size: int
    def __init__(self, predeal_id: _Optional[bytes] = ..., circuit_sha256: _Optional[str] = ..., n_parties: _Optional[int] = ..., party_index: _Optional[int] = ..., parties: _Optional[_Iterable[_Union[Party, _Mapping]]] = ..., expires_unix_ms: _Optional[int] = ..., material_size: _Optional[int] = ...) -> None: ...

class PredealPart(_message.Message):
    __slots__ = ("manifest", "material")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    MATERIAL_FIELD_NUMBER: _ClassVar[int]
    manifest: PredealManifest
    material: bytes
    def __init__(self, manifest: _Optional[_Union[PredealManifest, _Mapping]] = ..., material: _Optional[bytes] = ...) -> None: ...

class PredealAccepted(_message.Message):
    __slots__ = ("predeal_id",)
    PREDEAL_ID_FIELD_NUMBER: _ClassVar[int]
    predeal_id: bytes
    def __init__(self, predeal_id: _Optional[bytes] = ...) -> None: ...

class JobPart(_message.Message):
    __slots__ = ("manifest", "material")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    MATERIAL_FIELD_NUMBER: _ClassVar[int]
    manifest: JobManifest
    material: bytes
    def __init__(self, manifest: _Optional[_Union[JobManifest, _Mapping]] = ..., material: _Optional[bytes] = ...) -> None: ...

class JobAccepted(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: bytes
    def __init__(self, job_id: _Optional[bytes] = ...) -> None: ...

class JobRef(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: bytes
    def __init__(self, job_id: _Optional[bytes] = ...) -> None: ...

class JobResult(_message.Message):
    __slots__ = ("job_id", "output", "step_seconds", "bytes_sent", "bytes_received", "receipt", "receipt_signature")
    class StepSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    STEP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    job_id: bytes
    output: bytes
    step_seconds: _containers.ScalarMap[str, float]
    bytes_sent: int
    bytes_received: int
    receipt: bytes
    receipt_signature: bytes
    def __init__(self, job_id: _Optional[bytes] = ..., output: _Optional[bytes] = ..., step_seconds: _Optional[_Mapping[str, float]] = ..., bytes_sent: _Optional[int] = ..., bytes_received: _Optional[int] = ..., receipt: _Optional[bytes] = ..., receipt_signature: _Optional[bytes] = ...) -> None: ...

class JobState(_message.Message):
    __slots__ = ("job_id", "state", "error", "node_version", "blamed_party")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    NODE_VERSION_FIELD_NUMBER: _ClassVar[int]
    BLAMED_PARTY_FIELD_NUMBER: _ClassVar[int]
    job_id: bytes
    state: str
    error: str
    node_version: str
    blamed_party: int
    def __init__(self, job_id: _Optional[bytes] = ..., state: _Optional[str] = ..., error: _Optional[str] = ..., node_version: _Optional[str] = ..., blamed_party: _Optional[int] = ...) -> None: ...

class Transcript(_message.Message):
    __slots__ = ("job_id", "received")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    job_id: bytes
    received: _containers.RepeatedCompositeFieldContainer[Received]
    def __init__(self, job_id: _Optional[bytes] = ..., received: _Optional[_Iterable[_Union[Received, _Mapping]]] = ...) -> None: ...

class Received(_message.Message):
    __slots__ = ("sender", "seq", "payload", "signature")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    sender: int
    seq: int
    payload: bytes
    signature: bytes
    def __init__(self, sender: _Optional[int] = ..., seq: _Optional[int] = ..., payload: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class PeerChunk(_message.Message):
    __slots__ = ("job_id", "sender", "seq", "part", "n_parts", "data", "signature")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    N_PARTS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    job_id: bytes
    sender: int
    seq: int
    part: int
    n_parts: int
    data: bytes
    signature: bytes
    def __init__(self, job_id: _Optional[bytes] = ..., sender: _Optional[int] = ..., seq: _Optional[int] = ..., part: _Optional[int] = ..., n_parts: _Optional[int] = ..., data: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class PeerAck(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
