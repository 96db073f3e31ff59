"""Bulk throughput of the node mesh on loopback: the real gRPC path against a raw TLS ceiling.

    python bench/grpc_throughput.py [--mb 89.5] [--submit-mb 32] [--reps 3]
                                    [--only grpc,submit,tls] [--part-mib 4] [--pipeline 8]
                                    [--chunk-mib 4] [--copt NAME=VALUE ...] [--sopt NAME=VALUE ...]
                                    [--json PATH]

Every node is its own process running ``coordinator_free.node.serve`` (the real servicer,
interceptor, server options and mutual TLS with keys from ``identity.generate_identity``);
a node sends with ``mesh.GrpcTransport.send`` over ``mesh.PeerChannels`` and receives with
``jobs.Job.recv``, as round 1 of a job does, so the figures include the part framing, the
pipelining, the reassembly and every copy Python makes.  Patterns, each node sending
``--mb`` MB in all (split evenly over the peers it sends to) and all senders starting at
once:

- ``1->1``: node 0 to node 1;
- ``1<->1``: nodes 0 and 1 to each other;
- ``3 all``: three nodes, each to both others (a 2^20 job's round 1 is 89.5 MB per node,
  in two phases of half that; here it is one phase).

``submit``: ``Client._submit`` (the real client stream of ``client.CHUNK`` parts) into the
node's real ``SubmitJob`` loop, ``--submit-mb`` MB to one node, then to three nodes at once
from one client process as a job submission does; the node's circuit and material checks
are stubbed out (there is no circuit) and the job ends at once.

``unsigned``: the gRPC patterns again with no message signatures (nodes sign every peer
message and check every one they receive: ``coordinator_free.signing``), to price them.

``tls``: the ceiling: the same three patterns between the same processes over Python
``ssl`` sockets with the same certificates and pinning (one connection per direction,
``sendall`` of 4 MiB slices, ``recv_into`` a buffer of the message's size).

MB are 10^6 bytes; MB/s is per direction per node (bytes a node sends / seconds until
the last byte of the pattern arrived); the best of ``--reps`` after a warm-up.  Knobs, for
trying gRPC settings without editing the code: ``--part-mib``/``--pipeline`` set
``mesh.PART_BYTES``/``mesh.PIPELINE`` (the node's part-size check follows), ``--chunk-mib``
``client.CHUNK``; ``--copt``/``--sopt`` add channel / server options (an integer value if it
parses as one).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_NODES = 3
TLS_SLICE = 4 << 20


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parse_opts(items):
    out = []
    for item in items or ():
        name, _, value = item.partition("=")
        try:
            value = int(value)
        except ValueError:
            pass
        out.append((name, value))
    return out


def apply_knobs(knobs: dict) -> None:
    """Patch this process's modules with the knobs under test (children call this first)."""
    import grpc

    from coordinator_free import client, identity, mesh, node

    if knobs.get("part_bytes"):
        mesh.PART_BYTES = node.PART_BYTES = knobs["part_bytes"]
    if knobs.get("pipeline"):
        mesh.PIPELINE = knobs["pipeline"]
    if knobs.get("chunk"):
        client.CHUNK = knobs["chunk"]
    copts, sopts = knobs.get("copts") or [], knobs.get("sopts") or []
    if copts:
        base = identity.channel_options
        identity.channel_options = lambda name: [*copts, *base(name)]  # gRPC takes the first of a name
    if sopts:
        real_server = grpc.server

        def server(*a, options=None, **kw):
            return real_server(*a, options=[*sopts, *(options or [])], **kw)

        node.grpc.server = server  # node.serve calls grpc.server through its module


# --- a node process ---------------------------------------------------------------------

