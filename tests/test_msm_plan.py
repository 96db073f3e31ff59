"""One place decides an MSM's settings: arguments > tune cache > the backend's built-in
choice, with strategy names that mean the same on every backend."""

from __future__ import annotations

import pytest

from gpu_msm import msm_plan, strategy_names, tune, tune_cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "tune.json"
    monkeypatch.setenv(tune.CACHE_ENV, str(path))
    return path


def _builtin(n):
    return 9, "xyzz"


def test_arguments_then_cache_then_built_in(cache):
    n = 1000
    p = msm_plan.plan_msm("cpu", "g1", n, _builtin)
    assert (p.window, p.strategy, p.block) == (9, "xyzz", None)
    assert p.sources == {"window": "built-in", "strategy": "built-in", "block": "built-in"}
    tune.store("cpu", "g1", tune.size_bucket(n), {"window": 7, "block": None, "strategy": "affine"})
    p = msm_plan.plan_msm("cpu", "g1", n, _builtin)
    assert (p.window, p.strategy) == (7, "affine")
    assert p.sources["window"] == p.sources["strategy"] == "tune cache"
    p = msm_plan.plan_msm("cpu", "g1", n, _builtin, window=5)
    assert (p.window, p.strategy) == (5, "affine")
    assert (p.sources["window"], p.sources["strategy"]) == ("argument", "tune cache")
    # another size's entry is not this size's
    p = msm_plan.plan_msm("cpu", "g1", 4 * n, _builtin)
    assert p.sources["window"] == "built-in"


def test_the_built_in_choice_is_asked_only_when_needed(cache):
    asked = []

    def builtin(n):
        asked.append(n)
        return 9, "xyzz"
    msm_plan.plan_msm("cpu", "g2", 64, builtin, window=4, strategy="affine")
    assert asked == []
    msm_plan.plan_msm("cpu", "g2", 64, builtin, window=4)
    assert asked == [64]


def test_strategy_names_are_shared_and_refused_by_name(cache):
    assert strategy_names.canonical_strategy("cpu", "batch-affine") == "affine"  # an old cache's name
    with pytest.raises(ValueError, match="the cuda backend runs xyzz, affine-1"):
        strategy_names.canonical_strategy("cuda", "affine")
    with pytest.raises(ValueError, match="'jacobian'"):
        msm_plan.plan_msm("cpu", "g1", 8, _builtin, strategy="jacobian")
    assert tune_cache.STRATEGIES is strategy_names.BACKEND_STRATEGIES
    # the names both backends run mean the same everywhere: "xyzz" is on both
    assert set(strategy_names.BACKEND_STRATEGIES["cpu"]) & set(strategy_names.BACKEND_STRATEGIES["cuda"]) == {"xyzz"}


def test_kernel_overrides_come_from_the_environment_at_use(monkeypatch):
    from gpu_msm.cuda import msm as cm
    monkeypatch.delenv(msm_plan.TUNE_ENV, raising=False)
    assert msm_plan.kernel_overrides("G2") == {}
    base = cm.defines(cm.G2)
    monkeypatch.setenv(msm_plan.TUNE_ENV, "G2:FQ2_LAZY=0,INT_OOL=0;G1:ACC_MINB=4")
    assert msm_plan.kernel_overrides("G2") == {"FQ2_LAZY": 0, "INT_OOL": 0}
    assert msm_plan.kernel_overrides("G1") == {"ACC_MINB": 4}
    assert cm.defines(cm.G2) == {**base, "FQ2_LAZY": 0, "INT_OOL": 0}
    monkeypatch.setenv(msm_plan.TUNE_ENV, "G2:FQ2_LAZY")
    with pytest.raises(ValueError, match="GPU_MSM_TUNE"):
        msm_plan.kernel_overrides("G2")
