"""A network of real ``coprove node`` processes on loopback, with ephemeral keys.

``coprove demo`` and the tests use it: keys and certificates for every node and the
client, one committee file, each node a subprocess with its own data directory,
mutual TLS everywhere.  Stopping sends SIGTERM, then SIGKILL after a grace period,
so nothing is left running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from coordinator_free import identity as ident
from coordinator_free.committee import Member, Sharing, write_committee


def coprove_command() -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment that run ``coprove`` from the same files as this process.

    A plain ``python -m`` puts the working directory first on sys.path: a demo started in
    a clone of the repository next to an installed copy had its nodes import the clone,
    with numba's kernel cache keyed by other file paths, so each node compiled the whole
    engine again (figures: bench/RESULTS.md, 'Measurements moved from code comments').
    ``-P`` drops that entry; the package's own root goes on PYTHONPATH only where it is
    not a site-packages folder (an editable install, a run from a clone), which site adds
    anyway.
    """
    import site

    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sites = {str(Path(p).resolve()) for p in (*site.getsitepackages(), site.getusersitepackages())}
    if root not in sites:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return [sys.executable, "-P", "-m", "coordinator_free.cli"], env


def _free_ports(k: int) -> list[int]:
    """k distinct free ports: each socket stays bound until all are chosen, since a port
    released at once can come back for the next request (seen: two nodes given one port)."""
    socks = [socket.socket() for _ in range(k)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class LocalNetwork:
    def __init__(self, n_nodes: int = 3, n_spares: int = 0, workdir=None, extra_args=(), start_timeout=60.0,
                 node_args: dict | None = None, advertise=None, threshold: int | None = None):
        """``threshold``: the committee file gets ``[sharing] scheme = "shamir"`` with it
        (threshold mode); None leaves the additive default."""
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="coprove-net-")
        self.dir = Path(workdir or self._tmp.name)
        self.keys = self.dir / "keys"
        self.names = [f"node{i + 1}" for i in range(n_nodes + n_spares)]
        self.n_nodes = n_nodes
        self.extra_args = list(extra_args)
        self.node_args = dict(node_args or {})  # name -> extra arguments for that node only
        # advertise(name, real_address) -> the address peers and the client dial (a proxy, in tests)
        self.advertise = advertise or (lambda name, address: address)
        self.start_timeout = start_timeout
        self.threshold = threshold
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, list[str]] = {}
        self.committee_path = self.dir / "committee.toml"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        ids = {n: ident.generate_identity(self.keys, n) for n in self.names}
        client = ident.generate_identity(self.keys, "client")
        self.addresses = {n: f"127.0.0.1:{p}" for n, p in zip(self.names, _free_ports(len(self.names)))}
        members = [Member.from_identity(ids[n], self.advertise(n, self.addresses[n])) for n in self.names]
        self.committee = write_committee(
            self.committee_path, members[:self.n_nodes], members[self.n_nodes:],
            client=client, trusted_clients=[Member.from_identity(client)],
            sharing=None if self.threshold is None else Sharing("shamir", self.threshold))
        for n in self.names:
            self.start_node(n)
        return self

    def start_node(self, name: str):
        data = self.dir / "data" / name
        data.mkdir(parents=True, exist_ok=True)
        prefix, env = coprove_command()
        cmd = [*prefix, "node", "--listen", self.addresses[name],
               "--key", str(self.keys / f"{name}.key"), "--cert", str(self.keys / f"{name}.crt"),
               "--data-dir", str(data), "--committee", str(self.committee_path), *self.extra_args,
               *self.node_args.get(name, [])]
        if not {"--gpu", "--gpus", "--cpu"} & set(cmd):
            cmd.append("--cpu")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env)
        self.procs[name] = proc
        lines = self.logs.setdefault(name, [])
        ready = threading.Event()

        def pump():
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if "listening on" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True, name=f"log-{name}").start()
        if not ready.wait(self.start_timeout) or proc.poll() is not None:
            tail = "\n".join(lines[-20:])
            self.stop()
            raise RuntimeError(f"node {name} did not start:\n{tail}")

    def kill(self, name: str, sig=signal.SIGKILL):
        self.procs[name].send_signal(sig)

    def stop(self, grace: float = 10.0):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)  # a stopped node cannot act on SIGTERM
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