def node_main(conn, index: int, keys: str, addresses: list, knobs: dict) -> None:
    apply_knobs(knobs)
    from coordinator_free import identity as ident
    from coordinator_free import node
    from coordinator_free.jobs import DONE, Job, PartyInfo
    from coordinator_free.mesh import GrpcTransport

    keys = Path(keys)
    names = [f"node{i + 1}" for i in range(len(addresses))]
    me = ident.load_identity(keys / f"{names[index]}.key", keys / f"{names[index]}.crt")
    ids = [ident.load_identity(keys / f"{n}.key", keys / f"{n}.crt") for n in names]
    client = ident.load_identity(keys / "client.key", keys / "client.crt")
    trusted = {i.fingerprint: i.cert_pem for i in (*ids, client)}
    parties = [PartyInfo(i, names[i], addresses[i], ids[i].fingerprint) for i in range(len(names))]

    # SubmitJob without a circuit: the stream loop is the real one, the checks around it are not
    submit_size = [0]

    class CountingStream:  # cme.material.MaterialStream's interface, keeping nothing
        def __init__(self, **kw):
            self.size, self.received, self.material = submit_size[0], 0, None

        def feed(self, data):
            self.received += len(data)
            self.material = SimpleNamespace(corrections=None)

        def close(self):
            assert self.received == self.size, (self.received, self.size)

        def fail(self, why):
            pass

    node.MaterialStream = CountingStream

    with tempfile.TemporaryDirectory(prefix="grpc-bench-") as data, \
            node.serve(node.NodeConfig(identity=me, data_dir=Path(data), trusted=trusted,
                                       clients={client.fingerprint}),
                       addresses[index]) as (service, _port):
        service._check_manifest = lambda m, context: (SimpleNamespace(n_vars=0, domain_size=0), parties)
        service._run = lambda job, zkey, material: job.finish(DONE)
        tls_server = TlsServer(me, ids, addresses[index])
        conn.send("ready")
        payloads: dict[int, bytes] = {}
        job = None
        while True:
            cmd, arg = conn.recv()
            if cmd == "stop":
                tls_server.close()
                return
            if cmd == "cpu":
                conn.send(time.process_time())
            elif cmd == "submit_size":
                submit_size[0] = arg
                conn.send("ok")
            elif cmd == "prepare":  # arg: (job_id, {peer: nbytes to send}, [peers to receive from])
                job_id, sends, recvs = arg
                for k, nbytes in sends.items():
                    if len(payloads.get(k, b"")) != nbytes:
                        payloads[k] = os.urandom(nbytes)
                job = Job(job_id, "bench", index, parties, time.monotonic() + 120, max_buffered=1 << 40)
                service.jobs[job_id] = job
                conn.send("ok")
            elif cmd in ("go", "go-unsigned", "tls"):  # arg: start time (time.monotonic is system-wide)
                start = arg
                if cmd.startswith("go"):
                    # signed and checked as a node's round 1 is; "go-unsigned" without, to
                    # price the signatures in the same run
                    signed = cmd == "go"
                    job.verify = service.verify_for(job) if signed else None
                    transport = GrpcTransport(job, service.channels, service.signer if signed else None)
                    send, recv = transport.send, transport.recv
                else:
                    send, recv = tls_send(me, ids, addresses), tls_server.recv
                conn.send(run_pattern(start, sends, recvs, payloads, send, recv))
                job.finish(DONE)
                service.jobs.pop(job.job_id, None)


def run_pattern(start, sends, recvs, payloads, send, recv):
    """Send to and receive from every peer at once (threads, as AdditiveOps._send_each)."""
    ends, errors = {}, []

    def do(kind, k):
        try:
            if kind == "send":
                send(k, payloads[k])
            else:
                got = recv(k)
                if len(got) != expect[k]:
                    raise RuntimeError(f"got {len(got)} bytes from {k}, expected {expect[k]}")
            ends[(kind, k)] = time.monotonic()
        except Exception as e:  # reported to the parent
            errors.append(f"{kind} {k}: {type(e).__name__}: {e}")

    expect = dict(recvs)
    cpu0 = time.process_time()
    threads = [threading.Thread(target=do, args=("send", k)) for k in sends] + \
              [threading.Thread(target=do, args=("recv", k)) for k in expect]
    time.sleep(max(0.0, start - time.monotonic()))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        return {"error": "; ".join(errors)}
    # CPU seconds of this whole process (gRPC's own threads included), as the run left it
    return {"end": max(ends.values(), default=start) - start, "cpu": time.process_time() - cpu0}


