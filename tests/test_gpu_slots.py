"""A node that drives several GPUs: MSMs split over device slots (``--gpus``).

Without a GPU: how points are divided (``gpu_msm.split``), device lists and their errors,
the CLI's one-line refusals.  With one GPU: a repeated device (``0,0``) gives two slots
with their own streams and memory on it, and every split result must equal the one-slot
result bit for bit (G1 and G2, sizes 1 to 2^20, edge scalars, prefixes of the bases,
scalars from the host or the device), and proofs made on slots must verify.
"""

from __future__ import annotations

import numpy as np
import pytest

import gpu_msm
from gpu_msm.split import slot_weights, split_bounds

from cli_helpers import DATA

needs_cuda = pytest.mark.skipif("cuda" not in gpu_msm.available_backends(),
                                reason="no CUDA device visible to CuPy")


# ---------------------------------------------------------------- no GPU needed

def test_split_bounds_tile_the_range_in_proportion(test_seed):
    rng = np.random.default_rng([test_seed, 190])
    for _ in range(500):
        k = int(rng.integers(1, 9))
        n = int(rng.integers(0, 1 << int(rng.integers(0, 22))))
        w = [float(x) for x in rng.uniform(0.05, 4.0, size=k)]
        b = split_bounds(n, w)
        assert b[0] == 0 and b[-1] == n and len(b) == k + 1
        assert all(lo <= hi for lo, hi in zip(b, b[1:]))
        total = sum(w)
        for i in range(k):  # each slot within one point of its exact share (cumulative rounding)
            assert abs((b[i + 1] - b[i]) - n * w[i] / total) <= 1.0 + 1e-9


def test_split_bounds_edges():
    assert split_bounds(10, [1]) == [0, 10]
    assert split_bounds(1, [1, 1]) == [0, 0, 1]
    assert split_bounds(0, [1, 2, 3]) == [0, 0, 0, 0]
    assert split_bounds(100, [3, 1]) == [0, 75, 100]
    for bad in ([], [1, 0], [1, -2], [float("nan")]):
        with pytest.raises(ValueError):
            split_bounds(10, bad)


def test_slot_weights_share_a_device_among_its_slots():
    assert slot_weights((0, 0), {0: 1.0}) == [0.5, 0.5]
    assert slot_weights((0, 1, 1), {0: 2.0, 1: 1.0}) == [2.0, 0.5, 0.5]


def test_gpu_lists_parse_or_say_what_is_wrong():
    assert gpu_msm.parse_gpu_list("0,1,1") == (0, 1, 1)
    assert gpu_msm.parse_gpu_list(" 3 ") == (3,)
    for text, says in (("", "empty"), (",", "empty"), ("0,x", "'x' is not a device number"),
                       ("-1", "'-1' is not a device number"), ("0;1", "not a device number"),
                       (",".join(["0"] * 65), "at most 64")):
        with pytest.raises(ValueError, match=says):
            gpu_msm.parse_gpu_list(text)


def test_select_devices_refuses_a_device_that_is_not_there():
    """Without a GPU: no CUDA device; with one: no device 999.  Either way one line, and
    the selection stays as it was."""
    with pytest.raises(RuntimeError, match="no CUDA device is visible|no device 999; this machine has"):
        gpu_msm.select_devices((0, 999))
    assert gpu_msm.device_slots() == (0,)


def _cli(argv, capsys):
    from coordinator_free.cli import main
    rc = main(argv)
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [
    (["prove", "z", "w", "p", "q", "--committee", "c.toml", "--gpus", "0"], "--gpus applies to --single and --local"),
    (["prove", "z", "w", "p", "q", "--single", "--gpus", "0", "--engine", "cpu"], "does not go with --engine cpu"),
    (["prove", "z", "w", "p", "q", "--single", "--gpus", "0,,1"], "'' is not a device number"),
    (["node", "--listen", "127.0.0.1:0", "--key", "k", "--cert", "c", "--data-dir", "d", "--committee", "c",
      "--gpus", "a"], "'a' is not a device number"),
    (["node", "--listen", "127.0.0.1:0", "--key", "k", "--cert", "c", "--data-dir", "d", "--committee", "c",
      "--gpus", "0,999"], "999|no CUDA device"),
])
def test_cli_refuses_bad_gpu_lists_in_one_line(argv, says, capsys):
    rc, err = _cli(argv, capsys)
    assert rc == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("coprove: error: --gpus"), err
    import re
    assert re.search(says, lines[0]), lines[0]


def test_gpus_and_gpu_are_one_choice(capsys):
    from coordinator_free.cli import build_parser
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["node", "--listen", "x:1", "--key", "k", "--cert", "c", "--data-dir", "d",
                                   "--committee", "c", "--gpu", "0", "--gpus", "0,1"])
    assert e.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# ---------------------------------------------------------------- one GPU, repeated

