"""Shared fixtures: reference circuits built with circom2 + snarkjs (see circuit_builder.py).

Fixtures
  npm_tools        session: snarkjs 0.7.6 + circom2 0.2.23 installed by npm into the
                   test cache (~/.cache/coprove-tests, or $COPROVE_TEST_CACHE), once.
  build_circuit    session: build_circuit(name, kind, params, inputs) -> BuiltCircuit.
  test_seed        session: this run's seed for random inputs ($COPROVE_TEST_SEED to repeat).
  fresh_circuits   session: {name: BuiltCircuit} for circuit_builder.FRESH_SPECS, with
                   inputs drawn from test_seed: compile/setup cached, witness and
                   snarkjs proof made anew for each seed.

Tests using any of the npm-backed fixtures are marked `slow` automatically.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import circuit_builder as cb  # noqa: E402

_NPM_FIXTURES = {"npm_tools", "build_circuit", "fresh_circuits"}


def pytest_configure(config):
    cb.session_seed()  # fix the seed before any worker process starts


def pytest_report_header(config):
    seed = cb.session_seed()
    return [f"coprove: random test inputs from seed {seed} (repeat with {cb.SEED_ENV}={seed}); "
            f"circuit cache {cb.cache_root()}"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _NPM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not cb.BUILD_LOG:
        return
    tr = terminalreporter
    tr.section("coprove circuit builds (this process)")
    for name, step, secs in cb.BUILD_LOG:
        tr.write_line(f"{secs:7.2f} s  {name:<20} {step}")
    steps = sum(secs for _, step, secs in cb.BUILD_LOG if step != "fixture total")
    tr.write_line(f"{steps:7.2f} s  all steps; "
                  f"seed {cb.session_seed()}, cache {cb.cache_root()}")


@pytest.fixture(scope="session")
def test_seed() -> int:
    return cb.session_seed()


@pytest.fixture(scope="session")
def npm_tools() -> cb.NpmTools:
    try:
        return cb.install_npm_tools()
    except cb.ToolError as exc:
        error = str(exc)
    pytest.fail(error, pytrace=False)


@pytest.fixture(scope="session")
def build_circuit(npm_tools):
    """build_circuit(name, kind, params, inputs) -> circuit_builder.BuiltCircuit (cached)."""
    def build(name, kind, params, inputs) -> cb.BuiltCircuit:
        try:
            return cb.build_circuit(npm_tools, name, kind, params, inputs)
        except cb.ToolError as exc:
            error = f"building circuit {name}: {exc}"
        pytest.fail(error, pytrace=False)
    return build


@pytest.fixture(scope="session")
def fresh_circuits(npm_tools, test_seed) -> dict[str, cb.BuiltCircuit]:
    t0 = time.perf_counter()
    try:
        built = cb.build_fresh_circuits(npm_tools, test_seed)
    except cb.ToolError as exc:
        error = f"building the fresh circuits (seed {test_seed}): {exc}"
    else:
        cb.BUILD_LOG.append(("fresh_circuits", "fixture total", time.perf_counter() - t0))
        return built
    pytest.fail(error, pytrace=False)


def _cuda_available() -> bool:
    import gpu_msm
    return "cuda" in gpu_msm.available_backends()


@pytest.fixture(params=["reference", "cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def engine(request):
    """Every engine the prover can run on: the pure-Python twin, the CPU and CUDA backends."""
    if request.param == "cuda" and not _cuda_available():
        pytest.skip("no CUDA device visible to CuPy")
    return request.param