# --- the raw TLS ceiling ------------------------------------------------------------------

def _tls_context(me, server_side: bool, trusted_pems):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    with tempfile.NamedTemporaryFile() as k, tempfile.NamedTemporaryFile() as c:
        k.write(me.key_pem), c.write(me.cert_pem)
        k.flush(), c.flush()
        ctx.load_cert_chain(c.name, k.name)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=b"".join(trusted_pems).decode())
    return ctx


class TlsServer:
    """Accepts one connection per (peer, message) on the node's gRPC port + 1 (``Net`` picks
    ports whose neighbour is free), requiring a committee certificate, as the node does."""

    def __init__(self, me, ids, address):
        self._ctx = _tls_context(me, True, [i.cert_pem for i in ids])
        host, port = address.rsplit(":", 1)
        self._sock = socket.create_server((host, int(port) + 1))
        self._got: dict = {}
        self._cv = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                raw, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        with self._ctx.wrap_socket(raw, server_side=True) as s:
            head = _recv_exact(s, 12)
            sender, size = int.from_bytes(head[:4], "little"), int.from_bytes(head[4:], "little")
            buf = bytearray(size)
            view = memoryview(buf)
            got = 0
            while got < size:
                n = s.recv_into(view[got:], min(size - got, TLS_SLICE))
                if n == 0:
                    raise ConnectionError("peer closed early")
                got += n
            s.sendall(b"k")  # acknowledged once all of it arrived, as a unary PeerSend is
        with self._cv:
            self._got[sender] = buf
            self._cv.notify_all()

    def recv(self, sender):
        with self._cv:
            self._cv.wait_for(lambda: sender in self._got, timeout=120)
            return self._got.pop(sender)

    def close(self):
        self._sock.close()


def tls_send(me, ids, addresses):
    ctx = _tls_context(me, False, [i.cert_pem for i in ids])
    ctx.check_hostname = True
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2

    me_index = next(i for i, x in enumerate(ids) if x.fingerprint == me.fingerprint)

    def send(to, payload):  # a fresh connection per message: its handshake is in the figure
        host, port = addresses[to].rsplit(":", 1)
        with socket.create_connection((host, int(port) + 1)) as raw, \
                ctx.wrap_socket(raw, server_hostname="coprove-node") as s:
            # the peer must present exactly node `to`'s certificate, as gRPC's pinning checks
            if s.getpeercert(binary_form=True) != ssl.PEM_cert_to_DER_cert(ids[to].cert_pem.decode()):
                raise ssl.SSLError("unexpected peer certificate")
            s.sendall(me_index.to_bytes(4, "little") + len(payload).to_bytes(8, "little"))
            view = memoryview(payload)
            for off in range(0, len(payload), TLS_SLICE):
                s.sendall(view[off:off + TLS_SLICE])
            if _recv_exact(s, 1) != b"k":
                raise ConnectionError("no acknowledgement")

    return send


def _recv_exact(s, n):
    out = b""
    while len(out) < n:
        more = s.recv(n - len(out))
        if not more:
            raise ConnectionError("peer closed early")
        out += more
    return out


# --- the submit path ------------------------------------------------------------------------

