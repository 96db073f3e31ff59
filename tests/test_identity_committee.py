"""Identities (keygen, fingerprints, loading), mutual TLS with pinned certificates over
real gRPC on loopback, and the committee file.

The gRPC tests use a generic handler (no protos): ``/coprove.test.Echo/Who`` answers with
the fingerprint the server read from the caller's certificate.
"""
from __future__ import annotations

import datetime
import os
import re
import shutil
import stat
import subprocess
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coordinator_free import identity as ident
from coordinator_free.committee import (Committee, CommitteeError, Member, Sharing, load_committee,
                                        write_committee)

FP = re.compile(r"^sha256:[0-9a-f]{64}$")


@pytest.fixture
def keys(tmp_path):
    d = tmp_path / "keys"
    return {n: ident.generate_identity(d, n) for n in ("alice", "bob", "carol", "dave")}


# --- keygen -------------------------------------------------------------------------

def test_keygen_writes_key_0600_and_a_self_signed_cert(tmp_path):
    before = datetime.datetime.now(datetime.timezone.utc)
    me = ident.generate_identity(tmp_path / "k", "node1")
    key_path, cert_path = tmp_path / "k" / "node1.key", tmp_path / "k" / "node1.crt"
    assert (me.key_path, me.cert_path) == (key_path, cert_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8
    assert key_path.read_bytes() == me.key_pem and cert_path.read_bytes() == me.cert_pem

    cert = x509.load_pem_x509_certificate(me.cert_pem)
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "node1"
    assert ident.dns_names(cert) == ["node1", "coprove-node"]
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca  # see test_a_trusted_key_cannot_mint_certificates
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    start = cert.not_valid_before_utc
    assert abs((before - datetime.timedelta(hours=1)) - start) < datetime.timedelta(minutes=1)
    assert (cert.not_valid_after_utc - start).days >= 3650


def test_keygen_refuses_to_overwrite(tmp_path):
    first = ident.generate_identity(tmp_path, "alice")
    with pytest.raises(ident.IdentityError, match=r"alice\.key: already exists"):
        ident.generate_identity(tmp_path, "alice")
    assert (tmp_path / "alice.key").read_bytes() == first.key_pem  # untouched

    (tmp_path / "bob.crt").write_text("someone else's")
    with pytest.raises(ident.IdentityError, match=r"bob\.crt: already exists"):
        ident.generate_identity(tmp_path, "bob")
    assert not (tmp_path / "bob.key").exists()  # no key left behind without its cert


@pytest.mark.parametrize("kind, name, message", [
    ("ed25519", "alice", "Ed25519 certificates do not work with gRPC"),
    ("rsa", "alice", "unknown key kind"),
    ("p256", "", "host-name-like"),
    ("p256", "../evil", "host-name-like"),
    ("p256", "a b", "host-name-like"),
    ("p256", "-x", "host-name-like"),
])
def test_keygen_refuses_bad_kind_and_names(tmp_path, kind, name, message):
    with pytest.raises(ident.IdentityError, match=message):
        ident.generate_identity(tmp_path, name, kind=kind)
    assert list(tmp_path.iterdir()) == []


# --- fingerprints and loading --------------------------------------------------------

def test_fingerprint_is_stable_and_matches_openssl(tmp_path, keys):
    alice = keys["alice"]
    fp = ident.fingerprint(alice.cert_pem)
    assert FP.match(fp) and fp == alice.fingerprint
    assert ident.fingerprint(alice.cert_pem.replace(b"\n", b"\r\n")) == fp  # over DER, not PEM
    assert ident.load_identity(alice.key_path, alice.cert_path).fingerprint == fp
    assert len({k.fingerprint for k in keys.values()}) == len(keys)

    openssl = shutil.which("openssl")
    if openssl:  # "sha256 Fingerprint=AB:CD:..." (OpenSSL 3) or "SHA256 Fingerprint=..."
        out = subprocess.run([openssl, "x509", "-noout", "-fingerprint", "-sha256",
                              "-in", str(alice.cert_path)], capture_output=True, text=True,
                             check=True).stdout
        assert out.strip().split("=", 1)[1].replace(":", "").lower() == fp[len("sha256:"):]
        assert ident.normalize_fingerprint("SHA256:" + out.strip().split("=", 1)[1]) == fp


def test_normalize_fingerprint():
    h = "ab" * 32
    assert ident.normalize_fingerprint("sha256:" + h.upper()) == "sha256:" + h
    for bad in ("", h, "sha1:" + h, "sha256:" + h[:-2], "sha256:" + "zz" * 32, None, 3):
        assert ident.normalize_fingerprint(bad) is None


def test_load_identity(tmp_path, keys):
    alice, bob = keys["alice"], keys["bob"]
    me = ident.load_identity(alice.key_path, alice.cert_path)
    assert (me.name, me.key_pem, me.cert_pem) == ("alice", alice.key_pem, alice.cert_pem)

    with pytest.raises(ident.IdentityError, match=r"alice\.key: this key does not belong to .*bob\.crt"):
        ident.load_identity(alice.key_path, bob.cert_path)
    with pytest.raises(ident.IdentityError, match=r"nope\.key: no such key file"):
        ident.load_identity(tmp_path / "nope.key", alice.cert_path)
    with pytest.raises(ident.IdentityError, match=r"nope\.crt: no such certificate file"):
        ident.load_identity(alice.key_path, tmp_path / "nope.crt")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    with pytest.raises(ident.IdentityError, match=r"junk\.pem: not a PEM private key"):
        ident.load_identity(junk, alice.cert_path)
    with pytest.raises(ident.IdentityError, match=r"junk\.pem: not a PEM certificate"):
        ident.load_identity(alice.key_path, junk)
    two = tmp_path / "two.crt"
    two.write_bytes(alice.cert_pem + bob.cert_pem)
    with pytest.raises(ident.IdentityError, match=r"two\.crt: holds 2 certificates"):
        ident.load_identity(alice.key_path, two)
    key, cert = _ed25519_pair("eve")
    (tmp_path / "eve.key").write_bytes(key)
    (tmp_path / "eve.crt").write_bytes(cert)
    with pytest.raises(ident.IdentityError, match=r"eve\.crt: Ed25519 certificates do not work"):
        ident.load_identity(tmp_path / "eve.key", tmp_path / "eve.crt")
    key, cert = _custom_pair("ca", ec.generate_private_key(ec.SECP256R1()), ca=True)
    (tmp_path / "ca.key").write_bytes(key)
    (tmp_path / "ca.crt").write_bytes(cert)
    with pytest.raises(ident.IdentityError, match=r"ca\.crt: is a CA certificate"):
        ident.load_identity(tmp_path / "ca.key", tmp_path / "ca.crt")


# --- mutual TLS over real gRPC ---------------------------------------------------------

def _who(request, context):
    return (ident.peer_fingerprint(context) or "none").encode()


def _who_stream(request, context):
    yield _who(request, context)


def _echo(request, context):
    return request


@contextmanager
def tls_server(me, trusted, interceptors=()):
    """Serve the test methods on 127.0.0.1 (port 0); yields the bound port."""
    handler = grpc.method_handlers_generic_handler("coprove.test.Echo", {
        "Who": grpc.unary_unary_rpc_method_handler(_who),
        "WhoStream": grpc.unary_stream_rpc_method_handler(_who_stream),
        "Echo": grpc.unary_unary_rpc_method_handler(_echo),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=(handler,),
                         interceptors=interceptors, options=ident.server_options())
    port = server.add_secure_port("127.0.0.1:0", ident.server_credentials(me, trusted))
    server.start()
    try:
        yield port
    finally:
        server.stop(None)


def call(port, creds, server_name, method="Who", request=b"", stream=False):
    with grpc.secure_channel(f"127.0.0.1:{port}", creds,
                             options=ident.channel_options(server_name)) as ch:
        if stream:
            return list(ch.unary_stream(f"/coprove.test.Echo/{method}")(request, timeout=10))
        return ch.unary_unary(f"/coprove.test.Echo/{method}")(request, timeout=10)


def test_pinned_client_is_served_and_named_by_fingerprint(keys):
    alice, bob = keys["alice"], keys["bob"]
    with tls_server(alice, [bob.cert_pem]) as port:
        creds = ident.channel_credentials(bob, alice.cert_pem)
        assert call(port, creds, "alice").decode() == bob.fingerprint
        # The shared SAN works as a target name too (the peer mesh uses it).
        assert call(port, creds, "coprove-node").decode() == bob.fingerprint


def test_auth_context_holds_the_callers_pem_under_x509_pem_cert(keys):
    alice, bob = keys["alice"], keys["bob"]
    seen = {}

    def grab(request, context):
        seen.update(context.auth_context())
        return b""

    handler = grpc.method_handlers_generic_handler("t.T", {"Grab": grpc.unary_unary_rpc_method_handler(grab)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), handlers=(handler,))
    port = server.add_secure_port("127.0.0.1:0", ident.server_credentials(alice, [bob.cert_pem]))
    server.start()
    try:
        with grpc.secure_channel(f"127.0.0.1:{port}", ident.channel_credentials(bob, alice.cert_pem),
                                 options=ident.channel_options("alice")) as ch:
            ch.unary_unary("/t.T/Grab")(b"", timeout=10)
    finally:
        server.stop(None)
    assert ident.fingerprint(seen["x509_pem_cert"][0]) == bob.fingerprint
    assert seen["x509_common_name"] == [b"bob"]


def test_client_not_in_the_servers_trust_is_refused(keys):
    alice, bob, carol = keys["alice"], keys["bob"], keys["carol"]
    with tls_server(alice, [bob.cert_pem]) as port:
        with pytest.raises(grpc.RpcError) as e:
            call(port, ident.channel_credentials(carol, alice.cert_pem), "alice")
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def test_plaintext_client_is_refused(keys):
    alice, bob = keys["alice"], keys["bob"]
    with tls_server(alice, [bob.cert_pem]) as port:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            with pytest.raises(grpc.RpcError) as e:
                ch.unary_unary("/coprove.test.Echo/Who")(b"", timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_pinning_another_server_cert_is_refused(keys):
    alice, bob, carol = keys["alice"], keys["bob"], keys["carol"]
    with tls_server(alice, [bob.cert_pem]) as port:
        with pytest.raises(grpc.RpcError) as e:
            call(port, ident.channel_credentials(bob, carol.cert_pem), "alice")
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        # Right certificate, wrong name: the host-name check still applies.
        with pytest.raises(grpc.RpcError) as e:
            call(port, ident.channel_credentials(bob, alice.cert_pem), "bob")
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_trusted_key_cannot_mint_certificates(keys):
    """Certificates are CA:FALSE, so bob's key cannot vouch for a new certificate that
    TLS would accept wherever bob's is trusted."""
    alice, bob = keys["alice"], keys["bob"]
    minted = _mint(bob, "mallory")
    with tls_server(alice, [bob.cert_pem]) as port:
        for chain in (minted.cert_pem, minted.cert_pem + bob.cert_pem):
            creds = grpc.ssl_channel_credentials(alice.cert_pem, minted.key_pem, chain)
            with pytest.raises(grpc.RpcError) as e:
                call(port, creds, "alice")
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE

    # Why check_usable refuses CA:TRUE certificates: there the minted one gets through.
    key, cert = _custom_pair("bob", ec.generate_private_key(ec.SECP256R1()), ca=True)
    ca_bob = ident.Identity("bob", key, cert, ident.fingerprint(cert))
    minted = _mint(ca_bob, "mallory")
    with tls_server(alice, [ca_bob.cert_pem]) as port:
        creds = grpc.ssl_channel_credentials(alice.cert_pem, minted.key_pem, minted.cert_pem)
        assert call(port, creds, "alice").decode() == minted.fingerprint


def test_interceptor_refuses_certificates_outside_the_pin_list(keys):
    alice, bob, carol = keys["alice"], keys["bob"], keys["carol"]
    pins = ident.PinnedPeerInterceptor({bob.fingerprint: "bob"})
    # TLS admits both; the interceptor admits only bob, on unary and streaming methods.
    with tls_server(alice, [bob.cert_pem, carol.cert_pem], interceptors=[pins]) as port:
        bob_creds = ident.channel_credentials(bob, alice.cert_pem)
        assert call(port, bob_creds, "alice").decode() == bob.fingerprint
        assert call(port, bob_creds, "alice", "WhoStream", stream=True) == [bob.fingerprint.encode()]
        carol_creds = ident.channel_credentials(carol, alice.cert_pem)
        for method, stream in (("Who", False), ("WhoStream", True)):
            with pytest.raises(grpc.RpcError) as e:
                call(port, carol_creds, "alice", method, stream=stream)
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert carol.fingerprint in e.value.details()


def test_messages_up_to_the_configured_limit_pass(keys):
    alice, bob = keys["alice"], keys["bob"]
    big = os.urandom(10 << 20)  # over gRPC's 4 MiB default receive limit
    with tls_server(alice, [bob.cert_pem]) as port:
        assert call(port, ident.channel_credentials(bob, alice.cert_pem), "alice", "Echo", big) == big


def test_ed25519_still_fails_in_grpc_tls():
    """Why keygen refuses Ed25519.  If this starts passing a handshake, grpcio learned
    Ed25519 and the refusal in identity.py can go."""
    def ed_identity(name):
        key, cert = _ed25519_pair(name)
        return ident.Identity(name, key, cert, ident.fingerprint(cert))
    alice, bob = ed_identity("alice"), ed_identity("bob")
    with tls_server(alice, [bob.cert_pem]) as port:
        with pytest.raises(grpc.RpcError) as e:
            call(port, ident.channel_credentials(bob, alice.cert_pem), "alice")
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


# --- committee file ----------------------------------------------------------------------

def _entry(section, ident_, address=None, **override):
    fields = {"name": ident_.name, "address": address, "fingerprint": ident_.fingerprint,
              "cert": ident_.cert_path.name, **override}
    lines = [f"[[{section}]]"]
    lines += [f'{k} = "{v}"' for k, v in fields.items() if v is not None]
    return "\n".join(lines) + "\n"


def _committee_text(keys, **override):
    return (_entry("node", keys["alice"], "10.0.0.1:7100")
            + _entry("node", keys["bob"], "10.0.0.2:7100")
            + _entry("node", keys["carol"], "[::1]:7100", **override))


def _load(keys, text):
    path = keys["alice"].cert_path.parent / "committee.toml"
    path.write_text(text)
    return load_committee(path)


def test_committee_loads(keys):
    c = _load(keys, _committee_text(keys) + _entry("spare", keys["dave"], "node4:7100"))
    assert [m.name for m in c.nodes] == ["alice", "bob", "carol"]
    assert c.nodes[2] == Member("carol", "[::1]:7100", keys["carol"].fingerprint, keys["carol"].cert_pem)
    assert [m.name for m in c.spares] == ["dave"]
    assert c.trusted_clients == [] and c.client_key is None
    assert len(c.trust_bundle()) == 4
    assert c.allowed_peers()[keys["dave"].fingerprint] == "dave"


def test_committee_error_names_file_entry_and_both_fingerprints(keys):
    wrong = "sha256:" + "cd" * 32
    with pytest.raises(CommitteeError) as e:
        _load(keys, _committee_text(keys, fingerprint=wrong))
    assert str(e.value) == (f"{keys['alice'].cert_path.parent / 'committee.toml'}: node[2] (carol): "
                            f"certificate carol.crt has fingerprint {keys['carol'].fingerprint} "
                            f"but the committee says {wrong}")


def _base(keys):
    return _entry("node", keys["alice"], "10.0.0.1:7100") + _entry("node", keys["bob"], "10.0.0.2:7100")


@pytest.mark.parametrize("make, message", [
    (lambda k: _base(k) + _entry("node", k["carol"]), r"node\[2\] \(carol\): missing key 'address'"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", cert=None), r"node\[2\] \(carol\): missing key 'cert'"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", name=None), r"node\[2\]: missing key 'name'"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", fingerprint=None), r"missing key 'fingerprint'"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", port="7100"), r"node\[2\] \(carol\): unknown key 'port'"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1") + "weight = 3\n", r"unknown key 'weight'"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", name=""), r"'name' must be a non-empty string"),
    (lambda k: _base(k).replace('"10.0.0.1:7100"', "7100"), r"node\[0\] \(alice\): 'address' must be a non-empty string"),
    (lambda k: _base(k).replace("10.0.0.1:7100", "10.0.0.1"), r"node\[0\] \(alice\): address '10.0.0.1' must be host:port"),
    (lambda k: _base(k).replace("10.0.0.1:7100", "10.0.0.1:0"), r"must be host:port"),
    (lambda k: _base(k).replace("10.0.0.1:7100", "10.0.0.1:65536"), r"must be host:port"),
    (lambda k: _base(k).replace("10.0.0.1:7100", ":7100"), r"must be host:port"),
    (lambda k: _base(k).replace("10.0.0.1:7100", "::1:7100"), r"must be host:port \(IPv6 as \[::1\]:7100\)"),
    (lambda k: _base(k).replace("10.0.0.1:7100", "http://h:7100"), r"must be host:port"),
    (lambda k: _base(k).replace("10.0.0.1:7100", "10.0.0.2:7100"),
     r"node\[1\] \(bob\): address 10.0.0.2:7100 is also used by node\[0\] \(alice\)"),
    (lambda k: _base(k) + _entry("spare", k["alice"], "h:1", name="Alice"),
     r"spare\[0\] \(Alice\): name Alice is also used by node\[0\] \(alice\)"),
    (lambda k: _base(k) + _entry("trusted_client", k["alice"], name="zed"),
     r"trusted_client\[0\] \(zed\): fingerprint sha256:[0-9a-f]{64} is also used by node\[0\] \(alice\)"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", fingerprint="sha256:abc"),
     r"node\[2\] \(carol\): fingerprint 'sha256:abc' is not 'sha256:' followed by 64 hex digits"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", fingerprint="md5:" + "ab" * 16), r"is not 'sha256:'"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", cert="gone.crt"),
     r"node\[2\] \(carol\): certificate gone.crt not found \(looked at .*gone.crt\)"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", cert="carol.key"),
     r"node\[2\] \(carol\): certificate carol.key: not a PEM certificate"),
    (lambda k: _base(k) + _entry("node", k["carol"], "h:1", name="erin"),
     r"node\[2\] \(erin\): certificate carol.crt lacks the DNS name\(s\) erin \(it has carol, coprove-node\)"),
    (lambda k: _entry("node", k["alice"], "h:1"), r"needs at least 2 \[\[node\]\] entries, found 1"),
    (lambda k: "", r"needs at least 2 \[\[node\]\] entries, found 0"),
    (lambda k: '[node]\nname = "alice"\n',
     r"node: must be an array of tables: write \[\[node\]\]"),
    (lambda k: _base(k) + "[[nodes]]\nname = 'x'\n", r"unknown section 'nodes'"),
    (lambda k: _base(k) + "[client]\nkey = 'c.key'\n", r"client: 'cert' must be a non-empty string"),
    (lambda k: _base(k) + "[client]\nkey = 'c.key'\ncert = 'c.crt'\npassword = 'x'\n", r"client: unknown key 'password'"),
    (lambda k: _base(k) + "[[client]]\nkey = 'c.key'\ncert = 'c.crt'\n", r"client: must be a table"),
    (lambda k: _base(k) + _entry("trusted_client", k["dave"], "h:1"), r"trusted_client\[0\] \(dave\): unknown key 'address'"),
    (lambda k: _base(k) + "name = ", r"committee.toml: not valid TOML"),
])
def test_committee_validation(keys, make, message):
    with pytest.raises(CommitteeError, match=message) as e:
        _load(keys, make(keys))
    assert str(e.value).startswith(f"{keys['alice'].cert_path.parent / 'committee.toml'}: ")


