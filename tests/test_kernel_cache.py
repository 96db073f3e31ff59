"""The CPU engine's compiled kernels live in a per-user cache folder, never inside the
installed package, and ``coprove demo`` compiles everything before its nodes start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coordinator_free import __version__
from coordinator_free.localnet import coprove_command
from gpu_msm.cpu import kernel_cache

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("prover", "gpu_msm", "cme", "coordinator_free", "protos")


def _numba_files(top: Path) -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (top / pkg).rglob("*") if p.suffix in (".nbi", ".nbc"))


def _index_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.nbi")}


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["COPROVE_CACHE_DIR"] = str(cache)
    return env


def _warm(env, *flags) -> Path:
    warm = subprocess.run([sys.executable, "-m", "gpu_msm.cpu.warmup", *flags], env=env,
                          capture_output=True, text=True, timeout=900)
    assert warm.returncode == 0, warm.stderr[-3000:]
    return Path(warm.stdout.strip().splitlines()[-1].removeprefix("kernels cached in "))


def test_demo_after_warm_up_compiles_nothing_and_writes_nothing_in_the_package(tmp_path):
    """A cold cache: the warm-up the demo runs compiles into the cache folder; the demo
    that follows (three node processes, the client, the verifier) then loads every kernel
    it runs and compiles none: no index in the folder changes.  The rest of the families
    (--all) land in the same folder, and nothing of numba's lands in the package."""
    cache = tmp_path / "cache"
    env = _env(cache)
    before = _numba_files(ROOT)
    from gpu_msm.cpu.warmup import _cold
    folder = _warm(env)
    assert folder.is_relative_to(cache / "kernels"), folder
    assert not _cold(folder), "a filled cache looks cold: every warm-up would start child compilers"
    assert _cold(tmp_path / "empty")
    compiled = _index_state(folder)
    modules = {name.split(".")[0] for name in (Path(k).name for k in compiled)}
    assert {"convert", "pippenger", "transform", "vec", "pairing"} <= modules, modules

    prefix, _ = coprove_command()
    demo = subprocess.run([*prefix, "demo", "--out", str(tmp_path / "out")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "coprove verify: OK" in demo.stderr
    after = _index_state(folder)
    changed = sorted(k for k in set(after) | set(compiled) if after.get(k) != compiled.get(k))
    assert not changed, f"the demo compiled kernels the warm-up did not: {changed}"
    assert _warm(env, "--all") == folder
    assert "fixed_base" in {Path(k).name.split(".")[0] for k in _index_state(folder)}
    assert _numba_files(ROOT) == before, "numba wrote its cache inside the package"


def test_numba_cache_dir_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert kernel_cache.kernel_dir() == tmp_path / "numba"


def test_cache_folder_is_per_user_and_stamped(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("COPROVE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = kernel_cache.kernel_dir()
    assert folder == tmp_path / "xdg" / "coprove" / "kernels" / kernel_cache.source_stamp()
    assert folder.is_dir()


def test_unwritable_cache_folder_falls_back_to_a_temporary_one(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("COPROVE_CACHE_DIR", str(blocker / "cache"))
    folder = kernel_cache.kernel_dir()
    assert folder.is_dir() and not folder.is_relative_to(blocker)
    assert folder.name == kernel_cache.source_stamp()


def test_stamp_follows_every_engine_source(tmp_path):
    """numba checks only a kernel's own file; the folder's stamp covers the helpers too."""
    copy = tmp_path / "cpu"
    copy.mkdir()
    for p in kernel_cache.HERE.glob("*.py"):
        (copy / p.name).write_bytes(p.read_bytes())
    assert kernel_cache.source_stamp(copy) == kernel_cache.source_stamp()
    (copy / "fields.py").write_bytes((copy / "fields.py").read_bytes() + b"\n# edited\n")
    assert kernel_cache.source_stamp(copy) != kernel_cache.source_stamp()


def test_child_processes_import_this_copy_not_the_working_directory(tmp_path):
    """The demo's nodes once imported a clone in the working directory instead of the
    installed package, and compiled the whole engine again: a decoy there must not load."""
    decoy = tmp_path / "coordinator_free"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise SystemExit('imported the decoy')\n")
    (decoy / "cli.py").write_text("raise SystemExit('imported the decoy')\n")
    prefix, env = coprove_command()
    r = subprocess.run([*prefix, "--version"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"coprove {__version__}"


def test_version_is_the_installed_one():
    import importlib.metadata

    prefix, env = coprove_command()
    r = subprocess.run([*prefix, "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"coprove {__version__}"
    assert importlib.metadata.version("coprove") == __version__


def test_parallel_warm_up_groups_balance_compile_time():
    from gpu_msm.cpu.warmup import COMPILE_SECONDS, _groups
    names = ["msm_g1", "msm_g2", "ntt", "vector_ops", "conversions", "pairing"]
    for k in (1, 2, 3, 6, 9):
        groups = _groups(names, k)
        assert sorted(n for g in groups for n in g) == sorted(names) and len(groups) == min(k, len(names))
        loads = [sum(COMPILE_SECONDS[n] for n in g) for g in groups]
        # greedy longest-first: no group exceeds the ideal share by more than the largest family
        assert max(loads) <= sum(loads) / len(groups) + max(COMPILE_SECONDS[n] for n in names)


def test_warm_up_names_unknown_families():
    from gpu_msm.cpu.warmup import warm_up
    with pytest.raises(ValueError, match=r"unknown kernel families \['nope'\]"):
        warm_up(only=["msm_g1", "nope"])
