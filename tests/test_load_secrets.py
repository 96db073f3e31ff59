"""Load (20 concurrent jobs, bounded memory) and secrets (no witness value or share in
logs, data directories or metrics)."""

from __future__ import annotations

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cme.session import ClientSession
from cli_helpers import DATA
from coordinator_free.client import Client
from coordinator_free.localnet import LocalNetwork
from prover.limbs import limbs_to_ints
from prover.snarkjs_json import read_vkey
from prover.verify import verify
from prover.wtns import read_wtns
from prover.zkey import read_zkey

THREE = DATA / "three_public"


def _rss_kb(pid: int, field: str = "VmHWM") -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1))


def test_twenty_concurrent_jobs_all_verify_with_bounded_memory(record_property):
    vk = read_vkey(THREE / "verification_key.json")
    with LocalNetwork(3) as net:
        with Client(net.committee, deadline_s=300) as client:
            client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")  # upload, warm up
            before = {n: _rss_kb(p.pid, "VmRSS") for n, p in net.procs.items()}
            with ThreadPoolExecutor(20) as pool:
                results = list(pool.map(lambda _: client.prove(THREE / "circuit.zkey", THREE / "witness.wtns"),
                                        range(20)))
        assert all(verify(vk, public, (p.pi_a, p.pi_b, p.pi_c)) for p, public, _ in results)
        peak = {n: _rss_kb(p.pid) for n, p in net.procs.items()}
    record_property("rss_kb_before", before)
    record_property("peak_rss_kb", peak)
    print(f"\nRSS before the 20 jobs (kB): {before}; peak (VmHWM, kB): {peak}")
    for n in peak:
        # bounded: 20 small jobs must not cost more than a fixed allowance over the idle node
        assert peak[n] < before[n] + 300_000, (n, before[n], peak[n])


def _needles(values):
    """Byte patterns a leaked field element would leave: decimal, hex, 32-byte LE/BE."""
    out = set()
    for v in values:
        if v < 1 << 40:  # small values (0, 1, counters) occur everywhere by chance
            continue
        out |= {str(v).encode(), format(v, "x").encode(), v.to_bytes(32, "little"), v.to_bytes(32, "big")}
    return out


def test_no_witness_value_or_share_leaves_the_client(monkeypatch, tmp_path):
    zkey = read_zkey(THREE / "circuit.zkey")
    w = limbs_to_ints(read_wtns(THREE / "witness.wtns").values)
    private = w[zkey.n_public + 1:]
    dealt, blinding = [], []
    real_init = ClientSession.__init__

    def observing_init(self, *args, **kw):
        real_init(self, *args, **kw)
        dealt.append([(m.seed, [v for arr in m.corrections.vectors().values() for v in limbs_to_ints(arr)]
                       if m.corrections else []) for m in self.materials])
        blinding.extend((self._r, self._s))

    monkeypatch.setattr(ClientSession, "__init__", observing_init)
    with LocalNetwork(3, extra_args=["--metrics", "127.0.0.1:0"], workdir=tmp_path) as net:
        with Client(net.committee) as client:
            proof, public, _ = client.prove(THREE / "circuit.zkey", THREE / "witness.wtns")
        metrics = []
        for n in net.names:
            line = next(l for l in net.logs[n] if "listening on" in l)
            port = int(re.search(r"metrics on port (\d+)", line).group(1))
            metrics.append(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read())
        logs = "\n".join(l for n in net.names for l in net.logs[n]).encode()
        data_files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
        contents = b"".join(p.read_bytes() for p in data_files)
    assert len(dealt) == 1
    seeds = [s for s, _ in dealt[0]]
    shares = [v for _, ws in dealt[0] for v in ws]
    # r and s stay with the client: no node is sent them, so none can log or keep them
    needles = _needles(private) | _needles(shares) | _needles(blinding) | set(seeds)
    assert len(needles) > 20
    # the data directories hold the circuit and nothing else
    assert all(p.parent.name == "circuits" and p.suffix == ".zkey" for p in data_files), data_files
    for where, blob in (("logs", logs), ("data directories", contents), ("metrics", b"".join(metrics))):
        found = [n for n in needles if n in blob]
        assert not found, f"a witness value or share appears in the {where}"
