"""``coprove prove --single`` against rapidsnark's prover, whole processes, on this machine.

Circuits come from the test suite's circuit builder (npm circom2 + snarkjs, cached):
``mul_chain_2e14`` (MulChain(2^14 - 2): a full 2^14 domain) and ``sha256_block``
(circomlib's SHA-256 compression of one padded block: 31k constraints, domain 2^15).
Times are wall clock of each command, start-up and file reading included, taken
alternately (ours, rapidsnark, ours, ...) so that machine noise hits both, after one
untimed warm-up of each. coprove runs as users run it, checking its proof before
writing it (the ``check`` part of the read/prove/check split it prints, kept in the
JSON); rapidsnark does not check.  The same work is also timed in one process that has
already loaded numba and the kernels (the "warm process" column): the command's cost
without its start-up. Every proof either side wrote must pass
``snarkjs groth16 verify`` and give the public signals snarkjs gives.

    python bench/single_vs_rapidsnark.py --ptau pot16_final.ptau --rapidsnark path/to/prover

The peer is --rapidsnark, else $RAPIDSNARK, else ``rapidsnark`` or ``prover`` on PATH,
else skipped.  ``--before DIR`` times a checkout of an earlier commit (``git worktree add
DIR <commit>``) as a third side in the same rounds, run as ``python -P -m
coordinator_free.cli`` with DIR on PYTHONPATH, for an after/before ratio. Without --ptau a power-15 ptau is made once into the test cache
(minutes). Writes --out (JSON) and a chart beside it (.png, needs matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import circuit_builder as cb  # noqa: E402

# name -> (builder kind, params, inputs). The mul chains are sized like the test
# fixtures' mul_chain_2e10: 2^k - 2 constraints + 1 public + 1 fill a 2^k domain.
CIRCUITS = {
    "mul_chain_2e10": ("mul_chain", [2**10 - 2], {"x": 20261121}),
    "mul_chain_2e14": ("mul_chain", [2**14 - 2], {"x": 20261121}),
    "sha256_block": ("sha256_block", [], cb.sha256_block_inputs(b"coprove bench: one SHA-256 block")),
}
DEFAULT_CIRCUITS = ["mul_chain_2e14", "sha256_block"]
DEFAULT_PTAU_POWER = 15  # sha256_block's domain
SPLIT = re.compile(r"read ([\d.]+)s, prove ([\d.]+)s, check ([\d.]+)s")


def find_peer(arg: str | None) -> str | None:
    for cand in (arg, os.environ.get("RAPIDSNARK"), shutil.which("rapidsnark"), shutil.which("prover")):
        if cand:
            if not shutil.which(cand):
                raise SystemExit(f"rapidsnark {cand!r} is not an executable file")
            return shutil.which(cand)
    return None


def coprove_cmd(engine: str | None) -> tuple[list[str], list[str]]:
    """The words before and after ZKEY WTNS PROOF PUBLIC: the venv's console script, as users run it."""
    script = Path(sys.executable).with_name("coprove")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "coordinator_free.cli"]
    return head + ["prove"], ["--single"] + (["--engine", engine] if engine else [])


# The same work as one `prove --single` (read, prove, check, write) repeated in one process
# that has already loaded numba and the kernels: what the command costs without start-up.
WARM = """
import json, os, statistics, sys, time
from coordinator_free import cli
zkey, wtns, proof, public, reps = sys.argv[1:6]
quiet = open(os.devnull, "w")
cli._prove_single(zkey, wtns, proof, public, True, out=quiet)
runs = []
for _ in range(int(reps)):
    t0 = time.perf_counter()
    if cli._prove_single(zkey, wtns, proof, public, True, out=quiet) != 0:
        raise SystemExit("the warm-process proof does not verify")
    runs.append(time.perf_counter() - t0)
print(json.dumps({"median_s": statistics.median(runs), "runs_s": runs}))
"""


def warm_process(c: cb.BuiltCircuit, work: Path, reps: int) -> dict:
    proof, public = work / "warm_proof.json", work / "warm_public.json"
    _, out = timed([sys.executable, "-c", WARM, c.zkey, c.wtns, proof, public, reps])
    if not c.verify(proof, public):
        raise SystemExit(f"{c.name}: the warm-process proof {proof} fails snarkjs groth16 verify")
    return json.loads(out.strip().splitlines()[-1])


def timed(cmd, env=None) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"exit {proc.returncode}: {' '.join(map(str, cmd))}\n{proc.stdout}{proc.stderr}")
    return secs, proc.stdout + proc.stderr


