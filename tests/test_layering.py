"""The package layering DESIGN.md fixes, read from the source: coordinator_free → cme →
prover → gpu_msm, never upward, no import cycles between modules, and prover reaching
the engine only through gpu_msm's public names."""

from __future__ import annotations

import ast
from pathlib import Path

import gpu_msm

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["gpu_msm", "prover", "cme", "coordinator_free"]  # each may import those before it
PUBLIC_ENGINE = {"gpu_msm", "gpu_msm.constants"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at any depth (function-level imports too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)  # submodules named this way
    return out


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in ORDER + ["protos"] for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module(p): p for p in files}
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def test_no_import_runs_up_the_layers():
    rank = {pkg: i for i, pkg in enumerate(ORDER)}
    bad = [(m, i) for m, deps in _graph().items() for i in deps
           if m.split(".")[0] in rank and i.split(".")[0] in rank
           and rank[i.split(".")[0]] > rank[m.split(".")[0]]]
    assert not bad, bad


def test_no_import_cycles():
    graph, state, cycles = _graph(), {}, []

    def visit(m, path):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycles.append(path[path.index(d):] + [d] if d in path else [m, d])
            elif d not in state:
                visit(d, path + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package importing its own submodules is the usual shape, not a cycle
    cycles = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".") or c[0].startswith(x + ".")
                                           for x in c)]
    assert not cycles, cycles


def test_prover_uses_only_the_engine_public_api():
    names = set(gpu_msm.__all__)
    bad = []
    for path in (ROOT / "prover").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gpu_msm"):
                if node.module not in PUBLIC_ENGINE or (
                        node.module == "gpu_msm" and any(a.name not in names for a in node.names)):
                    bad.append((path.name, node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                bad += [(path.name, a.name) for a in node.names
                        if a.name.startswith("gpu_msm") and a.name not in PUBLIC_ENGINE]
    assert not bad, bad