def submit_main(conn, keys: str, addresses: list, knobs: dict) -> None:
    """A client process: ``Client._submit`` to the given nodes at once, timed."""
    apply_knobs(knobs)
    from concurrent.futures import ThreadPoolExecutor

    from coordinator_free import identity as ident
    from coordinator_free.client import Client
    from protos import coprove_pb2 as pb

    keys = Path(keys)
    names = [f"node{i + 1}" for i in range(len(addresses))]
    ids = [ident.load_identity(keys / f"{n}.key", keys / f"{n}.crt") for n in names]
    me = ident.load_identity(keys / "client.key", keys / "client.crt")
    nodes = [SimpleNamespace(name=names[i], address=addresses[i], fingerprint=ids[i].fingerprint,
                             cert_pem=ids[i].cert_pem) for i in range(len(names))]
    parties = [pb.Party(index=i, name=n.name, address=n.address, fingerprint=n.fingerprint)
               for i, n in enumerate(nodes)]
    client = Client(committee=None, identity=me, rpc_seconds=120)
    conn.send("ready")
    material = b""
    while True:
        cmd, arg = conn.recv()
        if cmd == "stop":
            client.close()
            return
        targets, size = arg
        if len(material) != size:
            material = os.urandom(size)
        deadline_ms = int((time.time() + 600) * 1000)
        t0, cpu0 = time.monotonic(), time.process_time()
        with ThreadPoolExecutor(len(targets)) as pool:
            futs = [pool.submit(client._submit, nodes[i], os.urandom(16), "0" * 64, i, parties,
                                deadline_ms, [material[:96], memoryview(material)[96:]]) for i in targets]
            for f in futs:
                f.result()
        conn.send({"end": time.monotonic() - t0, "cpu": time.process_time() - cpu0})


# --- the parent -----------------------------------------------------------------------------

PATTERNS = {  # name -> (nodes, {sender: [receivers]})
    "1->1": (2, {0: [1]}),
    "1<->1": (2, {0: [1], 1: [0]}),
    "3 all": (3, {0: [1, 2], 1: [0, 2], 2: [0, 1]}),
}


