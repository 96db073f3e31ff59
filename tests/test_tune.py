"""gpu_msm.tune and `coprove tune` on the CPU engine at small sizes.

Every test points the cache at its own temporary file ($GPU_MSM_TUNE_CACHE).  The CUDA
side runs here where it needs no device (the ACC_BLOCK module variants, entry
validation, the CLI's refusal without a GPU); its search itself is a ``gpu`` test.
"""

from __future__ import annotations

import json
import random
import warnings

import numpy as np
import pytest

import gpu_msm
from cli_helpers import run_cli
from coordinator_free.cli import main as cli_main
from gpu_msm import tune, tune_cache
from gpu_msm.cpu import msm as cpu_msm
from prover.bn254 import FR_MODULUS as R
from prover.bn254 import G1, G2, g1_from_array, g1_to_array, g2_from_array, g2_to_array
from prover.known_points import KnownPoints
from prover.limbs import ints_to_limbs
from prover.msm import msm_pippenger
from test_gpu_msm_cpu import _walk

KNOWN = KnownPoints()


def _tune(*args, **kwargs):
    """gpu_msm.tune.tune with the reference the CLI hands it."""
    return tune.tune(*args, reference=KNOWN, **kwargs)


GROUPS = {"g1": (G1, g1_to_array, g1_from_array), "g2": (G2, g2_to_array, g2_from_array)}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "tune.json"
    monkeypatch.setenv(tune.CACHE_ENV, str(path))
    return path


@pytest.fixture
def rng(test_seed, request) -> random.Random:
    return random.Random(f"{test_seed}/{request.node.name}")


def _input(rng, group, n):
    curve, to_array, _ = GROUPS[group]
    points = _walk(curve, rng, n)
    scalars = [rng.randrange(R) for _ in range(n)]
    return points, scalars, to_array(points), ints_to_limbs(scalars)


def _msm(group, bases, scalars, **kw):
    return getattr(cpu_msm, f"msm_{group}")(bases, scalars, **kw)


def _quiet(_line):
    pass


