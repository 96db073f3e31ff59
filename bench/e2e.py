"""End to end: a network of nodes on loopback proves mul-chain circuits; against the
single-party prover on the same device, and snarkjs where node is installed.

    python bench/e2e.py [--sizes 16,18,20] [--nodes 3] [--mode additive|threshold|both]
                        [--threshold 1] [--reps 3] [--inflight 4]
                        [--jobs 8] [--engine cuda|cpu] [--snarkjs PATH]
                        [--cache ~/.cache/coprove/bench] [--out bench/results/e2e.json]
                        [--keep-proof DIR] [--node-gpus "0,1;2,3;4,5"]

Circuits: synthetic mul chains of domain 2^k (bench/synthetic_setup.py: a test-only
setup with known toxic waste, since snarkjs cannot build 2^20 keys without a 2^21
powers-of-tau file), cached on disk per size.  Network: real ``coprove node``
processes, mutual TLS, one per GPU round-robin (several share a GPU on a one-GPU
machine), or on the CPU engine.  Per size:

- single: ``prove_single`` on the same engine in this process (median of --reps after
  a warm-up), with its per-stage seconds;
- network, per mode (--mode; "both" runs the additive mode and threshold mode with
  --threshold T on a network of its own each): one job at a time (median of --reps after
  a warm-up that uploads the circuit and makes its bases resident): client latency and
  its steps (deal + submit, nodes, assembly incl. the client's pairing check), each
  node's per-stage seconds, bytes it sent to peers, and the client's upload;
- throughput: --jobs jobs with --inflight in flight, proofs per minute;
- snarkjs: ``snarkjs groth16 prove`` on this machine's CPU, when --snarkjs is given.

Every proof is checked (the client verifies before returning; the single-party proof
with prover.verify).  Writes JSON, and a chart as PNG beside it (--out with .png: per
size, the client's critical path stacked against the measured latency, and each node's
steps side by side), and prints a table last.  --keep-proof copies the largest size's
proof, public inputs and verification key out, for ``snarkjs groth16 verify`` elsewhere.
"""

from __future__ import annotations

import argparse
import colorsys
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

from plotting import pyplot  # noqa: E402


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def circuit(log_n: int, cache: Path, backend):
    """The cached synthetic circuit of domain 2^log_n (built on first use)."""
    import synthetic_setup as ss
    d = cache / f"mulchain-2e{log_n}"
    marker = d / "complete"
    if not marker.exists():
        if d.exists():
            shutil.rmtree(d)
        t0 = time.perf_counter()
        ss.make_setup(log_n, d, backend=backend, seed=log_n)
        marker.write_text(f"built in {time.perf_counter() - t0:.1f} s\n")
        log(f"2^{log_n}: circuit built in {time.perf_counter() - t0:.1f} s -> {d}")
    return {k: d / v for k, v in (("zkey", "circuit.zkey"), ("wtns", "witness.wtns"),
                                  ("public", "public.json"), ("vkey", "verification_key.json"))}


def bench_single(paths, engine: str, reps: int) -> dict:
    from prover.groth16 import complete_proof, groth16_bare
    from prover.limbs import limbs_to_ints
    from prover.plain import PlainOps
    from prover.snarkjs_json import vkey_object_from_zkey
    from prover.verify import verify
    from prover.wtns import read_wtns
    from prover.zkey import read_zkey
    import secrets

    zkey, wtns = read_zkey(paths["zkey"]), read_wtns(paths["wtns"])
    public = limbs_to_ints(wtns.values[1:zkey.n_public + 1])
    times, stages = [], []
    for rep in range(reps + 1):  # the first is the warm-up (compiles, uploads bases)
        ops = PlainOps(wtns.values, engine)
        t0 = time.perf_counter()
        proof = complete_proof(zkey, groth16_bare(zkey, ops), secrets.randbelow(1 << 250),
                               secrets.randbelow(1 << 250))
        dt = time.perf_counter() - t0
        if rep == 0:
            verdict = verify(vkey_object_from_zkey(zkey), public, (proof.pi_a, proof.pi_b, proof.pi_c))
            if not verdict:
                raise RuntimeError(f"single-party proof does not verify: {verdict.reason}")
            continue
        times.append(dt)
        stages.append(dict(ops.timings))
    return {"seconds": statistics.median(times), "all": times,
            "stages": {k: statistics.median(s[k] for s in stages) for k in stages[0]}}


MODES = ("additive", "threshold")