def _bases(group: str, n: int, seed):
    """n distinct valid points, made on the device (fixed-base multiples of the generator)."""
    import gpu_msm.cuda as gc
    from prover import bn254
    rng = np.random.default_rng(seed)
    k = _random_scalars(rng, n)
    if group == "g1":
        return gc.fixed_base_g1(bn254.g1_to_array([bn254.G1.generator])[0], k)
    return gc.fixed_base_g2(bn254.g2_to_array([bn254.G2.generator])[0], k)


def _random_scalars(rng, n):
    from gpu_msm.constants import FR_MODULUS
    s = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    s[:, 3] &= np.uint64((1 << 61) - 1)  # < 2^253 < r
    top = np.uint64(FR_MODULUS >> 192)
    assert (s[:, 3] < top).all()
    return s


def _edge_scalars(rng, n, kind):
    from gpu_msm.constants import FR_MODULUS
    s = _random_scalars(rng, n)
    rm1 = np.frombuffer((FR_MODULUS - 1).to_bytes(32, "little"), dtype="<u8").astype(np.uint64)
    if kind == "zero":
        s[:] = 0
    elif kind == "r-1":
        s[:] = rm1
    elif kind == "mixed":  # zeros, ones, r-1, a run of zeros across the slot boundary
        u = rng.random(n)
        s[u < 0.3] = 0
        s[(u >= 0.3) & (u < 0.45)] = np.array([1, 0, 0, 0], dtype=np.uint64)
        s[(u >= 0.45) & (u < 0.5)] = rm1
        s[n // 3: n // 2] = 0
    return s


def _one_slot(group, bases, scalars):
    import gpu_msm.cuda as gc
    return (gc.msm_g1 if group == "g1" else gc.msm_g2)(gc.upload_bases(bases), scalars)


CASES = [(n, kind) for n in (1, 2, 3, 1000, (1 << 12) + 3) for kind in ("random", "mixed", "zero", "r-1")]


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("group", ["g1", "g2"])
@pytest.mark.parametrize("n, kind", CASES)
def test_split_msm_equals_one_slot(test_seed, group, n, kind):
    import gpu_msm.cuda as gc
    rng = np.random.default_rng([test_seed, 191, n, group == "g2", ["random", "mixed", "zero", "r-1"].index(kind)])
    bases = _bases(group, n, [test_seed, 192, n])
    scalars = _edge_scalars(rng, n, kind)
    want = _one_slot(group, bases, scalars)
    for devices, weights in (((0, 0), None), ((0, 0, 0), [1.0, 3.0, 0.5])):
        split = gc.upload_split(bases, devices, weights)
        assert split.bounds[-1] == n
        assert np.array_equal(gc.split_msm(group, split, scalars), want), (devices, weights)


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("group, log_n", [("g1", 16), ("g1", 20), ("g2", 16), ("g2", 20)])
def test_split_msm_equals_one_slot_large(test_seed, group, log_n):
    """Large sizes, scalars on the device and from the host, two and four slots."""
    import gpu_msm.cuda as gc
    n = (1 << log_n) - 5
    rng = np.random.default_rng([test_seed, 193, log_n, group == "g2"])
    bases = _bases(group, n, [test_seed, 194, log_n])
    scalars = _edge_scalars(rng, n, "mixed")
    want = _one_slot(group, bases, scalars)
    for devices in ((0, 0), (0, 0, 0, 0)):
        split = gc.upload_split(bases, devices)
        assert np.array_equal(gc.split_msm(group, split, scalars), want), devices
        assert np.array_equal(gc.split_msm(group, split, gc.to_device(scalars)), want), devices


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("group", ["g1", "g2"])
def test_split_msm_takes_a_prefix_of_the_bases(test_seed, group):
    """Fewer scalars than bases (the C section's witness tail): the prefix ends inside the
    first slot, on a boundary, inside the last; and no scalars at all."""
    import gpu_msm.cuda as gc
    n = 3001
    rng = np.random.default_rng([test_seed, 195, group == "g2"])
    bases = _bases(group, n, [test_seed, 196])
    resident = gc.upload_bases(bases)
    split = gc.upload_split(bases, (0, 0, 0), [1.0, 1.0, 1.0])
    for m in (0, 1, 500, split.bounds[1], split.bounds[1] + 1, 2999, n):
        s = _edge_scalars(rng, m, "random")
        want = (gc.msm_g1 if group == "g1" else gc.msm_g2)(resident, s)
        assert np.array_equal(gc.split_msm(group, split, s), want), m
    with pytest.raises(ValueError, match="3002 scalars for 3001 bases"):
        gc.split_msm(group, split, _edge_scalars(rng, n + 1, "random"))


@pytest.mark.gpu
@needs_cuda
def test_split_msm_checks_host_scalars(test_seed):
    import gpu_msm.cuda as gc
    from gpu_msm.constants import FR_MODULUS
    bases = _bases("g1", 10, [test_seed, 197])
    split = gc.upload_split(bases, (0, 0))
    bad = np.zeros((10, 4), dtype=np.uint64)
    bad[7] = np.frombuffer(FR_MODULUS.to_bytes(32, "little"), dtype="<u8")
    with pytest.raises(ValueError, match="row 7"):
        gc.split_msm("g1", split, bad)
    with pytest.raises(ValueError, match="bases on the device are G1, not G2"):
        gc.split_msm("g2", split, np.zeros((10, 4), dtype=np.uint64))


@pytest.mark.gpu
@needs_cuda
def test_split_msm_waits_for_device_work_queued_before_it(test_seed):
    """Scalars still being computed on the current stream when the split MSM starts: every
    slot's stream waits for them (a missing wait shows as a wrong point)."""
    import gpu_msm.cuda as gc
    n = 1 << 15
    rng = np.random.default_rng([test_seed, 198])
    bases = _bases("g1", n, [test_seed, 199])
    a, b = _edge_scalars(rng, n, "random"), _edge_scalars(rng, n, "random")
    want = gc.msm_g1(gc.upload_bases(bases), gc.to_host(gc.mul_vec(gc.to_device(a), gc.to_device(b))))
    split = gc.upload_split(bases, (0, 0))
    v = gc.mul_vec(gc.to_device(a), gc.to_device(b))  # queued, not waited for
    assert np.array_equal(gc.split_msm_start("g1", split, v)(), want)


@pytest.mark.gpu
@needs_cuda
def test_device_speed_is_measured_when_asked():
    from gpu_msm.cuda.slots import device_speeds
    assert device_speeds((0, 0)) == {0: 1.0}  # one model: nothing to time
    speed = device_speeds((0,), measure=True)
    assert set(speed) == {0} and speed[0] > 1.0  # a 2^16 MSM takes well under a second


@pytest.fixture
def fixture_paths():
    d = DATA / "mul_chain_2e10"
    return {"zkey": d / "circuit.zkey", "wtns": d / "witness.wtns", "dir": d}


@pytest.fixture
def slots():
    """Select device slots for one test, then put the default back."""
    def use(devices):
        gpu_msm.select_devices(devices)
    yield use
    gpu_msm.select_device(None)


@pytest.mark.gpu
@needs_cuda
def test_prove_single_on_slots_reproduces_snarkjs(slots, fixture_paths):
    """r, s fixed: the proof on slots (0, 0) and (0, 0, 0) is snarkjs's proof for them."""
    from prover.plain import prove_single
    from prover.snarkjs_json import read_proof
    from prover.wtns import read_wtns
    from prover.zkey import read_zkey
    zkey, wtns = read_zkey(fixture_paths["zkey"]), read_wtns(fixture_paths["wtns"])
    want = read_proof(fixture_paths["dir"] / "proof_r12345_s67890.json")
    for devices in ((0, 0), (0, 0, 0)):
        slots(devices)
        proof, _ = prove_single(zkey, wtns, r=12345, s=67890, engine="cuda")
        assert (proof.pi_a, proof.pi_b, proof.pi_c) == want, devices


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("threshold", [None, 1])
def test_local_parties_on_slots(slots, fixture_paths, threshold):
    """Both modes with every party's MSMs split over two slots of one GPU."""
    from prover.snarkjs_json import vkey_object_from_zkey
    from prover.verify import verify
    from prover.wtns import read_wtns
    from prover.zkey import read_zkey
    zkey, wtns = read_zkey(fixture_paths["zkey"]), read_wtns(fixture_paths["wtns"])
    slots((0, 0))
    if threshold is None:
        from cme.local_run import prove_local
        proof, public, _ = prove_local(zkey, wtns, 3, engine="cuda")
    else:
        from cme.threshold_run import prove_local_threshold
        proof, public, _ = prove_local_threshold(zkey, wtns, 3, threshold, engine="cuda")
    assert verify(vkey_object_from_zkey(zkey), public, (proof.pi_a, proof.pi_b, proof.pi_c))


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("threshold", [None, 1])
def test_nodes_on_slots_prove_over_mtls(threshold):
    """Real daemons started with --gpus 0,0 (one with --gpus 0), both modes: the proof
    verifies with py_ecc, and each node's start-up line names its slots."""
    import dataclasses
    from coordinator_free.client import Client
    from coordinator_free.committee import Sharing
    from coordinator_free.localnet import LocalNetwork
    from prover.snarkjs_json import read_vkey
    from prover.verify import verify_py_ecc
    d = DATA / "mul_chain_2e10"
    with LocalNetwork(3, node_args={"node1": ["--gpus", "0,0"], "node2": ["--gpus", "0,0,0"],
                                    "node3": ["--gpus", "0"]}) as net:
        committee = net.committee if threshold is None else dataclasses.replace(net.committee,
                                                                             sharing=Sharing("shamir", threshold))
        with Client(committee) as client:
            proof, public, _ = client.prove(d / "circuit.zkey", d / "witness.wtns")
        assert verify_py_ecc(read_vkey(d / "verification_key.json"), public, (proof.pi_a, proof.pi_b, proof.pi_c))
        started = {name: next(ln for ln in net.logs[name] if "listening on" in ln) for name in net.names}
        assert "engine cuda:0,0)" in started["node1"] and "engine cuda:0,0,0)" in started["node2"], started
        assert "engine cuda:0)" in started["node3"], started
