"""Work receipts: who computed which proof, as evidence anyone holding the committee file
can check (``coprove prove ... --receipts FILE``, ``coprove receipts verify``).

A node signs a receipt for each job it completes: the job, circuit, mode, its index, the
circuit's sizes and the MSM sizes it ran, bytes in and out, its times, and the SHA-256 of
the output message it returned.  The client gathers them into a bundle, names the nodes
it holds no receipt for (in threshold mode: an output left out because it was off, or
never used), binds the bundle to the SHA-256 of proof.json and public.json, and signs it.

Everything signed is in one canonical form: a receipt is the exact bytes its node signed
(base64 in the bundle), and the bundle is canonical JSON (sorted keys, no spaces, ASCII)
plus a newline; a file in any other form is refused, so a changed byte anywhere either
breaks a signature, a hash or the form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path

from coordinator_free.identity import fingerprint
from coordinator_free.signing import Signer, Verifier

RECEIPT_DOMAIN = b"coprove work receipt v1\0"
BUNDLE_DOMAIN = b"coprove receipt bundle v1\0"
VERSION = 1


class ReceiptError(ValueError):
    """A bundle that does not check; the message names the entry at fault."""


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def msm_sizes(zkey) -> dict:
    """The MSMs a party runs for this circuit, by name: their numbers of bases."""
    m, n, pub = zkey.n_vars, zkey.domain_size, zkey.n_public
    return {"a": m, "b1": m, "b2": m, "c": m - pub - 1, "h": n}


def node_receipt(signer: Signer, fields: dict) -> tuple[bytes, bytes]:
    """(receipt bytes, signature): what a node returns with a job's result."""
    body = canonical({"version": VERSION, **fields})
    return body, signer.sign(RECEIPT_DOMAIN + body)


def receipt_problem(receipt: bytes, output: bytes, job_id: bytes, fingerprint: str) -> str | None:
    """Why a node's receipt cannot go into the bundle (the client's check when it gets one),
    or None: it must name this job and node and the output the client received."""
    if not receipt:
        return "it returned no receipt"
    try:
        r = json.loads(receipt)
    except ValueError:
        return "its receipt is not JSON"
    if not isinstance(r, dict) or r.get("job") != job_id.hex() or r.get("node") != fingerprint:
        return "its receipt names another job or node"
    if r.get("output_sha256") != hashlib.sha256(output).hexdigest():
        return "its receipt names another output than the one it returned"
    return None


def collect_receipt(summary, node, result) -> None:
    """Add ``node``'s receipt from its JobResult to the summary's, or name it as excluded."""
    why = receipt_problem(result.receipt, result.output, summary.job_id, node.fingerprint)
    if why is None:
        summary.receipts.append((node.name, node.fingerprint, bytes(result.receipt), bytes(result.receipt_signature)))
    else:
        summary.excluded.append((node.name, node.fingerprint, why))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text, where: str) -> bytes:
    if not isinstance(text, str):
        raise ReceiptError(f"{where}: not a base64 string")
    try:
        return base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptError(f"{where}: not valid base64") from None


def write_bundle(path, *, identity, job_id: bytes, circuit: str, mode: str, receipts: list, excluded: list,
                 proof_path, public_path) -> None:
    """``receipts``: [(node name, fingerprint, receipt bytes, signature)];
    ``excluded``: [(node name, fingerprint, why)] (no receipt for these)."""
    body = {
        "version": VERSION, "job": job_id.hex(), "circuit": circuit, "mode": mode,
        "proof_sha256": hashlib.sha256(Path(proof_path).read_bytes()).hexdigest(),
        "public_sha256": hashlib.sha256(Path(public_path).read_bytes()).hexdigest(),
        "receipts": [{"node": name, "fingerprint": fp, "receipt": _b64(r), "signature": _b64(sig)}
                     for name, fp, r, sig in receipts],
        "excluded": [{"node": name, "fingerprint": fp, "why": why} for name, fp, why in excluded],
    }
    bundle = {"body": body, "client": identity.fingerprint,
              "signature": _b64(Signer(identity.key_pem).sign(BUNDLE_DOMAIN + canonical(body)))}
    Path(path).write_bytes(canonical(bundle) + b"\n")