@pytest.mark.parametrize("group,log_n", [("g1", 8), ("g1", 10), ("g2", 8), ("g2", 10)])
def test_tune_caches_the_fastest_and_msm_uses_it(cache, rng, group, log_n):
    lines = []
    summary = _tune("cpu", group, log_n, repeat=1, progress=lines.append)
    best, default = summary["best"], summary["default"]
    n = 1 << log_n
    assert default["window"] == cpu_msm.window_bits(n) and default["strategy"] == "affine"
    assert not summary["rejected"]
    # every window of default ± 2 for both strategies, each timed and checked
    assert {(c["window"], c["strategy"]) for c in summary["candidates"]} == {
        (w, s) for w in range(default["window"] - 2, default["window"] + 3)
        for s in ("affine", "xyzz")}
    assert best["ms"] == min(c["ms"] for c in summary["candidates"])
    assert any("reference MSM" in line for line in lines)

    stored = json.loads(cache.read_text())
    entry = stored["devices"][tune.device_name("cpu")][group][str(log_n)]
    assert (entry["window"], entry["strategy"], entry["block"]) == (best["window"], best["strategy"], None)
    assert entry["version"] == summary["version"] and entry["date"] == summary["date"]
    assert len(entry["candidates"]) == 10 and entry["default"]["ms"] == default["ms"]
    assert [p.name for p in cache.parent.iterdir()] == ["tune.json"]  # no temporary left over

    want = {"window": best["window"], "block": None, "strategy": best["strategy"]}
    assert tune.lookup("cpu", group, n) == want
    assert tune.lookup("cpu", group, n - n // 4 + 1) == want  # same power-of-two bucket
    assert tune.lookup("cpu", group, n + 1) is None
    assert tune.lookup("cpu", "g2" if group == "g1" else "g1", n) is None

    # an MSM of this size now runs with the cached choice (and is still right)
    points, scalars, bases, scal = _input(rng, group, n - 3)
    out = _msm(group, bases, scal)
    assert cpu_msm.last_config["window"] == best["window"]
    assert cpu_msm.last_config["strategy"] == best["strategy"]
    assert cpu_msm.last_config["window_from"] == "tune cache"
    curve, _, from_array = GROUPS[group]
    assert from_array(out[None])[0] == msm_pippenger(curve, points, scalars)
    # an explicit window still wins over the cache
    _msm(group, bases, scal, c=3)
    assert (cpu_msm.last_config["window"], cpu_msm.last_config["window_from"]) == (3, "argument")


def test_msm_follows_an_entry_unlike_the_cost_model(cache, rng):
    """A window the cost model would not pick, so the one used can only come from the cache."""
    n = 300
    odd = cpu_msm.window_bits(n) + 4
    tune.store("cpu", "g1", tune.size_bucket(n), {"window": odd, "block": None, "strategy": "xyzz"})
    points, scalars, bases, scal = _input(rng, "g1", n)
    out = cpu_msm.msm_g1(bases, scal)
    assert (cpu_msm.last_config["window"], cpu_msm.last_config["strategy"]) == (odd, "xyzz")
    assert g1_from_array(out[None])[0] == msm_pippenger(G1, points, scalars)
    # another process's tune replaces the file: the next MSM sees it without a restart
    # an entry written before the strategy names were shared reads as today's name
    tune.store("cpu", "g1", tune.size_bucket(n), {"window": odd - 1, "block": None,
                                                   "strategy": "affine"})
    cpu_msm.msm_g1(bases, scal)
    assert (cpu_msm.last_config["window"], cpu_msm.last_config["strategy"]) == (odd - 1, "affine")


@pytest.mark.parametrize("content", [
    "{not json",
    "",
    "[1, 2, 3]",
    json.dumps({"format": 99, "devices": {}}),
])
def test_corrupt_cache_is_tolerated(cache, rng, content):
    cache.write_text(content)
    points, scalars, bases, scal = _input(rng, "g2", 20)
    with pytest.warns(RuntimeWarning, match="tune cache"):
        assert tune.lookup("cpu", "g2", 20) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not on every MSM
        out = cpu_msm.msm_g2(bases, scal)
    assert cpu_msm.last_config["window_from"] == "built-in"
    assert g2_from_array(out[None])[0] == msm_pippenger(G2, points, scalars)
    # tuning over it starts a fresh cache (already warned about: silent now)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _tune("cpu", "g1", 4, windows=[3], repeat=1, progress=_quiet)
    assert json.loads(cache.read_text())["format"] == tune.FORMAT
    assert tune.lookup("cpu", "g1", 16)["window"] in (3, cpu_msm.window_bits(16))


@pytest.mark.parametrize("entry", [
    {"window": "big", "block": None, "strategy": "xyzz"},
    {"window": 1, "block": None, "strategy": "xyzz"},
    {"window": 8, "block": None, "strategy": "jacobian"},
    {"window": 8, "block": 100, "strategy": "xyzz"},
    "eight",
])
def test_bad_entry_reads_as_absent(cache, rng, entry):
    cache.write_text(json.dumps({"format": tune.FORMAT,
                                 "devices": {tune.device_name("cpu"): {"g1": {"5": entry}}}}))
    with pytest.warns(RuntimeWarning, match="tune cache"):
        assert tune.lookup("cpu", "g1", 32) is None
    points, scalars, bases, scal = _input(rng, "g1", 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = cpu_msm.msm_g1(bases, scal)
    assert cpu_msm.last_config["window_from"] == "built-in"
    assert g1_from_array(out[None])[0] == msm_pippenger(G1, points, scalars)


def test_wrong_candidates_are_excluded_and_never_cached(cache):
    """Two planted candidates: one returns infinity at once (the fastest by far), one is a
    real MSM that drops the last term.  Both must be reported and left out."""
    calls = []

    def instant_zero(bases, scalars, c):
        calls.append(c)
        return np.zeros((2, 4), np.uint64)

    def drops_last_term(bases, scalars, c):
        return cpu_msm.msm_g1(bases[:-1], scalars[:-1], c=c)

    summary = _tune("cpu", "g1", 8, windows=[7, 8], strategies=["affine"], repeat=2,
                        progress=_quiet, extra_strategies={"instant": instant_zero,
                                                           "drop-last": drops_last_term})
    assert calls, "the planted candidate never ran"
    rejected = {(r["strategy"], r["window"]) for r in summary["rejected"]}
    assert rejected == {("instant", 7), ("instant", 8), ("drop-last", 7), ("drop-last", 8)}
    assert all("wrong result" in r["reason"] for r in summary["rejected"])
    assert summary["best"]["strategy"] == "affine"
    assert {c["strategy"] for c in summary["candidates"]} == {"affine"}
    entry = json.loads(cache.read_text())["devices"][tune.device_name("cpu")]["g1"]["8"]
    assert entry["strategy"] == "affine"
    assert all(c["strategy"] == "affine" for c in entry["candidates"])
    assert tune.lookup("cpu", "g1", 256)["strategy"] == "affine"


def test_bad_arguments(cache):
    with pytest.raises(ValueError, match="blocks"):
        _tune("cpu", "g1", 8, blocks=[128], progress=_quiet)
    with pytest.raises(ValueError, match="strategy"):
        _tune("cuda", "g1", 8, strategies=["affine"], progress=_quiet)  # the CPU's, not CUDA's
    with pytest.raises(ValueError, match="size"):
        _tune("cpu", "g1", 40, progress=_quiet)
    with pytest.raises(ValueError, match="window"):
        _tune("cpu", "g1", 8, windows=[1], progress=_quiet)
    with pytest.raises(ValueError, match="group"):
        _tune("cpu", "g3", 8, progress=_quiet)
    assert not cache.exists()


def test_size_buckets_and_device_name():
    assert [tune.size_bucket(n) for n in (1, 2, 3, 4, 5, 1023, 1024, 1025)] == [0, 1, 2, 2, 3, 10, 10, 11]
    import numba
    name = tune.device_name("cpu")
    assert name.startswith("cpu: ") and f"{numba.get_num_threads()} numba threads" in name


def test_cuda_block_variants_need_no_device():
    """The ACC_BLOCK override selects a different translation unit; no GPU needed to see it."""
    from gpu_msm.cuda import _build
    from gpu_msm.cuda import msm as cm
    assert cm.defines(cm.G1)["ACC_BLOCK"] == cm.TUNING["ACC_BLOCK"]
    assert cm.defines(cm.G1, 256)["ACC_BLOCK"] == 256
    assert cm.defines(cm.G2, 64)["FQ2_LAZY"] == cm.TUNING_CURVE["G2"]["FQ2_LAZY"]  # the rest kept
    assert "#define ACC_BLOCK 64\n" in _build.source("msm.cu", cm.defines(cm.G1, 64))
    with pytest.raises(ValueError):
        cm.defines(cm.G1, 100)
    assert tune_cache._config("cuda", {"window": 16, "block": 256, "strategy": "xyzz"}) == {
        "window": 16, "block": 256, "strategy": "xyzz"}
    with pytest.raises(ValueError):
        tune_cache._config("cuda", {"window": 16, "block": 256, "strategy": "affine"})
    # the tuner's list (stdlib only) is the engine's, and every entry parses
    assert tune.STRATEGIES["cuda"] == cm.STRATEGIES
    assert [cm.affine_rounds(s) for s in cm.STRATEGIES] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="strategy"):
        cm.affine_rounds("affine-9")
    for curve in (cm.G1, cm.G2):
        for log_n in range(0, 27):
            assert cm.default_strategy(curve, 1 << log_n) in cm.STRATEGIES


def test_cli_tune_cpu(tmp_path):
    path = tmp_path / "sub" / "tune.json"
    r = run_cli("tune", "--backend", "cpu", "--sizes", "8", "--groups", "g1", "--repeat", "1",
                "--cache", path)
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.splitlines()[:2]
    assert "window" in header and "strategy" in header and "speedup" in header
    assert row.split()[:2] == ["2^8", "g1"]
    assert "window" in r.stderr and "ok" in r.stderr  # progress lines
    data = json.loads(path.read_text())
    (device, groups), = data["devices"].items()
    assert device.startswith("cpu: ") and list(groups) == ["g1"] and list(groups["g1"]) == ["8"]


def test_cli_tune_show_and_errors(cache, capsys):
    assert cli_main(["tune", "--backend", "cpu", "--show"]) == 0
    assert "no tuned entries" in capsys.readouterr().out
    tune.store("cpu", "g2", 9, {"window": 7, "block": None, "strategy": "xyzz", "ms": 1.5,
                                "default": {"ms": 3.0}})
    assert cli_main(["tune", "--backend", "cpu", "--show"]) == 0
    out = capsys.readouterr().out
    assert "2^9" in out and "xyzz" in out and "2.00x" in out
    for argv in (["--sizes", "8,x"], ["--sizes", "0"], ["--groups", "g3"], ["--windows", "1"],
                 ["--repeat", "0"], ["--gpu", "0"]):
        assert cli_main(["tune", "--backend", "cpu", *argv]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("coprove: error:"), (argv, err)


@pytest.mark.skipif("cuda" in gpu_msm.available_backends(), reason="a CUDA device is visible")
def test_cli_tune_cuda_without_a_gpu(tmp_path):
    r = run_cli("tune", "--backend", "cuda", "--cache", tmp_path / "tune.json")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "no CUDA device" in r.stderr
    assert not (tmp_path / "tune.json").exists()


@pytest.mark.gpu
@pytest.mark.skipif("cuda" not in gpu_msm.available_backends(), reason="no CUDA device visible to CuPy")
@pytest.mark.parametrize("group", ["g1", "g2"])
def test_cuda_tune_searches_every_strategy(cache, group):
    """On a GPU: each strategy at each window is timed and checked against the CPU engine,
    the fastest is cached, and the device MSM then runs with that entry."""
    from gpu_msm.cuda import msm as cm
    summary = _tune("cuda", group, 12, windows=[10, 12], blocks=[128], repeat=1,
                        seed=7, progress=_quiet)
    seen = {(c["window"], c["strategy"]) for c in summary["candidates"]}
    assert {(w, s) for w in (10, 12) for s in cm.STRATEGIES} <= seen, summary["rejected"]
    entry = tune.lookup("cuda", group, 1 << 12)
    assert (entry["window"], entry["strategy"]) == (summary["best"]["window"], summary["best"]["strategy"])