def test_committee_refuses_an_unusable_certificate(keys):
    key, cert = _ed25519_pair("erin")
    (keys["alice"].cert_path.parent / "erin.crt").write_bytes(cert)
    erin = ident.Identity("erin", key, cert, ident.fingerprint(cert),
                          cert_path=keys["alice"].cert_path.parent / "erin.crt")
    with pytest.raises(CommitteeError, match=r"node\[2\] \(erin\): certificate erin.crt: Ed25519"):
        _load(keys, _base(keys) + _entry("node", erin, "h:1"))


def test_committee_refuses_a_ca_certificate(keys):
    key, cert = _custom_pair("erin", ec.generate_private_key(ec.SECP256R1()), ca=True)
    path = keys["alice"].cert_path.parent / "erin.crt"
    path.write_bytes(cert)
    erin = ident.Identity("erin", key, cert, ident.fingerprint(cert), cert_path=path)
    with pytest.raises(CommitteeError, match=r"node\[2\] \(erin\): certificate erin.crt: is a CA certificate"):
        _load(keys, _base(keys) + _entry("node", erin, "h:1"))


def test_committee_missing_file(tmp_path):
    with pytest.raises(CommitteeError, match=r"nowhere\.toml: no such committee file"):
        load_committee(tmp_path / "nowhere.toml")


