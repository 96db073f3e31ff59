"""Node and client identities: a P-256 key, a self-signed certificate, its fingerprint,
and the gRPC credentials that pin it.

Trust model: there is no CA.  Every party is known by the SHA-256 fingerprint of its
certificate (listed in the committee file).  gRPC cannot be told "accept fingerprint X",
so pinning is done in two layers:

* TLS: the only trust anchors a connection gets are the peers' own certificates
  (one for a channel, the committee's bundle for a server).  BoringSSL accepts a
  self-signed CA:FALSE leaf as its own anchor, and only then does holding a trusted
  key not let anyone mint further certificates that TLS would accept (with CA:TRUE it
  does; both checked against grpcio 1.85.1), so CA certificates are refused.
* gRPC: the server reads the caller's certificate from the auth context
  (:func:`peer_fingerprint`) and refuses fingerprints it does not know, per call
  (:class:`PinnedPeerInterceptor` does it for a whole server).

Ed25519 is refused: grpcio's BoringSSL build does not offer Ed25519 signatures in TLS,
so a handshake with an Ed25519 certificate fails on either side with
NO_COMMON_SIGNATURE_ALGORITHMS (checked against grpcio 1.85.1).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The second SAN lets a caller that knows no name (a test, a debugging tool) still pass
# gRPC's host-name check with ("grpc.ssl_target_name_override", "coprove-node").
SHARED_SAN = "coprove-node"
VALIDITY = datetime.timedelta(days=3652)
BACKDATE = datetime.timedelta(hours=1)  # tolerate clocks up to an hour behind ours
MAX_MESSAGE = 64 << 20  # bytes; calls stream in chunks far below this

# A DNS label or dotted name: the name goes into the certificate's SAN and, on the
# other side, into ssl_target_name_override, and it names the key and cert files.
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$")
_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")
ED25519_REFUSED = (
    "Ed25519 certificates do not work with gRPC: its BoringSSL build offers no Ed25519 "
    "signature in TLS and the handshake fails (NO_COMMON_SIGNATURE_ALGORITHMS); use p256"
)


class IdentityError(ValueError):
    """A key or certificate that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Identity:
    name: str
    key_pem: bytes
    cert_pem: bytes
    fingerprint: str
    key_path: Path | None = None
    cert_path: Path | None = None


def fingerprint(cert_pem: bytes) -> str:
    """``sha256:`` + lowercase hex of SHA-256 over the certificate's DER encoding (the
    hex part equals ``openssl x509 -noout -fingerprint -sha256`` without the colons)."""
    der = load_cert(cert_pem, "certificate").public_bytes(serialization.Encoding.DER)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def normalize_fingerprint(text: str) -> str | None:
    """``sha256:<64 hex>`` in canonical form, or None if ``text`` is not one.  Accepts
    upper case and openssl's colon-separated hex, as users paste both."""
    if not isinstance(text, str) or not text.lower().startswith("sha256:"):
        return None
    canon = "sha256:" + text[7:].replace(":", "").lower()
    return canon if _FINGERPRINT.match(canon) else None


def generate_identity(out_dir, name: str, kind: str = "p256") -> Identity:
    """Write ``<name>.key`` (PKCS8 PEM, mode 0600) and ``<name>.crt`` (self-signed, CN and
    SAN = name, SAN also ``coprove-node``) into ``out_dir``; never overwrites."""
    if kind == "ed25519":
        raise IdentityError(ED25519_REFUSED)
    if kind != "p256":
        raise IdentityError(f"unknown key kind {kind!r}; use p256")
    if not NAME.match(name or ""):
        raise IdentityError(f"name {name!r} must be a host-name-like label "
                            "(letters, digits, '-' and '.', at most 63 characters)")
    out = Path(out_dir)
    key_path, cert_path = out / f"{name}.key", out / f"{name}.crt"
    for p in (key_path, cert_path):
        if p.exists():
            raise IdentityError(f"{p}: already exists; refusing to overwrite an identity")

    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = _self_signed(key, name).public_bytes(serialization.Encoding.PEM)

    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_new(key_path, key_pem, 0o600)
    try:
        _write_new(cert_path, cert_pem, 0o644)
    except BaseException:
        key_path.unlink()  # no key without its certificate
        raise
    return Identity(name, key_pem, cert_pem, fingerprint(cert_pem), key_path, cert_path)


def load_identity(key_path, cert_path) -> Identity:
    """Read a key and its certificate; the name is the certificate's CN."""
    key_pem, cert_pem = _read(key_path, "key"), _read(cert_path, "certificate")
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise IdentityError(f"{key_path}: encrypted keys are not supported") from None
    except (ValueError, UnsupportedAlgorithm) as e:
        raise IdentityError(f"{key_path}: not a PEM private key ({e})") from None
    cert = load_cert(cert_pem, cert_path)
    check_usable(cert, cert_path)
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise IdentityError(f"{key_path}: this key does not belong to {cert_path} "
                            "(their public keys differ)")
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = str(cns[0].value) if cns else Path(cert_path).stem
    return Identity(name, key_pem, cert_pem, fingerprint(cert_pem),
                    Path(key_path), Path(cert_path))


