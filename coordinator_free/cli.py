"""``coprove`` command line: argument parsing only; the work lives in ``prover``.

Exit codes follow snarkjs's spirit and are stable for scripts: 0 success (a valid
proof), 1 an invalid proof, 2 bad input (a file that is missing, malformed or does
not belong with the others).  Bad input prints one line naming the file, never a
traceback.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
import tempfile
import time
from importlib import resources

from prover.errors import FormatError, InputError, OutOfRangeError

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2


def _config_errors():
    """Errors that mean bad configuration (exit 2), imported lazily: the CLI must start
    without grpc for the file-only commands."""
    from coordinator_free.committee import CommitteeError
    from coordinator_free.identity import IdentityError
    return (CommitteeError, IdentityError)


class BadInput(Exception):
    """A usage problem found after argument parsing (exit 2)."""


def _replace_atomically(pairs):
    """Write each (path, writer) to a temporary file, then rename them all into place,
    so a failure never leaves a half-written proof next to a stale public.json."""
    tmps = []
    try:
        for path, writer in pairs:
            d = os.path.dirname(os.path.abspath(path))
            fd, tmp = tempfile.mkstemp(prefix=".coprove-", suffix=".json", dir=d)
            os.close(fd)
            tmps.append((tmp, path))
            writer(tmp)
        for tmp, path in tmps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in tmps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _prove_single(zkey_path, wtns_path, proof_path, public_path, check: bool, out=sys.stderr, engine=None):
    from prover.plain import prove_single
    from prover.snarkjs_json import vkey_object_from_zkey, write_proof, write_public
    from prover.verify import verify
    from prover.wtns import read_wtns
    from prover.zkey import read_zkey

    t0 = time.perf_counter()
    zkey = read_zkey(zkey_path)
    wtns = read_wtns(wtns_path)
    t_read = time.perf_counter() - t0
    proof, public = prove_single(zkey, wtns, engine=engine)
    t_prove = time.perf_counter() - t0 - t_read
    t_check = 0.0
    if check:
        t1 = time.perf_counter()
        verdict = verify(vkey_object_from_zkey(zkey), public, (proof.pi_a, proof.pi_b, proof.pi_c))
        t_check = time.perf_counter() - t1
        if not verdict:
            print(
                f"coprove: the proof does not verify ({verdict.reason}): either "
                f"{os.path.basename(wtns_path)} does not satisfy the circuit (check it with "
                f"`snarkjs wtns check`) or {os.path.basename(zkey_path)} is damaged (check it with "
                "`snarkjs zkey verify`); nothing written",
                file=out,
            )
            return EXIT_INVALID
    _replace_atomically([
        (proof_path, lambda p: write_proof(p, proof.pi_a, proof.pi_b, proof.pi_c)),
        (public_path, lambda p: write_public(p, public)),
    ])
    print(
        f"proof written to {proof_path} and {public_path} "
        f"(domain 2^{zkey.domain_size.bit_length() - 1}, {zkey.n_vars} signals; "
        f"read {t_read:.2f}s, prove {t_prove:.2f}s, check {t_check:.2f}s)",
        file=out,
    )
    return EXIT_OK


def _prove_local(zkey_path, wtns_path, proof_path, public_path, n_parties: int, out=sys.stderr, engine=None,
                 threshold: int | None = None):
    from cme.assembly import JobFailed
    from cme.shamir import check_threshold
    from prover.snarkjs_json import write_proof, write_public
    from prover.wtns import read_wtns
    from prover.zkey import read_zkey

    if threshold is not None:
        try:
            check_threshold(n_parties, threshold)
        except ValueError as e:
            raise BadInput(f"--local {n_parties} --threshold {threshold}: {e}") from None
    elif n_parties < 2:
        raise BadInput(f"--local {n_parties}: additive sharing needs at least 2 parties")
    zkey, wtns = read_zkey(zkey_path), read_wtns(wtns_path)
    try:
        if threshold is None:
            from cme.local_run import prove_local
            proof, public, report = prove_local(zkey, wtns, n_parties, engine=engine)
            sent = ", ".join(f"{i}: {s['bytes_sent']}" for i, s in sorted(report.party_stats.items()))
            how = f"bytes sent per party {{{sent}}}"
        else:
            from cme.threshold_run import prove_local_threshold
            proof, public, report = prove_local_threshold(zkey, wtns, n_parties, threshold, engine=engine)
            how = f"Shamir shares of degree {threshold}, nothing sent between parties"
    except JobFailed as e:
        print(f"coprove: the collaborative job failed: {e}; nothing written", file=out)
        return EXIT_INVALID
    _replace_atomically([
        (proof_path, lambda p: write_proof(p, proof.pi_a, proof.pi_b, proof.pi_c)),
        (public_path, lambda p: write_public(p, public)),
    ])
    print(
        f"proof written to {proof_path} and {public_path} ({n_parties} parties in this process, "
        f"{report.seconds:.2f}s; client upload {report.upload_bytes} bytes; {how})",
        file=out,
    )
    return EXIT_OK


def _prove_committee(args, out=sys.stderr):
    from cme.assembly import JobFailed
    from coordinator_free.client import Client, NodeFailed
    from coordinator_free.committee import load_committee
    from prover.snarkjs_json import write_proof, write_public

    committee = load_committee(args.committee)
    t0 = time.perf_counter()

    def progress(step, detail):
        print(f"[{time.perf_counter() - t0:7.2f}s] {step}: {detail}", file=out, flush=True)

    try:
        with Client(committee, deadline_s=args.deadline, progress=progress) as client:
            proof, public, summary = client.prove(args.zkey, args.witness)
    except (NodeFailed, JobFailed) as e:
        print(f"coprove: the collaborative job failed: {e}; nothing written", file=out)
        return EXIT_INVALID
    _replace_atomically([
        (args.proof, lambda p: write_proof(p, proof.pi_a, proof.pi_b, proof.pi_c)),
        (args.public, lambda p: write_public(p, public)),
    ])
    if getattr(args, "receipts", None):
        from coordinator_free.receipts import write_bundle
        _replace_atomically([(args.receipts, lambda p: write_bundle(
            p, identity=committee.client_identity(), job_id=summary.job_id, circuit=summary.circuit,
            mode=summary.mode, receipts=summary.receipts, excluded=summary.excluded,
            proof_path=args.proof, public_path=args.public))])
        print(f"receipts written to {args.receipts}: {len(summary.receipts)} node receipts"
              + (f", none from {', '.join(n for n, _, _ in summary.excluded)}" if summary.excluded else ""),
              file=out)
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in summary.steps.items())
    sharing = committee.sharing
    mode = (f"threshold mode, t = {sharing.threshold}, nothing sent between nodes" if sharing.is_threshold
            else "additive mode")
    print(f"proof written to {args.proof} and {args.public} ({mode}): {steps}; "
          f"total {time.perf_counter() - t0:.2f}s; client upload {summary.upload_bytes} bytes", file=out)
    for name, node_steps in summary.node_steps.items():
        detail = " ".join(f"{k}={v:.2f}s" for k, v in sorted(node_steps.items()))
        print(f"  {name}: {detail} sent={summary.bytes_sent[name]}B", file=out)
    if summary.missing:
        print(f"  no output used from: {', '.join(summary.missing)} (failed, or cancelled once the proof "
              f"verified)", file=out)
    for name in summary.blamed:
        print(f"  warning: node {name} returned an output that is off; it was left out of the proof",
              file=out)
    return EXIT_OK


def _select_gpus(args) -> None:
    """``prove --gpus LIST``: the CUDA engine with its MSMs split over these slots."""
    import gpu_msm

    if not args.single and args.local is None:
        raise BadInput("--gpus applies to --single and --local; a committee's nodes choose their own "
                       "(`coprove node --gpus LIST`)")
    if args.engine not in (None, "cuda"):
        raise BadInput(f"--gpus runs the CUDA engine; it does not go with --engine {args.engine}")
    try:
        gpu_msm.select_devices(gpu_msm.parse_gpu_list(args.gpus))
    except (ValueError, RuntimeError) as e:
        raise BadInput(str(e)) from None
    args.engine = "cuda"


def cmd_prove(args):
    if args.gpus is not None:
        _select_gpus(args)
    if args.receipts and args.committee is None:
        raise BadInput("--receipts: work receipts are signed by a committee's nodes; use --committee FILE")
    if args.committee is not None and args.threshold is None:
        return _prove_committee(args)
    if args.threshold is not None and args.local is None:
        raise BadInput("--threshold applies to --local N only; for a committee's nodes write "
                       "[sharing] scheme = \"shamir\", threshold = T in the committee file")
    if args.local is not None:
        return _prove_local(args.zkey, args.witness, args.proof, args.public, args.local, engine=args.engine,
                            threshold=args.threshold)
    if not args.single:
        raise BadInput(
            "choose how to prove: --committee FILE (the network), --local N (N parties in "
            "this process) or --single (one process, sees the witness)"
        )
    return _prove_single(args.zkey, args.witness, args.proof, args.public, check=not args.no_check,
                         engine=args.engine)


def cmd_receipts_verify(args):
    from coordinator_free.committee import load_committee
    from coordinator_free.receipts import ReceiptError, verify_bundle

    committee = load_committee(args.committee)
    files = {}
    for what, path in (("bundle", args.bundle), ("proof", args.proof), ("public", args.public)):
        try:
            files[what] = open(path, "rb").read()
        except OSError as e:
            raise BadInput(f"{path}: cannot read the {what} file: {e.strerror}") from None
    try:
        summary = verify_bundle(files["bundle"], files["proof"], files["public"], committee)
    except ReceiptError as e:
        print(f"INVALID: {args.bundle}: {e}")
        return EXIT_INVALID
    print(f"OK: {summary}")
    return EXIT_OK


def cmd_verify(args):
    from prover.snarkjs_json import read_proof, read_public, read_vkey
    from prover.verify import verify

    vkey = read_vkey(args.vkey)
    try:
        public = read_public(args.public)
        proof = read_proof(args.proof)
    except OutOfRangeError as e:
        # well-formed files whose numbers are off the field or curve: snarkjs calls
        # this an invalid proof, and so do we
        print(f"INVALID: {e}")
        return EXIT_INVALID
    verdict = verify(vkey, public, proof)
    if verdict:
        print("OK: the proof is valid")
        return EXIT_OK
    print(f"INVALID: {verdict.reason}")
    return EXIT_INVALID


def cmd_export_vkey(args):
    from prover.snarkjs_json import vkey_from_zkey, write_vkey
    from prover.zkey import read_zkey

    vk = vkey_from_zkey(read_zkey(args.zkey))
    _replace_atomically([(args.vkey, lambda p: write_vkey(p, vk))])
    print(f"verification key written to {args.vkey}", file=sys.stderr)
    return EXIT_OK


def cmd_demo(args):
    if args.single and (args.threshold is not None or args.nodes is not None):
        raise BadInput("demo --single proves in this process: --threshold and --nodes are for the nodes' demo")
    out_dir = args.out or tempfile.mkdtemp(prefix="coprove-demo-")
    os.makedirs(out_dir, exist_ok=True)
    circuit = resources.files("coordinator_free") / "demo_circuit"
    with resources.as_file(circuit) as d:
        zkey, wtns = os.path.join(d, "circuit.zkey"), os.path.join(d, "witness.wtns")
        proof, public = os.path.join(out_dir, "proof.json"), os.path.join(out_dir, "public.json")
        vkey = os.path.join(d, "verification_key.json")
        if args.single:
            print(f"demo: single-party proof of the bundled circuit ({os.path.join(d, 'circuit.circom')})",
                  file=sys.stderr)
            rc = _prove_single(zkey, wtns, proof, public, check=True)
        else:
            rc = _demo_network(zkey, wtns, proof, public, args.nodes, args.threshold)
        if rc == EXIT_OK:
            print(f"demo: verify with `coprove verify {vkey} {public} {proof}`"
                  f" or `snarkjs groth16 verify {vkey} {public} {proof}`", file=sys.stderr)
    return rc


def _demo_network(zkey, wtns, proof, public, n_nodes: int | None = None, threshold: int | None = None):
    from coordinator_free.localnet import LocalNetwork
    from prover.snarkjs_json import read_proof, read_public
    from prover.verify import verify
    from prover.snarkjs_json import vkey_object_from_zkey
    from prover.zkey import read_zkey

    from cme.shamir import check_threshold

    if n_nodes is None:
        n_nodes = 3 if threshold is None else 2 * threshold + 1
    try:
        if threshold is not None:
            check_threshold(n_nodes, threshold)
        elif n_nodes < 2:
            raise ValueError("additive sharing needs at least 2 nodes")
    except ValueError as e:
        raise BadInput(f"demo --nodes {n_nodes}" + (f" --threshold {threshold}" if threshold else "")
                       + f": {e}") from None
    t0 = time.perf_counter()
    _warm_cpu_engine()
    import gpu_msm
    gpu = "cuda" in gpu_msm.available_backends()
    mode = (f"threshold mode, t = {threshold}: any {2 * threshold + 1} nodes' outputs make the proof"
            if threshold is not None else "additive mode")
    print(f"demo: starting {n_nodes} nodes on loopback (ephemeral keys, mutual TLS, "
          f"{'sharing GPU 0' if gpu else 'CPU engine'}; {mode})", file=sys.stderr)
    with LocalNetwork(n_nodes, extra_args=["--gpu", "0"] if gpu else [], threshold=threshold) as net:
        print(f"demo: nodes up in {time.perf_counter() - t0:.1f}s: "
              + ", ".join(f"{n} at {a}" for n, a in net.addresses.items()), file=sys.stderr)
        ns = argparse.Namespace(zkey=zkey, witness=wtns, proof=proof, public=public,
                                committee=str(net.committee_path), deadline=600.0)
        rc = _prove_committee(ns)
    print("demo: nodes stopped", file=sys.stderr)
    if rc != EXIT_OK:
        return rc
    verdict = verify(vkey_object_from_zkey(read_zkey(zkey)), read_public(public), read_proof(proof))
    print(f"demo: coprove verify: {'OK' if verdict else 'INVALID ' + verdict.reason}", file=sys.stderr)
    return EXIT_OK if verdict else EXIT_INVALID


def _warm_cpu_engine():
    """Compile the CPU engine once here, so the three nodes load it from numba's cache
    instead of each compiling it at the same time on their first proof."""
    import gpu_msm
    if "cuda" in gpu_msm.available_backends():
        return
    t0 = time.perf_counter()
    print("demo: preparing the CPU engine (a first run compiles it, about a minute of CPU time spread "
          "over the cores; later runs load it from the cache)", file=sys.stderr, flush=True)
    from gpu_msm.cpu.warmup import warm_up
    warm_up()
    print(f"demo: CPU engine ready in {time.perf_counter() - t0:.1f}s", file=sys.stderr)


def cmd_node(args):
    import gpu_msm
    from coordinator_free.node import run_node
    try:  # before anything is read: a bad device list is the first thing to hear of
        if args.gpus is not None:
            gpu_msm.select_devices(gpu_msm.parse_gpu_list(args.gpus))
        else:
            gpu_msm.select_device("cpu" if args.cpu else args.gpu)
    except (ValueError, RuntimeError) as e:
        raise BadInput(str(e)) from None
    # a daemon's job log is its main output: one line per job step, at INFO
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.INFO)
    return run_node(args)


def cmd_keygen(args):
    from coordinator_free.identity import generate_identity
    idt = generate_identity(args.out, args.name, args.kind)
    print(f"wrote {idt.key_path} and {idt.cert_path}", file=sys.stderr)
    print(idt.fingerprint)
    return EXIT_OK


def _int_list(text: str, flag: str, lo: int, hi: int) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not lo <= v <= hi for v in values):
        raise BadInput(f"{flag} {text!r}: want comma-separated integers from {lo} to {hi}")
    return values


def _tune_backend(args) -> str:
    import gpu_msm
    backend = args.backend
    if args.gpu is not None:
        if backend == "cpu":
            raise BadInput("--gpu N tunes a CUDA device; it does not go with --backend cpu")
        backend = "cuda"
    if backend is None:
        backend = "cuda" if "cuda" in gpu_msm.available_backends() else "cpu"
    if backend == "cuda":
        if "cuda" not in gpu_msm.available_backends():
            raise BadInput("--backend cuda: no CUDA device is visible to CuPy (CuPy missing, no "
                           "driver or no GPU); tune the CPU engine with --backend cpu")
        try:
            gpu_msm.select_device(args.gpu if args.gpu is not None else 0)
        except RuntimeError as e:
            raise BadInput(str(e)) from None
    return backend


def _show_tune_cache(backend: str, out=None) -> int:
    from gpu_msm import tune
    out = out or sys.stdout
    device = tune.device_name(backend)
    found = tune.entries(backend)
    path = tune.cache_path()
    if not found:
        print(f"no tuned entries for {device} in {path}", file=out)
        return EXIT_OK
    print(f"{path}: {device}", file=out)
    print(f"{'size':>5}  {'group':<5}  {'window':>6}  {'block':>5}  {'strategy':<12}  {'ms':>10}  "
          f"{'default ms':>10}  {'speedup':>7}  date", file=out)
    for group in sorted(g for g in found if isinstance(found[g], dict)):
        sizes = found[group]
        for log_n in sorted((k for k in sizes if k.isdigit() and isinstance(sizes[k], dict)), key=int):
            e = sizes[log_n]
            d = e.get("default") if isinstance(e.get("default"), dict) else {}
            ms, dms = e.get("ms"), d.get("ms")
            speed = f"{dms / ms:6.2f}x" if ms and dms else "      -"

            def num(v):
                return f"{v:.2f}" if isinstance(v, (int, float)) else "-"
            print(f"{'2^' + str(log_n):>5}  {group:<5}  {e.get('window')!s:>6}  "
                  f"{'-' if e.get('block') is None else e.get('block')!s:>5}  "
                  f"{e.get('strategy')!s:<12}  {num(ms):>10}  {num(dms):>10}  {speed:>7}  "
                  f"{e.get('date', '')}", file=out)
    return EXIT_OK


def cmd_tune(args):
    from gpu_msm import tune
    from prover.known_points import KnownPoints

    if args.cache:
        # the engines read the cache's path from the environment on every MSM
        os.environ[tune.CACHE_ENV] = os.path.abspath(args.cache)
    backend = _tune_backend(args)
    if args.show:
        return _run_on_device(backend, args, lambda: _show_tune_cache(backend))
    groups = [g.strip().lower() for g in args.groups.split(",") if g.strip()]
    if not groups or any(g not in tune.GROUPS for g in groups):
        raise BadInput(f"--groups {args.groups!r}: want g1, g2 or g1,g2")
    sizes = _int_list(args.sizes or ("12,14,16" if backend == "cpu" else "16,18,20,22"),
                      "--sizes", 1, tune.MAX_LOG_N)
    windows = (_int_list(args.windows, "--windows", tune.WINDOW_MIN, tune.WINDOW_MAX)
               if args.windows else None)
    if args.repeat < 1:
        raise BadInput(f"--repeat {args.repeat}: at least 1")

    def progress(line):
        print(line, file=sys.stderr, flush=True)

    def run_all():
        rows = []
        for log_n in sizes:
            for group in groups:
                try:
                    rows.append(tune.tune(backend, group, log_n, windows=windows, repeat=args.repeat,
                                          progress=progress, reference=KnownPoints()))
                except ValueError as e:
                    raise BadInput(str(e)) from None
        return rows

    try:
        rows = _run_on_device(backend, args, run_all)
    except tune.TuneError as e:
        print(f"coprove: tune: {e}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{'size':>5}  {'group':<5}  {'window':>6}  {'block':>5}  {'strategy':<12}  "
          f"{'best ms':>9}  {'default ms':>10}  {'speedup':>7}  excluded  others' CPU")
    for r in rows:
        b, d = r["best"], r["default"]
        others = "-" if r["others_cpu_share"] is None else f"{r['others_cpu_share']:.0%}"
        print(f"{'2^' + str(r['log_n']):>5}  {r['group']:<5}  {b['window']:>6}  "
              f"{'-' if b['block'] is None else b['block']:>5}  {b['strategy']:<12}  "
              f"{b['ms']:9.2f}  {d['ms']:10.2f}  {r['speedup']:6.2f}x  {len(r['rejected']):>8}  {others:>11}")
    print(f"device {rows[0]['device'] if rows else tune.device_name(backend)}; cache {tune.cache_path()}")
    return EXIT_OK


def _run_on_device(backend: str, args, fn):
    if backend != "cuda":
        return fn()
    import cupy
    with cupy.cuda.Device(args.gpu if args.gpu is not None else 0):
        return fn()


def build_parser() -> argparse.ArgumentParser:
    from coordinator_free import __version__

    p = argparse.ArgumentParser(prog="coprove", description="Groth16 (BN254) proving, snarkjs-compatible.")
    p.add_argument("--version", action="version", version=f"coprove {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log each proving stage to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    pr = sub.add_parser("prove", help="prove like `snarkjs groth16 prove`")
    pr.add_argument("zkey")
    pr.add_argument("witness")
    pr.add_argument("proof")
    pr.add_argument("public")
    mode = pr.add_mutually_exclusive_group()
    mode.add_argument("--single", action="store_true", help="prove in this process (sees the witness)")
    mode.add_argument("--local", type=int, metavar="N",
                      help="N parties holding additive shares, run as threads in this process")
    mode.add_argument("--committee", metavar="FILE", help="prove on the nodes of this committee file (TOML)")
    pr.add_argument("--threshold", type=int, metavar="T",
                    help="with --local N: threshold mode, T-of-N Shamir shares (private against any T "
                         "parties, needs N >= 2T+1, survives N-2T-1 failed or lying parties); "
                         "default: additive shares")
    pr.add_argument("--deadline", type=float, default=600.0, help="seconds the nodes get for the job")
    pr.add_argument("--engine", choices=["reference", "cpu", "cuda"],
                    help="for --single and --local: where the work runs (default: cuda if a GPU is "
                         "visible, else cpu; reference is the slow pure-Python twin)")
    pr.add_argument("--gpus", metavar="LIST",
                    help="for --single and --local: CUDA devices to split the MSMs over, e.g. 0,1,2,3 "
                         "(a device may repeat: two slots on one GPU); vectors and NTTs run on the first")
    pr.add_argument("--no-check", action="store_true", help="skip verifying the proof before writing it")
    pr.add_argument("--receipts", metavar="FILE",
                    help="with --committee: write the nodes' signed work receipts, bound to proof.json and "
                         "public.json and signed by this client (check with `coprove receipts verify`)")
    pr.set_defaults(fn=cmd_prove)

    ve = sub.add_parser("verify", help="verify like `snarkjs groth16 verify`: exit 0 valid, 1 invalid, 2 bad input")
    ve.add_argument("vkey")
    ve.add_argument("public")
    ve.add_argument("proof")
    ve.set_defaults(fn=cmd_verify)

    rc = sub.add_parser("receipts", help="work receipts of a committee's proof")
    rc_sub = rc.add_subparsers(dest="receipts_cmd", required=True)
    rv = rc_sub.add_parser("verify", help="check a receipt bundle: exit 0 valid, 1 invalid, 2 bad input")
    rv.add_argument("bundle")
    rv.add_argument("proof")
    rv.add_argument("public")
    rv.add_argument("--committee", required=True, metavar="FILE", help="the committee file: whose keys to trust")
    rv.set_defaults(fn=cmd_receipts_verify)

    ex = sub.add_parser("export-vkey", help="like `snarkjs zkey export verificationkey`")
    ex.add_argument("zkey")
    ex.add_argument("vkey")
    ex.set_defaults(fn=cmd_export_vkey)

    de = sub.add_parser("demo", help="start three local nodes, prove the bundled circuit, verify, stop")
    de.add_argument("--single", action="store_true", help="prove in this process instead (no nodes)")
    de.add_argument("--threshold", type=int, metavar="T",
                    help="threshold mode: T-of-N Shamir shares, no traffic between nodes "
                         "(default nodes: 2T+1)")
    de.add_argument("--nodes", type=int, metavar="N", help="how many nodes (default 3, or 2T+1 with --threshold)")
    de.add_argument("--out", help="folder for proof.json and public.json (default: a new temporary folder)")
    de.set_defaults(fn=cmd_demo)

    no = sub.add_parser("node", help="run a prover daemon")
    no.add_argument("--listen", required=True, metavar="HOST:PORT")
    no.add_argument("--key", required=True)
    no.add_argument("--cert", required=True)
    no.add_argument("--data-dir", required=True, help="circuits are kept here (shares never are)")
    no.add_argument("--committee", required=True, help="committee file: whose certificates to trust")
    dev = no.add_mutually_exclusive_group()
    dev.add_argument("--gpu", type=int, metavar="N", help="use CUDA device N")
    dev.add_argument("--gpus", metavar="LIST",
                     help="use these CUDA devices, e.g. 0,1,2,3: every MSM split over them, the rest on "
                          "the first (a device may repeat: two slots on one GPU)")
    dev.add_argument("--cpu", action="store_true", help="use the CPU engine")
    no.add_argument("--metrics", metavar="HOST:PORT", help="serve Prometheus metrics here")
    no.add_argument("--max-jobs", type=int, default=32, help="jobs running at once (default 32)")
    no.add_argument("--misbehave", choices=["flip-share", "wrong-opening", "wrong-msm", "replay", "wrong-job-id",
                                            "frame", "bad-signature"],
                    help="TEST HOOK: deviate from the protocol in this way (for testing clients' checks)")
    no.add_argument("--fault", metavar="STEP:ACTION",
                    help="TEST HOOK: crash, hang or stall this node once at a protocol step (upload, submit, "
                         "start, exchange, output; crash, hang or stall)")
    no.set_defaults(fn=cmd_node)

    tu = sub.add_parser("tune", help="time MSM window, block and strategy choices on this machine; "
                                     "cache the fastest correct one (optional: MSMs work without it)")
    tu.add_argument("--backend", choices=["cpu", "cuda"],
                    help="engine to tune (default: cuda if a GPU is visible, else cpu)")
    tu.add_argument("--gpu", type=int, metavar="N", help="CUDA device N (implies --backend cuda)")
    tu.add_argument("--groups", default="g1,g2", help="g1, g2 or g1,g2 (default)")
    tu.add_argument("--sizes", help="log2 sizes, e.g. 12,14,16 (default: 12,14,16 on cpu, "
                                    "16,18,20,22 on cuda)")
    tu.add_argument("--windows", help="window bits to try, e.g. 10,11,12 (default: the engine's "
                                      "own choice ±2)")
    tu.add_argument("--repeat", type=int, default=5, help="timed runs per candidate (median; default 5)")
    tu.add_argument("--cache", metavar="PATH", help="cache file (default: $GPU_MSM_TUNE_CACHE, else "
                                                    "~/.cache/coprove/tune.json)")
    tu.add_argument("--show", action="store_true", help="print this device's cached entries and exit")
    tu.set_defaults(fn=cmd_tune)

    kg = sub.add_parser("keygen", help="make a key and self-signed certificate; prints the fingerprint")
    kg.add_argument("--out", required=True)
    kg.add_argument("--name", required=True)
    kg.add_argument("--kind", default="p256", choices=["p256", "ed25519"])
    kg.set_defaults(fn=cmd_keygen)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.fn(args)
    except (FormatError, InputError, BadInput) as e:
        print(f"coprove: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as e:
        print(f"coprove: error: {e.filename}: no such file", file=sys.stderr)
        return EXIT_BAD_INPUT
    except IsADirectoryError as e:
        print(f"coprove: error: {e.filename}: is a directory", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PermissionError as e:
        print(f"coprove: error: {e.filename}: permission denied", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as e:
        if isinstance(e, _config_errors()):
            print(f"coprove: error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        raise


def _without_scipy() -> None:
    """Keep numba from importing SciPy in this process.  numba imports
    ``scipy.linalg.cython_blas`` when its array support loads (at the first kernel), to
    offer ``np.dot`` and ``np.linalg`` in compiled code; no kernel here uses them, and
    where SciPy is installed the import cost every command ~0.2-0.3 s, a third of a
    small proof (bench/RESULTS.md, "Start-up with SciPy installed").  Only the command's
    own process: a program importing coprove's packages keeps its SciPy."""
    if "scipy" not in sys.modules:
        sys.modules["scipy"] = None  # an import of it raises ImportError


def entry() -> None:
    """The ``coprove`` command: ``main``, then out without the interpreter's teardown.

    Finalising the modules numba and llvmlite load was a sizeable share of every short
    command (figures: bench/RESULTS.md, 'Measurements moved from code comments').
    Everything a command writes is closed and renamed into place before ``main`` returns;
    the streams and logging are flushed here, and atexit handlers still run.
    """
    _without_scipy()
    rc = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    atexit._run_exitfuncs()
    os._exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    entry()