def bench_network(paths, n_nodes: int, engine: str, reps: int, inflight: int, jobs: int,
                  threshold: int | None = None, node_gpus: list[str] | None = None) -> dict:
    from coordinator_free.client import Client
    from coordinator_free.committee import load_committee
    from coordinator_free.localnet import LocalNetwork

    gpus = 0
    if engine == "cuda":
        import cupy
        gpus = cupy.cuda.runtime.getDeviceCount()
    names = [f"node{i + 1}" for i in range(n_nodes)]
    node_args = {n: ["--gpu", str(i % gpus)] for i, n in enumerate(names)} if gpus else {}
    if gpus and node_gpus:  # each node's own slot list (a node driving several GPUs)
        node_args = {n: ["--gpus", node_gpus[i % len(node_gpus)]] for i, n in enumerate(names)}
    out: dict = {"gpus": gpus, "placement": {n: a[1] if a else "cpu" for n, a in
                                             ((n, node_args.get(n)) for n in names)}}
    with LocalNetwork(n_nodes, node_args=node_args, start_timeout=120.0, threshold=threshold) as net:
        committee = load_committee(net.committee_path)
        with Client(committee, deadline_s=600.0, deal_ahead=True) as client:
            t0 = time.perf_counter()
            client.prove(paths["zkey"], paths["wtns"])  # uploads, loads, compiles, makes bases resident
            out["warmup_seconds"] = time.perf_counter() - t0
            runs = []
            for _ in range(reps):
                t0 = time.perf_counter()
                proof, public, summary = client.prove(paths["zkey"], paths["wtns"])
                runs.append({"seconds": time.perf_counter() - t0, "steps": dict(summary.steps),
                             "node_steps": summary.node_steps, "bytes_sent": summary.bytes_sent,
                             "upload_bytes": summary.upload_bytes})
            out["proof"] = proof
            out["public"] = public
        best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        out.update(latency=best["seconds"], all=[r["seconds"] for r in runs], steps=best["steps"],
                   node_steps=best["node_steps"], bytes_sent=best["bytes_sent"],
                   upload_bytes=best["upload_bytes"])
        if jobs:
            out["throughput"] = _throughput(committee, paths, inflight, jobs)
    return out


def _throughput(committee, paths, inflight: int, jobs: int) -> dict:
    """``jobs`` proofs from ``inflight`` clients at once, each proving in a loop (dealing
    ahead, as a busy client would)."""
    from coordinator_free.client import Client

    lock = threading.Lock()
    done = []

    def worker(count):
        with Client(committee, deadline_s=600.0, deal_ahead=True) as c:
            for _ in range(count):
                t = time.perf_counter()
                c.prove(paths["zkey"], paths["wtns"])
                with lock:
                    done.append(time.perf_counter() - t)

    counts = [jobs // inflight + (i < jobs % inflight) for i in range(inflight)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=inflight) as pool:
        list(pool.map(worker, [c for c in counts if c]))
    wall = time.perf_counter() - t0
    return {"inflight": inflight, "jobs": jobs, "wall_seconds": wall,
            "proofs_per_minute": 60.0 * jobs / wall, "median_latency": statistics.median(done)}


def bench_snarkjs(snarkjs: str, paths, tmp: Path) -> float | None:
    t0 = time.perf_counter()
    r = subprocess.run([snarkjs, "groth16", "prove", str(paths["zkey"]), str(paths["wtns"]),
                        str(tmp / "p.json"), str(tmp / "pub.json")], capture_output=True, text=True)
    if r.returncode:
        log(f"snarkjs failed: {r.stderr.strip()[-300:]}")
        return None
    return time.perf_counter() - t0


# tab10, the darkest of tab20b, tab20's light halves, then the rest of tab20b, greys
# left out (grey is kept for time no step accounts for): the strong colours go to the
# names coloured first (the client's steps and the main stages), and 38 of them cover
# every step the bench reports today; matplotlib's default cycle repeats after 10,
# which is how two steps came to share a colour.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf",
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d",
    "#9edae5",
    "#5254a3", "#6b6ecf", "#9c9ede", "#8ca252", "#b5cf6b", "#cedb9c", "#bd9e39", "#e7ba52",
    "#e7cb94", "#ad494a", "#d6616b", "#e7969c", "#a55194", "#ce6dbd", "#de9ed6",
)
UNATTRIBUTED_COLOUR = "#bdbdbd"
# pipeline order, so that the node panel reads top to bottom roughly as a node works;
# steps not listed follow alphabetically
STEP_ORDER = ("material", "expand", "matvec", "ntt", "exchange", "msm_g1", "msm_g2", "msm_wait")
UNATTRIBUTED = "unattributed"