def _field(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        raise ReceiptError(f"{where}: missing {key!r}")
    if not isinstance(obj[key], kind):
        raise ReceiptError(f"{where}: {key!r} has the wrong type")
    return obj[key]


def verify_bundle(raw: bytes, proof_bytes: bytes, public_bytes: bytes, committee) -> str:
    """Check every signature and binding of a bundle (its file's bytes) against the proof's
    and public inputs' files and the committee; returns a one-line summary, raises
    ReceiptError naming what failed."""
    try:
        bundle = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ReceiptError(f"not a receipt bundle (JSON): {e}") from None
    if raw != canonical(bundle) + b"\n":
        raise ReceiptError("not in the canonical form coprove writes (the file was changed)")
    body = _field(bundle, "body", dict, "bundle")
    if _field(body, "version", int, "bundle") != VERSION:
        raise ReceiptError(f"bundle: version {body['version']}, this coprove reads {VERSION}")
    nodes = {m.fingerprint: m.cert_pem for m in (*committee.nodes, *committee.spares)}
    clients = {m.fingerprint: m.cert_pem for m in committee.trusted_clients}
    if committee.client_cert is not None and Path(committee.client_cert).exists():
        pem = Path(committee.client_cert).read_bytes()
        clients.setdefault(fingerprint(pem), pem)
    client_fp = _field(bundle, "client", str, "bundle")
    if client_fp not in clients:
        raise ReceiptError(f"client signature: {client_fp} is not a client of this committee")
    verifier = Verifier({**nodes, **clients})
    sig = _unb64(_field(bundle, "signature", str, "bundle"), "client signature")
    if not verifier.check(client_fp, BUNDLE_DOMAIN + canonical(body), sig):
        raise ReceiptError(f"client signature: does not verify with {client_fp}'s certificate")
    for name, data in (("proof", proof_bytes), ("public", public_bytes)):
        want = _field(body, f"{name}_sha256", str, "bundle")
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            raise ReceiptError(f"{name} file: SHA-256 {got[:16]}…, the bundle binds {want[:16]}…")
    job, circuit, mode = (_field(body, k, str, "bundle") for k in ("job", "circuit", "mode"))
    receipts = _field(body, "receipts", list, "bundle")
    seen = set()
    for k, entry in enumerate(receipts):
        where = f"receipts[{k}]"
        fp = _field(entry, "fingerprint", str, where)
        where += f" ({_field(entry, 'node', str, where)})"
        if fp not in nodes:
            raise ReceiptError(f"{where}: {fp} is not a node or spare of this committee")
        data = _unb64(_field(entry, "receipt", str, where), where)
        if not verifier.check(fp, RECEIPT_DOMAIN + data, _unb64(_field(entry, "signature", str, where), where)):
            raise ReceiptError(f"{where}: the node's signature does not verify")
        try:
            receipt = json.loads(data)
        except ValueError:
            raise ReceiptError(f"{where}: signed, but not a receipt") from None
        for key, want in (("job", job), ("circuit", circuit), ("mode", mode), ("node", fp)):
            if _field(receipt, key, str, where) != want:
                raise ReceiptError(f"{where}: its {key} is {receipt[key]!r}, the bundle's is {want!r}")
        if receipt.get("index") in seen:
            raise ReceiptError(f"{where}: a second receipt for party {receipt.get('index')}")
        seen.add(receipt.get("index"))
    excluded = _field(body, "excluded", list, "bundle")
    names = ", ".join(f"{_field(e, 'node', str, 'excluded')} ({_field(e, 'why', str, 'excluded')})"
                      for e in excluded)
    return (f"{len(receipts)} node receipts for job {job[:12]} ({mode}), bound to the proof and public "
            f"inputs, signed by client {client_fp[:19]}…" + (f"; no receipt: {names}" if names else ""))
