"""The committee file: who the nodes are, where they listen, and which certificates pin
them.  TOML, read with ``tomllib``::

    [[node]]                      # two or more; the nodes of a job
    name = "alice"                # = the certificate's DNS name (TLS checks it)
    address = "10.0.0.1:7100"
    fingerprint = "sha256:…"      # what pins the node
    cert = "alice.crt"            # relative to this file; TLS needs the PEM itself
    [[spare]]                     # optional, same keys: stand-ins when a node fails
    [client]                      # optional: the client's own key and certificate
    key = "client.key"
    cert = "client.crt"
    [[trusted_client]]            # optional: who may submit jobs (name, fingerprint, cert)
    [sharing]                     # optional: how the client shares the witness
    scheme = "shamir"             # or "additive" (the default: private against N−1 of N)
    threshold = 1                 # shamir only: private against any 1 colluding node;
                                  # needs at least 2·threshold + 1 nodes

Every error is a :class:`CommitteeError` whose message starts with the file and the
entry, e.g. ``committee.toml: node[2] (carol): certificate carol.crt has fingerprint
sha256:ab… but the committee says sha256:cd…``.  Indices count from 0, as in TOML.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from coordinator_free import identity as ident

MIN_NODES = 2
_MEMBER_KEYS = {"name", "address", "fingerprint", "cert"}
_CLIENT_KEYS = {"name", "fingerprint", "cert"}  # a trusted client listens nowhere
_SECTIONS = {"node", "spare", "client", "trusted_client", "sharing"}
SCHEMES = ("additive", "shamir")


class CommitteeError(ValueError):
    """A committee file that cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class Member:
    name: str
    address: str | None  # None for a trusted client
    fingerprint: str
    cert_pem: bytes

    @classmethod
    def from_identity(cls, identity: ident.Identity, address: str | None = None) -> "Member":
        return cls(identity.name, address, identity.fingerprint, identity.cert_pem)


@dataclass(frozen=True)
class Sharing:
    """How the client shares the witness: ``additive`` (N-of-N, one round between the
    nodes) or ``shamir`` with ``threshold`` t (any 2t + 1 nodes' outputs, no traffic
    between nodes)."""
    scheme: str = "additive"
    threshold: int | None = None

    @property
    def is_threshold(self) -> bool:
        return self.scheme == "shamir"


@dataclass(frozen=True)
class Committee:
    nodes: list[Member]
    spares: list[Member] = field(default_factory=list)
    client_key: Path | None = None
    client_cert: Path | None = None
    trusted_clients: list[Member] = field(default_factory=list)
    path: Path | None = None
    sharing: Sharing = field(default_factory=Sharing)

    def trust_bundle(self) -> list[bytes]:
        """Certificates a node's server accepts callers from: nodes, spares, clients."""
        return [m.cert_pem for m in (*self.nodes, *self.spares, *self.trusted_clients)]

    def allowed_peers(self, clients: bool = True) -> dict[str, str]:
        """fingerprint -> name, for :class:`identity.PinnedPeerInterceptor`."""
        members = (*self.nodes, *self.spares, *(self.trusted_clients if clients else ()))
        return {m.fingerprint: m.name for m in members}

    def member(self, name: str) -> Member:
        for m in (*self.nodes, *self.spares):
            if m.name == name:
                return m
        raise KeyError(name)

    def client_identity(self) -> ident.Identity:
        if self.client_key is None:
            raise CommitteeError(f"{self.path}: has no [client] section (key and cert)")
        try:
            return ident.load_identity(self.client_key, self.client_cert)
        except ident.IdentityError as e:
            raise CommitteeError(f"{self.path}: [client]: {e}") from None