def check_usable(cert: x509.Certificate, where) -> None:
    """Refuse what would only fail later, inside a TLS handshake, with a vaguer error."""
    if isinstance(cert.public_key(), (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        raise IdentityError(f"{where}: {ED25519_REFUSED}")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if is_ca:
        raise IdentityError(f"{where}: is a CA certificate (basicConstraints CA:TRUE): its key "
                            "could sign further certificates that TLS would accept wherever "
                            "this one is trusted; make a leaf with `coprove keygen`")
    now = datetime.datetime.now(datetime.timezone.utc)
    if now > cert.not_valid_after_utc:
        raise IdentityError(f"{where}: certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if now < cert.not_valid_before_utc:
        raise IdentityError(f"{where}: certificate is not valid before "
                            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC (check the clock)")


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        return cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        return []


# --- gRPC --------------------------------------------------------------------------

def server_credentials(identity: Identity, trusted_cert_pems) -> grpc.ServerCredentials:
    """TLS for a server that admits only callers presenting one of ``trusted_cert_pems``
    (still pair it with :class:`PinnedPeerInterceptor`)."""
    if not trusted_cert_pems:
        raise ValueError("a server needs at least one trusted certificate")
    return grpc.ssl_server_credentials(
        [(identity.key_pem, identity.cert_pem)],
        root_certificates=b"".join(_with_newline(p) for p in trusted_cert_pems),
        require_client_auth=True)


def channel_credentials(identity: Identity, server_cert_pem: bytes) -> grpc.ChannelCredentials:
    """TLS for a channel that trusts exactly one server certificate and shows ours."""
    return grpc.ssl_channel_credentials(root_certificates=server_cert_pem,
                                        private_key=identity.key_pem,
                                        certificate_chain=identity.cert_pem)


def channel_options(server_name: str) -> list[tuple[str, object]]:
    """Options for a channel to the node called ``server_name``: addresses are IPs or
    container names, so the TLS host-name check uses the committee name instead."""
    return [("grpc.ssl_target_name_override", server_name),
            ("grpc.default_authority", server_name),
            *server_options()]


def server_options() -> list[tuple[str, object]]:
    # HTTP/2 frames up to 16 MiB instead of 16 KiB: a 4 MiB part in one frame (faster in a
    # loopback microbenchmark; figures: bench/RESULTS.md, "Measurements moved from code comments").
    # Frames are bounded by what the receiver advertises and node.serve does not take these
    # options, so requests reach a node in 16 KiB frames.  On the node's own paths
    # (bench/grpc_throughput.py) neither giving the node's server 16 MiB frames nor taking
    # them from the channel changed anything, nor did lookahead_bytes, bdp_probe,
    # write_buffer_size, the TCP read chunk sizes or TCP zero-copy send: the cost there is
    # Python's copies (coordinator_free.wire)
    return [("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.http2.max_frame_size", (16 << 20) - 1)]


def peer_fingerprint(context) -> str | None:
    """Fingerprint of the certificate the caller presented, or None (plaintext server)."""
    pems = context.auth_context().get("x509_pem_cert")
    return fingerprint(pems[0]) if pems else None


def authorized_peer(context, allowed: dict[str, str]) -> str:
    """The committee name of the caller, or abort the call.  ``allowed`` maps
    fingerprint -> name (``Committee.allowed_peers()``)."""
    fp = peer_fingerprint(context)
    if fp is None:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "no client certificate")
    name = allowed.get(fp)
    if name is None:
        context.abort(grpc.StatusCode.PERMISSION_DENIED,
                      f"certificate {fp} is not in this node's committee")
    return name


class PinnedPeerInterceptor(grpc.ServerInterceptor):
    """Refuses every call whose client certificate is not pinned in ``allowed``.

    A server interceptor never sees the call's context, so it wraps the handler: the
    check runs as the first thing the method does."""

    def __init__(self, allowed: dict[str, str]):
        self._allowed = dict(allowed)

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        kind = ("stream" if handler.request_streaming else "unary") + "_" + \
               ("stream" if handler.response_streaming else "unary")
        inner = getattr(handler, kind)

        def checked(request, context):
            authorized_peer(context, self._allowed)
            return inner(request, context)

        make = getattr(grpc, f"{kind}_rpc_method_handler")
        return make(checked, request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer)


# --- helpers -----------------------------------------------------------------------

def _self_signed(key, name: str) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now - BACKDATE + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.DNSName(SHARED_SAN)]), critical=False)
            # CA:FALSE: BoringSSL accepts a self-signed leaf as its own trust anchor, and
            # a CA:TRUE cert would let its holder sign certificates TLS then accepts.
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))


def load_cert(pem: bytes, where) -> x509.Certificate:
    """The single certificate in ``pem``; ``where`` starts the error message."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise IdentityError(f"{where}: not a PEM certificate") from None
    if len(certs) != 1:
        raise IdentityError(f"{where}: holds {len(certs)} certificates; expected exactly one")
    return certs[0]


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def _read(path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"{path}: no such {what} file") from None
    except OSError as e:
        raise IdentityError(f"{path}: cannot read the {what}: {e.strerror}") from None


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: a file that appeared since the exists() check is still never replaced.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise IdentityError(f"{path}: already exists; refusing to overwrite an identity") from None
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)  # exactly this mode, whatever the umask
        f.write(data)


def _with_newline(pem: bytes) -> bytes:
    return pem if pem.endswith(b"\n") else pem + b"\n"