def bench_circuit(c: cb.BuiltCircuit, ours: tuple[list[str], list[str]], peer: str | None,
                  reps: int, before: Path | None = None) -> dict:
    work = c.run_dir / "vs_rapidsnark"
    work.mkdir(exist_ok=True)
    sides = {"ours": (lambda *files: [*ours[0], *files, *ours[1]], None)}
    if before:
        env = {**os.environ, "PYTHONPATH": str(before)}
        sides["before"] = (lambda *files: [sys.executable, "-P", "-m", "coordinator_free.cli", "prove",
                                           *files, *ours[1]], env)
    if peer:
        sides["rapidsnark"] = (lambda *files: [peer, *files], None)
    runs = {side: [] for side in sides}
    outputs = {side: [] for side in sides}
    written = {side: [] for side in sides}
    # the warm-up loads numba's kernels (compiles them, the very first time) and the page cache
    for rep in ["warmup", *range(reps)]:
        for side, (cmd, env) in sides.items():
            proof, public = work / f"{side}_{rep}_proof.json", work / f"{side}_{rep}_public.json"
            proof.unlink(missing_ok=True)
            public.unlink(missing_ok=True)
            secs, out = timed(cmd(c.zkey, c.wtns, proof, public), env)
            written[side].append((proof, public))
            if rep != "warmup":
                runs[side].append(secs)
                outputs[side].append(out.strip())
    expected = c.public_signals()
    for side, files in written.items():
        for proof, public in files:
            if [int(v) for v in json.loads(public.read_text())] != expected:
                raise SystemExit(f"{c.name}: {side} wrote {public}, unlike snarkjs's {c.public}")
            if not c.verify(proof, public):
                raise SystemExit(f"{c.name}: {side}'s proof {proof} fails snarkjs groth16 verify")

    splits = []
    for out in outputs["ours"]:
        m = SPLIT.search(out)
        if not m:
            raise SystemExit(f"{c.name}: no 'read/prove/check' line in coprove's output:\n{out}")
        splits.append(dict(zip(("read_s", "prove_s", "check_s"), map(float, m.groups()))))
    row = {
        "circuit": c.name.removeprefix("bench_"), "kind": c.kind, "params": list(c.params),
        "constraints": c.n_constraints, "public": c.n_public, "vars": c.n_vars,
        "domain": c.domain_size, "zkey": str(c.zkey), "wtns": str(c.wtns),
        "ours": {"median_s": statistics.median(runs["ours"]), "runs_s": runs["ours"],
                 "split": splits, "lines": [o.splitlines()[-1] for o in outputs["ours"]]},
        "rapidsnark": None, "ratio": None,
        "proofs_verified": {side: [[str(p), str(q)] for p, q in files] for side, files in written.items()},
    }
    if peer:
        row["rapidsnark"] = {"median_s": statistics.median(runs["rapidsnark"]),
                             "runs_s": runs["rapidsnark"]}
        row["ratio"] = row["ours"]["median_s"] / row["rapidsnark"]["median_s"]
    row["warm"] = warm_process(c, work, reps)
    if peer:
        row["warm_ratio"] = row["warm"]["median_s"] / row["rapidsnark"]["median_s"]
    if before:
        row["before"] = {"checkout": str(before), "median_s": statistics.median(runs["before"]),
                         "runs_s": runs["before"], "lines": [o.splitlines()[-1] for o in outputs["before"]]}
        row["after_over_before"] = row["ours"]["median_s"] / row["before"]["median_s"]
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ptau", type=Path, help=f"prepared ptau (default: a power-{DEFAULT_PTAU_POWER} one "
                                              "made once into the test cache, minutes)")
    ap.add_argument("--rapidsnark", help="rapidsnark's prover binary (else $RAPIDSNARK, else on PATH)")
    ap.add_argument("--reps", type=int, default=5, help="timed runs per side (median reported)")
    ap.add_argument("--circuits", nargs="+", choices=sorted(CIRCUITS), default=DEFAULT_CIRCUITS)
    ap.add_argument("--engine", choices=["reference", "cpu", "cuda"], help="coprove's --engine (default: its own)")
    ap.add_argument("--before", type=Path, help="a checkout of an earlier commit, timed in the same rounds")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "single_vs_rapidsnark.json")
    args = ap.parse_args(argv)
    if args.reps < 1:
        ap.error("--reps must be at least 1")

    peer = find_peer(args.rapidsnark)
    if not peer:
        print("no rapidsnark (--rapidsnark, $RAPIDSNARK, `rapidsnark` or `prover` on PATH): "
              "timing coprove alone, no ratio", file=sys.stderr)
    tools = cb.install_npm_tools()
    if args.ptau is None:
        print(f"no --ptau: using a power-{DEFAULT_PTAU_POWER} ptau from the test cache; making it "
              "the first time takes minutes", file=sys.stderr, flush=True)
        args.ptau = cb.make_ptau(tools, DEFAULT_PTAU_POWER)
    ours = coprove_cmd(args.engine)

    rows = []
    for name in args.circuits:
        kind, params, inputs = CIRCUITS[name]
        try:
            c = cb.build_circuit(tools, f"bench_{name}", kind, params, inputs, ptau=args.ptau)
        except cb.ToolError as exc:
            raise SystemExit(f"building {name}: {exc}")
        rows.append(bench_circuit(c, ours, peer, args.reps, args.before and args.before.resolve()))
        r = rows[-1]
        print(f"{name}: coprove {r['ours']['runs_s']} s, its last split {r['ours']['split'][-1]}"
              + (f"; rapidsnark {r['rapidsnark']['runs_s']} s" if peer else ""), file=sys.stderr, flush=True)

    result = {
        "bench": "single_vs_rapidsnark", "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "ptau": str(args.ptau), "ptau_power": cb.ptau_power(args.ptau), "reps": args.reps,
        "coprove_cmd": [*ours[0], "ZKEY", "WTNS", "PROOF", "PUBLIC", *ours[1]],
        "rapidsnark": peer, "snarkjs": tools.snarkjs_version, "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    _chart(rows, args.out.with_suffix(".png"))

    print("\n| circuit | constraints | domain | coprove --single median (s) | rapidsnark median (s) "
          "| ours/rapidsnark | same work, warm process (s) | warm/rapidsnark |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        theirs = f"{r['rapidsnark']['median_s']:.3f}" if r["rapidsnark"] else "-"
        ratio = f"{r['ratio']:.1f}" if r["ratio"] else "-"
        warm_ratio = f"{r['warm_ratio']:.2f}" if r.get("warm_ratio") else "-"
        print(f"| {r['circuit']} | {r['constraints']} | 2^{r['domain'].bit_length() - 1} | "
              f"{r['ours']['median_s']:.3f} | {theirs} | {ratio} | {r['warm']['median_s']:.3f} | {warm_ratio} |")
    if args.before:
        print(f"\n| circuit | before ({args.before}) median (s) | after median (s) | after/before |\n"
              "| --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['circuit']} | {r['before']['median_s']:.3f} | {r['ours']['median_s']:.3f} | "
                  f"{r['after_over_before']:.2f} |")


def _chart(rows, path):
    from plotting import pyplot  # bench/ is on sys.path: this script's folder

    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sides = ["before"] * any(r.get("before") for r in rows) + ["ours"] + ["rapidsnark"] * all(r["rapidsnark"] for r in rows)
    width = 0.8 / len(sides)
    colours = {"read_s": "#9ecae1", "prove_s": "#3182bd", "check_s": "#08519c"}
    for k, side in enumerate(sides):
        xs = [i - 0.4 + width * (k + 0.5) for i in range(len(rows))]
        if side == "ours":
            # our bar split as coprove reports it; the rest is start-up (imports, numba) and exit
            parts = {key: [statistics.median(sp[key] for sp in r["ours"]["split"]) for r in rows]
                     for key in colours}
            bottom = [0.0] * len(rows)
            for key, vals in parts.items():
                ax.bar(xs, vals, width, bottom=bottom, color=colours[key], label=f"coprove: {key[:-2]}")
                bottom = [b + v for b, v in zip(bottom, vals)]
            rest = [max(0.0, r["ours"]["median_s"] - b) for r, b in zip(rows, bottom)]
            ax.bar(xs, rest, width, bottom=bottom, color="#cccccc", label="coprove: start-up and exit")
        else:
            ax.bar(xs, [r[side]["median_s"] for r in rows], width,
                   color={"before": "#bdbdbd", "rapidsnark": "#fd8d3c"}[side],
                   hatch="//" if side == "before" else None,
                   label="coprove before" if side == "before" else "rapidsnark")
    ax.set_xticks(list(range(len(rows))), [f"{r['circuit']}\n2^{r['domain'].bit_length() - 1}" for r in rows])
    ax.set_ylabel("wall time, median (s)")
    ax.margins(y=0.3)  # room for the legend above the bars
    ax.set_title("Single-party Groth16, whole processes")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