def load_committee(path) -> Committee:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommitteeError(f"{path}: no such committee file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CommitteeError(f"{path}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise CommitteeError(f"{path}: not valid TOML: {e}") from None

    def fail(where: str, msg: str):
        raise CommitteeError(f"{path}: {where}: {msg}" if where else f"{path}: {msg}")

    unknown = set(doc) - _SECTIONS
    if unknown:
        fail("", f"unknown section {sorted(unknown)[0]!r}; expected [[node]], [[spare]], "
                 "[client], [[trusted_client]] or [sharing]")
    nodes = _members(path, doc, "node", _MEMBER_KEYS, fail)
    spares = _members(path, doc, "spare", _MEMBER_KEYS, fail)
    clients = _members(path, doc, "trusted_client", _CLIENT_KEYS, fail)
    if len(nodes) < MIN_NODES:
        fail("", f"needs at least {MIN_NODES} [[node]] entries, found {len(nodes)}")
    _check_unique(nodes, spares, clients, fail)
    client_key, client_cert = _client_section(path, doc, fail)
    sharing = _sharing_section(doc, len(nodes), fail)
    return Committee(nodes, spares, client_key, client_cert, clients, path, sharing)


def write_committee(path, nodes, spares=(), client=None, trusted_clients=(),
                    sharing: Sharing | None = None) -> Committee:
    """Write a committee file (and ``<name>.crt`` beside it for each member whose
    certificate is not there yet), then load it back, so what is returned is checked.

    ``client`` is an :class:`identity.Identity` read from disk or a (key, cert) path pair.
    """
    path = Path(path)
    here = path.parent
    here.mkdir(parents=True, exist_ok=True)
    lines = ["# coprove committee file (written by write_committee)", ""]
    for section, members in (("node", nodes), ("spare", spares),
                             ("trusted_client", trusted_clients)):
        for m in members:
            lines += [f"[[{section}]]", f"name = {_q(m.name)}"]
            if section != "trusted_client":
                lines.append(f"address = {_q(m.address or '')}")
            lines += [f"fingerprint = {_q(m.fingerprint)}",
                      f"cert = {_q(_place_cert(here, m))}", ""]
    if sharing is not None and sharing.is_threshold:
        lines += ["[sharing]", f"scheme = {_q(sharing.scheme)}", f"threshold = {sharing.threshold}", ""]
    if client is not None:
        key, cert = ((client.key_path, client.cert_path)
                     if isinstance(client, ident.Identity) else client)
        if key is None or cert is None:
            raise CommitteeError(f"{path}: the client identity has no key/cert paths")
        lines += ["[client]", f"key = {_q(_relative(here, key))}",
                  f"cert = {_q(_relative(here, cert))}", ""]
    # Replace atomically: a node never reads a half-written committee.
    fd, tmp = tempfile.mkstemp(prefix=".committee-", suffix=".toml", dir=here)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    try:
        return load_committee(path)
    except CommitteeError:
        path.unlink()
        raise


# --- parsing -----------------------------------------------------------------------

def _members(path: Path, doc: dict, section: str, keys: set, fail) -> list[Member]:
    entries = doc.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        fail(section, f"must be an array of tables: write [[{section}]] before each entry")
    out = []
    for i, entry in enumerate(entries):
        name = entry.get("name")
        where = f"{section}[{i}]" + (f" ({name})" if isinstance(name, str) and name else "")
        for k in sorted(set(entry) - keys):
            fail(where, f"unknown key {k!r}; expected {', '.join(sorted(keys))}")
        for k in sorted(keys):
            if k not in entry:
                fail(where, f"missing key {k!r}")
            if not isinstance(entry[k], str) or not entry[k].strip():
                fail(where, f"{k!r} must be a non-empty string")
        fp = ident.normalize_fingerprint(entry["fingerprint"])
        if fp is None:
            fail(where, f"fingerprint {entry['fingerprint']!r} is not 'sha256:' followed by "
                        "64 hex digits (as `coprove keygen` prints it)")
        address = entry.get("address")
        if address is not None and (msg := _address_problem(address)):
            fail(where, msg)
        cert_pem = _member_cert(path, entry["cert"], fp, name, address is not None, where, fail)
        out.append(Member(name, address, fp, cert_pem))
    return out


def _member_cert(path, rel, fp, name, listens, where, fail) -> bytes:
    cert_path = path.parent / rel
    try:
        pem = cert_path.read_bytes()
    except FileNotFoundError:
        fail(where, f"certificate {rel} not found (looked at {cert_path})")
    except OSError as e:
        fail(where, f"certificate {rel}: cannot read: {e.strerror}")
    try:
        cert = ident.load_cert(pem, f"certificate {rel}")
        ident.check_usable(cert, f"certificate {rel}")
    except ident.IdentityError as e:
        fail(where, str(e))
    actual = ident.fingerprint(pem)
    if actual != fp:
        fail(where, f"certificate {rel} has fingerprint {actual} but the committee says {fp}")
    # Channels name the peer in ssl_target_name_override (its committee name, or the
    # shared "coprove-node"), and TLS wants that name among the certificate's DNS names.
    # Say so now rather than at the first handshake.
    names = [n.lower() for n in ident.dns_names(cert)]
    missing = [n for n in (name, ident.SHARED_SAN) if n.lower() not in names]
    if listens and missing:
        fail(where, f"certificate {rel} lacks the DNS name(s) {', '.join(missing)} "
                    f"(it has {', '.join(names) or 'none'}): make it with "
                    f"`coprove keygen --name {name}` or fix the name")
    return pem


def _address_problem(address: str) -> str | None:
    host, sep, port = address.rpartition(":")
    bad = f"address {address!r} must be host:port (IPv6 as [::1]:7100)"
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return bad
    if host.startswith("["):
        return None if host.endswith("]") and ":" in host else bad
    if ":" in host or any(c.isspace() or c in "/[]" for c in host):
        return bad
    return None


def _check_unique(nodes, spares, clients, fail) -> None:
    seen: dict[tuple[str, str], str] = {}
    for section, members in (("node", nodes), ("spare", spares), ("trusted_client", clients)):
        for i, m in enumerate(members):
            where = f"{section}[{i}] ({m.name})"
            keys = [("name", m.name), ("fingerprint", m.fingerprint)]
            if m.address is not None:
                keys.append(("address", m.address))
            for kind, value in keys:
                key = (kind, value.lower())  # host names and DNS names ignore case
                if key in seen:
                    fail(where, f"{kind} {value} is also used by {seen[key]}; "
                                f"each {kind} must be unique in a committee")
                seen[key] = where


def _client_section(path: Path, doc: dict, fail):
    section = doc.get("client")
    if section is None:
        return None, None
    if not isinstance(section, dict):
        fail("client", "must be a table: write [client] with key and cert")
    for k in sorted(set(section) - {"key", "cert"}):
        fail("client", f"unknown key {k!r}; expected cert, key")
    for k in ("key", "cert"):
        if not isinstance(section.get(k), str) or not section[k].strip():
            fail("client", f"{k!r} must be a non-empty string (a path relative to this file)")
    # Existence is checked by client_identity(): nodes share this file without the key.
    return path.parent / section["key"], path.parent / section["cert"]


def _sharing_section(doc: dict, n_nodes: int, fail) -> Sharing:
    section = doc.get("sharing")
    if section is None:
        return Sharing()
    if not isinstance(section, dict):
        fail("sharing", "must be a table: write [sharing] with scheme (and threshold)")
    for k in sorted(set(section) - {"scheme", "threshold"}):
        fail("sharing", f"unknown key {k!r}; expected scheme, threshold")
    scheme = section.get("scheme", "additive")
    if scheme not in SCHEMES:
        fail("sharing.scheme", f"unknown scheme {scheme!r}; one of {', '.join(SCHEMES)}")
    t = section.get("threshold")
    if scheme == "additive":
        if t is not None:
            fail("sharing.threshold", "applies to scheme = \"shamir\" only (the additive scheme is "
                                      "private against all but one node)")
        return Sharing()
    if t is None:
        fail("sharing.threshold", "missing: scheme = \"shamir\" needs the number of colluding nodes "
                                  "it is private against")
    if type(t) is not int or t < 1:
        fail("sharing.threshold", f"{t!r} must be a whole number, at least 1")
    if 2 * t + 1 > n_nodes:
        fail("sharing.threshold", f"threshold {t} needs at least {2 * t + 1} [[node]] entries "
                                  f"(2·threshold + 1), the committee lists {n_nodes}")
    return Sharing("shamir", t)


# --- writing -----------------------------------------------------------------------

def _place_cert(here: Path, m: Member) -> str:
    if not ident.NAME.match(m.name):
        raise CommitteeError(f"member name {m.name!r} cannot name a certificate file")
    target = here / f"{m.name}.crt"
    if target.exists():
        if ident.fingerprint(target.read_bytes()) != m.fingerprint:
            raise CommitteeError(f"{target}: already holds a different certificate than "
                                 f"{m.name}'s {m.fingerprint}")
    else:
        target.write_bytes(m.cert_pem)
    return target.name


def _relative(here: Path, p) -> str:
    p = Path(p).absolute()
    try:
        return p.relative_to(here.absolute()).as_posix()
    except ValueError:
        return str(p)


def _q(s: str) -> str:
    """A TOML basic string: escape quote, backslash and the control characters TOML
    forbids raw (U+0000..U+001F and U+007F); everything else stays as UTF-8."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