def test_committee_accepts_openssl_style_fingerprints(keys):
    colons = "SHA256:" + ":".join(re.findall("..", keys["carol"].fingerprint[7:].upper()))
    c = _load(keys, _base(keys) + _entry("node", keys["carol"], "h:1", fingerprint=colons))
    assert c.nodes[2].fingerprint == keys["carol"].fingerprint


def test_write_then_load_round_trip(tmp_path, keys):
    # An awkward client directory: TOML string escaping must survive it.
    client_dir = tmp_path / 'cli "ent" \\ dir é'
    client = ident.generate_identity(client_dir, "client")
    nodes = [Member.from_identity(keys[n], f"{n}.example:71{i:02d}") for i, n in enumerate(("alice", "bob"))]
    spares = [Member.from_identity(keys["carol"], "[fe80::1]:7100")]
    trusted = [Member.from_identity(keys["dave"])]
    out = tmp_path / "demo" / "committee.toml"  # a fresh directory: certs get copied there

    c = write_committee(out, nodes, spares, client=client, trusted_clients=trusted)
    assert isinstance(c, Committee)
    again = load_committee(out)
    assert again == c
    assert (again.nodes, again.spares, again.trusted_clients) == (nodes, spares, trusted)
    assert (out.parent / "alice.crt").read_bytes() == keys["alice"].cert_pem
    assert again.client_identity().fingerprint == client.fingerprint
    assert again.trust_bundle() == [keys[n].cert_pem for n in ("alice", "bob", "carol", "dave")]
    assert set(again.allowed_peers(clients=False).values()) == {"alice", "bob", "carol"}

    # Written next to the keys, the existing certificates are reused, paths stay relative.
    here = keys["alice"].cert_path.parent / "committee.toml"
    write_committee(here, nodes, client=(keys["dave"].key_path, keys["dave"].cert_path))
    text = here.read_text()
    assert 'cert = "alice.crt"' in text and 'key = "dave.key"' in text
    assert load_committee(here).client_identity().name == "dave"

    # A stale certificate file of the same name is never overwritten.
    impostor = Member("alice", "h:1", keys["bob"].fingerprint, keys["bob"].cert_pem)
    with pytest.raises(CommitteeError, match=r"alice\.crt: already holds a different certificate"):
        write_committee(here, [impostor, nodes[1]])


