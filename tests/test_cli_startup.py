"""Start-up of the file-only commands: each imports what its path runs and nothing more
(``prove --single`` and ``verify`` no gRPC, TLS or collaborative code; ``keygen`` and
``--version`` no numba), since at small sizes start-up is most of a proof's wall time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import DATA

CHAIN = DATA / "mul_chain_2e10"
ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numba", "grpc", "cryptography", "cme", "coordinator_free.client", "py_ecc", "scipy")


def _imported(tmp_path, *argv) -> set[str]:
    script = ("import json, sys\nfrom coordinator_free import cli\n"
              "try:\n    rc = cli.main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
              "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules)}))\n")
    r = subprocess.run([sys.executable, "-c", script, *map(str, argv)], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["rc"] in (0, None), r.stderr
    return {m for m in out["modules"] if m.split(".")[0] in {h.split(".")[0] for h in HEAVY}}


def _brought_by(module: str) -> set[str]:
    script = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                       check=True)
    tops = {m.split(".")[0] for m in json.loads(r.stdout.strip().splitlines()[-1])}
    return tops & {h.split(".")[0] for h in HEAVY}


@pytest.mark.parametrize("argv,allowed", [
    (("prove", CHAIN / "circuit.zkey", CHAIN / "witness.wtns", "p.json", "pub.json", "--single"), {"numba"}),
    (("verify", CHAIN / "verification_key.json", CHAIN / "public.json", CHAIN / "proof.json"), {"numba"}),
    # an identity is TLS material: the module holding it also builds the gRPC credentials
    (("keygen", "--out", "keys", "--name", "n"), {"cryptography", "grpc", "coordinator_free.identity"}),
    (("--version",), set()),
])
def test_commands_import_only_their_path(tmp_path, argv, allowed):
    if "numba" in allowed:
        # numba imports scipy itself where scipy is installed: what a bare `import numba`
        # brings in this environment is numba's cost, not the path's
        allowed = allowed | _brought_by("numba")
    heavy = {m.split(".")[0] if m.split(".")[0] != "coordinator_free" else m
             for m in _imported(tmp_path, *argv)}
    heavy.discard("coordinator_free")
    heavy.discard("coordinator_free.cli")
    assert heavy <= allowed, f"{argv[0]} imported {sorted(heavy - allowed)}"


def test_the_command_keeps_numba_from_importing_scipy(tmp_path):
    """numba imports SciPy where it is installed (to check its version, and at its first
    kernel scipy.linalg, for np.dot and np.linalg, which no kernel here uses); the ``coprove`` command's process refuses it
    that import, and still proves.  A stand-in ``scipy`` package first on the path (so
    the test runs whether SciPy is installed or not) records any import of it; the same
    script without the command's guard shows the import does happen."""
    fake = tmp_path / "site" / "scipy"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("import os\n__version__ = '1.17.0'  # numba checks it\n"
                                      "open(os.environ['SCIPY_MARK'], 'w').close()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(ROOT)]),
           "SCIPY_MARK": str(tmp_path / "imported")}
    script = ("import sys\nfrom coordinator_free import cli\n"
              "if sys.argv[1] == 'unguarded':\n    cli._without_scipy = lambda: None\n"
              "sys.argv = ['coprove', *sys.argv[2:]]\ncli.entry()\n")
    argv = ["prove", str(CHAIN / "circuit.zkey"), str(CHAIN / "witness.wtns"), "p.json", "pub.json", "--single"]
    r = subprocess.run([sys.executable, "-P", "-c", script, "guarded", *argv], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "imported").exists(), "the command's process imported scipy"
    assert json.loads((tmp_path / "pub.json").read_text()) == json.loads((CHAIN / "public.json").read_text())
    r = subprocess.run([sys.executable, "-P", "-c", script, "unguarded", *argv], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "imported").exists(), "numba no longer imports scipy: the guard may go"