def client_segment(step: str) -> str:
    # the client's steps get their own names: "nodes" is the client waiting, not node work,
    # and must not take the colour of a node step
    return "client waits on nodes" if step == "nodes" else f"client {step}"


def step_order(names) -> list:
    """Node (or single-party) step names in drawing order: each dotted sub-step right
    after the step it is part of."""
    names = set(names)
    tops = {n.split(".", 1)[0] for n in names}
    rank = {n: i for i, n in enumerate(STEP_ORDER)}
    out = []
    for top in sorted(tops, key=lambda n: (rank.get(n, len(rank)), n)):
        if top in names:
            out.append(top)
        out.extend(sorted(n for n in names if n.startswith(top + ".")))
    return out


def critical_paths(r: dict) -> list:
    """One size's bars, as ``[(label, [(name, seconds)], measured)]``: the client's
    steps ran one after another, so stacking them gives the time the proof took; what
    the measured time has beyond them is stacked as ``unattributed``, so that the bar
    never looks faster than it was.  The single party's stages likewise."""
    bars = []
    if "single" in r:
        s = r["single"]
        segs = list(s["stages"].items())
        segs.append((UNATTRIBUTED, max(0.0, s["seconds"] - sum(s["stages"].values()))))
        bars.append(("single", segs, s["seconds"]))
    for label, n in networks(r):
        # threshold mode's "first output" is part of the client's wait on the nodes
        steps = {k: v for k, v in n["steps"].items() if k != "first output"}
        segs = [(client_segment(k), v) for k, v in steps.items()]
        segs.append((UNATTRIBUTED, max(0.0, n["latency"] - sum(steps.values()))))
        bars.append((label, segs, n["latency"]))
    return bars


def networks(r: dict) -> list:
    """``[(label, network result)]`` of the modes run at this size: "network" is the
    additive mode's (its key from before the threshold mode existed)."""
    return [(label, r[key]) for key, label in (("network", "additive"), ("threshold", "threshold"))
            if key in r]


def node_work(net: dict) -> float:
    """The busiest node's seconds in its top-level steps (sub-steps are inside them)."""
    return max((sum(v for k, v in st.items() if "." not in k) for st in net["node_steps"].values()),
               default=0.0)


def step_colours(results: list) -> dict:
    """A colour for every name the chart draws, none shared: the same step keeps its
    colour across sizes, bars and panels (msm_g1 of the single party and of a node)."""
    client, steps = [], set()
    for r in results:
        for _, segs, _ in critical_paths(r):
            for name, _ in segs:
                if name.startswith("client ") and name not in client:
                    client.append(name)
                elif not name.startswith("client ") and name != UNATTRIBUTED:
                    steps.add(name)
        for _, net in networks(r):
            for st in net["node_steps"].values():
                steps.update(st)
    # sub-steps last, so that they take the paler colours and the main stages the strong ones
    order = step_order(steps)
    names = client + [n for n in order if "." not in n] + [n for n in order if "." in n]
    out = {UNATTRIBUTED: UNATTRIBUTED_COLOUR}
    for i, name in enumerate(names):
        if i < len(PALETTE):
            out[name] = PALETTE[i]
        else:  # golden-angle hues, darker than the palette: distinct whatever their count
            h = (0.618033988749895 * i) % 1.0
            out[name] = "#%02x%02x%02x" % tuple(int(255 * c) for c in colorsys.hsv_to_rgb(h, 0.9, 0.45))
    return out