def test_write_committee_checks_what_it_wrote(tmp_path, keys):
    with pytest.raises(CommitteeError, match="needs at least 2"):
        write_committee(tmp_path / "c.toml", [Member.from_identity(keys["alice"], "h:1")])
    assert not (tmp_path / "c.toml").exists()


def test_committee_trust_bundle_serves_real_tls(keys, tmp_path):
    nodes = [Member.from_identity(keys[n], f"127.0.0.1:{7100 + i}") for i, n in enumerate(("alice", "bob"))]
    c = write_committee(tmp_path / "c" / "committee.toml", nodes,
                        trusted_clients=[Member.from_identity(keys["dave"])])
    pins = ident.PinnedPeerInterceptor(c.allowed_peers())
    with tls_server(keys["alice"], c.trust_bundle(), interceptors=[pins]) as port:
        for who in ("bob", "dave"):
            creds = ident.channel_credentials(keys[who], c.member("alice").cert_pem)
            assert call(port, creds, "alice").decode() == keys[who].fingerprint
        with pytest.raises(grpc.RpcError):
            call(port, ident.channel_credentials(keys["carol"], keys["alice"].cert_pem), "alice")


def test_committee_client_identity_errors(keys):
    c = _load(keys, _base(keys))
    with pytest.raises(CommitteeError, match=r"has no \[client\] section"):
        c.client_identity()
    c = _load(keys, _base(keys) + "[client]\nkey = 'alice.key'\ncert = 'bob.crt'\n")
    with pytest.raises(CommitteeError, match=r"\[client\]: .*alice\.key: this key does not belong"):
        c.client_identity()