class Net:
    def __init__(self, keys: Path, knobs: dict):
        ctx = mp.get_context("spawn")
        self.addresses = []
        while len(self.addresses) < N_NODES:  # a gRPC port p and a TLS port p + 1, both free
            p = _free_port()
            try:
                with socket.create_server(("127.0.0.1", p + 1)):
                    self.addresses.append(f"127.0.0.1:{p}")
            except OSError:
                continue
        self.conns, self.procs = [], []
        for i in range(N_NODES):
            a, b = ctx.Pipe()
            p = ctx.Process(target=node_main, args=(b, i, str(keys), self.addresses, knobs), daemon=True)
            p.start()
            self.conns.append(a)
            self.procs.append(p)
        a, b = ctx.Pipe()
        self.client = ctx.Process(target=submit_main, args=(b, str(keys), self.addresses, knobs), daemon=True)
        self.client.start()
        self.client_conn = a
        for c in (*self.conns, self.client_conn):
            if not c.poll(60):
                raise RuntimeError("a benchmark process did not start")
            c.recv()

    def exchange(self, pattern: str, total: int, kind: str) -> float:
        n, senders = PATTERNS[pattern]
        job_id = os.urandom(16)
        plan = {i: ({}, []) for i in range(n)}
        for s, tos in senders.items():
            for t in tos:
                plan[s][0][t] = total // len(tos)
                plan[t][1].append((s, total // len(tos)))
        for i in range(n):
            self.conns[i].send(("prepare", (job_id, *plan[i])))
        for i in range(n):
            self.conns[i].recv()
        start = time.monotonic() + 0.1
        for i in range(n):
            self.conns[i].send((kind, start))
        res = [self.conns[i].recv() for i in range(n)]
        bad = [r["error"] for r in res if "error" in r]
        if bad:
            raise RuntimeError(f"{pattern} ({kind}): {bad}")
        return max(r["end"] for r in res), sum(r["cpu"] for r in res)

    def submit(self, targets, size: int) -> float:
        for c in self.conns:
            c.send(("submit_size", size))
            c.recv()
        node_cpu = self._node_cpu()
        self.client_conn.send(("submit", (targets, size)))
        r = self.client_conn.recv()
        return r["end"], r["cpu"] + self._node_cpu() - node_cpu

    def _node_cpu(self) -> float:
        for c in self.conns:
            c.send(("cpu", None))
        return sum(c.recv() for c in self.conns)

    def close(self):
        for c in (*self.conns, self.client_conn):
            try:
                c.send(("stop", None))
            except OSError:
                pass
        for p in (*self.procs, self.client):
            p.join(10)
            if p.is_alive():
                p.terminate()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=89.5, help="MB each node sends in an exchange")
    ap.add_argument("--submit-mb", type=float, default=32.0, help="MB of material per node in submit")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="grpc,unsigned,submit,tls",
                    help="grpc (signed, as nodes send), unsigned (the same without signatures), submit, tls")
    ap.add_argument("--part-mib", type=float)
    ap.add_argument("--pipeline", type=int)
    ap.add_argument("--chunk-mib", type=float)
    ap.add_argument("--copt", action="append", help="extra channel option NAME=VALUE")
    ap.add_argument("--sopt", action="append", help="extra server option NAME=VALUE")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    knobs = {"part_bytes": int(args.part_mib * (1 << 20)) if args.part_mib else None,
             "pipeline": args.pipeline, "chunk": int(args.chunk_mib * (1 << 20)) if args.chunk_mib else None,
             "copts": _parse_opts(args.copt), "sopts": _parse_opts(args.sopt)}
    apply_knobs(knobs)
    from coordinator_free import client, identity, mesh

    only = set(args.only.split(","))
    total, sub = int(args.mb * 1e6), int(args.submit_mb * 1e6)
    import grpc
    log(f"grpcio {grpc.__version__}, {os.cpu_count()} CPUs; PART_BYTES={mesh.PART_BYTES} "
        f"PIPELINE={mesh.PIPELINE} CHUNK={client.CHUNK}; channel options "
        f"{identity.channel_options(mesh.SERVER_NAME)[2:]}; extra server options {knobs['sopts']}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="grpc-bench-keys-") as tmp:
        keys = Path(tmp)
        for i in range(N_NODES):
            identity.generate_identity(keys, f"node{i + 1}")
        identity.generate_identity(keys, "client")
        t0 = time.perf_counter()
        net = Net(keys, knobs)
        try:
            def best(fn, what, nbytes, moved):
                fn()  # warm-up: connections, handshakes, first-touch of the buffers
                runs = [fn() for _ in range(args.reps)]
                secs, cpu = min(runs)
                rows.append({"what": what, "mb_per_node": nbytes / 1e6, "seconds": secs,
                             "mb_per_s": nbytes / secs / 1e6, "cpu_s_per_gb": cpu / (moved / 1e9)})
                log(f"  {what:<26} {secs:7.3f} s  {nbytes / secs / 1e6:7.0f} MB/s  "
                    f"{cpu / (moved / 1e9):5.2f} CPU s/GB  (runs: {' '.join(f'{r[0]:.3f}' for r in runs)})")

            for kind in ("grpc", "unsigned", "submit", "tls"):
                if kind not in only:
                    continue
                if kind == "submit":
                    best(lambda: net.submit([0], sub), "grpc submit 1 node", sub, sub)
                    best(lambda: net.submit([0, 1, 2], sub), "grpc submit 3 nodes", sub, 3 * sub)
                    continue
                for pattern in PATTERNS:
                    cmd = {"grpc": "go", "unsigned": "go-unsigned", "tls": "tls"}[kind]
                    label = "grpc unsigned" if kind == "unsigned" else kind
                    best(lambda: net.exchange(pattern, total, cmd),
                         f"{label} {pattern}", total, total * len(PATTERNS[pattern][1]))
        finally:
            net.close()
        wall = time.perf_counter() - t0
    print(f"\n{'path':<26} {'MB/node':>8} {'seconds':>8} {'MB/s':>7} {'CPU s/GB':>9}")
    for r in rows:
        print(f"{r['what']:<26} {r['mb_per_node']:8.1f} {r['seconds']:8.3f} {r['mb_per_s']:7.0f} "
              f"{r['cpu_s_per_gb']:9.2f}")
    print(f"({wall:.0f} s; MB/s per direction per node, best of {args.reps}; CPU s/GB: CPU time of "
          f"the node processes (and for submit the client's) per GB moved)")
    if args.json:
        args.json.write_text(json.dumps({"knobs": {k: v for k, v in knobs.items()}, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