def chart(path: Path, results: list, title: str = "coprove end to end") -> None:
    """Per size, a row: on the left the critical paths (single party, and the network
    client's steps) stacked, with the measured time marked; on the right each node's steps
    side by side, since they overlap (msm_g2 and msm_g1 run during the exchange) and carry
    no start times, so stacking them would add up time that was not spent."""
    plt = pyplot()
    if plt is None:
        return
    from matplotlib.patches import Patch

    rows = [r for r in results if "single" in r or networks(r)]
    if not rows:
        return
    colours = step_colours(rows)
    hatches = ("", "//", "..", "xx", "\\\\", "oo", "++", "--")
    n_steps = max((len(step_order({k for _, net in networks(r) for st in net["node_steps"].values() for k in st}))
                   for r in rows), default=4)
    row_h = max(3.6, 0.3 * n_steps + 1.2)
    fig, axes = plt.subplots(len(rows), 2, figsize=(13, row_h * len(rows) + 0.6), squeeze=False,
                             gridspec_kw={"width_ratios": [1.1, 1.6]})
    for r, (left, right) in zip(rows, axes):
        bars = critical_paths(r)
        drawn = []
        for x, (label, segs, measured) in enumerate(bars):
            bottom = 0.0
            for name, v in segs:
                if v <= 0:
                    continue
                left.bar(x, v, bottom=bottom, width=0.6, color=colours[name], edgecolor="white", linewidth=0.5)
                bottom += v
                if name not in drawn:
                    drawn.append(name)
            left.hlines(measured, x - 0.4, x + 0.4, colors="black", linewidth=2)
            left.annotate(f"measured {measured * 1e3:.1f} ms" if measured < 1 else f"measured {measured:.2f} s",
                          (x, max(bottom, measured)), xytext=(0, 4), textcoords="offset points",
                          ha="center", fontsize=8)
        left.set_xticks(range(len(bars)), [b[0] for b in bars])
        left.set_xlim(-0.6, len(bars) - 0.4)
        left.set_ylim(0, 1.15 * max(max(m, sum(v for _, v in s)) for _, s, m in bars))
        left.set_ylabel("seconds")
        left.set_title(f"2^{r['log_n']}: critical path (black line: measured)", fontsize=10)
        left.legend(handles=[Patch(color=colours[n], label=n) for n in reversed(drawn)],
                    fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)

        nets = networks(r)
        if not nets:
            right.text(0.5, 0.5, f"network failed: {r.get('network_error', '?')}", ha="center",
                       va="center", wrap=True, transform=right.transAxes, fontsize=9)
            right.set_axis_off()
            continue
        # with both modes, each node's bars are labelled with its mode
        node_steps = {(f"{label} {n}" if len(nets) > 1 else n): st
                      for label, net in nets for n, st in net["node_steps"].items()}
        net = nets[0][1]
        nodes = sorted(node_steps)
        order = step_order({k for st in node_steps.values() for k in st})
        h = 0.8 / max(1, len(nodes))
        for j, node in enumerate(nodes):
            st = node_steps[node]
            ys = [i - 0.4 + h * (j + 0.5) for i in range(len(order))]
            right.barh(ys, [st.get(k, 0.0) for k in order], height=h, color=[colours[k] for k in order],
                       hatch=hatches[j % len(hatches)], edgecolor="white", linewidth=0.3)
        wait = net["steps"].get("nodes")
        if wait:
            right.axvline(wait, color="black", linestyle="--", linewidth=1)
        right.set_yticks(range(len(order)), order, fontsize=8)
        for tick, k in zip(right.get_yticklabels(), order):
            if "." in k:  # a part of the step above it: already inside that step's bar
                tick.set_fontstyle("italic")
                tick.set_color("dimgray")
        right.invert_yaxis()
        right.set_xlabel("seconds")
        right.set_title(f"2^{r['log_n']}: node steps, each node's bars side by side "
                        "(they overlap: not additive)", fontsize=10)
        legend = [Patch(facecolor="#bbbbbb", hatch=hatches[j % len(hatches)], edgecolor="white", label=node)
                  for j, node in enumerate(nodes)]
        if wait:
            legend.append(plt.Line2D([], [], color="black", linestyle="--", label="client waits on nodes"))
        right.legend(handles=legend, fontsize=7, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    log(f"chart -> {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="16,18,20")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--mode", choices=[*MODES, "both"], default="both",
                    help="additive, threshold (Shamir, --threshold T) or both, each on its own network")
    ap.add_argument("--threshold", type=int, default=1, help="threshold mode's T (needs --nodes >= 2T+1)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--inflight", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=8, help="jobs for the throughput run (0: skip it)")
    ap.add_argument("--engine", choices=["cuda", "cpu"], default=None, help="default: cuda where CuPy sees a GPU")
    ap.add_argument("--snarkjs", default=None, help="path of the snarkjs CLI (time `snarkjs groth16 prove`)")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "coprove" / "bench"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "e2e.json"))
    ap.add_argument("--keep-proof", default=None, metavar="DIR")
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--node-gpus", metavar="LIST;LIST;...",
                    help="each node's --gpus slot list, e.g. '0,1;2,3;4,5' (default: one GPU a node, "
                         "round-robin)")
    args = ap.parse_args()
    modes = MODES if args.mode == "both" else (args.mode,)
    if "threshold" in modes and not (args.threshold >= 1 and 2 * args.threshold + 1 <= args.nodes):
        ap.error(f"--threshold {args.threshold} needs at least 1 and --nodes >= {2 * args.threshold + 1}")

    import gpu_msm
    engine = args.engine or ("cuda" if "cuda" in gpu_msm.available_backends() else "cpu")
    device = engine
    if engine == "cuda":
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        device = f"{cupy.cuda.runtime.getDeviceCount()}x {name}"
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    results = []
    for log_n in (int(x) for x in args.sizes.split(",")):
        t0 = time.perf_counter()
        paths = circuit(log_n, cache, engine)
        r = {"log_n": log_n, "circuit_seconds": time.perf_counter() - t0}
        if not args.skip_single:
            r["single"] = bench_single(paths, engine, args.reps)
            log(f"2^{log_n} single: {r['single']['seconds']:.3f} s {r['single']['stages']}")
        proof = None
        for mode in modes:
            key = "network" if mode == "additive" else "threshold"
            try:
                net = bench_network(paths, args.nodes, engine, args.reps, args.inflight, args.jobs,
                                    threshold=args.threshold if mode == "threshold" else None,
                                    node_gpus=args.node_gpus.split(";") if args.node_gpus else None)
            except Exception as e:  # keep the sizes and modes that worked, and say what failed
                log(f"2^{log_n} {mode} FAILED: {type(e).__name__}: {e}")
                r.setdefault("network_error", f"{mode}: {type(e).__name__}: {e}")
                continue
            proof, public = net.pop("proof"), net.pop("public")
            net["mode"] = mode if mode == "additive" else f"threshold t={args.threshold}"
            r[key] = net
            log(f"2^{log_n} {mode}: {net['latency']:.3f} s steps "
                + " ".join(f"{k}={v:.3f}" for k, v in net["steps"].items())
                + f" upload={net['upload_bytes'] / 1e6:.1f}MB")
            for name, st in sorted(net["node_steps"].items()):
                log(f"    {name}: " + " ".join(f"{k}={v:.3f}" for k, v in st.items())
                    + f" sent={net['bytes_sent'].get(name, 0) / 1e6:.1f}MB")
            if "throughput" in net:
                log(f"    throughput: {net['throughput']}")
        if proof is None:
            results.append(r)
            continue
        if args.snarkjs:
            r["snarkjs"] = bench_snarkjs(args.snarkjs, paths, cache)
        results.append(r)
        if args.keep_proof:
            from prover.snarkjs_json import write_proof, write_public
            keep = Path(args.keep_proof)
            keep.mkdir(parents=True, exist_ok=True)
            write_proof(keep / f"proof_2e{log_n}.json", proof.pi_a, proof.pi_b, proof.pi_c)
            write_public(keep / f"public_2e{log_n}.json", public)
            shutil.copy(paths["vkey"], keep / f"verification_key_2e{log_n}.json")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    doc = {"device": device, "engine": engine, "nodes": args.nodes, "modes": list(modes),
           "threshold": args.threshold if "threshold" in modes else None, "when": stamp,
           "command": " ".join(sys.argv), "results": results}
    out.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    chart(out.with_suffix(".png"), results,
          title=f"coprove end to end on {device}, engine {engine}, {args.nodes} nodes ({stamp})")

    print(f"\ne2e on {device}, engine {engine}, {args.nodes} nodes ({stamp}); seconds, medians; "
          f"node work: the busiest node's steps, against the single party's stages")
    print(f"{'size':6}{'mode':>14}{'single':>9}{'latency':>9}{'ratio':>7}{'node work':>10}{'vs single':>10}"
          f"{'upload MB':>10}{'MB/node':>9}{'proofs/min':>11}{'snarkjs':>9}")
    for r in results:
        nets = networks(r)
        if not nets:
            print(f"2^{r['log_n']:<4} network failed: {r.get('network_error')}")
            continue
        single = r.get("single", {}).get("seconds")
        single_work = sum(r["single"]["stages"].values()) if "single" in r else None
        for label, net in nets:
            mb = max(net["bytes_sent"].values()) / 1e6 if net["bytes_sent"] else 0.0
            ppm = net.get("throughput", {}).get("proofs_per_minute")
            work = node_work(net)
            print(f"2^{r['log_n']:<4}{net.get('mode', label):>14}{single or float('nan'):9.3f}{net['latency']:9.3f}"
                  f"{(net['latency'] / single) if single else float('nan'):7.2f}{work:10.3f}"
                  f"{(work / single_work) if single_work else float('nan'):10.2f}"
                  f"{net['upload_bytes'] / 1e6:10.1f}{mb:9.1f}{ppm or float('nan'):11.1f}"
                  f"{r.get('snarkjs') or float('nan'):9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