# --- helpers ---------------------------------------------------------------------------

def _ed25519_pair(name):
    return _custom_pair(name, ed25519.Ed25519PrivateKey.generate())


def _custom_pair(name, key, ca=False):
    """A self-signed certificate keygen would not make (Ed25519 key, or CA:TRUE)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(name), x509.DNSName("coprove-node")]), False))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    cert = builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


def _mint(issuer: ident.Identity, name: str) -> ident.Identity:
    """A leaf certificate for ``name`` signed by ``issuer``'s key."""
    issuer_key = serialization.load_pem_private_key(issuer.key_pem, None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.load_pem_x509_certificate(issuer.cert_pem).subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .sign(issuer_key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return ident.Identity(name, key_pem, cert_pem, ident.fingerprint(cert_pem))


# --- [sharing] -------------------------------------------------------------------------

def test_sharing_defaults_to_additive_and_reads_shamir(keys, tmp_path):
    assert _load(keys, _committee_text(keys)).sharing == Sharing()
    c = _load(keys, _committee_text(keys) + '[sharing]\nscheme = "shamir"\nthreshold = 1\n')
    assert c.sharing == Sharing("shamir", 1) and c.sharing.is_threshold
    assert _load(keys, _committee_text(keys) + '[sharing]\nscheme = "additive"\n').sharing == Sharing()
    nodes = [Member.from_identity(keys[n], f"h{i}:1") for i, n in enumerate(("alice", "bob", "carol"))]
    again = write_committee(tmp_path / "w" / "committee.toml", nodes, sharing=Sharing("shamir", 1))
    assert again.sharing == Sharing("shamir", 1)


@pytest.mark.parametrize("sharing, message", [
    ('scheme = "shamir"\nthreshold = 0\n', r"sharing\.threshold: 0 must be a whole number, at least 1"),
    ('scheme = "shamir"\nthreshold = 2\n', r"sharing\.threshold: threshold 2 needs at least 5 \[\[node\]\] "
                                           r"entries \(2·threshold \+ 1\), the committee lists 3"),
    ('scheme = "shamir"\nthreshold = "1"\n', r"sharing\.threshold: '1' must be a whole number"),
    ('scheme = "shamir"\n', r"sharing\.threshold: missing"),
    ('scheme = "replicated"\n', r"sharing\.scheme: unknown scheme 'replicated'; one of additive, shamir"),
    ('scheme = "additive"\nthreshold = 1\n', r"sharing\.threshold: applies to scheme = \"shamir\" only"),
    ('scheme = "shamir"\nthreshold = 1\nquorum = 3\n', r"sharing: unknown key 'quorum'"),
])
def test_bad_sharing_tables_name_the_file_and_key(keys, sharing, message):
    with pytest.raises(CommitteeError, match=r"committee\.toml: " + message):
        _load(keys, _committee_text(keys) + "[sharing]\n" + sharing)


def test_cli_bad_sharing_table_is_one_line_and_exit_2(keys, tmp_path):
    from cli_helpers import DATA, run_cli
    path = keys["alice"].cert_path.parent / "committee.toml"
    path.write_text(_committee_text(keys) + '[sharing]\nscheme = "shamir"\nthreshold = 2\n')
    d = DATA / "three_public"
    res = run_cli("prove", d / "circuit.zkey", d / "witness.wtns", tmp_path / "p.json", tmp_path / "q.json",
                  "--committee", path)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "sharing.threshold" in res.stderr and str(path) in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "p.json").exists()
