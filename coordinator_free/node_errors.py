"""How the client names a node that let a job down (shared by both modes' clients)."""

from __future__ import annotations

import grpc


class NodeFailed(RuntimeError):
    """One node made the attempt fail; ``node`` is its committee entry."""

    def __init__(self, node, step: str, detail: str):
        self.node, self.step = node, step
        super().__init__(f"node {node.name} ({node.address}) failed during {step}: {detail}")


def rpc_why(e: grpc.RpcError) -> str:
    return f"{e.code().name}: {e.details()}"
