"""Prometheus metrics of a node: jobs, bytes and step times (``--metrics HOST:PORT``)."""

from __future__ import annotations

from coordinator_free import __version__
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class NodeMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.jobs = Counter("coprove_jobs_total", "Jobs ended, by outcome", ["outcome"], registry=self.registry)
        self.running = Gauge("coprove_jobs_running", "Jobs in progress", registry=self.registry)
        self.bytes_sent = Counter("coprove_peer_bytes_sent_total", "Bytes sent to peers", registry=self.registry)
        self.bytes_received = Counter("coprove_peer_bytes_received_total", "Bytes received from peers",
                                      registry=self.registry)
        self.refused_peer_parts = Counter("coprove_peer_parts_refused_total",
                                          "Peer parts refused unread (sent to a threshold job)",
                                          registry=self.registry)
        self.step_seconds = Histogram("coprove_step_seconds", "Seconds per proving step", ["step"],
                                      registry=self.registry,
                                      buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
        # the Prometheus convention for build facts: a constant 1 labelled with them
        self.build_info = Gauge("coprove_build_info", "This node's coprove version", ["version"],
                                registry=self.registry)
        self.build_info.labels(__version__).set(1)
        self.uploads = Counter("coprove_circuit_bytes_uploaded_total", "Circuit bytes received",
                               registry=self.registry)

    def serve(self, address: str) -> int:
        host, _, port = address.rpartition(":")
        server, _ = start_http_server(int(port), addr=host or "127.0.0.1", registry=self.registry)
        return server.server_port
